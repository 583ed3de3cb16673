import Foundation
import Logging

/// Tally's one code path from dropped files to ledgers, snapshot and site, shared by
/// `tally sync`, `tally watch` and the manual commands.
///
/// Opening an engine takes the data lock, repairs the ledgers after a crash, and loads the
/// snapshot (bringing it forward when it is behind). `process(_:)` then takes a batch of
/// files: each file is read and scored in memory and staged in the ledgers; a file that
/// fails half-way is rolled back whole and set aside. The batch is committed once, the
/// snapshot written, the files moved out of the inbox, and the site rendered.
public final class Engine {
    public private(set) var settings: EngineSettings
    let ledger: Ledger
    let lock: DataLock
    public internal(set) var state: State
    /// The figures of `tally stats` and `metrics.prom`, counted as lines are staged.
    public internal(set) var stats = LedgerStats()
    public var logger: Logger

    public init(settings: EngineSettings, logger: Logger = Logger(label: "tally")) throws {
        ProcessMemory.configured
        self.settings = settings
        self.logger = logger
        let paths = settings.paths
        lock = try DataLock(directory: paths.data)
        for directory in [paths.inbox, paths.archive, paths.failed] { try FileSystem.createDirectory(directory) }
        // Parts of messages a killed run was reading; we hold the lock, so nothing else uses them.
        try? FileManager.default.removeItem(atPath: paths.data + "/tmp")
        ledger = try Ledger(directory: paths.data)
        // A torn last commit line is a crash before the batch was durable, whose files are still
        // in the inbox: recovery cuts it. But when `state.json` already reflects that commit
        // (it is written only after it), the batch was durable and its files archived: the end
        // of audit.jsonl was cut outside Tally, and cutting the batch would lose it for good.
        let committed = try ledger.lastCommit()?.auditLength ?? 0
        if ledger.audit.size > committed, let snapshot = try? Snapshot.statePositions(at: paths.state),
           snapshot.audit.bytes > committed {
            throw RecordError("audit.jsonl's last commit line is gone (its end was cut), yet state.json reflects that commit (\(snapshot.audit.bytes) bytes of audit.jsonl against \(committed) left): the file was cut outside Tally; restore it from a backup, then run `tally verify`")
        }
        for message in try ledger.recover(at: .now()) { logger.warning("recovery: \(message)") }
        state = State()
        try loadState()
    }

    /// Takes new settings (a reloaded `tally.toml`) for the batches to come. The folders
    /// cannot change while Tally runs: a changed path is ignored, and the returned warnings
    /// say so.
    public func reload(_ new: EngineSettings) -> [String] {
        var warnings: [String] = []
        var adopted = new
        if new.paths != settings.paths {
            warnings.append("[paths] changed in tally.toml; the new folders take effect at the next start")
            adopted.paths = settings.paths
        }
        settings = adopted
        return warnings
    }

    // MARK: - Start-up

    /// Loads `index.bin`, folds the ledger lines committed after it, or rebuilds from the
    /// ledgers when it is missing, unreadable or ahead of them; then brings `state.json` up
    /// to date if it is not.
    private func loadState() throws {
        let ends = Replay.positions(of: ledger)
        let (restored, indexAt) = try restoredState()
        state = restored
        indexedBytes = indexAt.map { $0.events.bytes + $0.points.bytes } ?? 0
        stats = try LedgerStats.current(saved: LedgerStats.load(path: settings.paths.stats), ledger: ledger)
        let stateCurrent = (try? Snapshot.statePositions(at: settings.paths.state)) == ends
        let empty = ledger.events.size == 0 && ledger.audit.size == 0
        if !empty && !(stateCurrent && indexAt == ends) {
            logger.notice("the snapshot was behind the ledgers; brought forward")
            stateFoundAtStart = try FileFingerprint(of: settings.paths.state)
            try writeSnapshot(index: true)
        }
        // An index.json of Tally before index.bin is only in the way.
        let legacy = settings.paths.data + "/index.json"
        if FileSystem.exists(legacy) { unlink(legacy) }
    }

