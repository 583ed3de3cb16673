/// The five ledgers of `data/` and the protocol that makes a batch durable all at once.
///
/// A batch stages lines in every ledger, then `commit` writes and fsyncs `events`, `points`,
/// `unmatched` and `rejected`, and only then appends a `commit` line to `audit.jsonl` that
/// records each file's length and the chain head of `points.jsonl`, and fsyncs it. A batch
/// is committed exactly when its commit line is on disk. On open, `recover` cuts every
/// ledger back to the lengths in the last commit line: whatever a killed run wrote after
/// that was never committed, and its input files are still in the inbox to be read again.
public final class Ledger {
    public let directory: String
    private let eventsFile: LedgerFile
    private let pointsFile: LedgerFile
    public let unmatched: LedgerFile
    public let rejected: LedgerFile
    public let audit: LedgerFile
    /// Writes the plain rows' lines on its own thread (see `LineEncoder`).
    let encoder: LineEncoder

    /// `events.jsonl`, once every line staged for it is encoded.
    public var events: LedgerFile {
        settle()
        return eventsFile
    }

    /// `points.jsonl`, once every line staged for it is encoded.
    public var points: LedgerFile {
        settle()
        return pointsFile
    }

    public init(directory: String) throws {
        self.directory = directory
        try FileSystem.createDirectory(directory)
        eventsFile = try LedgerFile(path: directory + "/events.jsonl", chained: false)
        pointsFile = try LedgerFile(path: directory + "/points.jsonl", chained: true)
        unmatched = try LedgerFile(path: directory + "/unmatched.jsonl", chained: false)
        rejected = try LedgerFile(path: directory + "/rejected.jsonl", chained: false)
        audit = try LedgerFile(path: directory + "/audit.jsonl", chained: true)
        encoder = LineEncoder(events: eventsFile, points: pointsFile)
    }

    deinit { encoder.settle() }

    var dataFiles: [(name: String, file: LedgerFile)] {
        [("events", events), ("points", points), ("unmatched", unmatched), ("rejected", rejected)]
    }

    /// Waits for the encoder to write every line staged through `stagePlain`, so that the
    /// events and points files are this thread's alone. Their places are kept for
    /// `takePlaced`.
    public func settle() { encoder.settle() }

    /// Hands each place of an applied row's event line, encoded since the last call, to
    /// `body`: the tracked entry `stagePlain` was given, and the byte offset where its line
    /// starts in `events.jsonl`.
    func takePlaced(_ body: (_ entry: Int32, _ offset: Int) -> Void) {
        if encoder.hasPlaced { encoder.takePlaced(body) }
    }

    /// Whether places of encoded lines wait for `takePlaced`.
    var hasPlaced: Bool { encoder.hasPlaced }

    // MARK: - Writing

    /// Stages an event line; returns the byte offset where it starts in `events.jsonl`.
    // Encoded between `beginLine` and `endLine`, not in a closure: a closure that captured
    // the record (or read it through a pointer) copied it, retaining each of its strings,
    // for every line of the file.

    @discardableResult
    public func append(_ record: EventRecord) throws -> Int {
        let events = self.events
        try expect(record.seq, next: events, "events.jsonl")
        let offset = events.size + events.pending
        var writer = events.beginLine()
        record.encode(into: &writer)
        events.endLine(&writer)
        return offset
    }

    /// Stages the event line of a completion row read as bytes (see `CompletionRow`) with
    /// `status`: the line `append(_: EventRecord)` would write for it, with no record made.
    /// Returns the byte offset where it starts in `events.jsonl`.
    @discardableResult
    func appendLine(_ row: borrowing CompletionRow, seq: Int, status: EventStatus, student: UnsafeRawBufferPointer?,
                    file: String, sha256: String) throws -> Int {
        let events = self.events
        try expect(seq, next: events, "events.jsonl")
        let offset = events.size + events.pending
        var writer = events.beginLine()
        row.encodeLine(into: &writer, seq: seq, status: status, student: student, file: file, sha256: sha256)
        events.endLine(&writer)
        return offset
    }

