import Foundation

/// The fast path of `SheetParser`: the same rows from the same worksheet part, read from
/// libxml2's SAX events (`XMLEventParser`) on bytes. Names are compared as dictionary
/// pointers, attributes and text are read in place, and a row is handed on as its cells'
/// bytes (`RawRow`): the `String`s are made once per cell with text, by whoever takes the
/// row — on the reading thread when `SheetRowPipe` parses on another, so that strings are
/// made and freed by the same thread.
///
/// The rows of the sheet data are read by hand where they have the usual shape
/// (`SheetDataScanner`, through the same event methods), and by libxml2 from the first row
/// that does not; libxml2 reads the rest of the part either way.
///
/// `SheetParser` stays the reference: the tests read every corpus workbook and fixture both
/// ways and expect the same rows, and anything unusual here (a shared-string index or a
/// number that is not plain digits, a date style) goes through `SheetParser.cellText`.
final class FastSheetParser: XMLEventHandler {
    // `@exclusivity(unchecked)`: the parser's state is touched by libxml2's callbacks on one
    // thread, one at a time, never through overlapping accesses; the runtime's checks of
    // each access were an eighth of the parsing thread's time.
    private let simple: SheetParser
    private let limits: WorkbookLimits
    private let body: (RawRow) throws -> Bool

    @exclusivity(unchecked) private var names = Names()
    private struct Names {
        var row = XMLEventParser.Name?.none, c = XMLEventParser.Name?.none, v = XMLEventParser.Name?.none
        var inlineString = XMLEventParser.Name?.none, phonetic = XMLEventParser.Name?.none
        var reference = XMLEventParser.Name?.none, type = XMLEventParser.Name?.none, style = XMLEventParser.Name?.none
    }

    @exclusivity(unchecked) private var rowNumber = 0
    @exclusivity(unchecked) private var cells: [Cell] = []
    @exclusivity(unchecked) private var bytes: [UInt8] = []
    @exclusivity(unchecked) private var tooWide = false
    /// The row's text passed `max_row_bytes` (`admit`): no more of it is kept.
    @exclusivity(unchecked) private var tooLong = false
    /// Bytes of the cell texts kept for the row, a cell a later one replaces included.
    @exclusivity(unchecked) private var textBytes = 0
    /// Why the row's `r` cannot number it (`Workbook.rowNumber`), when it cannot.
    @exclusivity(unchecked) private var rowProblem: String?
    /// Why the first of the row's cells whose `r` names no column cannot be placed.
    @exclusivity(unchecked) private var cellProblem: String?
    /// The same for the cell being read.
    @exclusivity(unchecked) private var referenceProblem: String?
    @exclusivity(unchecked) private var column = 0
    @exclusivity(unchecked) private var type = Scratch(capacity: 16)
    @exclusivity(unchecked) private var hasType = false
    @exclusivity(unchecked) private var style = 0
    @exclusivity(unchecked) private var value = Scratch(capacity: 64)
    @exclusivity(unchecked) private var inline = Scratch(capacity: 256)
    @exclusivity(unchecked) private var inValue = false, inInline = false, inPhonetic = false, inRow = false

    /// The most of a cell's value or inline text read from the XML that is kept (`SheetParser.maxCellXML`).
    private let maxCellXML: Int

    private init(strings: [String], dateStyles: [Bool], date1904: Bool, limits: WorkbookLimits,
                 body: @escaping (RawRow) throws -> Bool) {
        simple = SheetParser(reader: nil, strings: strings, dateStyles: dateStyles, date1904: date1904, limits: limits)
        self.limits = limits
        maxCellXML = SheetParser.maxCellXML(limits)
        self.body = body
        super.init()
        cells.reserveCapacity(16)
        bytes.reserveCapacity(1024)
    }

    deinit {
        type.deallocate()
        value.deallocate()
        inline.deallocate()
    }

    /// The bytes of the cell being read (its type, value or inline text): one buffer kept
    /// from cell to cell. An array emptied and refilled six million times a sheet — a
    /// generic `replaceSubrange` and a uniqueness check each time — was a tenth of the
    /// parsing thread.
    private struct Scratch {
        private var base: UnsafeMutablePointer<UInt8>
        private var capacity: Int
        private(set) var count = 0

        init(capacity: Int) {
            base = .allocate(capacity: capacity)
            self.capacity = capacity
        }

        /// The bytes so far, valid until the next change.
        var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

        mutating func removeAll() { count = 0 }

        mutating func append(_ more: UnsafeRawBufferPointer) {
            guard let source = more.baseAddress, !more.isEmpty else { return }
            if count + more.count > capacity {
                let grown = max(capacity * 2, count + more.count)
                let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
                larger.update(from: base, count: count)
                base.deallocate()
                base = larger
                capacity = grown
            }
            UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: more.count)
            count += more.count
        }