    /// The state the ledgers describe now: `index.bin` with the lines after it folded in,
    /// or a fold of the whole ledgers when the index is missing, unreadable or ahead. Also
    /// how a file that failed half-way is undone, once its lines are cut from the ledgers.
    /// Returns the positions the index was written at (nil without a usable index).
    private func restoredState() throws -> (State, indexAt: State.Positions?) {
        let ends = Replay.positions(of: ledger)
        if FileSystem.exists(settings.paths.index) {
            do {
                var candidate = try Snapshot.readIndex(at: settings.paths.index)
                let at = candidate.positions
                if at.events.bytes <= ends.events.bytes && at.points.bytes <= ends.points.bytes && at.audit.bytes <= ends.audit.bytes {
                    if at != ends { try Replay.roll(&candidate, forwardFrom: ledger) }
                    candidate.positions = ends
                    return (candidate, at)
                }
                logger.warning("index.bin is ahead of the ledgers; rebuilding it from the ledgers")
            } catch let error as Snapshot.CoursesNumberedApart {
                logger.notice("\(error); rebuilding it from the ledgers, which makes them one course")
            } catch {
                logger.warning("index.bin could not be read (\(error)); rebuilding it from the ledgers")
            }
        }
        return (try Replay.rebuild(from: ledger), nil)
    }

    // MARK: - Batches

    /// Files waiting in the inbox, plus the configured roster file when it is not the roster
    /// in force (it changed, or went back to an earlier content).
    public func pendingFiles() throws -> [InboxFile] {
        var files = try Inbox(directory: settings.paths.inbox).pendingFiles { notice in
            // Once a run: the daemon lists the inbox at every drop.
            if noticesSaid.insert(notice).inserted { logger.warning("\(notice)") }
        }
        if let roster = settings.rosterFile {
            if FileSystem.exists(roster) {
                missingRosterReported = false
                if try hashFile(roster) != rosterInForce() {
                    files.insert(InboxFile(name: FileSystem.split(roster).name, path: roster, modified: .now(),
                                           size: fileSize(roster)), at: 0)
                }
            } else if !missingRosterReported {
                // Said once (until it appears), not at every drop the daemon takes meanwhile.
                missingRosterReported = true
                let kept = try rosterInForce() == nil ? "there is no roster yet" : "the roster loaded before stays in force"
                logger.warning("[roster] file names \(roster), which does not exist: \(kept)")
            }
        }
        return files
    }

    /// The SHA-256 of the roster in force: the last one loaded (`roster_loaded` in
    /// `audit.jsonl`, or in this run); nil before any. Read from the audit once per run.
    func rosterInForce() throws -> String? {
        if case .some(let known) = lastRoster { return known }
        let sha = try ledger.lastRosterLoaded()
        lastRoster = .some(sha)
        return sha
    }

    /// Processes every pending file as one batch. An empty inbox does nothing at all.
    public func sync() throws -> BatchReport { try process(try pendingFiles()) }

    /// Processes `files` as one batch: one commit, one snapshot, one render.
    public func process(_ files: [InboxFile]) throws -> BatchReport {
        var report = BatchReport()
        guard !files.isEmpty else { return report }
        let started = ContinuousClock.now
        var moves: [(file: InboxFile, failure: String?, roster: Bool)] = []
        for file in files {
            let (fileReport, isRoster) = try take(file)
            report.files.append(fileReport)
            if case .failed(let reason) = fileReport.outcome {
                moves.append((file, reason, false))
            } else {
                moves.append((file, nil, isRoster))
            }
        }
        let read = ContinuousClock.now
        placeLines()
        try ledger.commit(at: .now())
        CrashPoint.reach("committed")
        let committed = ContinuousClock.now
        // `state.json` and, when due, `index.bin` are written on other threads while the site
        // is rendered from the same listing (nothing changes the state meanwhile); the files
        // are moved once `state.json` is in place, and the index waited for before returning.
        try writeSnapshot(inBackground: true)
        defer { try? finishSnapshot() }
        report.siteError = renderAfterCommit()
        let rendered = ContinuousClock.now
        try finishState()
        CrashPoint.reach("snapshot-written")
        let snapshotted = ContinuousClock.now
        // Each folder the files went to is fsynced once they are all moved, not once per
        // file: a burst of a thousand one-row files spent 0.4 s of its second in those fsyncs.
        // (A move to `archive/` lost to a power cut leaves the file in the inbox, recognised
        // by its hash; a failed file's move is made durable with its reason, in `settle`.)
        beforeMoves?()
        var movedInto: Set<String> = []
        for move in moves {
            if let directory = settle(move.file, failure: move.failure, roster: move.roster) { movedInto.insert(directory) }
            CrashPoint.reach("file-moved")
        }
        for directory in movedInto.sorted() {
            do { try FileSystem.syncDirectory(directory) } catch {
                logger.error("\(directory) could not be synced after files were moved into it: \(error)")
            }
        }
        let moved = ContinuousClock.now
        try finishSnapshot()
        let finished = ContinuousClock.now
        logger.debug("batch of \(files.count) files: read \(milliseconds(read - started)) ms, commit \(milliseconds(committed - read)) ms, render \(milliseconds(rendered - committed)) ms, state.json \(milliseconds(snapshotted - rendered)) ms more, moves \(milliseconds(moved - snapshotted)) ms, index.bin \(milliseconds(finished - moved)) ms more")
        return report
    }