    /// Stages the lines of a plain completion row as `appendLine` (owned by the row's email,
    /// or nobody) and, when `award` is given, `appendAward` (to the row's email) write them,
    /// to be encoded on the encoder's thread. The offset of an applied row's event line
    /// comes later, through `takePlaced`, filed under `entry` (-1: not wanted). Returns
    /// whether places wait for `takePlaced` (as `hasPlaced`; true for a line written
    /// directly, a text id's).
    @discardableResult
    func stagePlain(_ row: borrowing CompletionRow, seq: Int, status: EventStatus, ownedByEmail: Bool, entry: Int32,
                    award: (seq: Int, points: Int, note: String)?, file: String, sha256: String) throws -> Bool {
        guard case .digest = row.key else {
            // Written directly (a text id is not plain; no byte lane makes one today).
            let offset = try appendLine(row, seq: seq, status: status, student: ownedByEmail ? row.email : nil,
                                        file: file, sha256: sha256)
            if let award {
                try appendAward(row, seq: award.seq, student: row.email, points: award.points, note: award.note)
            }
            if entry >= 0 { encoder.place(entry, at: offset) }
            return true
        }
        return try encoder.stage(row, seq: seq, status: status, ownedByEmail: ownedByEmail, entry: entry, award: award,
                                 file: file, sha256: sha256)
    }

    /// Stages the award line of a completion row applied to `student` (see
    /// `CompletionRow.encodeAwardLine`): the line `append(_: PointsRecord)` would write.
    func appendAward(_ row: borrowing CompletionRow, seq: Int, student: UnsafeRawBufferPointer, points: Int,
                     note: String) throws {
        let file = self.points
        try expect(seq, next: file, "points.jsonl")
        var writer = file.beginLine()
        row.encodeAwardLine(into: &writer, seq: seq, student: student, points: points, note: note, prev: file.lastHash)
        file.endLine(&writer)
    }

    public func append(_ record: PointsRecord) throws {
        let points = self.points
        try expect(record.seq, next: points, "points.jsonl")
        var writer = points.beginLine()
        record.encode(into: &writer, prev: points.lastHash)
        points.endLine(&writer)
    }

    /// Throws unless `seq` is the line that comes next in `file` (named `name`): the state
    /// numbers lines as it folds them, and a gap means the two no longer agree.
    private func expect(_ seq: Int, next file: LedgerFile, _ name: String) throws {
        try Self.expect(seq, after: file.lastSeq, name)
    }

    /// Throws unless `seq` comes next after the line numbered `last` of the file `name`.
    static func expect(_ seq: Int, after last: Int, _ name: String) throws {
        guard seq == last + 1 else {
            throw RecordError("\(name) is at seq \(last) but the state expected \(seq - 1): the snapshot and the ledger disagree; run `tally rebuild`")
        }
    }

    public func appendUnmatched(_ record: EventRecord) {
        unmatched.append { seq, _, w in
            var line = record
            line.seq = seq
            line.encode(into: &w)
        }
    }

    public func append(_ record: RejectedRecord) {
        rejected.append { seq, _, w in
            var line = record
            line.seq = seq
            line.encode(into: &w)
        }
    }

    public func append(_ record: AuditRecord) {
        audit.append { seq, prev, w in
            var line = record
            line.seq = seq
            line.prev = prev
            line.encode(into: &w)
        }
    }

    /// Stages every record of a scoring outcome; returns where each event line starts.
    @discardableResult
    public func append(_ outcome: Outcome) throws -> [Int] {
        var offsets: [Int] = []
        try append(outcome, offsets: &offsets)
        return offsets
    }

    /// Stages every record of a scoring outcome; `offsets` gets where each event line starts.
    public func append(_ outcome: Outcome, offsets: inout [Int]) throws {
        offsets.removeAll(keepingCapacity: true)
        // By index through the buffers. (Reading an element still copies the record, which
        // retains every string of its event; encoding in a closure copied it once more.)
        try outcome.events.withUnsafeBufferPointer { records in
            for index in records.indices { offsets.append(try append(records[index])) }
        }
        try outcome.points.withUnsafeBufferPointer { records in
            for index in records.indices { try append(records[index]) }
        }
        outcome.unmatched.withUnsafeBufferPointer { records in
            for index in records.indices { appendUnmatched(records[index]) }
        }
    }

    /// Makes the batch durable; see the type's documentation for the order of writes.
    public func commit(at time: Timestamp) throws {
        if CrashPoint.isArmed {
            for (_, file) in dataFiles { try file.flush() }
            CrashPoint.reach("ledger-staged")
        }
        for (_, file) in dataFiles { try file.sync() }
        encoder.releaseSpares()
        var detail: [(String, JSONValue)] = []
        for (name, file) in dataFiles { detail.append((name, .number(String(file.size)))) }
        // The chain protects a line only through the `prev` of the line after it, so the last
        // points line would be open to an edit; its hash here closes the chain (see `Verifier`).
        detail.append(("heads", .object(JSONObject([("points", .string(points.lastHash))]))))
        append(AuditRecord(at: time, action: "commit", detail: .object(JSONObject(detail))))
        if CrashPoint.isDue("commit-torn") {
            try audit.flushPart()
            CrashPoint.reach("commit-torn")
        }
        try audit.sync()
    }

