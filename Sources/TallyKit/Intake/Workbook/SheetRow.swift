/// A row of a sheet as a reader hands it on: as text (`WorkbookRow`), or as its cells' bytes
/// where the parser left them (`SheetRowCells`, an XLSX row read through `SheetRowPipe`).
///
/// Why both: the byte lane (`CompletionRow`) reads a plain row's cells as bytes, and a
/// `String` per cell — made, copied back into bytes and freed — was a tenth of the thread
/// that scores. Only the rows the lane does not take, and the header and the rows held back
/// for the date order, are made text, with `text`, which stays the definition.
enum SheetRow {
    case text(WorkbookRow)
    /// Valid only while the callback that is handed it runs.
    case cells(SheetRowCells)

    /// The row as `SheetParser` gives it: within the limits, or rejected.
    var text: WorkbookRow {
        switch self {
        case .text(let row): return row
        case .cells(let cells): return cells.text
        }
    }
}

/// A sheet's row read where it lies: the parser's cells (text bytes, or shared strings by
/// index) over its batch's bytes and the shared strings' bytes. It points into the batch:
/// it is valid only while the callback it is handed to runs, and never kept.
///
/// Only rows within the limits are handed on this way (`SheetRowPipe` makes the others
/// text, rejected), so the lane reads nothing a limit would have refused.
struct SheetRowCells: PlainCells {
    let number: Int
    private let cells: UnsafeBufferPointer<FastSheetParser.Cell>
    /// Where the row's bytes start: a cell's `.bytes(start, end)` counts from here.
    private let base: UnsafeRawPointer?
    // `unowned(unsafe)`: the row lives only during the callback it is handed to, while the
    // read that made both holds them; a reference counted per row was a retain and a release
    // of each on the scoring thread.
    private unowned(unsafe) let strings: SharedStringBytes
    private let limits: WorkbookLimits
    /// The lane's reading of the row, made on the parser's thread; nil when none was made
    /// (the row's batch was done before the columns were offered), and the lane reads it.
    let prepared: Prepared?
    /// Where the lane offers the file's plain columns, for the batches still to come.
    unowned(unsafe) let plan: SheetLanePlan?

    enum Prepared {
        /// `CompletionRow.read` answered false: the row takes the ordinary path.
        case notPlain
        case row(CompletionRow)
    }

    init(number: Int, cells: UnsafeBufferPointer<FastSheetParser.Cell>, base: UnsafeRawPointer?,
         strings: SharedStringBytes, limits: WorkbookLimits, prepared: Prepared? = nil, plan: SheetLanePlan? = nil) {
        self.number = number
        self.cells = cells
        self.base = base
        self.strings = strings
        self.limits = limits
        self.prepared = prepared
        self.plan = plan
    }

    var count: Int { cells.count }

    /// Cell `index`'s text as UTF-8: the bytes of the string `text` would make; empty past the row's end.
    func bytesInPlace(at index: Int) -> UnsafeRawBufferPointer? {
        guard index >= 0, index < cells.count else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        switch cells[index] {
        case .empty: return UnsafeRawBufferPointer(start: nil, count: 0)
        case let .bytes(start, end): return UnsafeRawBufferPointer(start: base.map { $0 + start }, count: end - start)
        case .shared(let index): return strings.bytes(at: index)
        }
    }

    /// Whether `Workbook.bounded` leaves the row's text as it is: no more cells, nor bytes, than the limits.
    var isWithinLimits: Bool {
        guard cells.count <= limits.maxFields else { return false }
        var total = 0
        for index in cells.indices { total += bytesInPlace(at: index)?.count ?? 0 }
        return total <= limits.maxRowBytes
    }

    /// The row as text (a `String` per cell), bounded as `SheetParser` bounds a row.
    var text: WorkbookRow {
        let texts = (0..<cells.count).map { index -> String in
            if case .shared(let shared) = cells[index] { return strings.strings[shared] }
            return String(decoding: bytesInPlace(at: index) ?? UnsafeRawBufferPointer(start: nil, count: 0), as: UTF8.self)
        }
        return Workbook.bounded(WorkbookRow(number: number, cells: texts), limits)
    }
}

/// A workbook's shared strings, and their UTF-8 laid end to end in one buffer, so that a
/// cell that names one is read as bytes where it lies. Made once for a read of the sheet;
/// never changed after (so `Sendable`).
final class SharedStringBytes: @unchecked Sendable {
    let strings: [String]
    private let storage: UnsafeMutableRawBufferPointer
    /// Where each string ends in `storage` (it starts where the one before ends).
    private let ends: [Int]

    init(_ strings: [String]) {
        self.strings = strings
        var ends: [Int] = []
        ends.reserveCapacity(strings.count)
        var total = 0
        for string in strings {
            total += string.utf8.count
            ends.append(total)
        }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 1)
        var at = 0
        for var string in strings {
            string.withUTF8 { utf8 in
                if let source = utf8.baseAddress { (storage.baseAddress! + at).copyMemory(from: source, byteCount: utf8.count) }
                at += utf8.count
            }
        }
        self.storage = storage
        self.ends = ends
    }

    deinit { storage.deallocate() }

    /// String `index`'s UTF-8, valid while this lives.
    func bytes(at index: Int) -> UnsafeRawBufferPointer {
        let start = index == 0 ? 0 : ends[index - 1]
        return UnsafeRawBufferPointer(start: storage.baseAddress! + start, count: ends[index] - start)
    }
}
