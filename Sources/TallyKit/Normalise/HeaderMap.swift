/// A role Tally reads from a table column. The raw values are the keys of `[sources.columns]`
/// in `tally.toml` (`email = "What is your school email?"`).
public enum Column: String, CaseIterable, Sendable, Codable {
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
    case isPublic = "public"
    case aliases

    /// The headers that fill this role without configuration. Matching ignores case, spaces
    /// and punctuation (see `HeaderMap.key(_:)`), so `E-mail`, `email_address` and
    /// `Email Address ` all count as the same header.
    ///
    /// | Role | Built-in headers |
    /// |---|---|
    /// | `email` | Email, Email Address, E-mail, E-mail address, Your email, Student email, Member email, Contact email, Username |
    /// | `name` | Name, Full name, Student name, Your name, Member name, Contact name |
    /// | `first_name` | First name, Given name |
    /// | `last_name` | Last name, Surname, Family name |
    /// | `course` | Course, Course name, Course title, Course completed, Which course |
    /// | `completed_at` | Completion date, Completed at, Completed, Date completed, Timestamp, Submitted at, Submission date, Date, Created at |
    /// | `certificate_url` | Certificate URL, Certificate, Certificate link |
    /// | `score` | Score, Total score, Quiz score |
    /// | `points` | Points, XP |
    /// | `reason` | Reason, Note, Description |
    /// | `id` | ID, Response ID, Submission ID, Event ID |
    /// | `student_id` | Student ID, Roster ID |
    /// | `public` | Public, Show on leaderboard |
    /// | `aliases` | Aliases, Other emails |
    ///
    /// Google Forms heads the address it collects `Email Address`, or `Username` when it
    /// collects verified addresses; its submission time is `Timestamp` and a quiz's is `Score`.
    public var builtInHeaders: [String] {
        switch self {
        case .email:
            return ["Email", "Email Address", "E-mail", "E-mail address", "Your email", "Student email",
                    "Member email", "Contact email", "Username"]
        case .name:
            return ["Name", "Full name", "Student name", "Your name", "Member name", "Contact name"]
        case .firstName: return ["First name", "Given name"]
        case .lastName: return ["Last name", "Surname", "Family name"]
        case .course: return ["Course", "Course name", "Course title", "Course completed", "Which course"]
        case .completedAt:
            // Microsoft Forms heads its submission time `Completion time`, Typeform `Submit Date (UTC)`.
            return ["Completion date", "Completed at", "Completed", "Date completed", "Completion time", "Timestamp",
                    "Submitted at", "Submission date", "Submit date (UTC)", "Submit date", "Date", "Created at"]
        case .certificateURL: return ["Certificate URL", "Certificate", "Certificate link"]
        case .score: return ["Score", "Total score", "Quiz score"]
        case .points: return ["Points", "XP"]
        case .reason: return ["Reason", "Note", "Description"]
        // Not a bare "ID": in an export it is as often the member's or the row's number, and
        // taken as the event's id it made every completion after a member's first a
        // duplicate. (`id_column` names one.) In a roster, "ID" is the student's id. Nor
        // "Event ID": in an attendee export it names the webinar or live session, the same
        // on every row.
        case .id: return ["Response ID", "Submission ID"]
        case .studentID: return ["Student ID", "Roster ID", "ID"]
        case .isPublic: return ["Public", "Show on leaderboard"]
        case .aliases: return ["Aliases", "Other emails"]
        }
    }
}

/// Which column of a table plays which role, decided once from the header row.
///
/// Exports name the same thing many ways (`Email`, `E-mail address`, `Your email`), so a
/// header matches a role by its folded key against `Column.builtInHeaders`, and `tally.toml`
/// can name any other header. Rules, in order:
///
/// 1. An override (`[sources.columns]`) names the header for its role, matched by the same
///    folded key; it wins over every alias, and the header it names serves no other role.
/// 2. Otherwise the header that is the role's most specific built-in alias fills it (the
///    aliases are listed most specific first, so a form's `Completion date` question beats
///    the `Timestamp` of its submission); between equal aliases, the leftmost.
/// 3. An override whose header is not in the table falls back to the aliases and is listed in
///    `unmatchedOverrides`, so intake can warn that the configuration no longer fits the file.
///
/// Columns no role claims are ignored, but for one: the best of the other date columns
/// (`otherDate`), which dates a row whose own date cell is empty.
public struct HeaderMap: Sendable {
    /// The header row as read.
    public let headers: [String]
    /// The index of the column that fills each role; roles no column fills are absent.
    public private(set) var columns: [Column: Int]
    /// Overrides that named a header this table does not have.
    public let unmatchedOverrides: [Column: String]
    /// A second date column, for a row whose `completedAt` cell is empty: the most specific
    /// built-in date alias left after `completedAt` took its column (then the leftmost).
    /// A Google Form with an optional "Completion date" question has its `Timestamp` here,
    /// which is when the row was submitted; without it, such a row took the file's time (the
    /// day of the download), and a January completion downloaded in March counted for March.
    public let otherDate: Int?