    public struct Checkpoint: Sendable {
        let files: [LedgerFile.Checkpoint]
    }

    public func checkpoint() -> Checkpoint {
        Checkpoint(files: [events.checkpoint(), points.checkpoint(), unmatched.checkpoint(), rejected.checkpoint(),
                           audit.checkpoint()])
    }

    /// Cuts every file back to `checkpoint`. Places of encoded lines not yet taken are
    /// forgotten: they were for the state that a rollback replaces.
    public func rollback(to checkpoint: Checkpoint) throws {
        settle()
        encoder.dropPlaced()
        for (file, mark) in zip([events, points, unmatched, rejected, audit], checkpoint.files) {
            try file.rollback(to: mark)
        }
    }

    // MARK: - Recovery

    /// The lengths the last commit line recorded, the chain heads it recorded (none in a
    /// commit of a Tally before heads), and where that line ends in `audit.jsonl`.
    public struct CommitPoint: Equatable, Sendable {
        public var lengths: [String: Int]
        public var heads: [String: String] = [:]
        public var auditLength: Int
    }

    /// Finds the last commit line of `audit.jsonl`.
    public func lastCommit() throws -> CommitPoint? { try Self.lastCommit(in: audit) }

    /// Finds the last complete commit line of `audit` (a torn one is not a commit).
    static func lastCommit(in audit: LedgerFile) throws -> CommitPoint? {
        try last("commit", in: audit) { value, end in
            guard let detail = value["detail"]?.object else { return nil }
            var point = CommitPoint(lengths: [:], auditLength: end)
            for (key, value) in detail {
                if key == "heads", let heads = value.object {
                    for (name, hash) in heads { point.heads[name] = hash.string }
                } else {
                    point.lengths[key] = value.int
                }
            }
            return point
        }
    }

    /// The `sha256` of the last `roster_loaded` line of `audit.jsonl` (the roster in force),
    /// nil when no roster was ever loaded.
    public func lastRosterLoaded() throws -> String? {
        try Self.last("roster_loaded", in: audit) { value, _ in value["sha256"]?.string }
    }

    /// What `read` makes of the last complete line of `audit` with `action` (and where that
    /// line ends) that it makes something of. Audit files stay small next to the others (a
    /// few lines a file), so a forward scan is simple and sure; only lines naming the action
    /// are parsed.
    private static func last<T>(_ action: String, in audit: LedgerFile,
                                _ read: (JSONValue, Int) -> T?) throws -> T? {
        var found: T?
        let named = Array(#""action":"\#(action)""#.utf8)
        try audit.forEachLine(to: audit.completeLength) { line, end in
            guard line.count < 4096, line.firstRange(of: named) != nil, let value = try? JSONParser.parse(line),
                  value["action"]?.string == action, let made = read(value, end) else { return }
            found = made
        }
        return found
    }

    /// Cuts every ledger back to the last commit, and says what it cut in `audit.jsonl`.
    /// Returns the messages (empty when the ledgers were clean).
    @discardableResult
    public func recover(at time: Timestamp) throws -> [String] {
        let point = try lastCommit() ?? CommitPoint(lengths: [:], auditLength: 0)
        var messages: [String] = []
        for (name, file) in dataFiles {
            let committed = point.lengths[name] ?? 0
            if file.size > committed {
                messages.append("cut \(file.size - committed) uncommitted bytes from the end of \(name).jsonl")
                try file.truncate(to: committed)
            } else if file.size < committed {
                throw RecordError("\(name).jsonl is \(file.size) bytes but its last commit says \(committed): the file was cut outside Tally; restore it from a backup, then run `tally verify`")
            }
        }
        if audit.size > point.auditLength {
            messages.append("cut \(audit.size - point.auditLength) uncommitted bytes from the end of audit.jsonl")
            try audit.truncate(to: point.auditLength)
        }
        if !messages.isEmpty {
            append(AuditRecord(at: time, action: "recovered",
                               detail: .object(JSONObject([("cut", .array(messages.map { .string($0) }))]))))
            try commit(at: time)
        }
        return messages
    }
}

extension Ledger: EventLines {
    /// The event line with `seq`, which starts at byte `offset` of `events.jsonl` (written or
    /// still staged): how a move reads back an event the index keeps only by its place.
    public func record(seq: Int, offset: Int) throws -> EventRecord {
        guard offset >= 0 else { throw RecordError("events.jsonl line \(seq) has no known place; run `tally rebuild`") }
        let record = try EventRecord(json: try JSONParser.parse(try events.line(at: offset)))
        guard record.seq == seq else {
            throw RecordError("events.jsonl has seq \(record.seq) at byte \(offset) where the index expects \(seq); run `tally rebuild`")
        }
        return record
    }
}
