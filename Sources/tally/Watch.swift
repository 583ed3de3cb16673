import ArgumentParser
import Logging
import ServiceLifecycle
import TallyKit
import TallyReceiver

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The daemon: catch up on the inbox, then process each drop as it arrives, until SIGTERM or SIGINT.",
        discussion: """
            Files are taken when their writer closes them or they are renamed into the inbox; drops that arrive \
            together are processed as one batch. SIGTERM and SIGINT finish the current batch and exit 0. SIGHUP \
            reloads tally.toml (a bad file is logged and the running settings stay). SIGUSR1 rescans the inbox. \
            Under systemd (Type=notify) READY=1 is sent once the catch-up is done (and the front door listens). \
            With --listen, the webhook front door of `tally receive` runs in the same process.
            """)

    @OptionGroup var options: GlobalOptions

    @Option(help: "Also run the webhook front door (tally receive) on HOST:PORT; port 0 takes any free port.")
    var listen: String?

    func run() async throws {
        try await reportingAsync {
            let engine = try options.engine()
            let logger = options.logger()
            let options = self.options
            var services: [any Service] = []
            var listening: (@Sendable () async -> Void)?
            let rules = FrontDoorRules(FrontDoor(config: engine.settings.config))
            if let listen, let address = try Receive.address(listen, settings: engine.settings) {
                let (opened, signal) = AsyncStream<Void>.makeStream()
                services.append(try ReceiveServer.service(.init(settings: engine.settings, listen: address), rules: rules,
                                                          logger: logger) { _ in signal.finish() })
                listening = { for await _ in opened {} }
            }
            // SIGHUP: the watcher adopts the new settings between batches, the front door at once.
            let watcher = WatchService(engine: engine, logger: logger, beforeReady: listening) {
                let settings = try options.settings()
                rules.replace(with: FrontDoor(config: settings.config))
                return settings
            }
            // Shut down in reverse order: the front door stops taking deliveries and answers
            // those in flight, then the watcher finishes its batch.
            services.insert(watcher, at: 0)
            let group = ServiceGroup(configuration: .init(
                services: services.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            do {
                try await group.run()
            } catch {
                throw Failure.failed("the watcher stopped: \(error)")
            }
        }
    }
}
