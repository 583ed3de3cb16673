import Dispatch
import Foundation

/// Encodes the ledger lines of plain completion rows (see `CompletionRow`) on a thread of
/// its own, in the order they were staged, while the scoring thread decides the rows after.
///
/// Why: writing a row's event line and award line as JSON, and chaining the award line's
/// SHA-256, was a third of the scoring thread's time on a big export, and none of it
/// depends on the state once the row is decided. The scoring thread copies what the lines
/// need (the row's bytes, its seq numbers, status and points: an `Order`) into a `Chunk`;
/// full chunks cross to the encoder, which writes the lines with the very code the direct
/// path uses (`Ledger.appendLine`, `appendAward`), so the bytes are the same by construction.
///
/// What the scoring thread no longer knows at once is where an applied row's event line
/// starts in `events.jsonl`, which its tracked entry keeps. The encoder lists those places
/// (`placed`) and the engine writes them into the state (`Engine.placeLines`) before anything
/// reads one. Every other use of the events and points files waits for the encoder first
/// (`Ledger.settle`), so they are never touched by two threads at once.
///
/// At most `depth` chunks are in flight, so memory stays flat however many rows come.
final class LineEncoder: @unchecked Sendable {
    // @unchecked: `done` is guarded by `lock`; a chunk belongs to the scoring thread until
    // it is handed over and after it comes back through `done`; the two files are written
    // only on `queue` while a chunk is in flight (the scoring thread waits for it otherwise).

    /// One row's lines: its event line (seq, status, owner) and, when applied, its award line.
    struct Order {
        var seq: Int
        var row: Int
        var at: Timestamp
        var high: UInt64
        var low: UInt64
        /// The award line's seq; 0 when the row has none (a duplicate).
        var awardSeq: Int
        var points: Int
        /// The tracked entry whose event line this is, to be placed; -1 for none.
        var entry: Int32
        var status: EventStatus
        /// Whether the event line names the row's email as its student (else nobody).
        var ownedByEmail: Bool
        /// Where the row's bytes start in the chunk, and their lengths in this order:
        /// email, name, course, certificate, note (-1: absent).
        var start: Int32
        var email: Int32
        var name: Int32
        var course: Int32
        var certificate: Int32
        var note: Int32
    }

    /// Orders of one source file, and the bytes they point into. Raw storage, allocated
    /// once and refilled: the scoring thread fills a chunk with two copies per row, and an
    /// array's append (a uniqueness check, an exclusivity check, a retain) cost more than
    /// the copy.
    final class Chunk: @unchecked Sendable {
        let orders = UnsafeMutablePointer<Order>.allocate(capacity: LineEncoder.ordersPerChunk)
        var count = 0
        private(set) var bytes: UnsafeMutableRawPointer
        private(set) var capacity: Int
        var used = 0
        var file = ""
        var sha256 = ""
        /// Filled by the encoder: (tracked entry, byte offset of its event line).
        var placed: [(entry: Int32, offset: Int)] = []

        init() {
            capacity = LineEncoder.bytesPerChunk
            bytes = .allocate(byteCount: capacity, alignment: 16)
        }

        deinit {
            orders.deallocate()
            bytes.deallocate()
        }

        /// Makes room for `count` bytes in an empty chunk (a row longer than a chunk).
        func reserve(_ count: Int) {
            precondition(used == 0, "a chunk grows only when empty")
            guard count > capacity else { return }
            bytes.deallocate()
            capacity = count
            bytes = .allocate(byteCount: capacity, alignment: 16)
        }

        func reset() {
            count = 0
            used = 0
            placed.removeAll(keepingCapacity: true)
        }
    }

    /// A chunk is handed over at this many orders or bytes: enough that a hand-over costs
    /// nothing next to its lines, small enough to stay in the caches.
    static let ordersPerChunk = 2048
    static let bytesPerChunk = 256 << 10

