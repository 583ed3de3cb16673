import Foundation
import Testing

/// A `tally watch` (or `tally receive`) process running in a workspace, with its log in `NAME.log`.
final class Daemon {
    let process = Process()
    let logURL: URL

    init(_ workspace: Workspace, command: String = "watch", arguments: [String] = [], environment: [String: String] = [:],
         log: String = "watch.log") throws {
        logURL = workspace.root.appendingPathComponent(log)
        guard FileManager.default.createFile(atPath: logURL.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: logURL.path])
        }
        let handle = try FileHandle(forWritingTo: logURL)
        handle.seekToEndOfFile()
        process.executableURL = Workspace.binaryURL
        process.arguments = [command] + arguments
        process.currentDirectoryURL = workspace.root
        var env = ProcessInfo.processInfo.environment
        env["KAJABI_WEBHOOK_SECRET"] = nil
        env["NOTIFY_SOCKET"] = nil
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// The port of its front door, once its log says it listens (`--listen 127.0.0.1:0`).
    func port(seconds: Double = 30) -> Int? {
        var found: Int?
        eventually(seconds: seconds) {
            guard let range = log.range(of: "front door listening on http://127.0.0.1:") else { return false }
            found = Int(log[range.upperBound...].prefix(while: \.isNumber))
            return found != nil
        }
        return found
    }

    /// Sends a signal (SIGTERM, SIGKILL, SIGHUP, SIGUSR1).
    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the process to end; nil if it is still running after `seconds`.
    func waitForExit(seconds: Double = 10) -> (status: Int32, signalled: Bool)? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        guard !process.isRunning else { return nil }
        return (process.terminationStatus, process.terminationReason == .uncaughtSignal)
    }

    /// Stops it for good at the end of a test, whatever state it is in.
    func kill9() {
        if process.isRunning { signal(SIGKILL) }
        process.waitUntilExit()
    }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass.
@discardableResult
func eventually(seconds: Double = 15, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(10_000)
    }
    return try condition()
}