    /// The SHA-256 of no bytes: the hash of every empty file.
    static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// Reads and scores one file, staging its lines; rolls it back whole if it fails.
    private func take(_ file: InboxFile) throws -> (FileReport, Bool) {
        let started = Timestamp.now()
        var report = FileReport(name: file.name, kind: "", outcome: .done)
        let sha: String
        do { sha = try hashFile(file.path) } catch {
            return failed(file, reason: "\(file.name) could not be read: \(error)", detail: "\(error)", at: started)
        }
        // An empty file is a copy or download cut short, whatever its name says, and all empty
        // files have one hash: marked done once, every later one would be "processed before".
        if sha == Self.emptySHA256 {
            return failed(file, reason: "\(file.name) is empty (0 bytes): a copy or download cut short? Nothing was read.",
                          sha: sha, at: started)
        }
        // The roster named by `[roster] file` is a roster whatever its name.
        let detected = FileKind.detect(path: file.path, name: file.name)
        let kind = file.path == settings.rosterFile && [.csv, .tsv, .roster].contains(detected) ? .roster : detected
        // Content seen before is not read again; but a roster is, unless it is the one in
        // force: going back to an earlier roster makes it the roster again.
        if state.files.contains(sha), try kind != .roster || sha == rosterInForce() {
            let (detail, said) = kind == .roster ? ("the same roster is already in force", "the same roster is already in force")
                : ("the same content was processed before", "already processed (same content)")
            stats.count(fileAction: "file_skipped", milliseconds: nil)
            report.outcome = .skipped
            ledger.append(AuditRecord(at: started, action: "file_skipped", file: file.name, sha256: sha, detail: .string(detail)))
            logger.info("\(file.name): \(said); archived without reading")
            // The roster in force is copied to data/roster.csv again: a crash after its commit,
            // before the copy, left the one before it there.
            return (report, kind == .roster)
        }
        report.kind = kind.rawValue
        let checkpoint = ledger.checkpoint()
        let statsBefore = stats
        ledger.append(AuditRecord(at: started, action: "file_taken", file: file.name, sha256: sha,
                                  detail: .object(JSONObject([("kind", .string(kind.rawValue)), ("bytes", .number(String(file.size)))]))))
        do {
            if kind == .email {
                try readMessage(file, sha: sha, report: &report)
            } else {
                try read(file, kind: kind, sha: sha, report: &report)
            }
            if report.outcome == .skipped {
                stats.count(fileAction: "file_skipped", milliseconds: nil)
                // Its bytes are not marked: the next copy is recognised by its message key again.
                let id = report.messageID.map { " (Message-ID <\($0)>)" } ?? ""
                ledger.append(AuditRecord(at: started, action: "file_skipped", file: file.name, sha256: sha,
                                          detail: .string("the same message\(id) with the same attachments was read before")))
                logger.info("\(file.name): the same message was read before; archived, nothing counted again")
                return (report, false)
            }
            report.milliseconds = Int(Timestamp.now().milliseconds - started.milliseconds)
            stats.count(fileAction: kind == .roster ? "roster_loaded" : "file_done", milliseconds: report.milliseconds)
            let detail = counts(report)
            if let key = report.messageKey { state.markProcessed(sha256: key) }
            ledger.append(AuditRecord(at: .now(), action: kind == .roster ? "roster_loaded" : "file_done", file: file.name,
                                      sha256: sha, detail: detail))
            state.markProcessed(sha256: sha)
            if kind == .roster { lastRoster = .some(sha) }
            logger.info("\(file.name): \(describe(report))", metadata: [
                "file": .string(file.name), "rows": .stringConvertible(report.rows), "events": .stringConvertible(report.events),
                "points": .stringConvertible(report.points), "ms": .stringConvertible(report.milliseconds)])
            // The reasons on stderr too (the contract's "details in the ledgers and on
            // stderr"): the first few, so cron's mail says what to fix without a million lines.
            for rejection in report.firstRejections {
                logger.warning("\(file.name) row \(rejection.row) rejected: \(rejection.reason)",
                               metadata: ["file": .string(file.name), "row": .stringConvertible(rejection.row)])
            }
            if report.rejected > report.firstRejections.count {
                logger.warning("\(file.name): \(report.rejected - report.firstRejections.count) more rejected rows; every reason is in \(settings.paths.data)/rejected.jsonl")
            }
            return (report, kind == .roster)
        } catch {
            // Undo: cut the file's lines, then fold what the ledgers keep onto the last index.
            // No copy of the state is kept per file or batch for this rare path.
            try ledger.rollback(to: checkpoint)
            state = try restoredState().0
            stats = statsBefore
            return failed(file, kind: kind, reason: (error as? IntakeError)?.description ?? "\(file.name) could not be read: \(error)",
                          sha: sha, at: .now())
        }
    }

