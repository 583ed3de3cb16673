import ArgumentParser
import Logging
import ServiceLifecycle
import TallyKit

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The daemon: catch up on the inbox, then process each drop as it arrives, until SIGTERM or SIGINT.",
        discussion: """
            Files are taken when their writer closes them or they are renamed into the inbox; drops that arrive \
            together are processed as one batch. SIGTERM and SIGINT finish the current batch and exit 0. SIGHUP \
            reloads tally.toml (a bad file is logged and the running settings stay). SIGUSR1 rescans the inbox. \
            Under systemd (Type=notify) READY=1 is sent once the catch-up is done.
            """)

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await reportingAsync {
            let engine = try options.engine()
            let logger = options.logger()
            let options = self.options
            let service = WatchService(engine: engine, logger: logger) { try options.settings() }
            let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            do {
                try await group.run()
            } catch {
                throw Failure.failed("the watcher stopped: \(error)")
            }
        }
    }
}