    private let events: LedgerFile
    private let points: LedgerFile
    private let queue = DispatchQueue(label: "tally.ledger.encoder")
    private let slots: DispatchSemaphore
    private let lock = NSLock()
    /// Chunks encoded, for the scoring thread to collect (guarded by `lock`).
    private var done: [Chunk] = []
    /// Everything else, the scoring thread's alone, in one value behind a pointer: a row is
    /// staged with no run-time exclusivity check. (As a class's stored property it took
    /// one per row, and field by field a dozen, a twentieth of the scoring thread; the
    /// check's thread-local lookup was where the thread then waited most, in `perf`.) Only
    /// the scoring thread touches it, and never re-entrantly.
    private let state: UnsafeMutablePointer<Staging>
    private var staging: Staging {
        _read { yield state.pointee }
        _modify { yield &state.pointee }
    }

    private struct Staging {
        /// The chunk being filled, if any, and chunks to refill.
        var filling: Filling?
        var spares: [Chunk] = []
        var inFlight = 0
        /// The seq of the last event and award line, staged or written. While the encoder
        /// is busy the files' own `lastSeq` lag behind (and are not the scoring thread's to
        /// read), so it counts on from where they stood when it was last idle: nothing else
        /// writes to them until it is idle again (see `Ledger.settle`).
        var lastEventSeq: Int
        var lastAwardSeq: Int
        /// Places of event lines encoded and not yet taken by `takePlaced`.
        var placed: [(entry: Int32, offset: Int)] = []

        var isIdle: Bool { filling == nil && inFlight == 0 }

        /// Stages the row (see `LineEncoder.stage`); returns the chunks to hand over.
        mutating func stage(_ row: borrowing CompletionRow, seq: Int, status: EventStatus, ownedByEmail: Bool,
                            entry: Int32, award: (seq: Int, points: Int, note: String)?, file: String, sha256: String,
                            events: LedgerFile, points: LedgerFile) throws -> (Chunk?, Chunk?, placed: Bool) {
            if isIdle { (lastEventSeq, lastAwardSeq) = (events.lastSeq, points.lastSeq) }
            try Ledger.expect(seq, after: lastEventSeq, "events.jsonl")
            if let award { try Ledger.expect(award.seq, after: lastAwardSeq, "points.jsonl") }
            let need = row.email.count + (row.name?.count ?? 0) + row.course.count + (row.certificate?.count ?? 0)
                + (award?.note.utf8.count ?? 0)
            var before: Chunk?
            if filling?.fits(need, file: file, sha256: sha256) == false {
                before = filling?.finished()
                filling = nil
            }
            if filling == nil { filling = Filling(spares.popLast() ?? Chunk(), file: file, sha256: sha256, room: need) }
            let full = filling!.append(row, seq: seq, status: status, ownedByEmail: ownedByEmail, entry: entry, award: award)
            lastEventSeq = seq
            if let award { lastAwardSeq = award.seq }
            guard full else { return (before, nil, !placed.isEmpty) }
            defer { filling = nil }
            return (before, filling?.finished(), !placed.isEmpty)
        }
    }

    /// Eight chunks in flight, not four: with four, the scoring thread waited for a slot
    /// often enough that a fifth of the two cores sat idle through a big file's read.
    init(events: LedgerFile, points: LedgerFile, depth: Int = 8) {
        self.events = events
        self.points = points
        slots = DispatchSemaphore(value: depth)
        state = .allocate(capacity: 1)
        state.initialize(to: Staging(lastEventSeq: events.lastSeq, lastAwardSeq: points.lastSeq))
    }