    /// A file that is set aside unread, or undone: counted, its `file_failed` audit line
    /// (`detail`, else the reason), and a log line saying where it goes.
    private func failed(_ file: InboxFile, kind: FileKind? = nil, reason: String, detail: String? = nil, sha: String? = nil,
                        at time: Timestamp) -> (FileReport, Bool) {
        stats.count(fileAction: "file_failed", milliseconds: nil)
        ledger.append(AuditRecord(at: time, action: "file_failed", file: file.name, sha256: sha, detail: .string(detail ?? reason)))
        let whereabouts = file.path == settings.rosterFile ? "The roster file was left where it is." : "Moved to \(settings.paths.failed)/."
        logger.error("\(reason)\(reason.hasSuffix(".") ? "" : ".") \(whereabouts)")
        return (FileReport(name: file.name, kind: kind?.rawValue ?? "", outcome: .failed(reason: reason)), false)
    }

    /// Reads one file of `kind`. For an attachment of a message, `file` is the decoded part
    /// (named as attached, so `[[sources]]` globs match it) and `container` says which
    /// message and part its events and rejected rows record.
    func read(_ file: InboxFile, kind: FileKind, sha: String, report: inout FileReport,
                      container: (file: String, messageID: String?, part: String)? = nil) throws {
        let rules = settings.rules
        func handle(_ item: IntakeItem) throws {
            switch item {
            case .event(var event):
                if let container {
                    event.source.file = container.file
                    event.source.message = container.messageID
                    event.source.part = container.part
                }
                try score(event, rules: rules, report: &report)
            case .rejected(let row, let reason, let raw):
                let reason = container.map { "attachment \(file.name) (part \($0.part)): " + reason } ?? reason
                ledger.append(RejectedRecord(file: container?.file ?? file.name, row: row, reason: reason, raw: raw))
                stats.rejectedRows += 1
                report.rejected += 1
                if report.firstRejections.count < FileReport.shownRejections { report.firstRejections.append(.init(row: row, reason: reason)) }
            }
        }
        // A completion row read as bytes is decided from its bytes where that is plain (see
        // `decidePlain`); an attachment's rows, relabelled with their message, never are.
        var lane = PlainLane(file: file.name, sha256: sha, rules: rules)
        defer {
            stats.count(plain: lane.counts)
            report.add(lane.counts)
        }
        // Passed as closure literals, not a local function: a local function capturing `lane`
        // had it checked for exclusive access at run time, per row.
        let plain = container == nil
        switch kind {
        case .csv, .tsv, .utf16Text:
            if kind == .utf16Text, let reason = FileKind.utf16Refusal(head: FileKind.head(path: file.path, count: 512), name: file.name) {
                throw IntakeError.notATable(file: file.name, reason: reason)
            }
            var intake = settings.tableIntake(for: file.name)
            intake.readsPlainRowsAsBytes = readsRowsAsBytes
            if let csvThreadFrom { intake.csvThreadFrom = csvThreadFrom }
            try intake.read(path: file.path, file: file.name, sha256: sha, kind: kind, modified: file.modified,
                            decided: { row in plain ? try decidePlain(row, lane: &lane) : false }, emit: handle)
        case .json:
            try settings.jsonIntake(for: file.name).readDocument(path: file.path, file: file.name, sha256: sha,
                                                                 modified: file.modified, emit: handle)
        case .jsonLines:
            var intake = settings.jsonIntake(for: file.name)
            // The byte lane reads dates month first, as a source without `date_order` does.
            intake.readsPlainLinesAsBytes = readsRowsAsBytes && intake.payloads.dateOrder == .monthFirst
            try intake.readLines(path: file.path, file: file.name, sha256: sha, modified: file.modified,
                                 decided: { row in plain ? try decidePlain(row, lane: &lane) : false }, emit: handle)
        case .roster:
            if let configured = settings.rosterFile, file.path != configured {
                throw IntakeError.refused(file: file.name, reason: "[roster] file names \(configured), the only roster read; edit that file instead of dropping a roster")
            }
            let entries = try RosterReader.read(path: file.path, file: file.name, limits: settings.limits) { row, reason, raw in
                try handle(.rejected(row: row, reason: reason, raw: raw))
            }
            let source = EventSource(file: file.name, sha256: sha, row: 0)
            var outcome = Outcome()
            placeLines()
            // A roster loaded before and loaded again (going back to it) makes new events.
            let again = state.files.contains(sha)
            try Scoring.applyBindings(RosterChanges.events(for: entries, in: state, source: source, at: rosterTime ?? .now(),
                                                           again: again),
                                      to: &state, rules: settings.rules, into: &outcome, lines: ledger)
            state.place(outcome.events, at: try ledger.append(outcome))
            stats.count(outcome)
            report.points += outcome.points.reduce(0) { $0 + $1.points }
            report.students = entries.count
            report.applied = outcome.events.filter { $0.rehomed && $0.status == .applied }.count
            report.unmatched = outcome.events.filter { $0.rehomed && $0.status == .unmatched }.count
        case .xlsx, .ods:
            let table = WorkbookTable(format: kind == .xlsx ? .xlsx : .ods, path: file.path, file: file.name,
                                      sheet: settings.config.source(for: file.name)?.sheet, limits: settings.workbookLimits)
            var intake = settings.tableIntake(for: file.name)
            intake.readsPlainRowsAsBytes = readsRowsAsBytes
            try intake.read(table, file: file.name, sha256: sha, modified: file.modified,
                            decided: { row in plain ? try decidePlain(row, lane: &lane) : false }, emit: handle)
        case .compoundFile:
            throw IntakeError.workbook(file: file.name, .encrypted)
        case .zip: throw IntakeError.notATable(file: file.name, reason: "it is a zip archive, not a workbook")
        case .email: throw IntakeError.unsupported(file: file.name, kind: "an email message inside another one")
        case .otherEncoding:
            throw IntakeError.notATable(file: file.name, reason: "its text is not UTF-8 (it may be Latin-1 or Windows-1252); save it as \"CSV UTF-8\" (Excel) or download it as CSV (Google Sheets) and drop it again")
        case .binary: throw IntakeError.notATable(file: file.name, reason: "its content is binary, neither text nor JSON")
        }
    }

