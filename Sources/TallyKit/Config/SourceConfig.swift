/// One `[[sources]]` entry: how to read the table files whose name matches ``files``.
///
/// Header aliases cover the usual exports; a source maps the headers they do not know
/// (`email = "What is your school email?"`), can set one course or quiz for every row, and
/// says how to read ambiguous dates. ``TallyConfig/source(for:)`` picks the first entry whose
/// glob matches, so specific patterns go before general ones.
public struct SourceConfig: Sendable, Equatable {
    /// The fields a header can be mapped to, named as in `[sources.columns]`.
    public enum Field: String, Sendable, Equatable, CaseIterable {
        case email
        case name
        case firstName = "first_name"
        case lastName = "last_name"
        case course
        case completedAt = "completed_at"
        case certificateURL = "certificate_url"
        case score
        case points
        case reason
        case id
        case studentID = "student_id"
        case `public`
        case aliases
    }

    /// How to read a slash date such as `02/09/2024`.
    public enum DateOrder: String, Sendable, Equatable, CaseIterable {
        /// Month first, as Google's US exports write dates.
        case mdy = "MDY"
        /// Day first.
        case dmy = "DMY"
    }

    /// The glob on the dropped file's name.
    public var files: Glob
    /// A constant course for every row: each row is a completion of it.
    public var course: String?
    /// A constant quiz: rows scoring at least ``pass`` are `quiz_passed` events.
    public var quiz: String?
    /// The passing fraction of the score, 0 to 1 (`0.7` passes "7 / 10").
    public var pass: Double?
    /// Nil: month first, unless the file's own dates show day first.
    public var dateOrder: DateOrder?
    /// The sheet of a workbook to read; nil: the first.
    public var sheet: String?
    /// A header whose value is the event's stable id, instead of a content hash.
    public var idColumn: String?
    /// Field → the header that holds it in this file.
    public var columns: [Field: String]

    public init(
        files: Glob, course: String? = nil, quiz: String? = nil, pass: Double? = nil,
        dateOrder: DateOrder? = nil, sheet: String? = nil, idColumn: String? = nil,
        columns: [Field: String] = [:]
    ) {
        self.files = files
        self.course = course
        self.quiz = quiz
        self.pass = pass
        self.dateOrder = dateOrder
        self.sheet = sheet
        self.idColumn = idColumn
        self.columns = columns
    }
}
