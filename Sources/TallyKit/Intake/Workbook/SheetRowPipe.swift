import Foundation

/// Rows of a sheet parsed on a thread of their own and handed to the caller's thread in
/// batches, so that libxml2's parse (most of an XLSX's cost past the inflation) runs beside
/// the scoring of the rows before it, on the second core.
///
/// A batch holds the rows' cell bytes, not strings: the strings are made here, on the
/// caller's thread, which also frees them (strings made on one thread and freed on another
/// fragmented two malloc arenas: +50 MiB at a million rows). At most `depth` batches wait:
/// memory stays flat whatever the sheet's size. The caller's
/// callback runs on the caller's thread, in order; when it stops (false) or throws, the
/// parser is stopped at its next batch and the thread is waited for, so the archive is free
/// again when `rows` returns. A failure of the parse (a limit, `Refused`) comes after the
/// rows parsed before it, as it did when the parse ran on the caller's thread.
final class SheetRowPipe: @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `condition`.
    private let condition = NSCondition()
    private var batches: [Batch] = []
    private var finished = false
    private var failure: (any Error)?
    private var cancelled = false
    private static let depth = 2
    static let batchSize = 2048

    /// Rows as the parser gave them: their cells, and those cells' bytes, end to end.
    struct Batch {
        var bytes: [UInt8] = []
        var cells: [FastSheetParser.Cell] = []
        var rows: [(number: Int, rejection: String?, cells: Range<Int>, offset: Int)] = []
        var count: Int { rows.count }
        mutating func append(_ row: FastSheetParser.RawRow) {
            let cellsStart = cells.count
            rows.append((row.number, row.rejection, cellsStart..<cellsStart + row.cells.count, bytes.count))
            bytes.append(contentsOf: row.bytes)
            cells.append(contentsOf: row.cells)
        }
    }

    /// Parses `source` with `FastSheetParser` on a new thread; calls `row` here for each row.
    static func rows(source: ZipEntryStream, name: String, strings: [String], dateStyles: [Bool], date1904: Bool,
                     limits: WorkbookLimits, row: (WorkbookRow) throws -> Bool) throws {
        try batches(source: source, name: name, strings: strings, dateStyles: dateStyles, date1904: date1904, limits: limits) { batch in
            for item in batch.rows {
                let made = item.rejection.map { WorkbookRow(number: item.number, cells: [], rejection: $0) }
                    ?? FastSheetParser.row(number: item.number, cells: batch.cells[item.cells], bytes: batch.bytes,
                                           offset: item.offset, strings: strings, limits: limits)
                if try !row(made) { return false }
            }
            return true
        }
    }

    /// The same, each row handed on as its cells where they lie in the batch (`SheetRowCells`),
    /// no `String` made; a row rejected by the parser or past a limit as text, rejected.
    static func sheetRows(source: ZipEntryStream, name: String, strings: [String], dateStyles: [Bool], date1904: Bool,
                          limits: WorkbookLimits, row: (SheetRow) throws -> Bool) throws {
        let shared = SharedStringBytes(strings)
        try batches(source: source, name: name, strings: strings, dateStyles: dateStyles, date1904: date1904, limits: limits) { batch in
            try batch.cells.withUnsafeBufferPointer { cells in
                try batch.bytes.withUnsafeBytes { bytes in
                    for item in batch.rows {
                        if let rejection = item.rejection {
                            if try !row(.text(WorkbookRow(number: item.number, cells: [], rejection: rejection))) { return false }
                            continue
                        }
                        let view = SheetRowCells(number: item.number, cells: UnsafeBufferPointer(rebasing: cells[item.cells]),
                                                 base: bytes.baseAddress.map { $0 + item.offset }, strings: shared, limits: limits)
                        // Past a limit: the text row, which `Workbook.bounded` rejects with the reason.
                        let within = view.count <= limits.maxFields && view.byteCount <= limits.maxRowBytes
                        if try !row(within ? .cells(view) : .text(view.text)) { return false }
                    }
                    return true
                }
            }
        }
    }

    /// Runs the parse on its own thread and calls `body` here for each batch, in order, until it returns false.
    private static func batches(source: ZipEntryStream, name: String, strings: [String], dateStyles: [Bool], date1904: Bool,
                                limits: WorkbookLimits, body: (Batch) throws -> Bool) throws {
        let pipe = SheetRowPipe()
        let thread = Thread {
            pipe.produce(source: source, name: name, strings: strings, dateStyles: dateStyles, date1904: date1904, limits: limits)
        }
        thread.stackSize = 1 << 20
        thread.start()
        defer { pipe.cancelAndWait() }
        while let batch = try pipe.next() {
            if try !body(batch) { return }
        }
    }

    private func produce(source: ZipEntryStream, name: String, strings: [String], dateStyles: [Bool], date1904: Bool,
                         limits: WorkbookLimits) {
        var batch = Batch()
        var outcome: (any Error)?
        do {
            try FastSheetParser.rawRows(source: source, name: name, strings: strings, dateStyles: dateStyles, date1904: date1904,
                                        limits: limits) { row in
                batch.append(row)
                guard batch.count == Self.batchSize else { return true }
                defer { batch = Batch() }
                return put(batch)
            }
            if batch.count > 0 { _ = put(batch) }
        } catch {
            outcome = error
        }
        condition.lock()
        failure = outcome
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Queues a batch; false when the caller wants no more.
    private func put(_ batch: Batch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while batches.count >= Self.depth && !cancelled { condition.wait() }
        if cancelled { return false }
        batches.append(batch)
        condition.broadcast()
        return true
    }

    /// The next batch; nil at the end; the parse's failure once the rows before it are read.
    private func next() throws -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        while batches.isEmpty && !finished { condition.wait() }
        if !batches.isEmpty {
            condition.broadcast()
            return batches.removeFirst()
        }
        if let failure { throw failure }
        return nil
    }

    /// Stops the parse (if it still runs) and waits until its thread has let go of the stream.
    private func cancelAndWait() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }
}
