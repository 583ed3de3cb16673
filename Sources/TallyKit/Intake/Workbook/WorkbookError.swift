/// Why a workbook (XLSX, ODS) was refused. The description is what `NAME.error.txt` says.
public enum WorkbookError: Error, CustomStringConvertible, Equatable, Sendable {
    case notAWorkbook(String)
    case encrypted
    case hostileXML(String)
    case limitExceeded(String)
    case corrupt(String)
    case noSuchSheet(name: String, available: [String])
    case noSheets

    public var description: String {
        switch self {
        case .notAWorkbook(let reason): return "it is not a readable workbook: \(reason)"
        case .encrypted: return "the workbook is password-protected (or an old .xls); save a copy as .xlsx without a password, or export it as CSV, and drop that"
        case .hostileXML(let reason): return "its XML was refused: \(reason)"
        case .limitExceeded(let reason): return "it is larger than Tally reads: \(reason) (see [limits] in tally.toml)"
        case .corrupt(let reason): return "the workbook is damaged: \(reason)"
        case let .noSuchSheet(name, available):
            return "it has no sheet named \"\(name)\" (it has \(available.map { "\"\($0)\"" }.joined(separator: ", "))); fix `sheet` in [[sources]]"
        case .noSheets: return "the workbook has no sheet"
        }
    }
}
