/// Reads a sheet of an XLSX (or XLSM) workbook as rows of text, streaming.
///
/// The workbook's parts are read in order — `xl/workbook.xml` (sheet names and the date
/// system), its relationships (which part is which sheet), the shared strings and the cell
/// styles (which number formats are dates) — then the chosen sheet, one node at a time. Cells
/// are addressed by reference, so sparse rows (`C7` right after `A7`) land in their columns.
public enum XLSXWorkbook {
    static let relationships = ["http://schemas.openxmlformats.org/officeDocument/2006/relationships",
                                "http://purl.oclc.org/ooxml/officeDocument/relationships"]

    /// Calls `row` for each non-empty row of the sheet named `sheet` (default: the first in
    /// workbook order that is neither hidden nor a chart sheet) until it returns false.
    public static func read(path: String, sheet: String? = nil, limits: WorkbookLimits = .init(),
                            row: (WorkbookRow) throws -> Bool) throws {
        var prelude: Prelude?
        try read(path: path, sheet: sheet, limits: limits, prelude: &prelude, row: row)
    }

    /// What a read needs before the sheet. `WorkbookTable` keeps it, so that the passes of
    /// one file (its header, its date order, its rows) parse the shared strings and the
    /// styles once, not three times.
    struct Prelude {
        let sheetName: String
        let sheetPath: String
        let strings: [String]
        let dateStyles: [Bool]
        let date1904: Bool
        /// What the parts before the sheet inflated, counted again against each read's budget.
        let inflated: Int
    }

    /// Reads the sheet with `prelude` when it is given, else finds it and sets it.
    /// `fast: false` reads the shared strings and the sheet through the reader
    /// (`SheetParser`), the reference the tests hold the fast path (`FastSheetParser`, on
    /// its own thread through `SheetRowPipe`) to.
    static func read(path: String, sheet: String?, limits: WorkbookLimits, fast: Bool = true,
                     prelude: inout Prelude?, row: (WorkbookRow) throws -> Bool) throws {
        try read(path: path, sheet: sheet, limits: limits, fast: fast, asCells: false, prelude: &prelude) { try row($0.text) }
    }

    /// The same, with the rows as `SheetRow`s: with `asCells` (and `fast`), a row within the
    /// limits is handed on as its cells' bytes (`SheetRowCells`), else as text.
    static func read(path: String, sheet: String?, limits: WorkbookLimits, fast: Bool = true, asCells: Bool,
                     prelude: inout Prelude?, sheetRow row: (SheetRow) throws -> Bool) throws {
        let archive = try Workbook.open(path)
        let budget = ZipEntryStream.Budget(limits: limits)
        let known: Prelude
        if let prelude {
            known = prelude
            budget.used = prelude.inflated
        } else {
            known = try self.prelude(archive, sheet: sheet, budget: budget, fast: fast)
            prelude = known
        }
        guard let entry = archive[known.sheetPath] else {
            throw WorkbookError.corrupt("the sheet \"\(known.sheetName)\" has no part \(known.sheetPath)")
        }
        guard fast else {
            let reader = try XMLStreamReader(source: ZipEntryStream(archive: archive, entry: entry, budget: budget), name: known.sheetPath)
            defer { reader.close() }
            return try SheetParser(reader: reader, strings: known.strings, dateStyles: known.dateStyles, date1904: known.date1904,
                                   limits: limits).rows { try row(.text($0)) }
        }
        let usedBefore = budget.used
        do {
            let source = ZipEntryStream(archive: archive, entry: entry, budget: budget)
            if asCells {
                try SheetRowPipe.sheetRows(source: source, name: known.sheetPath, strings: known.strings, dateStyles: known.dateStyles,
                                           date1904: known.date1904, limits: limits, row: row)
            } else {
                try SheetRowPipe.rows(source: source, name: known.sheetPath, strings: known.strings, dateStyles: known.dateStyles,
                                      date1904: known.date1904, limits: limits) { try row(.text($0)) }
            }
        } catch let refused as XMLEventParser.Refused {
            // The reader gives the reason, in its words; the file is refused whole either way.
            budget.used = usedBefore
            throw refusal(archive, known.sheetPath, budget: budget, otherwise: refused)
        }
    }

    /// The workbook's sheets and date system, its relationships, the shared strings and the styles.
    static func prelude(_ archive: ZipArchive, sheet: String?, budget: ZipEntryStream.Budget, fast: Bool) throws -> Prelude {
        guard let workbook = try Workbook.xml(archive, "xl/workbook.xml", budget: budget) else {
            throw WorkbookError.notAWorkbook("it has no xl/workbook.xml (is it an XLSX file?)")
        }
        var sheets: [(name: String, id: String, hidden: Bool)] = []
        var date1904 = false
        while try workbook.next() {
            guard workbook.isElement else { continue }
            if workbook.localName == "workbookPr", let flag = workbook.attribute("date1904") {
                date1904 = flag == "1" || flag == "true"
            } else if workbook.localName == "sheet", let name = workbook.attribute("name") {
                let id = relationships.lazy.compactMap { workbook.attribute("id", namespace: $0) }.first ?? ""
                let state = workbook.attribute("state") ?? "visible"
                sheets.append((name, id, state == "hidden" || state == "veryHidden"))
            }
        }
        workbook.close()
        let targets = try relationshipTargets(archive, budget: budget)
        guard !sheets.isEmpty else { throw WorkbookError.noSheets }
        let chosen: (name: String, id: String, hidden: Bool)
        if let sheet {
            guard let found = sheets.first(where: { $0.name == sheet }) else {
                throw WorkbookError.noSuchSheet(name: sheet, available: sheets.map(\.name))
            }
            chosen = found
        } else {
            // The first sheet a user sees: not a hidden one (instructions, lookups), nor a
            // chart sheet, which holds no cells. A workbook of only those: its first sheet.
            chosen = sheets.first { !$0.hidden && !targets.charts.contains($0.id) } ?? sheets[0]
        }
        let sheetPath = targets.byID[chosen.id] ?? "xl/worksheets/sheet1.xml"
        let stringsPath = targets.sharedStrings ?? "xl/sharedStrings.xml"
        let strings = fast ? try fastSharedStrings(archive, path: stringsPath, budget: budget)
                           : try sharedStrings(archive, path: stringsPath, budget: budget)
        let dateStyles = try styles(archive, path: targets.styles ?? "xl/styles.xml", budget: budget)
        return Prelude(sheetName: chosen.name, sheetPath: sheetPath, strings: strings, dateStyles: dateStyles,
                       date1904: date1904, inflated: budget.used)
    }

