import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `tally watch` as a service: catch up on the inbox, then process each batch of drops the
/// inotify watcher reports, until a graceful shutdown (SIGTERM, SIGINT) lets the current
/// batch finish.
///
/// It runs the same `Engine` as `tally sync`; only the trigger differs. SIGHUP reloads
/// `tally.toml`: a bad new file is logged and the old settings stay.
public final class WatchService: Service, @unchecked Sendable {
    // @unchecked: `engine` and `ready` are touched only by `run()`'s own task (the engine is
    // a plain class doing blocking file I/O); the reload slot that the SIGHUP task fills is a Mutex.
    private let engine: Engine
    private let loadSettings: @Sendable () throws -> EngineSettings
    private let logger: Logger
    private let reloadSlot = ReloadSlot()
    private let rescanSignal: UnixSignal?
    private var ready: Set<String> = []
    private let beforeReady: (@Sendable () async -> Void)?

    /// - Parameters:
    ///   - engine: an engine already open on the data directory (it holds the lock).
    ///   - loadSettings: reads `tally.toml` and the flags again, for SIGHUP.
    ///   - rescanSignal: a signal that makes the watcher rescan the inbox as after an inotify
    ///     overflow (SIGUSR1 in `tally watch`), so the overflow path can be exercised.
    ///   - beforeReady: awaited after the catch-up and before READY=1 (the front door of
    ///     `watch --listen` listening).
    public init(engine: Engine, logger: Logger, rescanSignal: UnixSignal? = .sigusr1,
                beforeReady: (@Sendable () async -> Void)? = nil,
                loadSettings: @escaping @Sendable () throws -> EngineSettings) {
        self.engine = engine
        self.beforeReady = beforeReady
        self.logger = logger
        self.loadSettings = loadSettings
        self.rescanSignal = rescanSignal
    }

    public func run() async throws {
        let paths = engine.settings.paths
        // index.bin grows with the ledgers: rewrite it at most every 10 s, once the ledgers
        // grew enough since the last one (and at shutdown); a crash in between only means
        // folding those lines at the next start.
        engine.indexInterval = .seconds(10)
        // Watch before catching up, so nothing dropped during the catch-up is missed.
        let watcher = try InboxWatcher(directory: paths.inbox)
        defer { watcher.stop() }
        // Trap SIGHUP (and the rescan signal) before anything is announced: a signal that
        // came before its handler would take the default action and end the daemon.
        var trapped: [UnixSignal] = [.sighup]
        if let rescanSignal { trapped.append(rescanSignal) }
        let incoming = await UnixSignalsSequence(trapping: trapped)
        let signals = Task { [logger, loadSettings, reloadSlot] in
            for await signal in incoming {
                if signal == .sighup {
                    do {
                        let settings = try loadSettings()
                        reloadSlot.put(settings)
                        // Wake the loop so the new settings apply now; not a rescan, which would
                        // take files still being written.
                        watcher.requestWake()
                        logger.notice("tally.toml reloaded")
                    } catch {
                        logger.error("tally.toml not reloaded, keeping the running settings: \(error)")
                    }
                } else {
                    logger.notice("rescanning the inbox on request")
                    watcher.requestRescan()
                }
            }
        }
        defer { signals.cancel() }
        try await process(try engine.pendingFiles(), reason: "catch-up")
        if let beforeReady { await beforeReady() }
        logger.info("watching \(paths.inbox)", metadata: ["inbox": .string(paths.inbox)])
        SystemdNotifier.notify("READY=1\nSTATUS=watching \(paths.inbox)")

        for try await batch in watcher.batches.cancelOnGracefulShutdown() {
            if let settings = reloadSlot.take() {
                for warning in engine.reload(settings) { logger.warning("\(warning)") }
            }
            ready.formUnion(batch.names)
            let pending = try engine.pendingFiles()
            // An empty file just closed is usually a placeholder its writer fills next (some
            // tools create, close, reopen): it waits for its next close, or a rescan.
            let inbox = paths.inbox + "/"
            let files = batch.rescan ? pending : pending.filter {
                ready.contains($0.path.hasPrefix(inbox) ? String($0.path.dropFirst(inbox.count)) : $0.name) && $0.size > 0
            }
            ready.removeAll()
            try await process(files, reason: batch.rescan ? "rescan" : "drop")
        }
        SystemdNotifier.notify("STOPPING=1")
        try engine.flushIndex()
        logger.info("stopped")
    }

    /// One batch: process, then publish.
    private func process(_ files: [InboxFile], reason: String) async throws {
        guard !files.isEmpty else { return }
        let report = try engine.process(files)
        if report.files.count > 1 || reason != "drop" {
            logger.info("batch (\(reason)): \(report.files.count) files, \(report.events) events, \(report.rejected) rejected, \(report.failed) failed")
        }
        // A site that was not rendered is not published (the engine logged why).
        guard report.siteError == nil else { return }
        await Publisher(command: engine.settings.config.site.publish).run().log(to: logger)
    }
}

/// Settings read on SIGHUP, waiting for the loop to adopt them between batches.
final class ReloadSlot: Sendable {
    private let slot = Mutex<EngineSettings?>(nil)
    func put(_ settings: EngineSettings) { slot.withLock { $0 = settings } }
    func take() -> EngineSettings? { slot.withLock { value in defer { value = nil }; return value } }
}
