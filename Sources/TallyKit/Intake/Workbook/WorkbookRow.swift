
/// One row of a workbook's sheet, as text, ready for the same row mapping as a CSV row.
public struct WorkbookRow: Sendable, Equatable, TableRow {
    /// The row's number in the sheet (1-based, as the spreadsheet shows it).
    public var number: Int
    /// Cell text from column A on; "" where a cell is empty.
    public var cells: [String]
    /// Set when the row broke a limit (too many cells, too long): rejected on its own.
    public var rejection: String?
    /// A rejected row's text for `rejected.jsonl`, which its cells (not kept) no longer give.
    private var rejectedText: String?

    /// `raw`: the text of a rejected row (`Workbook.raw` of the cells read), so that the user
    /// can tell whose row it was.
    public init(number: Int, cells: [String], rejection: String? = nil, raw: String? = nil) {
        self.number = number
        self.cells = cells
        self.rejection = rejection
        self.rejectedText = raw
    }

    public var count: Int { cells.count }
    public func string(at index: Int) -> String { index < cells.count ? cells[index] : "" }
    public var raw: String { rejectedText ?? Workbook.raw(cells) }
    public func dateOrderEvidence(at index: Int) -> DateOrder? { DateParser.evidence(string(at: index)) }
}

/// Shared helpers of the workbook readers.
enum Workbook {
    /// A number as a person writes it: `8`, `8.5`, `-0.25`.
    static func plainNumber(_ text: String) -> String {
        guard let value = Double(text), value.isFinite else { return text }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return String(value)
    }

    /// An ISO 8601 text for a moment given as days since `epoch` (a spreadsheet serial).
    static func iso(days serial: Double, from epoch: (year: Int, month: Int, day: Int)) -> String? {
        guard serial.isFinite, abs(serial) < 3_000_000, let base = Timestamp(year: epoch.year, month: epoch.month, day: epoch.day) else {
            return nil
        }
        let seconds = (serial * 86_400).rounded()
        return Timestamp(milliseconds: base.milliseconds + Int64(seconds) * 1000).iso8601
    }

    /// A row within the limits, or the same row rejected with the reason.
    static func bounded(_ row: WorkbookRow, _ limits: WorkbookLimits) -> WorkbookRow {
        if row.cells.count > limits.maxFields {
            return WorkbookRow(number: row.number, cells: [],
                               rejection: "the row has \(row.cells.count) cells, more than the limit of \(limits.maxFields)",
                               raw: raw(row.cells))
        }
        let bytes = row.cells.reduce(0) { $0 + $1.utf8.count }
        if bytes > limits.maxRowBytes {
            return WorkbookRow(number: row.number, cells: [], rejection: tooLong(limits), raw: raw(row.cells))
        }
        return row
    }

    /// Why a row whose text passes `max_row_bytes` is rejected.
    static func tooLong(_ limits: WorkbookLimits) -> String { "the row is longer than \(limits.maxRowBytes) bytes" }

    /// The bytes of a row's text `rejected.jsonl` keeps, as the CSV path keeps of a raw row.
    static let rawBytes = 4096

    /// A row's text for `rejected.jsonl`: its cells joined by commas, the first `rawBytes`;
    /// never the whole of a long row.
    static func raw<Cells: Sequence<String>>(_ cells: Cells) -> String {
        var bytes: [UInt8] = []
        for (index, cell) in cells.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: cell.utf8.prefix(rawBytes - bytes.count))
            if bytes.count >= rawBytes { break }
        }
        return String(decoding: bytes.prefix(rawBytes), as: UTF8.self)
    }

    // MARK: Numbers a sheet gives, bounded

    /// The last row number a row may have: far past any spreadsheet's last row (Excel's is
    /// 1,048,576), and small enough that counting on from it, or adding a repeat count to it,
    /// cannot overflow.
    static let lastRow = Int(Int32.max)

    /// An ODS count (`number-rows-repeated`, `number-columns-repeated`, `text:c`): 1, the
    /// default, when it is absent or not a positive integer; at most `lastRow`, however large.
    static func count(_ text: String?) -> Int {
        guard let text else { return 1 }
        if let count = Int(text) { return count >= 1 ? min(count, lastRow) : 1 }
        // Digits past `Int.max`: as large as a count gets.
        return !text.isEmpty && text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) ? lastRow : 1
    }

    /// The number `count` rows after row `number`; any past `lastRow` is `lastRow + 1`.
    static func row(_ number: Int, adding count: Int) -> Int {
        let past = lastRow + 1
        return min(min(number, past) + min(max(count, 0), past), past)
    }

    /// Why a row counted past `lastRow` is rejected.
    static var pastLastRow: String { "the row comes after row \(lastRow), past the last row a sheet has" }

    // MARK: References a worksheet gives, checked

    /// The last column a cell reference may name: ZZZ, its third letter (Excel's last is XFD).
    static let lastColumn = 18_278

    /// A row's number as its `r` gives it (`Int`'s reading), when it is one a row may have.
    static func rowNumber(_ number: Int?) -> Int? {
        guard let number, (1...lastRow).contains(number) else { return nil }
        return number
    }

    /// A reference's text for a reason, at most 32 bytes of it.
    static func shown<Bytes: Collection>(_ reference: Bytes) -> String where Bytes.Element == UInt8 {
        String(decoding: reference.prefix(32), as: UTF8.self) + (reference.count > 32 ? "…" : "")
    }

    /// Why a row whose `r` is not a row number is rejected.
    static func badRowNumber(_ shown: String) -> String {
        "its row number \"\(shown)\" is not one a sheet has (1 to \(lastRow))"
    }

    /// Why a row with a cell whose `r` names no column is rejected.
    static func badCellReference(_ shown: String) -> String {
        "a cell's reference \"\(shown)\" names no column Tally can place (A to ZZZ)"
    }
}