    public init(headers: [String], overrides: [Column: String] = [:]) {
        let keys = headers.map { HeaderMap.key($0) }
        var columns: [Column: Int] = [:]
        var claimed = Set<Int>()
        var unmatched: [Column: String] = [:]

        for column in Column.allCases {
            guard let wanted = overrides[column] else { continue }
            let wantedKey = HeaderMap.key(wanted)
            if !wantedKey.isEmpty, let index = keys.firstIndex(of: wantedKey) {
                columns[column] = index
                claimed.insert(index)
            } else {
                unmatched[column] = wanted
            }
        }
        var ranks: [Column: Int] = [:]
        for (index, key) in keys.enumerated() where !claimed.contains(index) {
            guard let (column, rank) = HeaderMap.builtInRoles[key], overrides[column] == nil || unmatched[column] != nil,
                  rank < ranks[column, default: Int.max] else { continue }
            columns[column] = index
            ranks[column] = rank
        }
        var otherDate: (index: Int, rank: Int)?
        if let dated = columns[.completedAt] {
            for (index, key) in keys.enumerated() where index != dated && !claimed.contains(index) {
                guard let (column, rank) = HeaderMap.builtInRoles[key], column == .completedAt,
                      rank < otherDate?.rank ?? Int.max else { continue }
                otherDate = (index, rank)
            }
        }
        self.headers = headers
        self.columns = columns
        self.unmatchedOverrides = unmatched
        self.otherDate = otherDate?.index
    }

    /// The index of the column that fills `column`, or `nil` when none does.
    public func index(of column: Column) -> Int? { columns[column] }

    /// The folded form headers are compared in: lowercase letters and digits only, so case,
    /// whitespace and punctuation (`-`, `_`, `:`, `?`, a byte-order mark) make no difference.
    /// Non-ASCII letters are kept (`Prénom` stays `prénom`), and Swift compares them up to
    /// canonical equivalence, so a decomposed `é` matches a precomposed one.
    public static func key(_ header: some StringProtocol) -> String {
        var folded = ""
        for character in header.lowercased() where character.isLetter || character.isNumber {
            folded.append(character)
        }
        return folded
    }

    /// Folded built-in header → role. Built once; a key listed under two roles would be a bug
    /// in `builtInHeaders`, and the tests check there is none.
    static let builtInRoles: [String: (Column, Int)] = {
        var roles: [String: (Column, Int)] = [:]
        for column in Column.allCases {
            for (rank, header) in column.builtInHeaders.enumerated() where roles[key(header)] == nil {
                roles[key(header)] = (column, rank)
            }
        }
        return roles
    }()

    /// A quiz score as Google Forms and most graders write it: `8 / 10` and `8/10` give
    /// `(8, 10)`; `80%` gives `(80, 100)`; a bare `0.8` or `7.5` gives `(0.8, nil)` and
    /// `(7.5, nil)`: no maximum, which `RowMapper.event` reads as a fraction from 0 to 1 and
    /// refuses above 1 (is `3` out of 10, or 3%?). Numbers are plain decimals (digits and one
    /// `.`); a negative number, a maximum of zero, or anything else is `nil`.
    public static func parseScore(_ text: some StringProtocol) -> (got: Double, max: Double?)? {
        let trimmed = text.trimmingSpaces
        if trimmed.last == "%" {
            guard let got = decimal(trimmed.dropLast().trimmingSpaces) else { return nil }
            return (got, 100)
        }
        if let slash = trimmed.firstIndex(of: "/") {
            guard let got = decimal(trimmed[..<slash].trimmingSpaces),
                  let max = decimal(trimmed[trimmed.index(after: slash)...].trimmingSpaces), max > 0
            else { return nil }
            return (got, max)
        }
        guard let got = decimal(trimmed) else { return nil }
        return (got, nil)
    }

    /// Digits with at most one `.`; refuses what `Double(_:)` would also take (`inf`, `0x1p3`, `1e3`).
    private static func decimal(_ text: Substring) -> Double? {
        var digits = 0, dots = 0
        for byte in text.utf8 {
            if byte &- 0x30 < 10 { digits += 1 } else if byte == UInt8(ascii: ".") { dots += 1 } else { return nil }
        }
        guard digits > 0, dots <= 1 else { return nil }
        return Double(text)
    }
}

extension StringProtocol {
    /// Self without leading and trailing whitespace (any Unicode whitespace, incl. U+00A0).
    fileprivate var trimmingSpaces: Substring {
        let text = self[...]
        guard let first = text.firstIndex(where: { !$0.isWhitespace }),
              let last = text.lastIndex(where: { !$0.isWhitespace })
        else { return Substring() }
        return Substring(text[first...last])
    }
}