        func deallocate() { base.deallocate() }
    }

    /// Calls `row` for each non-empty row of the sheet XML in `source`, as `SheetParser.rows`.
    /// Throws the source's failures as they are and `XMLEventParser.Refused` for XML that
    /// the reader refuses (its reason is the reader's to give). `scanning: false` reads every
    /// row with libxml2, which the tests hold `SheetDataScanner` to.
    static func rows(source: any XMLByteSource, name: String, strings: [String], dateStyles: [Bool], date1904: Bool,
                     limits: WorkbookLimits, scanning: Bool = true, row: (WorkbookRow) throws -> Bool) throws {
        try rawRows(source: source, name: name, strings: strings, dateStyles: dateStyles, date1904: date1904, limits: limits,
                    scanning: scanning) { raw in
            try row(raw.row(strings: strings, limits: limits))
        }
    }

    /// A cell of a `RawRow`: its text's bytes, or a shared string by index.
    enum Cell {
        case empty
        case bytes(start: Int, end: Int)
        case shared(Int)
    }

    /// A row as the parser hands it on: its cells' text as bytes, not yet strings. It views
    /// the parser's own buffers, valid only during the callback it is handed to: two arrays
    /// handed on per row were a retain and a release of each, a million times a sheet.
    struct RawRow {
        let number: Int
        let rejection: String?
        let cells: UnsafeBufferPointer<Cell>
        let bytes: UnsafeRawBufferPointer

        /// The row as `SheetParser` gives it (within the limits, or rejected).
        func row(strings: [String], limits: WorkbookLimits) -> WorkbookRow {
            FastSheetParser.row(number: number, rejection: rejection, cells: cells, bytes: bytes, strings: strings, limits: limits)
        }
    }

    /// The strings of `cells`, their bytes in `bytes`, bounded as `SheetParser` bounds a row;
    /// with a `rejection`, the row rejected, the cells read only for its `raw` text.
    static func row(number: Int, rejection: String? = nil, cells: UnsafeBufferPointer<Cell>, bytes: UnsafeRawBufferPointer,
                    strings: [String], limits: WorkbookLimits) -> WorkbookRow {
        func text(_ cell: Cell) -> String {
            switch cell {
            case .empty: return ""
            case let .bytes(start, end): return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
            case .shared(let index): return strings[index]
            }
        }
        if let rejection { return WorkbookRow(number: number, cells: [], rejection: rejection, raw: Workbook.raw(cells.lazy.map(text))) }
        return Workbook.bounded(WorkbookRow(number: number, cells: cells.map(text)), limits)
    }

    /// As `rows`, with each row's cells as bytes. `scanned` is told how many rows
    /// `SheetDataScanner` read, however the read ends.
    static func rawRows(source: any XMLByteSource, name: String, strings: [String], dateStyles: [Bool], date1904: Bool,
                        limits: WorkbookLimits, scanning: Bool = true, scanned: ((Int) -> Void)? = nil,
                        row: (RawRow) throws -> Bool) throws {
        let parser = XMLEventParser(source: source, name: name)
        defer { parser.close() }
        try withoutActuallyEscaping(row) { row in
            let handler = FastSheetParser(strings: strings, dateStyles: dateStyles, date1904: date1904, limits: limits, body: row)
            let scanner = SheetDataScanner(sheet: handler)
            defer { scanned?(scanner.rows) }
            try parser.parse(handler, handOver: scanning ? ("sheetData", scanner) : nil)
            if handler.inRow, !handler.stopped { _ = try handler.finishRow() }
        }
    }

    override func started(with parser: XMLEventParser) {
        names = Names(row: parser.name("row"), c: parser.name("c"), v: parser.name("v"),
                      inlineString: parser.name("is"), phonetic: parser.name("rPh"),
                      reference: parser.name("r"), type: parser.name("t"), style: parser.name("s"))
    }

    override func start(_ name: XMLEventParser.Name, _ attributes: XMLEventParser.Attributes, isEmpty: Bool) -> Bool {
        if name == names.c {
            attributes.withValue(of: names.reference!) { reference in
                attributes.withValue(of: names.type!) { type in
                    attributes.withValue(of: names.style!) { style in beginCell(reference: reference, type: type, style: style) }
                }
            }
        } else if name == names.v {
            inValue = !isEmpty
        } else if name == names.inlineString {
            inInline = !isEmpty
        } else if name == names.phonetic {
            inPhonetic = !isEmpty
        } else if name == names.row {
            attributes.withValue(of: names.reference!) { beginRow(reference: $0, isEmpty: isEmpty) }
        }
        return true
    }

    override func end(_ name: XMLEventParser.Name) -> Bool {
        if name == names.c {
            endCell()
        } else if name == names.v {
            inValue = false
        } else if name == names.inlineString {
            inInline = false
        } else if name == names.phonetic {
            inPhonetic = false
        } else if name == names.row {
            return endRow()
        }
        return true
    }

    override func text(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if inValue {
            appendValue(bytes)
        } else if inInline && !inPhonetic {
            appendInline(bytes)
        }
        return true
    }

    // MARK: The sheet's events, from libxml2's callbacks above or from `SheetDataScanner`

    /// A `<row>` starts (and ends, when it `isEmpty`): its number from its `r`, else the one
    /// after the last. An `r` that is not a row number (`Workbook.rowNumber`) numbers it as
    /// the one after the last, and rejects it.
    func beginRow(reference: UnsafeRawBufferPointer?, isEmpty: Bool) {
        let next = Workbook.row(rowNumber, adding: 1)
        if let reference {
            let number = Workbook.rowNumber(Self.integer(reference))
            rowNumber = number ?? next
            rowProblem = number == nil && !isEmpty ? Workbook.badRowNumber(Workbook.shown(reference)) : nil
        } else {
            rowNumber = next
            rowProblem = next > Workbook.lastRow && !isEmpty ? Workbook.pastLastRow : nil
        }
        column = 0
        inRow = !isEmpty
    }

    /// A `<c>` starts: its column from its `r` (else the one after the last), its `t` and `s`.
    /// An `r` that names no column (`SheetParser.column(of:)`) rejects the row at the cell's end.
    func beginCell(reference: UnsafeRawBufferPointer?, type: UnsafeRawBufferPointer?, style: UnsafeRawBufferPointer?) {
        if let reference {
            let named = SheetParser.column(of: reference)
            column = named ?? column + 1
            referenceProblem = named == nil ? Workbook.badCellReference(Workbook.shown(reference)) : nil
        } else {
            column += 1
            referenceProblem = nil
        }
        hasType = type != nil
        self.type.removeAll()
        if let type { self.type.append(type) }
        self.style = style.flatMap { Self.integer($0) } ?? 0
        value.removeAll()
        inline.removeAll()
    }

    /// Text of the cell's `<v>`; past `maxCellXML`, the row is too long and no more is kept.
    func appendValue(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count <= maxCellXML - value.count { value.append(bytes) } else { tooLong = true }
    }

    /// Text of the cell's `<is>`, outside phonetic runs; bounded as `appendValue`.
    func appendInline(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count <= maxCellXML - inline.count { inline.append(bytes) } else { tooLong = true }
    }

    /// Whether a cell text of `count` bytes is kept: not once the row's text passes
    /// `max_row_bytes` (which `Workbook.bounded` would reject it for), so that a row never
    /// holds more than its limit.
    private func admit(_ count: Int) -> Bool {
        guard !tooLong else { return false }
        guard count <= limits.maxRowBytes - textBytes else {
            tooLong = true
            return false
        }
        textBytes += count
        return true
    }

    /// A `</c>`: the cell's text goes into its column of the row.
    func endCell() {
        guard column >= 1 else { return }
        if let referenceProblem {
            if cellProblem == nil { cellProblem = referenceProblem }
            return
        }
        if column > limits.maxFields {
            tooWide = true
            return
        }
        let text = cellText()
        if !text.isEmpty {
            if cells.count == column - 1 {
                cells.append(text)   // the next column, as most are: no padding to make
                return
            }
            if cells.count < column { cells.append(contentsOf: repeatElement(.empty, count: column - cells.count)) }
            cells[column - 1] = text
        }
    }

    /// A `</row>`: the row is handed on; false when the parse should stop (the callback's
    /// wish, or its failure, kept in `failure`).
    func endRow() -> Bool {
        inRow = false
        do {
            return try finishRow()
        } catch {
            failure = error
            return false
        }
    }

    /// What a row's start may change, so that a scan that gives up on a row undoes it, and
    /// libxml2 reads the row from its start instead.
    struct Mark {
        fileprivate let rowNumber: Int, column: Int, inRow: Bool
    }

    /// Whether no row, cell or element whose text counts is open, and no cell is held: where
    /// `SheetDataScanner` may start, and every row boundary it reaches after.
    var isBetweenRows: Bool {
        !inRow && cells.isEmpty && bytes.isEmpty && !tooWide && !tooLong && textBytes == 0 && rowProblem == nil
            && cellProblem == nil && !inValue && !inInline && !inPhonetic
    }

    var mark: Mark { Mark(rowNumber: rowNumber, column: column, inRow: inRow) }

    /// Back to `mark`, taken between rows: the row begun since is forgotten.
    func rewind(to mark: Mark) {
        rowNumber = mark.rowNumber
        column = mark.column
        inRow = mark.inRow
        clearRow()
    }

    /// What a row gathers, let go between rows.
    private func clearRow() {
        cells.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
        tooWide = false
        tooLong = false
        textBytes = 0
        rowProblem = nil
        cellProblem = nil
    }

    private func finishRow() throws -> Bool {
        defer { clearRow() }
        while let last = cells.last, last.isEmpty { cells.removeLast() }
        guard !cells.isEmpty || tooWide || tooLong || cellProblem != nil else { return true }
        let rejection = SheetParser.rejection(rowProblem: rowProblem, cellProblem: cellProblem, tooWide: tooWide,
                                              tooLong: tooLong, limits: limits)
        let number = rowNumber
        return try cells.withUnsafeBufferPointer { cells in
            try bytes.withUnsafeBytes { bytes in try body(RawRow(number: number, rejection: rejection, cells: cells, bytes: bytes)) }
        }
    }

    /// The cell's text, as `SheetParser.cellText` gives it; the common cells (inline and
    /// shared strings, plain integers) without it.
    private func cellText() -> Cell {
        let type = self.type.bytes, value = self.value.bytes, inline = self.inline.bytes
        if !hasType || (type.count == 1 && type[0] == UInt8(ascii: "n")) {
            // A number: plain digits that `Workbook.plainNumber` would give back unchanged.
            if value.isEmpty { return .empty }
            let isDate = simple.dateStyles.indices.contains(style) && simple.dateStyles[style]
            if !isDate, value.count <= 15, value.allSatisfy({ (0x30...0x39).contains($0) }),
               value[0] != UInt8(ascii: "0") || value.count == 1 {
                return keep(value)
            }
        } else if type.count == Self.inlineString.utf8CodeUnitCount,
                  memcmp(type.baseAddress!, Self.inlineString.utf8Start, type.count) == 0 {
            if !Self.hasEscape(inline) { return keep(inline) }
        } else if type.count == 1 && type[0] == UInt8(ascii: "s") {
            if let index = Self.integer(value) {
                guard simple.strings.indices.contains(index), !simple.strings[index].isEmpty,
                      admit(simple.strings[index].utf8.count) else { return .empty }
                return .shared(index)
            }
        }
        let text = simple.cellText(type: hasType ? String(decoding: type, as: UTF8.self) : "n", style: style,
                                   value: String(decoding: value, as: UTF8.self), inline: String(decoding: inline, as: UTF8.self))
        return keep(text.utf8)
    }

    /// The cell's text appended to the row's bytes, unless the row is too long for it.
    private func keep<Text: Collection>(_ text: Text) -> Cell where Text.Element == UInt8 {
        guard text.isEmpty || admit(text.count) else { return .empty }
        let start = bytes.count
        bytes.append(contentsOf: text)
        return .bytes(start: start, end: bytes.count)
    }

    /// Whether the text has `_x` (an escape, perhaps): `memchr` for each `_`, as most cells have none.
    private static func hasEscape(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        var at = 0
        while at < bytes.count, let found = memchr(base + at, Int32(UInt8(ascii: "_")), bytes.count - at) {
            let index = base.distance(to: UnsafeRawPointer(found))
            if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "x") { return true }
            at = index + 1
        }
        return false
    }

    private static let inlineString: StaticString = "inlineStr"

    /// Text with `_xHHHH_` escapes decoded; a string is made once.
    static func unescaped(_ bytes: [UInt8]) -> String {
        var previous: UInt8 = 0
        for byte in bytes {
            if previous == UInt8(ascii: "_") && byte == UInt8(ascii: "x") {
                return XLSXFormat.unescape(String(decoding: bytes, as: UTF8.self))
            }
            previous = byte
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// An integer as `Int(String)` reads it: plain digits here, anything else through it.
    static func integer<Bytes: Collection>(_ bytes: Bytes) -> Int? where Bytes.Element == UInt8 {
        if !bytes.isEmpty, bytes.count <= 18 {
            var result = 0
            var plain = true
            for byte in bytes {
                guard (0x30...0x39).contains(byte) else { plain = false; break }
                result = result * 10 + Int(byte - 0x30)
            }
            if plain { return result }
        }
        return Int(String(decoding: bytes, as: UTF8.self))
    }
}

extension FastSheetParser.Cell {
    /// No text: an empty cell is "" in a row.
    var isEmpty: Bool {
        switch self {
        case .empty: return true
        case let .bytes(start, end): return start == end
        case .shared: return false
        }
    }
}
