import Foundation

/// Rows of a sheet parsed on a thread of their own and handed to the caller's thread in
/// batches, so that libxml2's parse (most of an XLSX's cost past the inflation) runs beside
/// the scoring of the rows before it, on the second core.
///
/// A batch holds the rows' cell bytes, not strings: the strings are made here, on the
/// caller's thread, which also frees them (strings made on one thread and freed on another
/// fragmented two malloc arenas: +50 MiB at a million rows). The batches cross through a
/// `BatchPipe`: at most `depth` wait, so memory stays flat whatever the sheet's size, and a
/// batch read comes back to be refilled. The caller's callback runs on the caller's thread,
/// in order; when it stops (false) or throws, the parser is stopped at its next batch and
/// the thread is waited for, so the archive is free again when `rows` returns. A failure of
/// the parse (a limit, `Refused`) comes after the rows parsed before it, as it did when the
/// parse ran on the caller's thread.
enum SheetRowPipe {
    // One: the parser's thread now outruns the scoring (`SheetDataScanner`), so a second
    // waiting batch only held another megabyte at the peak.
    private static let depth = 1
    static let batchSize = 2048

    /// Rows as the parser gave them: their cells, and those cells' bytes, end to end; and,
    /// once the lane's columns are offered, the lane's reading of each (`PreparedLane`).
    struct Batch {
        var bytes: [UInt8] = []
        var cells: [FastSheetParser.Cell] = []
        var rows: [(number: Int, rejection: String?, cells: Range<Int>, offset: Int)] = []
        var lane: PreparedLane?
        var count: Int { rows.count }

        /// Emptied for the next rows, its buffers kept.
        mutating func removeAll() {
            bytes.removeAll(keepingCapacity: true)
            cells.removeAll(keepingCapacity: true)
            rows.removeAll(keepingCapacity: true)
            lane = nil
        }
        mutating func append(_ row: FastSheetParser.RawRow) {
            let cellsStart = cells.count
            rows.append((row.number, row.rejection, cellsStart..<cellsStart + row.cells.count, bytes.count))
            bytes.append(contentsOf: row.bytes)
            cells.append(contentsOf: row.cells)
        }

        /// Calls `body` with each row's cells where they lie (`SheetRowCells`), or its text when
        /// it is rejected or past a limit; until `body` returns false.
        func forEach(strings: SharedStringBytes, limits: WorkbookLimits, plan: SheetLanePlan?,
                     _ body: (SheetRow) throws -> Bool) rethrows -> Bool {
            try cells.withUnsafeBufferPointer { cells in
                try bytes.withUnsafeBytes { bytes in
                    try (lane?.bytes ?? []).withUnsafeBytes { laneBytes in
                        for (index, item) in rows.enumerated() {
                            if let rejection = item.rejection {
                                let row = FastSheetParser.row(number: item.number, rejection: rejection,
                                                              cells: UnsafeBufferPointer(rebasing: cells[item.cells]),
                                                              bytes: UnsafeRawBufferPointer(rebasing: bytes[item.offset...]),
                                                              strings: strings.strings, limits: limits)
                                if try !body(.text(row)) { return false }
                                continue
                            }
                            let prepared = lane.map { lane in
                                lane.rows[index].map {
                                    .row(PreparedLane.row($0, number: item.number, in: laneBytes,
                                                          ahead: PreparedLane.hints(after: index, in: lane.rows)))
                                } ?? .notPlain
                            } as SheetRowCells.Prepared?
                            let view = SheetRowCells(number: item.number, cells: UnsafeBufferPointer(rebasing: cells[item.cells]),
                                                     base: bytes.baseAddress.map { $0 + item.offset }, strings: strings, limits: limits,
                                                     prepared: prepared, plan: plan)
                            // Past a limit: the text row, which `Workbook.bounded` rejects with the reason. A row
                            // the lane read on the parser's thread was within them there (`prepare`).
                            let within: Bool
                            if case .row? = prepared { within = true } else { within = view.isWithinLimits }
                            if try !body(within ? .cells(view) : .text(view.text)) { return false }
                        }
                        return true
                    }
                }
            }
        }

