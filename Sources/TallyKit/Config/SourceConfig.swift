/// One `[[sources]]` entry: how to read the table files whose name matches ``files``.
///
/// Header aliases cover the usual exports; a source maps the headers they do not know
/// (`email = "What is your school email?"`), can set one course or quiz for every row, and
/// says how to read ambiguous dates. ``TallyConfig/source(for:)`` picks the first entry whose
/// glob matches, so specific patterns go before general ones.
public struct SourceConfig: Sendable, Equatable {
    /// The fields a header can be mapped to, named as in `[sources.columns]`: the table
    /// roles of `Column`, whose raw values are those names.
    public typealias Field = Column

    /// How to read a slash date such as `02/09/2024` (`"MDY"` or `"DMY"`).
    public typealias DateOrder = TallyKit.DateOrder

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
