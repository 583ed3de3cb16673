/// A workbook's sheet as a table for `TableIntake`: each pass reads the sheet afresh (an
/// XLSX's shared strings and styles only once).
struct WorkbookTable: TableSource {
    enum Format { case xlsx, ods }

    let format: Format
    let path: String
    let file: String
    let sheet: String?
    let limits: WorkbookLimits
    /// What the first pass over an XLSX found before its sheet (shared strings, styles),
    /// for the passes after it.
    private let first = FirstPass()
    private final class FirstPass {
        var prelude: XLSXWorkbook.Prelude?
    }

    init(format: Format, path: String, file: String, sheet: String?, limits: WorkbookLimits) {
        self.format = format
        self.path = path
        self.file = file
        self.sheet = sheet
        self.limits = limits
    }

    func forEachRow(_ body: (WorkbookRow) throws -> Bool) throws {
        do {
            switch format {
            case .xlsx: try XLSXWorkbook.read(path: path, sheet: sheet, limits: limits, prelude: &first.prelude, row: body)
            case .ods: try ODSWorkbook.read(path: path, sheet: sheet, limits: limits, row: body)
            }
        } catch let error as WorkbookError {
            throw IntakeError.workbook(file: file, error)
        }
    }
}

extension WorkbookTable: SheetTable {
    /// The rows as `forEachRow` gives them, an XLSX's as their cells' bytes where it can (`SheetRowCells`).
    func forEachSheetRow(_ body: (SheetRow) throws -> Bool) throws {
        guard format == .xlsx else { return try forEachRow { try body(.text($0)) } }
        do {
            try XLSXWorkbook.read(path: path, sheet: sheet, limits: limits, asCells: true, prelude: &first.prelude, sheetRow: body)
        } catch let error as WorkbookError {
            throw IntakeError.workbook(file: file, error)
        }
    }
}
