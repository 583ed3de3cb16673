/// Turns one table row into an event, by the roles its header map found.
///
/// A row names a course (by column or by its `[[sources]]` entry) and is a completion; a row
/// of a quiz source is a quiz pass or fail by its score; a row with `Points` (and no course)
/// is a bulk award. Anything missing or unreadable rejects the row with a reason a user can
/// act on, and the rest of the file goes on.
public struct RowMapper: Sendable {
    public struct Settings: Sendable {
        public var course: String?
        public var quiz: String?
        public var pass: Double
        public var dateOrder: DateOrder
        public init(course: String? = nil, quiz: String? = nil, pass: Double = 0.7, dateOrder: DateOrder = .monthFirst) {
            self.course = course
            self.quiz = quiz
            self.pass = pass
            self.dateOrder = dateOrder
        }
    }

    public let map: HeaderMap
    public var settings: Settings
    public let source: (file: String, sha256: String)
    /// When the row has no date (no date column, or empty date cells): the file's
    /// modification time.
    public let fallbackTime: Timestamp

    public init(map: HeaderMap, settings: Settings, file: String, sha256: String, fallbackTime: Timestamp) {
        self.map = map
        self.settings = settings
        self.source = (file, sha256)
        self.fallbackTime = fallbackTime
    }

    /// A file-level problem with the header itself, or nil when rows can be read.
    public func headerProblem(headers: [String]) -> String? {
        guard map.index(of: .email) != nil else {
            let shown = headers.prefix(12).map { "\"\($0)\"" }.joined(separator: ", ")
            return "no email column among the headers \(shown); name it with `[[sources]] columns.email` in tally.toml"
        }
        if map.index(of: .course) == nil && settings.course == nil && settings.quiz == nil && map.index(of: .points) == nil {
            return "no course column, and no `course` for this file in tally.toml; name one with `[[sources]] course` or `columns.course`"
        }
        return nil
    }

    /// The event for a row, or the reason it cannot be one. `otherDate` gives the row's cell
    /// of `map.otherDate`, asked for only when its date cell is empty.
    public func event(row: Int, otherDate: () -> String? = { nil }, field: (Column) -> String?) -> Result<Event, RowRejection> {
        guard let rawEmail = field(.email).flatMap(nonEmpty) else { return .failure(.init("no email address")) }
        let email: Email
        do { email = try Email(normalising: rawEmail) } catch { return .failure(.init(error.description)) }

        var at = fallbackTime
        var explicitTime: Timestamp? = nil
        // An empty date cell takes the row's other date (a form's `Timestamp` beside its
        // optional "Completion date"), and only without one the file's time.
        var dateText = field(.completedAt).flatMap(nonEmpty)
        if dateText == nil && map.otherDate != nil { dateText = otherDate().flatMap(nonEmpty) }
        if let text = dateText {
            guard let parsed = DateParser.parse(text, order: settings.dateOrder) else {
                return .failure(.init("unreadable date \"\(text)\" (expected ISO 8601, \(settings.dateOrder == .dayFirst ? "dd/mm/yyyy" : "m/d/yyyy") or dd.mm.yyyy)"))
            }
            at = parsed
            explicitTime = parsed
        }
        let name = personName(field)
        let source = EventSource(file: source.file, sha256: source.sha256, row: row)
        let explicitID = field(.id).flatMap(nonEmpty)

        if let quiz = settings.quiz {
            guard let text = field(.score).flatMap(nonEmpty), let score = HeaderMap.parseScore(text) else {
                return .failure(.init("no readable score for quiz \"\(quiz)\" (expected e.g. \"8 / 10\" or \"80%\")"))
            }
            // `8 / 10` and `80%` are 0.8. A bare number from 0 to 1 is a fraction already (a
            // percent-styled spreadsheet cell holds 0.8 for 80%); a bare number above 1 — `3`,
            // `50`, an integer cell — says neither its maximum nor that it is a percentage (3
            // of 10? 3%?): compared to `pass` as it stands, it passed every quiz.
            let fraction: Double
            if let max = score.max {
                fraction = score.got / max
            } else if score.got <= 1 {
                fraction = score.got
            } else {
                return .failure(.init("score \"\(text)\" for quiz \"\(quiz)\" has no maximum (\(text) of what? \(text)%?): write it as points of a maximum, such as \"8 / 10\", or as a percentage, such as \"80%\"; a bare number is read only from 0 to 1, as a fraction (0.8 is 80%)"))
            }
            let kind: EventKind = fraction + 1e-9 >= settings.pass ? .quizPassed : .quizFailed
            let id = explicitID ?? Event.contentID(kind: kind, email: email, course: quiz, points: nil, at: explicitTime)
            return .success(Event(id: id, kind: kind, email: email, name: name, course: settings.course ?? field(.course).flatMap(nonEmpty),
                                  at: at, source: source, quiz: quiz, score: text))
        }
        if settings.course == nil, let answer = field(.course).flatMap(nonEmpty), Self.isAnswer(answer) {
            return .failure(.init("the course column holds \"\(answer)\", an answer, not a course name (a \"Course completed?\" question?): "
                                  + "name the course column with `[[sources]] columns.course`, or the course with `[[sources]] course`"))
        }
        if let course = settings.course ?? field(.course).flatMap(nonEmpty) {
            let certificate = field(.certificateURL).flatMap(nonEmpty)
            if let explicitID {
                return .success(Event(id: explicitID, kind: .courseCompleted, email: email, name: name, course: course,
                                      at: at, source: source, certificate: certificate))
            }
            let key = Event.contentKey(kind: .courseCompleted, email: email, course: course, points: nil, at: explicitTime)
            return .success(Event(key: key, kind: .courseCompleted, email: email, name: name, course: course, at: at,
                                  source: source, certificate: certificate))
        }
        if let pointsText = field(.points).flatMap(nonEmpty) {
            guard let points = Int(pointsText.replacingOccurrences(of: "+", with: "")) else {
                return .failure(.init("points \"\(pointsText)\" is not a whole number"))
            }
            if let reason = PointsLimit.problem(points) { return .failure(.init(reason)) }
            let reason = field(.reason).flatMap(nonEmpty) ?? "bulk award"
            let id = explicitID ?? Event.contentID(kind: .manualAward, email: email, course: nil, points: points,
                                                   at: explicitTime, reason: reason)
            return .success(Event(id: id, kind: .manualAward, email: email, name: name, at: at, source: source,
                                  points: points, reason: reason))
        }
        return .failure(.init("no course named in this row"))
    }