    private func score(_ event: Event, rules: Rules, report: inout FileReport) throws {
        try FaultPoint.check()
        // Worked on as locals, swapped out of the engine's properties and back: read as
        // properties of the class, the outcome and the rules were copied at each use, with a
        // retain of every array and table they hold.
        var scratch = Outcome(), offsets: [Int] = []
        swap(&scratch, &self.scratch)
        swap(&offsets, &self.offsets)
        defer {
            swap(&scratch, &self.scratch)
            swap(&offsets, &self.offsets)
        }
        scratch.removeAll()
        placeLines()
        try Scoring.apply(event, to: &state, rules: rules, into: &scratch, lines: ledger)
        try ledger.append(scratch, offsets: &offsets)
        state.place(scratch.events, at: offsets)
        stats.count(scratch)
        report.events += 1
        // Field by field through the buffers: `events.first?.status` copied the whole record.
        let status = scratch.events.withUnsafeBufferPointer { $0.isEmpty ? nil : $0[0].status }
        switch status {
        case .applied?: report.applied += 1
        case .duplicate?: report.duplicates += 1
        case .unmatched?: report.unmatched += 1
        case nil: break
        }
        report.points += scratch.points.withUnsafeBufferPointer { $0.reduce(0) { $0 + $1.points } }
    }

