import Testing
@testable import TallyKit

/// 2024-09-02T12:00:00Z.
private let noon = Timestamp(milliseconds: 1_725_278_400_000)

private func board(_ students: [String: StudentState], _ settings: SiteSettings = SiteSettings()) -> Leaderboard {
    Leaderboard(students: students, settings: settings, generatedAt: noon)
}

/// Students named after their id, one per XP value, all reaching their score at the same seq.
private func students(xp values: [Int]) -> [String: StudentState] {
    Dictionary(uniqueKeysWithValues: values.enumerated().map { index, xp in
        ("s\(index)", StudentState(name: "Student S\(index)", xp: xp, reachedAt: 1))
    })
}

@Suite("Leaderboard ranking")
struct LeaderboardRankingTests {
    @Test("equal XP share a rank and the next rank skips", arguments: [
        ([100, 90, 90, 80], [1, 2, 2, 4]),
        ([50, 50, 50], [1, 1, 1]),
        ([10], [1]),
        ([30, 20, 10], [1, 2, 3]),
        ([5, 5, 3, 3, 1], [1, 1, 3, 3, 5]),
        ([40, 60, 60, 20, 60], [1, 1, 1, 4, 5]),
    ])
    func ranksWithTies(xp: [Int], ranks: [Int]) {
        let entries = board(students(xp: xp)).students
        #expect(entries.map(\.rank) == ranks)
        #expect(entries.map(\.xp) == xp.sorted(by: >))
    }

    @Test("of equal XP the earlier to reach it is listed first")
    func tieBreakByReachedAt() {
        let entries = board([
            "late": StudentState(name: "Late Comer", xp: 40, reachedAt: 9),
            "early": StudentState(name: "Early Bird", xp: 40, reachedAt: 3),
            "top": StudentState(name: "Top Scorer", xp: 60, reachedAt: 12),
        ]).students
        #expect(entries.map(\.name) == ["Top S.", "Early B.", "Late C."])
        #expect(entries.map(\.rank) == [1, 2, 2])
    }

    @Test("equal XP reached at the same point fall back to the student id, whatever the dictionary order")
    func tieBreakByID() {
        var students: [String: StudentState] = [:]
        for id in ["m", "c", "x", "a", "q"] { students[id] = StudentState(name: "N \(id.uppercased())", xp: 20, reachedAt: 5) }
        #expect(board(students).students.map(\.name) == ["N A.", "N C.", "N M.", "N Q.", "N X."])
    }

    @Test("students with no XP and no completed course are not listed")
    func unlistedStudents() {
        let entries = board([
            "idle": StudentState(name: "Idle Ivan", xp: 0),
            "owing": StudentState(name: "Owing Olga", xp: -5),
            "zero-points-course": StudentState(name: "Zero Zed", xp: 0, courses: ["Free Intro"]),
            "manual": StudentState(name: "Manual Mia", xp: 15),
        ]).students
        #expect(entries.map(\.name) == ["Manual M.", "Zero Z."])
    }

    @Test("a board shows badges by the names [[badges]] gives them; an id no longer configured as itself")
    func badgeNames() {
        let settings = SiteSettings(badgeNames: ["three-courses": "Hat trick", "mail": "Ask ada@example.org"])
        let entry = board(["s": StudentState(name: "Ada Lovelace", xp: 60, badges: ["first-course", "three-courses", "mail"])],
                          settings).students[0]
        #expect(entry.badges == ["first-course", "Hat trick", "Ask (email hidden)"])
    }

    @Test("top limits the rows of every board; ranks stay those of the whole board")
    func topLimitsRows() {
        var students = students(xp: [90, 80, 80, 70, 60])
        for id in students.keys { students[id]?.courses = ["Intro"] }
        let limited = board(students, SiteSettings(top: 3))
        #expect(limited.students.map(\.rank) == [1, 2, 2])
        #expect(limited.courses.first?.students.count == 3)
        #expect(board(students, SiteSettings(top: 0)).students.count == 5)
    }
}

@Suite("Leaderboard names")
struct LeaderboardNameTests {
    @Test("names are shown in the configured style", arguments: [
        (NameStyle.firstLastInitial, "Ada Lovelace", "Ada L."),
        (.firstLastInitial, "   Ada    Lovelace  ", "Ada L."),
        (.firstLastInitial, "Ada\tLovelace\n", "Ada L."),
        (.firstLastInitial, "Ada", "Ada"),
        (.firstLastInitial, "Mary-Jane van der Berg", "Mary-Jane B."),
        (.firstLastInitial, "Łukasz Żółwiński", "Łukasz Ż."),
        (.firstLastInitial, "josé álvarez", "josé Á."),
        (.firstLastInitial, "Ada (Lovelace)", "Ada L."),
        (.firstLastInitial, "Ada \u{200B}Lovelace", "Ada L."),
        (.full, "  Ada   King  Lovelace ", "Ada King Lovelace"),
        (.initials, "Ada Lovelace", "A. L."),
        (.initials, "Mary-Jane van der Berg", "M. B."),
        (.initials, "ada", "A."),
        (.anonymous, "Ada Lovelace", "Anonymous"),
    ])
    func nameStyles(style: NameStyle, name: String, shown: String) {
        let entries = board(["s1": StudentState(name: name, xp: 10)], SiteSettings(names: style)).students
        #expect(entries.map(\.name) == [shown])
    }

