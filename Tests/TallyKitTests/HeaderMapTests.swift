import Testing
@testable import TallyKit

@Suite("HeaderMap")
struct HeaderMapTests {
    static let aliases: [(String, Column)] = [
        ("Email", .email), ("Email Address", .email), ("E-mail", .email), ("E-mail address", .email),
        ("Your email", .email), ("Student email", .email), ("Member email", .email), ("Contact email", .email),
        ("Username", .email),
        ("Name", .name), ("Full name", .name), ("Student name", .name), ("Your name", .name),
        ("Member name", .name), ("Contact name", .name),
        ("First name", .firstName), ("Given name", .firstName),
        ("Last name", .lastName), ("Surname", .lastName), ("Family name", .lastName),
        ("Course", .course), ("Course name", .course), ("Course title", .course), ("Course completed", .course),
        ("Which course", .course),
        ("Completion date", .completedAt), ("Completed at", .completedAt), ("Completed", .completedAt),
        ("Date completed", .completedAt), ("Completion time", .completedAt), ("Timestamp", .completedAt),
        ("Submitted at", .completedAt), ("Submission date", .completedAt), ("Submit date (UTC)", .completedAt),
        ("Submit date", .completedAt), ("Date", .completedAt), ("Created at", .completedAt),
        ("Certificate URL", .certificateURL), ("Certificate", .certificateURL), ("Certificate link", .certificateURL),
        ("Score", .score), ("Total score", .score), ("Quiz score", .score),
        ("Points", .points), ("XP", .points),
        ("Reason", .reason), ("Note", .reason), ("Description", .reason),
        ("Response ID", .id), ("Submission ID", .id),
        ("Student ID", .studentID), ("Roster ID", .studentID), ("ID", .studentID),
        ("Public", .isPublic), ("Show on leaderboard", .isPublic),
        ("Aliases", .aliases), ("Other emails", .aliases),
    ]

    @Test("each built-in alias fills its role", arguments: aliases)
    func builtInAlias(header: String, column: Column) {
        let map = HeaderMap(headers: ["Unrelated", header])
        #expect(map.index(of: column) == 1)
        #expect(map.columns == [column: 1])
    }

    @Test("the documented alias list is the one in use, and no alias serves two roles")
    func aliasListIsConsistent() {
        let documented = Set(Self.aliases.map { "\($0.1.rawValue):\(HeaderMap.key($0.0))" })
        let builtIn = Set(Column.allCases.flatMap { column in
            column.builtInHeaders.map { "\(column.rawValue):\(HeaderMap.key($0))" }
        })
        #expect(documented == builtIn)
        // `Email` and `E-mail` fold to one key within a role; across roles a key must be unique.
        let keysPerRole = Column.allCases.map { Set($0.builtInHeaders.map { HeaderMap.key($0) }) }
        let allKeys = keysPerRole.flatMap { $0 }
        #expect(allKeys.count == Set(allKeys).count)
        #expect(HeaderMap.builtInRoles.count == allKeys.count)
    }

    @Test("headers match whatever their case, spacing and punctuation", arguments: [
        "email", "EMAIL", "E-mail", "e_mail", "email_address", "Email Address ", "  email-address:",
        "Email address?", "\u{FEFF}Email", "E‑Mail", "EmailAddress", "email\u{00A0}address",
    ])
    func folding(header: String) {
        #expect(HeaderMap(headers: [header]).index(of: .email) == 0)
    }

    @Test("a header folds to its lowercase letters and digits", arguments: [
        ("E-mail", "email"), ("email_address", "emailaddress"), ("Email Address ", "emailaddress"),
        ("Certificate URL", "certificateurl"), ("Quiz #2 score (%)", "quiz2score"), ("Prénom", "prénom"),
        ("", ""), ("---", ""),
    ])
    func key(header: String, expected: String) {
        #expect(HeaderMap.key(header) == expected)
        #expect(HeaderMap.key(header[...]) == expected)
    }

    @Test("a decomposed é in a header matches a precomposed one")
    func keyCanonicalEquivalence() {
        let map = HeaderMap(headers: ["Pre\u{0301}nom"], overrides: [.firstName: "Pr\u{00E9}nom"])
        #expect(map.index(of: .firstName) == 0)
    }

    @Test("a Google Forms quiz export maps its columns")
    func googleFormsQuiz() {
        let map = HeaderMap(headers: ["Timestamp", "Email Address", "Score", "Your name", "Which course did you finish?"])
        #expect(map.columns == [.completedAt: 0, .email: 1, .score: 2, .name: 3])
    }

