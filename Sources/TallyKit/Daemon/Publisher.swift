import Foundation
import Logging

/// Runs the `[site] publish` command after a render: `/bin/sh -c COMMAND` in the working
/// directory, with a time limit. Its failure is reported, never thrown: a site that could
/// not be uploaded this time must not stop the points from being counted.
public struct Publisher: Sendable {
    public var command: String?
    public var timeout: Duration

    public init(command: String?, timeout: Duration = .seconds(300)) {
        self.command = command
        self.timeout = timeout
    }

    /// What happened, in a sentence fit for the log.
    public struct Result: Sendable, CustomStringConvertible {
        public var succeeded: Bool
        public var description: String
    }

    /// Runs the command; nil when none is configured.
    public func run() async -> Result? {
        guard let command, !command.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        let started = ContinuousClock.now
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            return Result(succeeded: false, description: "publish command could not start: \(error)")
        }
        // Read the output as it comes (a full pipe would block the command), keep the tail.
        let tail = Task.detached { () -> String in
            let data = output.fileHandleForReading.readDataToEndOfFile()
            return String(decoding: data.suffix(2048), as: UTF8.self)
        }
        let deadline = started + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let timedOut = process.isRunning
        if timedOut {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let text = await tail.value.trimmingCharacters(in: .whitespacesAndNewlines)
        let elapsed = ContinuousClock.now - started
        let ms = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        if timedOut {
            return Result(succeeded: false, description: "publish command killed after \(timeout) without finishing" + (text.isEmpty ? "" : ": \(text)"))
        }
        if process.terminationStatus == 0 && process.terminationReason == .exit {
            return Result(succeeded: true, description: "published in \(ms) ms")
        }
        let how = process.terminationReason == .exit ? "exit code \(process.terminationStatus)" : "signal \(process.terminationStatus)"
        return Result(succeeded: false, description: "publish command failed with \(how) after \(ms) ms" + (text.isEmpty ? "" : ": \(text)"))
    }
}

extension Optional where Wrapped == Publisher.Result {
    /// Logs a publish result: info when it worked, error when it did not, nothing when none ran.
    public func log(to logger: Logger) {
        guard let result = self else { return }
        if result.succeeded { logger.info("\(result.description)") } else { logger.error("\(result.description)") }
    }
}
