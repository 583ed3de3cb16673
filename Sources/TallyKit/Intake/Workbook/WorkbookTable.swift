/// A workbook's sheet as a table for `TableIntake`: each pass reads the sheet afresh.
struct WorkbookTable: TableSource {
    enum Format { case xlsx, ods }

    let format: Format
    let path: String
    let file: String
    let sheet: String?
    let limits: WorkbookLimits

    func forEachRow(_ body: (WorkbookRow) throws -> Bool) throws {
        do {
            switch format {
            case .xlsx: try XLSXWorkbook.read(path: path, sheet: sheet, limits: limits, row: body)
            case .ods: try ODSWorkbook.read(path: path, sheet: sheet, limits: limits, row: body)
            }
        } catch let error as WorkbookError {
            throw IntakeError.workbook(file: file, error)
        }
    }
}