    @Test("a non-public student, a missing name and a name with an @ show as Anonymous in every style",
          arguments: NameStyle.allCases)
    func anonymity(style: NameStyle) {
        let cases: [StudentState] = [
            StudentState(name: "Ada Lovelace", xp: 70, isPublic: false),
            StudentState(name: nil, xp: 60),
            StudentState(name: "", xp: 50),
            StudentState(name: "  \t ", xp: 40),
            StudentState(name: "ada@example.com", xp: 30),
            StudentState(name: "Ada Lovelace <ada@example.com>", xp: 20),
            StudentState(name: "ada\u{FF20}example.com", xp: 10),
        ]
        let students = Dictionary(uniqueKeysWithValues: cases.enumerated().map { ("s\($0.offset)", $0.element) })
        let entries = board(students, SiteSettings(names: style)).students
        #expect(entries.count == cases.count)
        #expect(entries.allSatisfy { $0.name == "Anonymous" })
    }

    @Test("emails in course, level and badge names are hidden, and leave no trace in slugs")
    func emailsInOtherText() {
        let result = board(["s": StudentState(name: "Ada Lovelace", xp: 20, level: "Pro for ada.lovelace@example.com",
                                              badges: ["x@y"], courses: ["Intro (ada.lovelace@example.com)"])],
                           SiteSettings(title: "Board of admin@school.example"))
        #expect(result.title == "Board of (email hidden)")
        #expect(result.students.first?.level == "Pro for (email hidden)")
        #expect(result.students.first?.badges == ["(email hidden)"])
        #expect(result.courses.map(\.course) == ["Intro (email hidden)"])
        #expect(result.courses.map(\.slug) == ["intro-email-hidden"])
    }
}

@Suite("Course boards and slugs")
struct CourseBoardTests {
    @Test("each course completed has a board of its students, ranked by overall XP")
    func courseBoards() {
        let result = board([
            "a": StudentState(name: "Ada Lovelace", xp: 60, courses: ["Intro", "Data Literacy"]),
            "g": StudentState(name: "Grace Hopper", xp: 80, courses: ["Data Literacy"]),
            "k": StudentState(name: "Katherine Johnson", xp: 60, courses: ["Data Literacy", "Intro"], reachedAt: 7),
            "l": StudentState(name: "Linus T", xp: 30, courses: ["Intro"]),
        ])
        #expect(result.courses.map(\.course) == ["Data Literacy", "Intro"])
        #expect(result.courses[0].students.map(\.name) == ["Grace H.", "Ada L.", "Katherine J."])
        #expect(result.courses[0].students.map(\.rank) == [1, 2, 2])
        #expect(result.courses[1].students.map(\.name) == ["Ada L.", "Katherine J.", "Linus T."])
        #expect(result.courses[1].students.map(\.rank) == [1, 1, 3])
        #expect(result.students.map(\.courses) == [1, 2, 2, 1])
    }

    @Test("slugs are lowercase ASCII words joined by dashes", arguments: [
        ("AI Foundations 1", "ai-foundations-1"),
        ("  --Hello,,  World!-- ", "hello-world"),
        ("Données & IA: l'été", "donnees-ia-lete"),
        ("Straße", "strasse"),
        ("Введение в ИИ", "vvedenie-v-ii"),
        ("😀 🎉", "course"),
        ("", "course"),
        ("../../etc/passwd", "etc-passwd"),
    ])
    func slugs(name: String, slug: String) {
        #expect(Slug.make(name) == slug)
    }

    @Test("a slug is never longer than 80 characters")
    func longSlug() {
        #expect(Slug.make(String(repeating: "word ", count: 100)).count <= 80)
    }

    @Test("an ASCII name's slug skips ICU and is the slug ICU's transliteration gives")
    func asciiSlugs() {
        var generator = SystemRandomNumberGenerator()
        let printable = (0x20...0x7E).map { Character(UnicodeScalar(UInt8($0))) }
        var names = ["AI Foundations 1", "Course 04: Practical Skills for Teams", "", "  ", "--", "O'Brien's 101"]
        for _ in 0..<300 {
            names.append(String((0..<Int.random(in: 1...24, using: &generator)).map { _ in printable.randomElement(using: &generator)! }))
        }
        for name in names {
            #expect(Slug.make(name) == Slug.slug(ofLatin: Slug.transliterated(name)), "\(name)")
        }
        #expect(Slug.make("Données") == "donnees")
    }

    @Test("courses with the same slug get -2, -3 in name order")
    func slugCollisions() {
        #expect(Slug.unique(for: ["Intro", "intro", "INTRO!"]) == ["intro", "intro-2", "intro-3"])
        #expect(Slug.unique(for: ["Intro", "intro", "Intro 2"]) == ["intro", "intro-3", "intro-2"])
        // (`intro` and `Intro` would be one course: see `CourseName`.)
        let result = board([
            "a": StudentState(name: "A B", xp: 10, courses: ["Intro?", "Intro!", "Intro"]),
        ])
        #expect(result.courses.map(\.course) == ["Intro", "Intro!", "Intro?"])
        #expect(result.courses.map(\.slug) == ["intro", "intro-2", "intro-3"])
    }
}
