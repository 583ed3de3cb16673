/// Reads a table of an ODS spreadsheet (`content.xml`) as rows of text, streaming.
///
/// ODS compresses runs of equal cells and rows with `number-columns-repeated` and
/// `number-rows-repeated`; a sheet ends with a million repeated empty rows. Empty runs are
/// counted, never materialised, so they cost nothing; a repeated cell or row with content is
/// copied, within the row limits.
public enum ODSWorkbook {
    static let table = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    static let office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    static let text = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    /// Copies of one repeated row with content, at most; the rest are rejected.
    static let maxRowCopies = 10_000

    // The parsing of content.xml lives here, apart from the archive (ODSWorkbook.read),
    // so that the fuzz target can feed it bytes directly.

    /// The rows of the chosen table of a `content.xml`.
    ///
    /// Every count the file gives is bounded (`Workbook.count`) and every sum of them
    /// saturates, and a row's text is counted against `max_row_bytes` as it grows, before
    /// it is made (`text:s` spaces included): a row past a limit costs what its limit allows.
    static func rows(of reader: XMLStreamReader, sheet: String?, limits: WorkbookLimits,
                     row: (WorkbookRow) throws -> Bool) throws {
        var names: [String] = []
        var inChosen = false, done = false
        var rowNumber = 0              // the last row's, at most `Workbook.lastRow + 1`
        var cells: [String] = []
        var pendingEmpty = 0          // empty cells seen since the last one with content
        var tooWide = false
        var tooLong = false
        var width = 0                 // columns up to the last cell with content
        var rowBytes = 0              // text of the cells in `cells`, repeats counted
        var cellBytes = 0             // text of the cell being read
        var cellHasText = false       // offered any, kept or not
        var rowRepeat = 1
        var cellRepeat = 1, cellValue: String?, cellText = "", inCell = false, paragraphs = 0
        var depthOfText = 0

        /// Whether `count` more bytes of text fit the cell being read: the row's limit counts
        /// them before they are made, and once it is passed no more text is kept. A typed
        /// cell's text is not its value: not kept either.
        func fits(_ count: Int) -> Bool {
            guard cellValue == nil else { return false }
            if count > 0 { cellHasText = true }
            guard !tooLong else { return false }
            guard count <= limits.maxRowBytes - rowBytes - cellBytes else {
                tooLong = true
                return false
            }
            cellBytes += count
            return true
        }

        // Which limit a row breaks is decided as if every cell were kept: the width counts
        // the cells not kept once the row is too long.
        func endCell() {
            if cellValue?.isEmpty ?? !cellHasText {
                pendingEmpty = min(pendingEmpty + cellRepeat, Workbook.lastRow)
                return
            }
            defer { pendingEmpty = 0 }
            let through = width + pendingEmpty + cellRepeat
            guard through <= limits.maxFields else {
                tooWide = true
                return
            }
            width = through
            guard !tooLong else { return }
            let content = cellValue ?? cellText
            let (bytes, overflow) = content.utf8.count.multipliedReportingOverflow(by: cellRepeat)
            guard !overflow, bytes <= limits.maxRowBytes - rowBytes else {
                tooLong = true
                return
            }
            cells.append(contentsOf: repeatElement("", count: pendingEmpty))
            cells.append(contentsOf: repeatElement(content, count: cellRepeat))
            rowBytes += bytes
        }

        func endRow() throws -> Bool {
            defer {
                cells.removeAll(keepingCapacity: true)
                pendingEmpty = 0
                tooWide = false
                tooLong = false
                width = 0
                rowBytes = 0
            }
            let first = Workbook.row(rowNumber, adding: 1)
            rowNumber = Workbook.row(rowNumber, adding: rowRepeat)
            guard tooWide || tooLong || !cells.isEmpty else { return true }
            func rejected(_ number: Int, _ reason: String) -> WorkbookRow {
                WorkbookRow(number: number, cells: [], rejection: reason, raw: Workbook.raw(cells))
            }
            if first > Workbook.lastRow { return try row(rejected(first, Workbook.pastLastRow)) }
            if tooWide { return try row(rejected(first, "the row has more than \(limits.maxFields) cells")) }
            if tooLong { return try row(rejected(first, Workbook.tooLong(limits))) }
            let copies = min(rowRepeat, maxRowCopies)
            for offset in 0..<copies {
                let number = first + offset
                if number > Workbook.lastRow { return try row(rejected(number, Workbook.pastLastRow)) }
                if try !row(Workbook.bounded(WorkbookRow(number: number, cells: cells), limits)) { return false }
            }
            if rowRepeat > copies {
                return try row(rejected(first + copies, "the row is repeated \(rowRepeat) times; Tally reads the first \(maxRowCopies)"))
            }
            return true
        }

        while !done, try reader.next() {
            let name = reader.localName
            if reader.isElement {
                switch name {
                case "table":
                    let tableName = reader.attribute("name", namespace: table) ?? ""
                    names.append(tableName)
                    inChosen = sheet == nil ? names.count == 1 : tableName == sheet
                case "table-row" where inChosen:
                    rowRepeat = Workbook.count(reader.attribute("number-rows-repeated", namespace: table))
                    if reader.isEmptyElement { rowNumber = Workbook.row(rowNumber, adding: rowRepeat) }
                case "table-cell", "covered-table-cell":
                    guard inChosen else { break }
                    cellRepeat = Workbook.count(reader.attribute("number-columns-repeated", namespace: table))
                    cellValue = value(reader)
                    cellText = ""
                    cellBytes = 0
                    cellHasText = false
                    paragraphs = 0
                    inCell = !reader.isEmptyElement
                    if !inCell { endCell() }
                case "p" where inCell:
                    if paragraphs > 0, fits(1) { cellText += "\n" }
                    paragraphs += 1
                    depthOfText += reader.isEmptyElement ? 0 : 1
                case "s" where inCell:
                    // `text:c` spaces: counted first, so that a count of millions is never made.
                    let spaces = Workbook.count(reader.attribute("c", namespace: text))
                    if fits(spaces) { cellText += String(repeating: " ", count: spaces) }
                case "tab" where inCell: if fits(1) { cellText += "\t" }
                case "line-break" where inCell: if fits(1) { cellText += "\n" }
                default: break
                }
            } else if reader.isText, inCell, depthOfText > 0 {
                let value = reader.value
                if fits(value.utf8.count) { cellText += value }
            } else if reader.isEndElement {
                switch name {
                case "p" where inCell: depthOfText = max(0, depthOfText - 1)
                case "table-cell", "covered-table-cell":
                    guard inChosen, inCell else { break }
                    inCell = false
                    endCell()
                case "table-row" where inChosen:
                    if try !endRow() { return }
                case "table":
                    if inChosen { done = true }
                    inChosen = false
                default: break
                }
            }
        }
        if names.isEmpty { throw WorkbookError.noSheets }
        if let sheet, !names.contains(sheet) { throw WorkbookError.noSuchSheet(name: sheet, available: names) }
    }

    /// A typed cell's value as text; nil for strings, whose text is their paragraphs.
    static func value(_ reader: XMLStreamReader) -> String? {
        switch reader.attribute("value-type", namespace: office) {
        case "float", "percentage", "currency":
            return reader.attribute("value", namespace: office).map(Workbook.plainNumber)
        case "date":
            guard let date = reader.attribute("date-value", namespace: office) else { return nil }
            if date.count == 10 { return date + "T00:00:00Z" }
            return date.hasSuffix("Z") || date.contains("+") ? date : date + "Z"
        case "boolean":
            return reader.attribute("boolean-value", namespace: office) == "true" ? "TRUE" : "FALSE"
        default:
            return nil
        }
    }
}