        /// Reads each row handed on as cells with `CompletionRow.read` (on the parser's thread).
        /// Leaves the batch unread, for the caller's thread, should a reading not be kept.
        mutating func prepare(_ columns: CompletionRow.Columns, strings: SharedStringBytes, limits: WorkbookLimits) {
            var lane = PreparedLane()
            lane.rows.reserveCapacity(rows.count)
            lane.bytes.reserveCapacity(bytes.count / 2)
            let whole = forEach(strings: strings, limits: limits, plan: nil) { row in
                var kept = true
                guard case .cells(let cells) = row,
                      CompletionRow.read(cells, columns: columns, { row in kept = lane.append(row); return true }) else {
                    lane.rows.append(nil)
                    return true
                }
                return kept
            }
            if whole { self.lane = lane }
        }
    }

    /// Parses `source` with `FastSheetParser` on a new thread; calls `row` here for each row.
    static func rows(source: ZipEntryStream, name: String, strings: [String], dateStyles: [Bool], date1904: Bool,
                     limits: WorkbookLimits, row: (WorkbookRow) throws -> Bool) throws {
        try batches(source: source, name: name, strings: strings, lane: nil, dateStyles: dateStyles, date1904: date1904,
                    limits: limits) { batch in
            try batch.cells.withUnsafeBufferPointer { cells in
                try batch.bytes.withUnsafeBytes { bytes in
                    for item in batch.rows {
                        let made = FastSheetParser.row(number: item.number, rejection: item.rejection,
                                                       cells: UnsafeBufferPointer(rebasing: cells[item.cells]),
                                                       bytes: UnsafeRawBufferPointer(rebasing: bytes[item.offset...]),
                                                       strings: strings, limits: limits)
                        if try !row(made) { return false }
                    }
                    return true
                }
            }
        }
    }

    /// The same, each row handed on as its cells where they lie in the batch (`SheetRowCells`),
    /// no `String` made; a row rejected by the parser or past a limit as text, rejected. Once
    /// the lane offers its columns to the rows' `plan`, the parser's thread reads the rows of
    /// the batches it completes after (`SheetLanePlan`).
    static func sheetRows(source: ZipEntryStream, name: String, strings: [String], dateStyles: [Bool], date1904: Bool,
                          limits: WorkbookLimits, row: (SheetRow) throws -> Bool) throws {
        let shared = SharedStringBytes(strings)
        let plan = SheetLanePlan()
        try batches(source: source, name: name, strings: strings, lane: (shared, plan), dateStyles: dateStyles, date1904: date1904,
                    limits: limits) { batch in
            try batch.forEach(strings: shared, limits: limits, plan: plan, row)
        }
    }

    /// Runs the parse on its own thread (a `BatchPipe`) and calls `body` here for each batch,
    /// in order, until it returns false.
    private static func batches(source: ZipEntryStream, name: String, strings: [String], lane: (SharedStringBytes, SheetLanePlan)?,
                                dateStyles: [Bool], date1904: Bool, limits: WorkbookLimits,
                                body: (Batch) throws -> Bool) throws {
        try BatchPipe<Batch>.run(depth: depth, produce: { pipe in
            var batch = Batch()
            // Read on this thread once the lane has offered its columns; then queued, and a
            // batch the caller has read comes back to be refilled.
            func handOn() -> Bool {
                if let (shared, plan) = lane, let columns = plan.columns { batch.prepare(columns, strings: shared, limits: limits) }
                let going = pipe.put(&batch, emptied: Batch())
                batch.removeAll()
                return going
            }
            try FastSheetParser.rawRows(source: source, name: name, strings: strings, dateStyles: dateStyles, date1904: date1904,
                                        limits: limits) { row in
                batch.append(row)
                return batch.count < batchSize || handOn()
            }
            if batch.count > 0 { _ = handOn() }
        }, consume: { batch in try body(batch) })
    }
}