    /// Whether a course cell is a yes/no answer (`Yes`, `no`, `TRUE`, `x`, `done`): what a
    /// "Course completed?" column, taken for the course by its alias, holds.
    static func isAnswer(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isAnswer(UnsafeRawBufferPointer($0)) }
    }

    /// `isAnswer` of a cell's bytes: one comparison of the length for nearly every course.
    static func isAnswer(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count <= 5 else { return false }
        var folded = 0   // the cell's ASCII letters, lowercased, packed into an integer
        for byte in bytes {
            guard (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A else { return false }
            folded = folded << 8 | Int(byte | 0x20)
        }
        return answers.contains(folded)
    }

    private static let answers: Set<Int> = Set(["yes", "no", "y", "n", "true", "false", "x", "done"].map { word in
        word.utf8.reduce(0) { $0 << 8 | Int($1) }
    })

    private func personName(_ field: (Column) -> String?) -> String? {
        var name = field(.name).flatMap(nonEmpty)
        if name == nil {
            let parts = [field(.firstName), field(.lastName)].compactMap { $0.flatMap(nonEmpty) }
            name = parts.isEmpty ? nil : parts.joined(separator: " ")
        }
        // A "name" that is an email address would be published: drop it.
        if let candidate = name, Email.looksLikeEmail(candidate) { return nil }
        return name
    }
}

/// Why a row was rejected: the `reason` of its `rejected.jsonl` line.
public struct RowRejection: Error, Equatable, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// `text` without surrounding white space, or nil when nothing is left. It runs for every
/// field of every row, so the common case — no space at either end — costs two byte checks
/// and no copy; Foundation's `trimmingCharacters` is reserved for the rare rest.
func nonEmpty(_ text: String) -> String? {
    let utf8 = text.utf8
    guard let first = utf8.first, let last = utf8.last else { return nil }
    func isPlain(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x80 }
    if isPlain(first) && isPlain(last) { return text }
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    return trimmed.isEmpty ? nil : trimmed
}

import Foundation