    deinit {
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// Whether nothing is waiting to be encoded.
    var isIdle: Bool { staging.isIdle }

    /// Whether encoded event lines wait for `takePlaced`.
    var hasPlaced: Bool { !staging.placed.isEmpty }

    /// Queues the lines of `row`, decided as `seq` with `status`; `award` adds its award
    /// line. The row's key must be a digest (the caller writes any other row directly).
    /// Throws, and queues nothing, when a seq does not follow the last line's.
    /// Returns whether places of encoded lines wait for `takePlaced` (as `hasPlaced`).
    @discardableResult
    func stage(_ row: borrowing CompletionRow, seq: Int, status: EventStatus, ownedByEmail: Bool, entry: Int32,
               award: (seq: Int, points: Int, note: String)?, file: String, sha256: String) throws -> Bool {
        let (before, full, placed) = try staging.stage(row, seq: seq, status: status, ownedByEmail: ownedByEmail,
                                                       entry: entry, award: award, file: file, sha256: sha256,
                                                       events: events, points: points)
        if let before { handOver(before) }
        if let full { handOver(full) }
        return placed || ((before != nil || full != nil) && hasPlaced)
    }

    /// Waits until every line staged is encoded (in the files' staging buffers), and
    /// collects their places.
    func settle() {
        if let current = staging.filling {
            staging.filling = nil
            let chunk = current.finished()
            guard staging.inFlight > 0 else {
                // Nothing ahead of it: encoded here, by the same function, rather than sent to
                // the encoder's thread and waited for (a burst of one-row files made that
                // round trip per file).
                Self.encode(chunk, events: events, points: points)
                reclaim(chunk)
                return
            }
            handOver(chunk)
        }
        guard staging.inFlight > 0 else { return }
        queue.sync {}
        collect()
        assert(staging.inFlight == 0)
    }

    /// Frees the chunks kept for refilling (about half a megabyte each): called once a batch
    /// is committed, so that they do not sit idle through the end of the batch and between
    /// drops. The next big file allocates them again.
    func releaseSpares() {
        precondition(staging.isIdle, "the encoder has lines in flight")
        staging.spares.removeAll()
    }

    /// Hands each place collected so far to `body` (tracked entry, byte offset), once.
    func takePlaced(_ body: (Int32, Int) -> Void) {
        for (entry, offset) in staging.placed { body(entry, offset) }
        staging.placed.removeAll(keepingCapacity: staging.placed.count < 1 << 16)
    }

    /// Files a place found elsewhere (a line written directly) with those encoded here.
    func place(_ entry: Int32, at offset: Int) { staging.placed.append((entry, offset)) }

    /// Forgets the places collected: the state they were for is being thrown away.
    func dropPlaced() { staging.placed.removeAll() }

    // MARK: - The hand-over

    private func handOver(_ chunk: Chunk) {
        slots.wait()
        collect()
        staging.inFlight += 1
        queue.async { [self] in
            Self.encode(chunk, events: events, points: points)
            lock.lock()
            done.append(chunk)
            lock.unlock()
            slots.signal()
        }
    }

    /// Takes back the chunks encoded so far: their places, and the chunks to refill.
    private func collect() {
        lock.lock()
        let finished = done
        done.removeAll(keepingCapacity: true)
        lock.unlock()
        for chunk in finished {
            reclaim(chunk)
            staging.inFlight -= 1
        }
    }

    /// Takes an encoded chunk's places, and keeps the chunk to refill.
    private func reclaim(_ chunk: Chunk) {
        staging.placed.append(contentsOf: chunk.placed)
        chunk.reset()
        staging.spares.append(chunk)
    }

    /// A chunk being filled, with its counts kept here rather than in the chunk: a value in
    /// the staging, where the chunk's own fields were checked for exclusive access field by
    /// field (a class's stored properties are checked at run time).
    private struct Filling {
        let chunk: Chunk
        let orders: UnsafeMutablePointer<Order>
        let bytes: UnsafeMutableRawPointer
        let capacity: Int
        /// The chunk's file and digest, also kept here: read from the chunk, each row paid
        /// two more checks.
        let file: String
        let sha256: String
        var count = 0
        var used = 0

        init(_ chunk: Chunk, file: String, sha256: String, room: Int) {
            chunk.file = file
            chunk.sha256 = sha256
            chunk.reserve(room)
            self.chunk = chunk
            self.file = file
            self.sha256 = sha256
            orders = chunk.orders
            bytes = chunk.bytes
            capacity = chunk.capacity
        }

        /// Whether a row of `count` bytes from `file` may join this chunk.
        func fits(_ need: Int, file: String, sha256: String) -> Bool {
            used + need <= capacity && self.file == file && self.sha256 == sha256
        }

        /// Copies the row's bytes and its order in; true when the chunk is full.
        mutating func append(_ row: borrowing CompletionRow, seq: Int, status: EventStatus, ownedByEmail: Bool,
                             entry: Int32, award: (seq: Int, points: Int, note: String)?) -> Bool {
            guard case let .digest(high, low) = row.key else { preconditionFailure("a text id is written directly") }
            let start = used
            var end = start
            let email = Self.copy(row.email, to: bytes, at: &end), name = Self.copy(row.name, to: bytes, at: &end)
            let course = Self.copy(row.course, to: bytes, at: &end)
            let certificate = Self.copy(row.certificate, to: bytes, at: &end)
            var note: Int32 = -1
            if var text = award?.note, !text.isEmpty {
                note = text.withUTF8 { Self.copy(UnsafeRawBufferPointer($0), to: bytes, at: &end) }
            }
            (orders + count).initialize(to: Order(
                seq: seq, row: row.row, at: row.at, high: high, low: low, awardSeq: award?.seq ?? 0,
                points: award?.points ?? 0, entry: entry, status: status, ownedByEmail: ownedByEmail, start: Int32(start),
                email: email, name: name, course: course, certificate: certificate, note: note))
            count += 1
            used = end
            return count == LineEncoder.ordersPerChunk || end >= LineEncoder.bytesPerChunk
        }

        /// Copies `source` to `base + end` and moves `end` past it; returns its length, or -1
        /// for none. (A nested function capturing `end` had it checked for exclusive access at
        /// run time on every call: four or five times a row.)
        @inline(__always)
        private static func copy(_ source: UnsafeRawBufferPointer?, to base: UnsafeMutableRawPointer, at end: inout Int)
            -> Int32 {
            guard let source else { return -1 }
            if let from = source.baseAddress { (base + end).copyMemory(from: from, byteCount: source.count) }
            end += source.count
            return Int32(source.count)
        }

        /// The chunk, with its counts.
        func finished() -> Chunk {
            chunk.count = count
            chunk.used = used
            return chunk
        }
    }

    /// Writes the lines of `chunk`'s orders: on the encoder's queue, or where `settle` is called
    /// when nothing was ahead of the chunk.
    private static func encode(_ chunk: Chunk, events: LedgerFile, points: LedgerFile) {
        let base = UnsafeRawBufferPointer(start: chunk.bytes, count: chunk.used)
        var file = chunk.file, sha256 = chunk.sha256
        file.withUTF8 { file in
            sha256.withUTF8 { sha256 in
                let (file, sha256) = (UnsafeRawBufferPointer(file), UnsafeRawBufferPointer(sha256))
                // Checked once for the chunk's lines, not once a line.
                let sourceIsPlain = JSONWriter.isPlain(file) && JSONWriter.isPlain(sha256)
                for order in UnsafeBufferPointer(start: chunk.orders, count: chunk.count) {
                    encode(order, base, file: file, sha256: sha256, sourceIsPlain: sourceIsPlain, chunk: chunk,
                           events: events, points: points)
                }
            }
        }
    }

    private static func encode(_ order: Order, _ base: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
                               sha256: UnsafeRawBufferPointer, sourceIsPlain: Bool, chunk: Chunk, events: LedgerFile,
                               points: LedgerFile) {
        var at = Int(order.start)
        func take(_ count: Int32) -> UnsafeRawBufferPointer {
            defer { at += Int(count) }
            return UnsafeRawBufferPointer(rebasing: base[at..<(at + Int(count))])
        }
        // An optional field's length is -1 when it is absent.
        func takeIfThere(_ count: Int32) -> UnsafeRawBufferPointer? { count < 0 ? nil : take(count) }
        let row = CompletionRow(key: .digest(order.high, order.low), email: take(order.email),
                                name: takeIfThere(order.name), course: take(order.course),
                                certificate: takeIfThere(order.certificate), at: order.at, row: order.row)
        let offset = events.size + events.pending
        var writer = events.beginLine()
        row.encodeLine(into: &writer, seq: order.seq, status: order.status, student: order.ownedByEmail ? row.email : nil,
                       file: file, sha256: sha256, sourceIsPlain: sourceIsPlain)
        events.endLine(&writer)
        if order.entry >= 0 { chunk.placed.append((order.entry, offset)) }
        guard order.awardSeq > 0 else { return }
        let note = takeIfThere(order.note) ?? UnsafeRawBufferPointer(start: nil, count: 0)
        writer = points.beginLine()
        points.withLastHash { prev in
            row.encodeAwardLine(into: &writer, seq: order.awardSeq, student: row.email, points: order.points, note: note,
                                prev: prev)
        }
        points.endLine(&writer)
    }
}
