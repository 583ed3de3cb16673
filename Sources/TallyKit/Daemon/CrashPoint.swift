#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Named instants at which the crash tests kill Tally with a real `SIGKILL`.
///
/// The end-to-end tests set `TALLY_CRASH_AT=NAME` (or `NAME:N`, the N-th time the point is
/// reached) to stop the process exactly between two writes of the commit protocol — the
/// instants a random `kill -9` rarely hits. Unset, as in every real run, this does nothing
/// but compare a string. The points:
///
/// - `ledger-staged`: a batch's lines are written but not fsynced or committed;
/// - `commit-torn`: half of the commit line is written to `audit.jsonl`;
/// - `committed`: the commit line is durable, `state.json` not yet written;
/// - `snapshot-written`: `state.json` is written, no file moved yet;
/// - `file-moved`: one file has been moved out of the inbox, the others not yet.
public enum CrashPoint {
    private static let target: (name: String, count: Int)? = {
        guard let raw = getenv("TALLY_CRASH_AT") else { return nil }
        let text = String(cString: raw)
        let parts = text.split(separator: ":", maxSplits: 1)
        guard let name = parts.first else { return nil }
        return (String(name), parts.count > 1 ? Int(parts[1]) ?? 1 : 1)
    }()

    nonisolated(unsafe) private static var reached: [String: Int] = [:]

    /// True when a test is running with a crash point set at all.
    public static var isArmed: Bool { target != nil }

    /// Kills the process with `SIGKILL` when `name` is the armed point, reached for the N-th time.
    public static func reach(_ name: String) {
        guard let target, target.name == name else { return }
        // Only the engine's one thread reaches crash points, and only in tests.
        reached[name, default: 0] += 1
        if reached[name] == target.count { kill(getpid(), SIGKILL) }
    }

    /// Whether `name` is the point that will fire next time, for points that must act before
    /// dying (writing half a line).
    static func isDue(_ name: String) -> Bool {
        guard let target, target.name == name else { return false }
        return (reached[name] ?? 0) + 1 == target.count
    }
}

/// A read that fails half-way through a file, for the tests of the rollback: with
/// `TALLY_FAIL_AT=event:N` the N-th event scored in a process throws an I/O-like error, as
/// a disk error or a truncated archive would in the middle of a file.
enum FaultPoint {
    private static let target: Int? = {
        guard let raw = getenv("TALLY_FAIL_AT") else { return nil }
        let text = String(cString: raw)
        guard text.hasPrefix("event:") else { return nil }
        return Int(text.dropFirst(6))
    }()

    nonisolated(unsafe) private static var count = 0

    struct Injected: Error, CustomStringConvertible {
        var description: String { "an injected read error (TALLY_FAIL_AT)" }
    }

    static func check() throws {
        guard let target else { return }
        count += 1
        if count == target { throw Injected() }
    }
}
