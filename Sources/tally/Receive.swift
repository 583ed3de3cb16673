import ArgumentParser
import Logging
import ServiceLifecycle
import TallyKit
import TallyReceiver
import UnixSignals

struct Receive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The webhook front door alone: each authenticated POST becomes a file in the inbox.",
        discussion: """
            POST /kajabi (signature checked when a secret is set), POST /kajabi/SITE (a [kajabi.sites] secret), \
            POST /kajabi/t/TOKEN (a [receive.tokens] token; the delivery is signed on arrival), GET /healthz, \
            GET /metrics. A 200 means the delivery is durable in the inbox; anything else means retry. It does not \
            touch the data folder, so it runs beside `tally watch` or a cron `tally sync`. SIGTERM and SIGINT \
            stop it once the requests in flight are answered; SIGHUP reloads the secrets and tokens of tally.toml.
            """)

    @OptionGroup var options: GlobalOptions

    @Option(help: "HOST:PORT to listen on (default: [receive] listen). Port 0 takes any free port.")
    var listen: String?

    @Flag(help: "Print a fresh random token for [receive.tokens] and exit.")
    var newToken = false

    func run() async throws {
        if newToken {
            print(Crypto.randomToken())
            return
        }
        try await reportingAsync {
            let settings = try options.settings()
            guard let address = try Self.address(listen, settings: settings) else {
                throw Failure.usage("no address to listen on: give --listen HOST:PORT or set [receive] listen in tally.toml")
            }
            let logger = options.logger()
            let rules = FrontDoorRules(FrontDoor(config: settings.config))
            let server = try ReceiveServer.service(.init(settings: settings, listen: address), rules: rules, logger: logger) { _ in
                SystemdNotifier.notify("READY=1")
            }
            // SIGHUP reloads the secrets and tokens; a broken tally.toml keeps the running ones.
            let hangups = await UnixSignalsSequence(trapping: .sighup)
            let reloads = Task { [options] in
                for await _ in hangups {
                    do {
                        rules.replace(with: FrontDoor(config: try options.settings().config))
                        logger.notice("tally.toml reloaded: secrets and tokens")
                    } catch {
                        logger.error("tally.toml not reloaded, keeping the running secrets and tokens: \(error)")
                    }
                }
            }
            defer { reloads.cancel() }
            let group = ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            do {
                try await group.run()
            } catch {
                throw Failure.failed("the front door stopped: \(error)")
            }
        }
    }

    /// The address from the flag, else `[receive] listen`, else nil; a usage error when the
    /// flag is malformed.
    static func address(_ flag: String?, settings: EngineSettings) throws -> ListenAddress? {
        if let flag {
            guard let address = ListenAddress(flag) else {
                throw Failure.usage("--listen must be HOST:PORT, such as 127.0.0.1:8080, not \"\(flag)\"")
            }
            return address
        }
        return settings.config.receive.listen.flatMap(ListenAddress.init)   // the configuration has checked it
    }
}
