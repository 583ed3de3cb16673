import ArgumentParser
import Logging
import TallyKit

/// Flags every command shares: where the configuration and the three folders are.
struct GlobalOptions: ParsableArguments {
    @Option(help: "The configuration file (default: tally.toml, if present).")
    var config: String?

    @Option(help: "The drop folder (default: [paths] inbox, else inbox).")
    var inbox: String?

    @Option(help: "Tally's own folder: ledgers, snapshot, archive (default: [paths] data, else data).")
    var data: String?

    @Option(help: "Where the static site is written (default: [paths] site, else site).")
    var site: String?

    @Option(help: "Log lines as human (default) or json, one object a line.")
    var logFormat: LogFormat = .human

    @Option(help: "Log level: info (default), debug (adds timings of each batch), notice, warning, error.")
    var logLevel: Logger.Level = .info

    /// The settings from the configuration file and the flags, or exit 2 with the reason.
    func settings() throws -> EngineSettings {
        let config: TallyConfig
        do {
            if let path = self.config {
                config = try TallyConfig.load(path: path)
            } else if FileSystem.exists("tally.toml") {
                config = try TallyConfig.load(path: "tally.toml")
            } else {
                config = try TallyConfig.load(contentsOf: "")
            }
        } catch {
            throw Failure.usage("\(error)")
        }
        return EngineSettings(config: config, inbox: inbox, data: data, site: site)
    }

    /// A logger to standard error, in the chosen format.
    func logger() -> Logger {
        let format = logFormat, level = logLevel
        LoggingBootstrap.once { LoggingSystem.bootstrap { _ in TallyLogHandler(format: format, level: level) } }
        return Logger(label: "tally")
    }

    /// Opens the engine, mapping a held lock to exit code 75.
    /// Runs `[site] publish`, if any, after a command rendered the site: the contract's
    /// "after each render", whichever command rendered it.
    func publish(_ settings: EngineSettings) async {
        await Publisher(command: settings.config.site.publish).run().log(to: logger())
    }

    func engine() throws -> Engine {
        let settings = try settings()
        do {
            return try Engine(settings: settings, logger: logger())
        } catch let error as LockError {
            if case .held = error { throw Failure.locked(error.description) }
            throw Failure.failed(error.description)
        }
    }
}

/// How a command ends when it does not succeed: the message goes to standard error and the
/// exit code follows the contract (1 input problems, 2 usage or configuration, 75 locked).
extension LogFormat: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}

/// `LoggingSystem.bootstrap` may run once per process.
enum LoggingBootstrap {
    private static let done = Mutex(false)
    static func once(_ body: () -> Void) {
        let first = done.withLock { value -> Bool in defer { value = true }; return !value }
        if first { body() }
    }
}

enum Failure: Error, CustomStringConvertible {
    case usage(String)
    case locked(String)
    case failed(String)

    var description: String {
        switch self {
        case .usage(let message), .locked(let message), .failed(let message): return message
        }
    }

    var code: Int32 {
        switch self {
        case .usage: return 2
        case .locked: return 75
        case .failed: return 1
        }
    }
}

extension ParsableCommand {
    /// Runs `body`, printing a `Failure` or any other error as `tally: message` and exiting
    /// with its code (1 for anything unexpected).
    func reporting(_ body: () throws -> Void) throws {
        do { try body() } catch { throw exitStatus(for: error) }
    }

    /// `reporting` for async commands.
    func reportingAsync(_ body: () async throws -> Void) async throws {
        do { try await body() } catch { throw exitStatus(for: error) }
    }
}

/// Prints what went wrong (once) and gives the exit code the contract names for it.
func exitStatus(for error: any Error) -> ExitCode {
    switch error {
    case let failure as Failure:
        printError("tally: \(failure.description)")
        return ExitCode(failure.code)
    case let exit as ExitCode:
        return exit
    default:
        printError("tally: \(error)")
        return ExitCode(1)
    }
}

func printError(_ message: String) {
    var stderr = StandardError()
    print(message, to: &stderr)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}

import Foundation
import Synchronization
