import Foundation

/// The cells of one worksheet part, row by row: `<row r="7"><c r="C7" t="s" s="3"><v>…</v></c>`.
struct SheetParser {
    let reader: XMLStreamReader?
    let strings: [String]
    let dateStyles: [Bool]
    let date1904: Bool
    let limits: WorkbookLimits

    /// Rows whose number, cell references or text break a rule are rejected, in this order
    /// of reasons: a row number that is not one (`Workbook.rowNumber`), a cell reference that
    /// names no column (`column(of:)`), a cell past `max_fields`, text past `max_row_bytes`.
    /// A row's text is counted as it is read, a cell that a later one at the same reference
    /// replaces included, and no more is kept once it passes the limit.
    func rows(_ body: (WorkbookRow) throws -> Bool) throws {
        guard let reader else { return }
        var rowNumber = 0
        var cells: [String] = []
        var tooWide = false, tooLong = false
        var textBytes = 0
        var rowProblem: String?, cellProblem: String?, referenceProblem: String?
        var column = 0
        var type = "", style = 0
        var value = "", inline = ""
        var inValue = false, inInline = false, inPhonetic = false
        var inRow = false
        let maxCellXML = Self.maxCellXML(limits)

        func finishRow() throws -> Bool {
            defer {
                cells.removeAll(keepingCapacity: true)
                tooWide = false
                tooLong = false
                textBytes = 0
                rowProblem = nil
                cellProblem = nil
            }
            while cells.last == "" { cells.removeLast() }
            // A row with nothing in it is no row, whatever its number.
            guard !cells.isEmpty || tooWide || tooLong || cellProblem != nil else { return true }
            if let rejection = Self.rejection(rowProblem: rowProblem, cellProblem: cellProblem, tooWide: tooWide,
                                              tooLong: tooLong, limits: limits) {
                return try body(WorkbookRow(number: rowNumber, cells: [], rejection: rejection, raw: Workbook.raw(cells)))
            }
            return try body(Workbook.bounded(WorkbookRow(number: rowNumber, cells: cells), limits))
        }

        /// Text read from the XML for the cell, unless it passes `maxCellXML`.
        func append(_ text: String, to kept: inout String) {
            if text.utf8.count <= maxCellXML - kept.utf8.count { kept += text } else { tooLong = true }
        }

        while try reader.next() {
            if reader.isElement {
                switch reader.localName {
                case "row":
                    let next = Workbook.row(rowNumber, adding: 1)
                    let isEmpty = reader.isEmptyElement
                    if let reference = reader.attribute("r") {
                        let number = Workbook.rowNumber(Int(reference))
                        rowNumber = number ?? next
                        rowProblem = number == nil && !isEmpty ? Workbook.badRowNumber(Workbook.shown(reference.utf8)) : nil
                    } else {
                        rowNumber = next
                        rowProblem = next > Workbook.lastRow && !isEmpty ? Workbook.pastLastRow : nil
                    }
                    column = 0
                    inRow = !isEmpty
                case "c":
                    if let reference = reader.attribute("r") {
                        let named = Self.column(of: reference)
                        column = named ?? column + 1
                        referenceProblem = named == nil ? Workbook.badCellReference(Workbook.shown(reference.utf8)) : nil
                    } else {
                        column += 1
                        referenceProblem = nil
                    }
                    type = reader.attribute("t") ?? "n"
                    style = reader.attribute("s").flatMap(Int.init) ?? 0
                    value = ""
                    inline = ""
                case "v": inValue = !reader.isEmptyElement
                case "is": inInline = !reader.isEmptyElement
                case "rPh": inPhonetic = !reader.isEmptyElement
                default: break
                }
            } else if reader.isText {
                if inValue { append(reader.value, to: &value) } else if inInline && !inPhonetic { append(reader.value, to: &inline) }
            } else if reader.isEndElement {
                switch reader.localName {
                case "v": inValue = false
                case "is": inInline = false
                case "rPh": inPhonetic = false
                case "c":
                    guard column >= 1 else { continue }
                    if let problem = referenceProblem {
                        if cellProblem == nil { cellProblem = problem }
                        continue
                    }
                    if column > limits.maxFields {
                        tooWide = true
                        continue
                    }
                    let text = cellText(type: type, style: style, value: value, inline: inline)
                    if !text.isEmpty, !tooLong {
                        guard text.utf8.count <= limits.maxRowBytes - textBytes else {
                            tooLong = true
                            continue
                        }
                        textBytes += text.utf8.count
                        if cells.count < column { cells.append(contentsOf: repeatElement("", count: column - cells.count)) }
                        cells[column - 1] = text
                    }
                case "row":
                    inRow = false
                    if try !finishRow() { return }
                default: break
                }
            }
        }
        if inRow { _ = try finishRow() }
    }

