/// A run of a CSV's records as its reading thread hands them to the thread that scores
/// (`CSVTable.forEachRowPastHeader`): each plain row as its reading, and any other record
/// copied, so that the scoring thread reads it as the `CSVRecord` it was.
///
/// Why: the scan, and `CompletionRow.read` of a plain row (the email folded, the date
/// parsed, the content id hashed), were a third of the scoring thread and need nothing of
/// the state, so they run on the second core. A reader thread was tried once and reverted
/// because strings made on one thread were released on the other; a batch holds plain
/// values and byte buffers only, and goes back to the reading thread to be refilled.
///
/// Either way a row is read by the same functions as on one thread: a plain row's reading
/// is what `CompletionRow.read` answered (kept as a sheet's batch keeps it, `PreparedLane`),
/// and a copied record has the same bytes, field spans, raw text and rejection.
struct CSVRowBatch {
    /// Records per batch: a few hundred kilobytes, small enough to stay in the caches
    /// between the two threads, large enough that the hand-off costs nothing.
    static let rows = 2048
    /// Bytes per batch, past which it is handed on with fewer rows (long records).
    static let bytes = 1 << 20

    /// Each record's number, in order.
    private var numbers: [Int] = []
    /// Each record's reading by `CompletionRow.read`; nil for a record kept in `records`.
    private var lane = PreparedLane()
    private var records: [Kept] = []
    /// The kept records' field spans, end to end.
    private var spans: [CSVFieldSpan] = []
    /// The kept records' bytes, from each one's first byte to its last field's end, and a
    /// raw text that is not among them (an over-long record's saved prefix).
    private var bytes: [UInt8] = []

    /// A record that `CompletionRow.read` did not take: where its copy lies, and what the
    /// `CSVRecord` over the copy needs besides.
    private struct Kept {
        var number: Int
        var line: Int
        var count: Int
        /// Where its bytes start in `bytes`, and its spans in `spans`.
        var start: Int
        var spans: Int
        var raw: Range<Int>
        var problem: CSVRecord.Rejection?
    }

    var count: Int { numbers.count }
    /// Whether the batch is full, by rows or by bytes.
    func isFull(rows: Int) -> Bool { numbers.count >= rows || bytes.count + lane.bytes.count >= Self.bytes }

    /// Empties the batch, keeping its buffers.
    mutating func removeAll() {
        numbers.removeAll(keepingCapacity: true)
        lane.rows.removeAll(keepingCapacity: true)
        lane.bytes.removeAll(keepingCapacity: true)
        records.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
    }

    /// Adds `record`: read by the lane when `plain` is given and the record is plain and not
    /// rejected, else copied.
    mutating func append(_ record: borrowing CSVRecord, plain: CompletionRow.Columns?) {
        numbers.append(record.number)
        if let plain, record.problem == nil {
            var kept = false
            let read = CompletionRow.read(record, columns: plain) { row in
                kept = self.lane.append(row)
                return true
            }
            if read && kept { return }
        }
        lane.rows.append(nil)
        keep(record)
    }

    private mutating func keep(_ record: borrowing CSVRecord) {
        let start = bytes.count
        let extent = record.count > 0 ? record.spans[record.count - 1].end : 0
        // The raw text is the record's first bytes, except an over-long record's.
        let raw = record.rawBytes
        let base = UnsafeRawPointer(record.base)
        let rawInside = raw.baseAddress == base
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: base, count: rawInside ? max(extent, raw.count) : extent))
        let rawStart = rawInside ? start : bytes.count
        if !rawInside { bytes.append(contentsOf: raw) }
        let spanStart = spans.count
        spans.append(contentsOf: UnsafeBufferPointer(start: record.spans, count: record.count))
        records.append(Kept(number: record.number, line: record.line, count: record.count, start: start, spans: spanStart,
                            raw: rawStart..<rawStart + raw.count, problem: record.problem))
    }

    /// Hands on each record in order — a plain row's reading to `plain`, any other record to
    /// `record` — until one returns false; each is valid only during the call.
    mutating func forEach(plain: (borrowing CompletionRow) throws -> Bool,
                          record: (borrowing CSVRecord) throws -> Bool) rethrows -> Bool {
        // Never empty, so that both have an address even when no record needed them.
        if bytes.isEmpty { bytes.append(0) }
        if spans.isEmpty { spans.append(CSVFieldSpan(start: 0, end: 0, isEscaped: false)) }
        let numbers = numbers, readings = lane.rows, records = records
        return try lane.bytes.withUnsafeBytes { laneBytes in
            try bytes.withUnsafeBufferPointer { bytes in
                try spans.withUnsafeBufferPointer { spans in
                    let base = bytes.baseAddress!, spanBase = spans.baseAddress!
                    var next = 0
                    for index in numbers.indices {
                        if let reading = readings[index] {
                            let ahead = PreparedLane.hints(after: index, in: readings)
                            if try !plain(PreparedLane.row(reading, number: numbers[index], in: laneBytes, ahead: ahead)) {
                                return false
                            }
                            continue
                        }
                        let kept = records[next]
                        next += 1
                        let view = CSVRecord(base: base + kept.start, spans: spanBase + kept.spans, count: kept.count,
                                             number: kept.number, line: kept.line,
                                             rawBytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[kept.raw]),
                                             problem: kept.problem)
                        if try !record(view) { return false }
                    }
                    return true
                }
            }
        }
    }
}

extension CSVRowBatch {
    /// How many batches may wait for the scoring thread: four keep both threads busy through
    /// an uneven patch of rows (with two, a sync of a million rows left a fifth of the two
    /// cores idle while it read), and the memory small (about a megabyte a batch: a batch is
    /// full at 2,048 rows or once past 1 MiB, so one long row can take it towards 2 MiB).
    static let depth = 4

    /// Reads `reader`'s records past the first (the header) on a thread of their own, in
    /// batches of `rows`, and hands them on here, in order (see `forEach`), until a body
    /// returns false. Throws what a body throws, or, after the records before it, what the
    /// reader threw (a `CSVError`).
    static func read(_ reader: CSVReader, plain: CompletionRow.Columns?, rows: Int = Self.rows,
                     plainRow: (borrowing CompletionRow) throws -> Bool,
                     record: (borrowing CSVRecord) throws -> Bool) throws {
        let handed = Handover(reader)
        let rows = max(rows, 1)
        try BatchPipe<CSVRowBatch>.run(depth: depth, produce: { pipe in
            guard let reader = handed.take() else { return }
            var batch = CSVRowBatch()
            var first = true
            var failure: (any Error)?
            do {
                try reader.forEachRecord { row in
                    if first {
                        first = false
                        return true
                    }
                    batch.append(row, plain: plain)
                    guard batch.isFull(rows: rows) else { return true }
                    guard pipe.put(&batch, emptied: CSVRowBatch()) else { return false }
                    batch.removeAll()
                    return true
                }
            } catch {
                failure = error
            }
            // The records read before a failure are handed on before it.
            if batch.count > 0 { _ = pipe.put(&batch, emptied: CSVRowBatch()) }
            if let failure { throw failure }
        }, consume: { batch in
            try batch.forEach(plain: plainRow, record: record)
        })
    }
}

/// A value handed to another thread, which takes it; the thread that hands it over does
/// not touch it again (so a class that is not `Sendable`, such as a reader, may cross).
final class Handover<Value>: @unchecked Sendable {
    private var value: Value?
    init(_ value: Value) { self.value = value }
    /// The value, once; nil after.
    func take() -> Value? {
        defer { value = nil }
        return value
    }
}
