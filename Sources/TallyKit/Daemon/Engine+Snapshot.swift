import Foundation

/// The engine's outputs after a batch: `state.json` and `index.bin` (on other threads while
/// the site is rendered), `stats.json` and `metrics.prom`, and the site.
extension Engine {
    /// Writes `state.json` atomically, with the ledgers' current ends as its positions, and
    /// `index.bin` when `index` is true or it is due (see `indexInterval`).
    public func writeSnapshot(index: Bool = false) throws {
        try writeSnapshot(index: index, inBackground: false)
    }

    /// The same, with `state.json` and (when due) `index.bin` written on other threads when
    /// `inBackground` is true: `finishState()` waits for `state.json`, `finishSnapshot()` for
    /// both, and the state must not change before `finishSnapshot()`.
    ///
    /// Both are encoded at once, from copies of the state (shared, not copied, while nothing
    /// changes it); the index is fsynced and renamed only once `state.json` is in place, so
    /// the disk sees `state.json`, then `index.bin`. When `state.json` fails, the index is
    /// abandoned unrenamed.
    func writeSnapshot(index: Bool = false, inBackground: Bool) throws {
        placeLines()
        state.positions = Replay.positions(of: ledger)
        var due = true
        if let interval = indexInterval {
            let grown = state.positions.events.bytes + state.positions.points.bytes - indexedBytes
            due = indexWritten.map { ContinuousClock.now - $0 >= interval } ?? true
            due = due && grown >= max(indexGrowth, indexedBytes / 10)
        }
        due = due || index
        // A listing of every account (no roster) lists the students in the order kept.
        if state.roster.isEmpty { state.accounts.sortIDs() }
        let students = state.listing(rules: settings.rules)
        listed = students
        let positions = state.positions, path = settings.paths.state
        @Sendable func writeState() throws {
            try FileSystem.writeAtomically(to: path) { write in
                try Snapshot.writeState(students, positions: positions, to: write)
            }
        }
        guard inBackground else {
            try writeState()
            writeStats(students: students.count)
            indexBehind = true
            if due { try writeIndex() }
            return
        }
        let stateInPlace = Gate()
        stateWrite = BackgroundWork {
            do { try writeState() } catch {
                stateInPlace.fail(error)
                throw error
            }
            stateInPlace.open()
        }
        if due {
            let state = state, path = settings.paths.index
            indexWrite = BackgroundWork {
                try FileSystem.writeAtomically(to: path) { write in
                    try Snapshot.writeIndex(state, to: write)
                    try stateInPlace.wait()
                }
            }
        }
        writeStats(students: students.count)
        indexBehind = true
    }

    /// Waits for the `state.json` that `writeSnapshot(inBackground: true)` started, and
    /// throws what stopped it.
    func finishState() throws {
        guard let write = stateWrite else { return }
        stateWrite = nil
        try write.wait()
    }

    /// Waits for all of the snapshot that `writeSnapshot(inBackground: true)` started (the
    /// index even when `state.json` failed), and throws what stopped either.
    func finishSnapshot() throws {
        let stateFailure: (any Error)?
        do { try finishState(); stateFailure = nil } catch { stateFailure = error }
        do { try finishIndex() } catch where stateFailure != nil {}
        if let stateFailure { throw stateFailure }
    }

    /// Waits for the `index.bin` that `writeSnapshot(inBackground: true)` started, and
    /// throws what stopped it.
    func finishIndex() throws {
        guard let write = indexWrite else { return }
        indexWrite = nil
        try write.wait()
        noteIndexWritten()
    }

    /// Writes `stats.json` and `metrics.prom` for the ledgers' current ends. Both are derived
    /// (made again from the ledgers when missing or behind), so they are replaced atomically
    /// without an fsync, and a failure is logged, never fatal.
    private func writeStats(students: Int) {
        stats.positions = state.positions
        let now = Timestamp.now()
        do {
            try FileSystem.writeAtomically(stats.encodedJSON(students: students, generatedAt: now), to: settings.paths.stats,
                                           durable: false)
            try FileSystem.writeAtomically(stats.prometheus(students: students, at: now), to: settings.paths.metrics,
                                           durable: false)
        } catch {
            logger.error("stats.json or metrics.prom could not be written: \(error)")
        }
    }

    /// Writes `index.bin` now if it is behind `state.json` (the daemon's shutdown).
    public func flushIndex() throws {
        if indexBehind { try writeIndex() }
    }

    func writeIndex() throws {
        try finishIndex()
        try FileSystem.writeAtomically(to: settings.paths.index) { write in try Snapshot.writeIndex(state, to: write) }
        noteIndexWritten()
    }

    private func noteIndexWritten() {
        indexWritten = ContinuousClock.now
        indexBehind = false
        indexedBytes = state.positions.events.bytes + state.positions.points.bytes
    }

    /// Renders the site from the state.
    /// Renders the site after a commit. A failure is logged and returned, never thrown: what
    /// the batch did is committed (and its files are still to be moved out of the inbox), so
    /// a command that failed here would be run again and a manual award counted twice.
    func renderAfterCommit() -> String? {
        do {
            try render()
            return nil
        } catch {
            logger.error("the site was not rendered: \(error); what the batch did is committed, so do not run it again: fix this and run `tally render`")
            return "\(error)"
        }
    }

    public func render() throws {
        let students = listed ?? state.listing(rules: settings.rules)
        listed = nil
        let board = Leaderboard(students, settings: settings.site, generatedAt: .now())
        let figures = SiteStats(listing: students, figures: stats, rules: settings.rules)
        try SiteRenderer(templatesOverride: settings.paths.templates).render(board, stats: figures, to: settings.paths.site,
                                                                             cache: &renderCache)
    }

    /// Renders the site from the students of a snapshot (`tally render` needs no lock).
    /// The stats page uses the last batch's `stats.json`; without one there is no stats page.
    /// Levels follow `tally.toml` as it is now: `state.json` names the levels of the table
    /// in force when it was written, and a changed `[[levels]]` shows at once.
    public static func render(students: [String: StudentState], settings: EngineSettings) throws {
        var students = students
        for (id, student) in students { students[id]?.level = settings.rules.level(forXP: student.xp) }
        let board = Leaderboard(students: students, settings: settings.site, generatedAt: .now())
        let figures = LedgerStats.load(path: settings.paths.stats).map {
            SiteStats(students: students.values, figures: $0, rules: settings.rules)
        }
        var cache: SiteRenderer.Cache?
        try SiteRenderer(templatesOverride: settings.paths.templates).render(board, stats: figures, to: settings.paths.site,
                                                                             cache: &cache)
    }
}
