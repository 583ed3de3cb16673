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
    static func rows(of reader: XMLStreamReader, sheet: String?, limits: WorkbookLimits,
                     row: (WorkbookRow) throws -> Bool) throws {
        var names: [String] = []
        var inChosen = false, done = false
        var rowNumber = 0
        var cells: [String] = []
        var pendingEmpty = 0          // empty cells seen since the last one with content
        var tooWide = false
        var rowRepeat = 1
        var cellRepeat = 1, cellValue: String?, cellText = "", inCell = false, paragraphs = 0
        var depthOfText = 0

        func endCell() {
            let content = cellValue ?? cellText
            if content.isEmpty {
                pendingEmpty += cellRepeat
            } else {
                let width = cells.count + pendingEmpty + cellRepeat
                if width > limits.maxFields {
                    tooWide = true
                } else {
                    cells.append(contentsOf: repeatElement("", count: pendingEmpty))
                    cells.append(contentsOf: repeatElement(content, count: cellRepeat))
                }
                pendingEmpty = 0
            }
        }

        func endRow() throws -> Bool {
            defer { cells.removeAll(keepingCapacity: true); pendingEmpty = 0; tooWide = false }
            let first = rowNumber + 1
            rowNumber += rowRepeat
            if tooWide {
                return try row(WorkbookRow(number: first, cells: [], rejection: "the row has more than \(limits.maxFields) cells",
                                           raw: Workbook.raw(cells)))
            }
            guard !cells.isEmpty else { return true }
            let copies = min(rowRepeat, maxRowCopies)
            for offset in 0..<copies {
                if try !row(Workbook.bounded(WorkbookRow(number: first + offset, cells: cells), limits)) { return false }
            }
            if rowRepeat > copies {
                return try row(WorkbookRow(number: first + copies, cells: [],
                                           rejection: "the row is repeated \(rowRepeat) times; Tally reads the first \(maxRowCopies)",
                                           raw: Workbook.raw(cells)))
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
                    rowRepeat = max(1, reader.attribute("number-rows-repeated", namespace: table).flatMap(Int.init) ?? 1)
                    if reader.isEmptyElement { rowNumber += rowRepeat }
                case "table-cell", "covered-table-cell":
                    guard inChosen else { break }
                    cellRepeat = max(1, reader.attribute("number-columns-repeated", namespace: table).flatMap(Int.init) ?? 1)
                    cellValue = value(reader)
                    cellText = ""
                    paragraphs = 0
                    inCell = !reader.isEmptyElement
                    if !inCell { endCell() }
                case "p" where inCell:
                    if paragraphs > 0 { cellText += "\n" }
                    paragraphs += 1
                    depthOfText += reader.isEmptyElement ? 0 : 1
                case "s" where inCell:
                    cellText += String(repeating: " ", count: reader.attribute("c", namespace: text).flatMap(Int.init) ?? 1)
                case "tab" where inCell: cellText += "\t"
                case "line-break" where inCell: cellText += "\n"
                default: break
                }
            } else if reader.isText, inCell, depthOfText > 0 {
                cellText += reader.value
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