    @Test("the most specific alias wins when two headers fill the same role, then the leftmost")
    func specificWins() {
        let map = HeaderMap(headers: ["Timestamp", "Email Address", "Completion date", "Username", "Name", "Full name"])
        #expect(map.index(of: .completedAt) == 2)
        #expect(map.index(of: .email) == 1)
        #expect(map.index(of: .name) == 4)
        let twice = HeaderMap(headers: ["Email", "Name", "email"])
        #expect(twice.index(of: .email) == 0)
    }

    @Test("the best of the other date columns dates a row whose own date cell is empty")
    func otherDate() {
        let form = HeaderMap(headers: ["Timestamp", "Email Address", "Course", "Completion date", "Date"])
        #expect(form.index(of: .completedAt) == 3)
        #expect(form.otherDate == 0)
        #expect(HeaderMap(headers: ["Email", "Course", "Completed at"]).otherDate == nil)
        #expect(HeaderMap(headers: ["Date", "Email", "Submitted at", "Created at"]).otherDate == 0)
        // A configured date column falls back to the aliases; a column claimed for another role does not date.
        let configured = HeaderMap(headers: ["Finished on", "Timestamp", "Email"], overrides: [.completedAt: "Finished on"])
        #expect(configured.index(of: .completedAt) == 0 && configured.otherDate == 1)
        let claimed = HeaderMap(headers: ["Completed at", "Timestamp", "Email"], overrides: [.course: "Timestamp"])
        #expect(claimed.otherDate == nil)
    }

    @Test("an override names any header, matched the same folded way, and wins over aliases")
    func overrides() {
        let headers = ["Timestamp", "Email", "What is your school email?", "Course"]
        let map = HeaderMap(headers: headers, overrides: [.email: "what is your SCHOOL e-mail"])
        #expect(map.index(of: .email) == 2)
        #expect(map.index(of: .completedAt) == 0)
        #expect(map.index(of: .course) == 3)
        #expect(map.unmatchedOverrides.isEmpty)
    }

    @Test("a header an override claims serves no other role")
    func overrideClaimsItsHeader() {
        let map = HeaderMap(headers: ["Username", "Contact"], overrides: [.name: "Username", .email: "Contact"])
        #expect(map.index(of: .name) == 0)
        #expect(map.index(of: .email) == 1)
    }

    @Test("an override can point a role at a header that is another role's alias")
    func overrideBeatsOtherAlias() {
        let map = HeaderMap(headers: ["Timestamp", "Date"], overrides: [.completedAt: "Date"])
        #expect(map.columns == [.completedAt: 1])
    }

    @Test("an override whose header is absent falls back to aliases and is reported")
    func unmatchedOverride() {
        let map = HeaderMap(headers: ["Email", "Course"], overrides: [.email: "School email", .points: ""])
        #expect(map.index(of: .email) == 0)
        #expect(map.index(of: .points) == nil)
        #expect(map.unmatchedOverrides == [.email: "School email", .points: ""])
    }

    @Test("unknown and empty headers are ignored")
    func ignoresOthers() {
        let map = HeaderMap(headers: ["", "Favourite colour", "Email", "  "])
        #expect(map.columns == [.email: 2])
        #expect(map.index(of: .course) == nil)
        #expect(map.headers.count == 4)
    }

    @Test("column roles read as tally.toml writes them", arguments: [
        ("email", Column.email), ("first_name", .firstName), ("last_name", .lastName),
        ("completed_at", .completedAt), ("certificate_url", .certificateURL), ("student_id", .studentID),
        ("public", .isPublic), ("aliases", .aliases),
    ])
    func columnRawValues(raw: String, column: Column) {
        #expect(Column(rawValue: raw) == column)
    }

    @Test("quiz scores", arguments: [
        ("8 / 10", 8.0, Double?.some(10)), ("8/10", 8, 10), (" 7.5 / 10 ", 7.5, 10), ("0 / 5", 0, 5),
        ("80%", 80, 100), ("80 %", 80, 100), ("92.5%", 92.5, 100),
        ("7.5", 7.5, nil), ("10", 10, nil), (".5", 0.5, nil), ("12 / 10", 12, 10),
    ])
    func score(text: String, got: Double, max: Double?) throws {
        let score = try #require(HeaderMap.parseScore(text))
        #expect(score.got == got)
        #expect(score.max == max)
    }

    @Test("what is not a score is nil", arguments: [
        "", "  ", "eight", "8 / 0", "8 /", "/ 10", "8 / 10 / 2", "-3", "1e3", "inf", "nan", "0x10",
        "8.5.1", "%", "8 of 10", "8,5",
    ])
    func notScore(text: String) {
        #expect(HeaderMap.parseScore(text) == nil)
    }
}