    /// The most of a cell's value or inline text kept as it is read from the XML: seven
    /// times `max_row_bytes`, as an `_xHHHH_` escape of seven bytes is one character of
    /// text, so that a cell past it is too long however it is escaped (a number or a shared
    /// string's index that long is none).
    static func maxCellXML(_ limits: WorkbookLimits) -> Int {
        let (seven, overflow) = limits.maxRowBytes.multipliedReportingOverflow(by: 7)
        return overflow ? .max : seven
    }

    /// Why a row is rejected for what its parse found, the first reason of `rows`'s order; nil when none.
    static func rejection(rowProblem: String?, cellProblem: String?, tooWide: Bool, tooLong: Bool,
                          limits: WorkbookLimits) -> String? {
        if let rowProblem { return rowProblem }
        if let cellProblem { return cellProblem }
        if tooWide { return "the row has cells beyond column \(limits.maxFields), more than the limit of \(limits.maxFields) fields" }
        return tooLong ? Workbook.tooLong(limits) : nil
    }

    /// The text of a cell by its type: shared or inline string, boolean, error, formula
    /// string, ISO date, or a number — shown as a date when its style's format is one.
    func cellText(type: String, style: Int, value: String, inline: String) -> String {
        switch type {
        case "s":
            guard let index = Int(value.trimmingCharacters(in: .whitespaces)), strings.indices.contains(index) else { return "" }
            return strings[index]
        case "inlineStr": return XLSXFormat.unescape(inline)
        case "b": return value == "1" ? "TRUE" : "FALSE"
        case "str", "e": return XLSXFormat.unescape(value)
        case "d": return value
        default:
            guard !value.isEmpty else { return "" }
            if dateStyles.indices.contains(style), dateStyles[style], let serial = Double(value) {
                return serialDate(serial) ?? value
            }
            return Workbook.plainNumber(value)
        }
    }

    /// A date serial in the workbook's system: 1904 counts from 1904-01-01; 1900 counts from
    /// 1899-12-31 with Excel's phantom 29 February 1900 (serials from 61 on are a day ahead).
    func serialDate(_ serial: Double) -> String? {
        if date1904 { return Workbook.iso(days: serial, from: (1904, 1, 1)) }
        return Workbook.iso(days: serial >= 61 ? serial - 1 : serial, from: (1899, 12, 31))
    }

    /// `C7` → 3; nil for anything that is not a cell reference, or names a column past
    /// `Workbook.lastColumn` (`ZZZZ7`): such a cell is rejected with its row, never placed in
    /// the next column, where its text would pass for another column's.
    static func column(of reference: String) -> Int? { column(of: reference.utf8) }

    /// The column of a reference given as its UTF-8 bytes.
    static func column<Bytes: Sequence>(of reference: Bytes) -> Int? where Bytes.Element == UInt8 {
        var column = 0
        for byte in reference {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): column = column * 26 + Int(byte - UInt8(ascii: "A")) + 1
            case UInt8(ascii: "a")...UInt8(ascii: "z"): column = column * 26 + Int(byte - UInt8(ascii: "a")) + 1
            case UInt8(ascii: "$"): continue
            default: return column > 0 ? column : nil
            }
            if column > Workbook.lastColumn { return nil }
        }
        return column > 0 ? column : nil
    }
}


/// The number formats and string escapes of SpreadsheetML.
enum XLSXFormat {
    static func isBuiltInDate(_ id: Int) -> Bool {
        (14...22).contains(id) || (27...36).contains(id) || (45...47).contains(id) || (50...58).contains(id)
    }

    /// A custom format code shows a date or time when it has d, m, y, h or s outside quoted
    /// text, escapes and brackets (`[Red]`, `[$-409]`); `[h]` elapsed hours count too.
    static func isDateFormat(_ code: String) -> Bool {
        var quoted = false, bracket = false, escaped = false
        for character in code.lowercased() {
            if escaped {
                escaped = false
                continue
            }
            if character == "\"" { quoted.toggle(); continue }
            if quoted { continue }
            if character == "\\" { escaped = true; continue }
            if character == "[" { bracket = true; continue }
            if character == "]" { bracket = false; continue }
            if bracket {
                if character == "h" || character == "s" { return true }   // [h], [ss]: elapsed time
                continue
            }
            if "dmyhs".contains(character) { return true }
        }
        return false
    }

    /// Decodes `_xHHHH_` escapes (`_x000D_` is a carriage return).
    static func unescape(_ text: String) -> String {
        // A byte scan: Foundation's `contains` for strings bridged to NSString and was a
        // tenth of reading a big sheet.
        var hasEscape = false
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if previous == UInt8(ascii: "_") && byte == UInt8(ascii: "x") {
                hasEscape = true
                break
            }
            previous = byte
        }
        guard hasEscape else { return text }
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "_x") {
            out += rest[..<start.lowerBound]
            let after = rest[start.upperBound...]
            let hex = after.prefix(4)
            if hex.count == 4, after.dropFirst(4).first == "_", let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) {
                out.unicodeScalars.append(scalar)
                rest = after.dropFirst(5)
            } else {
                out += "_x"
                rest = after
            }
        }
        return out + rest
    }
}