    /// The shared strings through `SharedStringsParser`, as `sharedStrings` reads them.
    static func fastSharedStrings(_ archive: ZipArchive, path: String, budget: ZipEntryStream.Budget) throws -> [String] {
        guard let entry = archive[path] else { return [] }
        let usedBefore = budget.used
        do {
            return try SharedStringsParser.strings(source: ZipEntryStream(archive: archive, entry: entry, budget: budget), name: path)
        } catch let refused as XMLEventParser.Refused {
            budget.used = usedBefore
            throw refusal(archive, path, budget: budget, otherwise: refused)
        }
    }

    /// Why the reader refuses the part `path`, which the fast path stopped on; should the
    /// reader read it to the end, the fast path's own reason.
    static func refusal(_ archive: ZipArchive, _ path: String, budget: ZipEntryStream.Budget,
                        otherwise refused: XMLEventParser.Refused) -> WorkbookError {
        do {
            guard let reader = try Workbook.xml(archive, path, budget: budget) else { return .corrupt("\(path) is missing") }
            defer { reader.close() }
            while try reader.next() {}
        } catch {
            return error
        }
        return .corrupt("\(path) is not well-formed XML (\(refused.message))")
    }

    /// Relationship id → part path, the shared strings' and styles' parts, and the ids of
    /// chart sheets.
    static func relationshipTargets(_ archive: ZipArchive, budget: ZipEntryStream.Budget) throws
        -> (byID: [String: String], sharedStrings: String?, styles: String?, charts: Set<String>) {
        var byID: [String: String] = [:]
        var shared: String?, styles: String?
        var charts: Set<String> = []
        guard let rels = try Workbook.xml(archive, "xl/_rels/workbook.xml.rels", budget: budget) else { return ([:], nil, nil, []) }
        defer { rels.close() }
        while try rels.next() {
            guard rels.isElement, rels.localName == "Relationship", let id = rels.attribute("Id"),
                  let target = rels.attribute("Target") else { continue }
            let path = target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
            byID[id] = path
            let type = rels.attribute("Type") ?? ""
            if type.hasSuffix("/sharedStrings") { shared = path }
            if type.hasSuffix("/styles") { styles = path }
            if type.hasSuffix("/chartsheet") { charts.insert(id) }
        }
        return (byID, shared, styles, charts)
    }

    /// The shared strings, in order: each `<si>`'s text runs joined (phonetic runs skipped).
    static func sharedStrings(_ archive: ZipArchive, path: String, budget: ZipEntryStream.Budget) throws -> [String] {
        guard let reader = try Workbook.xml(archive, path, budget: budget) else { return [] }
        defer { reader.close() }
        return try sharedStrings(reader: reader)
    }

    static func sharedStrings(reader: XMLStreamReader) throws -> [String] {
        var strings: [String] = []
        var current = ""
        var inText = false, inPhonetic = false
        while try reader.next() {
            if reader.isElement {
                switch reader.localName {
                case "si": current = ""
                case "t": inText = !reader.isEmptyElement
                case "rPh": inPhonetic = !reader.isEmptyElement
                default: break
                }
                if reader.localName == "si" && reader.isEmptyElement { strings.append("") }
            } else if reader.isEndElement {
                switch reader.localName {
                case "si": strings.append(XLSXFormat.unescape(current))
                case "t": inText = false
                case "rPh": inPhonetic = false
                default: break
                }
            } else if reader.isText, inText, !inPhonetic {
                current += reader.value
            }
        }
        return strings
    }

    /// For each cell style (`cellXfs` index), whether its number format shows a date.
    static func styles(_ archive: ZipArchive, path: String, budget: ZipEntryStream.Budget) throws -> [Bool] {
        guard let reader = try Workbook.xml(archive, path, budget: budget) else { return [] }
        defer { reader.close() }
        var custom: [Int: Bool] = [:]
        var result: [Bool] = []
        var inCellXfs = false
        while try reader.next() {
            if reader.isElement {
                switch reader.localName {
                case "numFmt":
                    if let id = reader.attribute("numFmtId").flatMap(Int.init), let code = reader.attribute("formatCode") {
                        custom[id] = XLSXFormat.isDateFormat(code)
                    }
                case "cellXfs": inCellXfs = !reader.isEmptyElement
                case "xf" where inCellXfs:
                    let id = reader.attribute("numFmtId").flatMap(Int.init) ?? 0
                    result.append(custom[id] ?? XLSXFormat.isBuiltInDate(id))
                default: break
                }
            } else if reader.isEndElement && reader.localName == "cellXfs" {
                inCellXfs = false
            }
        }
        return result
    }

}