    private func describe(_ report: FileReport) -> String {
        if let students = report.students {
            return "roster of \(students) students (\(report.rejected) rows rejected): \(report.applied) events moved to roster students, \(report.unmatched) withdrawn to wait unmatched"
        }
        return "\(report.rows) rows, \(report.events) events (\(report.applied) applied, \(report.duplicates) duplicate, \(report.unmatched) unmatched), \(report.rejected) rejected, \(report.points) points, \(report.milliseconds) ms"
    }

    private func counts(_ report: FileReport) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("events", .number(String(report.events))), ("applied", .number(String(report.applied))),
            ("duplicate", .number(String(report.duplicates))), ("unmatched", .number(String(report.unmatched))),
            ("rejected", .number(String(report.rejected))), ("points", .number(String(report.points))),
            ("ms", .number(String(report.milliseconds)))]
        // Replay marks the message read from here, as it marks the file from `sha256`.
        if let id = report.messageID { members.append(("message_id", .string(id))) }
        if let key = report.messageKey { members.append(("message", .string(key))) }
        return .object(JSONObject(members))
    }

    /// Moves a taken file to `archive/` (or `failed/`, with `NAME.error.txt`), after the commit;
    /// returns the folder it went to, which the caller fsyncs once all are moved (nil when it
    /// stays). A move that fails leaves the file in the inbox; the next batch skips it by its
    /// hash. A failed file's reason is written durably on its own, which syncs `failed/` too.
    private func settle(_ file: InboxFile, failure: String?, roster: Bool) -> String? {
        let paths = settings.paths
        if file.path == settings.rosterFile { return nil }
        // A new version renamed over it, or rows appended, while the batch ran: what is there
        // now was not read, so it stays for the next batch (its rows read before are then
        // duplicates). Moved, it would have been archived unread.
        if let identity = file.identity, FileIdentity.of(file.path) != identity {
            logger.warning("\(file.name) changed in the inbox while it was being read; it stays there and is read again at the next batch")
            return nil
        }
        do {
            if roster {
                try FileSystem.copy(file.path, to: paths.data + "/roster.csv")
            }
            guard let failure else {
                _ = try Inbox.move(file.path, into: paths.archive, durable: false)
                return paths.archive
            }
            // Room for `.NAME.error.txt.tmp-PID`, the reason's temporary name.
            let target = try Inbox.move(file.path, into: paths.failed, reserving: 32, durable: false)
            do {
                try FileSystem.writeAtomically(Array((failure + "\n").utf8), to: target + ".error.txt")
            } catch {
                logger.error("\(file.name) was moved to \(paths.failed)/, but its reason could not be written: \(error)")
            }
            return paths.failed
        } catch {
            logger.error("\(file.name) could not be moved out of the inbox: \(error)")
            return nil
        }
    }

    // MARK: - Outputs (written by Engine+Snapshot.swift)

    /// How often at most the daemon rewrites `index.bin`; nil: after every batch, as
    /// `tally sync` and the manual commands do. The index grows with the ledgers (hundreds of
    /// megabytes for millions of lines), so the daemon also waits until the ledgers have grown
    /// enough since the last one — `indexGrowth` bytes, or a tenth of what the index covers —
    /// that folding the lines after it at the next start would take noticeably long. It
    /// always writes it at shutdown.
    public var indexInterval: Duration?
    public var indexGrowth = 32 << 20
    var indexWritten: ContinuousClock.Instant?
    var indexBehind = false
    /// The `state.json` and `index.bin` being written on other threads (see
    /// `writeSnapshot(inBackground:)`).
    var stateWrite: BackgroundWork?
    var indexWrite: BackgroundWork?
    /// Bytes of `events.jsonl` and `points.jsonl` the index on disk covers.
    var indexedBytes = 0

    /// What the site's last render kept for the next (see `SiteRenderer.Cache`).
    var renderCache: SiteRenderer.Cache?
    /// The students the last snapshot listed, handed to the render that follows it.
    var listed: StudentListing?
    /// Called once a batch is committed and read, before its files move: where a test
    /// changes a file in the inbox "while the batch runs", at the one instant that matters.
    var beforeMoves: (() -> Void)?
    /// Why the site was not rendered after the last `award` or `link` (see
    /// `renderAfterCommit`); a batch of files says it in its report.
    public internal(set) var siteError: String?

    // MARK: - Reading's settings and scratch

    /// Whether plain rows are read as bytes, and those already seen decided there (see
    /// `CompletionRow`); off only in tests that hold the fast path to the ordinary one.
    var readsRowsAsBytes = true
    /// From how many bytes a CSV is read on a thread of its own (`TableIntake.csvThreadFrom`);
    /// nil for the intake's own threshold. Zero only in tests that want every file on it.
    var csvThreadFrom: Int?
    /// The time roster lines are dated with (when they are read, else); set only in tests
    /// that compare two runs byte for byte: a time on a whole second is written four bytes
    /// shorter, which moves every offset after it.
    var rosterTime: Timestamp?
    /// The roster in force, once `rosterInForce()` has read it: nil, not read yet; `.some(nil)`, none.
    private var lastRoster: String??
    /// What the inbox's listing said this run (a link passed over…), so each is said once.
    private var noticesSaid: Set<String> = []
    /// Whether the missing `[roster] file` was reported since it was last seen.
    private var missingRosterReported = false
    /// Reused for every event of a file: no allocation per row.
    private var scratch = Outcome()
    private var offsets: [Int] = []

    // MARK: - Verification

    /// `state.json` as the start found it, kept only when the start rewrote it (it was
    /// behind, or `index.bin` was): what `rebuild()` compares its own with, since that is
    /// the file the user last saw, not the one the start wrote. Nil when the start left
    /// `state.json` as it was.
    private var stateFoundAtStart: FileFingerprint?

    /// How the `state.json` that `rebuild()` wrote compares with the one there before this
    /// run: the same bytes, different ones, or none at all.
    public enum PreviousState: Equatable, Sendable { case same, different, none }

    /// `tally rebuild`: replaces the state with the fold of the ledgers, writes the snapshot
    /// and renders. Compares the bytes of the new `state.json` with those of the file that
    /// was there, not with the state loaded at start, which comes from `index.bin` and never
    /// sees an edit of `state.json`.
    public func rebuild() throws -> PreviousState {
        let path = settings.paths.state
        let before = try stateFoundAtStart ?? FileFingerprint(of: path)
        var rebuilt = try Replay.rebuild(from: ledger)
        rebuilt.positions = state.positions
        state = rebuilt
        try writeSnapshot(index: true)
        try render()
        stateFoundAtStart = nil
        return switch before {
        case .missing: .none
        case .sha256(let hash): try hashFile(path) == hash ? .same : .different
        }
    }
}

/// A file's content as far as telling whether it changed needs: its SHA-256, or that there
/// was none.
enum FileFingerprint: Equatable {
    case missing
    case sha256(String)

    init(of path: String) throws {
        self = FileSystem.exists(path) ? .sha256(try hashFile(path)) : .missing
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
