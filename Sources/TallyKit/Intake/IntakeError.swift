/// Why a whole file could not be read. The description is what `NAME.error.txt` says.
public enum IntakeError: Error, CustomStringConvertible, Equatable, Sendable {
    case unreadable(file: String, reason: String)
    case notATable(file: String, reason: String)
    case unsupported(file: String, kind: String)
    case badJSON(file: String, reason: String)
    case unknownShape(file: String, reason: String)
    case signature(file: String, reason: String)
    case tooLarge(file: String, bytes: Int, limit: Int)
    case workbook(file: String, WorkbookError)
    /// An email message whose sender is not allowed or not proven.
    case refused(file: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file) could not be read: \(reason)."
        case let .notATable(file, reason):
            return "\(file) holds no table Tally can read: \(reason)."
        case let .unsupported(file, kind):
            return "\(file) is \(kind), which this version of Tally does not read yet. Export it as CSV and drop that instead."
        case let .badJSON(file, reason):
            return "\(file) is not valid JSON: \(reason)."
        case let .unknownShape(file, reason):
            return "\(file) is JSON of a shape Tally does not know: \(reason). " + KajabiPayload.knownShapes
        case let .signature(file, reason):
            return "\(file) was refused: \(reason)."
        case let .workbook(file, error):
            return "\(file) was refused: \(error)."
        case let .refused(file, reason):
            return "\(file) was refused: \(reason); nothing in it was read."
        case let .tooLarge(file, bytes, limit):
            return "\(file) is \(bytes) bytes, over the limit of \(limit) bytes for a JSON document ([limits] max_file_bytes). Split it, or send it as JSON lines."
        }
    }
}

/// What a reader produces from a file: events in file order, and rows it had to reject.
public enum IntakeItem: Equatable, Sendable {
    case event(Event)
    case rejected(row: Int, reason: String, raw: String)
}
