#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import TallyKit

/// Writes accepted deliveries into the inbox so that a crash at any instant either loses a
/// delivery that was never acknowledged or keeps it whole.
///
/// A capture is written under a dot-name (which the inbox ignores), fsynced, renamed to
/// `kajabi-TIME-RANDOM.json`, and the inbox fsynced; only then may the server answer 200.
public struct DeliveryWriter: Sendable {
    public let inbox: String

    public init(inbox: String) { self.inbox = inbox }

    /// The name every front-door file starts with.
    static let prefix = "kajabi-"

    /// Writes `capture` and returns the name it got in the inbox.
    public func write(_ capture: CapturedRequest, at time: Timestamp = .now()) throws -> String {
        let name = Self.name(at: time)
        try FileSystem.writeAtomically(capture.encoded(), to: inbox + "/" + name, durable: true)
        return name
    }

    /// `kajabi-20261127T231034.512Z-RANDOM.json`: sorted by arrival, and never the name of
    /// another delivery (twelve random bytes).
    static func name(at time: Timestamp) -> String {
        let stamp = time.iso8601.filter { $0 != "-" && $0 != ":" }
        return prefix + stamp + "-" + Crypto.randomToken(bytes: 12) + ".json"
    }

    /// Removes the temporary files a killed front door left behind: `.kajabi-*.json.tmp-PID`
    /// of a process that is no longer running, or of this one (called at start, before any
    /// delivery: in a container Tally may be PID 1 at every start). None of them was ever
    /// acknowledged, so the sender retries it. Returns how many were removed.
    @discardableResult
    public func removeAbandoned() -> Int {
        var removed = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: inbox)) ?? []
        where name.hasPrefix("." + Self.prefix) {
            guard let pid = FileSystem.temporaryWriter(of: name), pid == getpid() || FileSystem.isGone(pid) else { continue }
            if unlink(inbox + "/" + name) == 0 { removed += 1 }
        }
        return removed
    }
}
