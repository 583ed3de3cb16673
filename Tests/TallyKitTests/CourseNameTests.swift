import Testing
@testable import TallyKit

/// What makes two course names one course (`CourseName`), and the state's numbering by it.
struct CourseNameTests {
    static let spellingsOfOne = [
        "Data Literacy 101", "data literacy 101", "DATA LITERACY 101", "Data  Literacy 101", " Data Literacy 101 ",
        "Data\tLiteracy\n101", "Data Literacy\r\n101", "Data\u{A0}Literacy 101", "Data\u{2003}Literacy\u{202F}101",
        "Data\u{3000}Literacy\u{205F}101", "Data\u{200B} Literacy 101", "Data Lit\u{200D}eracy\u{2060} 101",
        "\u{FEFF}Data Literacy 101", "Data \u{200B} Literacy 101",
    ]

    @Test("case, runs of whitespace of any kind, and invisible format characters make no other course",
          arguments: spellingsOfOne)
    func oneCourse(spelling: String) {
        #expect(CourseName.key(spelling) == "data literacy 101")
        #expect(CourseName.same(spelling, "Data Literacy 101"))
    }

    @Test("other courses stay apart: another number, words run together, a letter more")
    func otherCourses() {
        for other in ["Data Literacy 102", "DataLiteracy 101", "Data Literacy 1 01", "Data Literacy 101.", "Data Literacies 101"] {
            #expect(!CourseName.same(other, "Data Literacy 101"), "\(other)")
        }
    }

    @Test("beyond ASCII: full case folding and canonical equivalence")
    func unicode() {
        #expect(CourseName.same("Straße", "STRASSE"))
        #expect(CourseName.same("\u{C9}cole", "e\u{301}COLE"))
        #expect(CourseName.same("ΣΊΣΥΦΟΣ", "σίσυφος"))
        #expect(CourseName.same("\u{212A}elvin", "kelvin"))   // the Kelvin sign
        #expect(CourseName.key("Caf\u{E9}") == "caf\u{E9}" && CourseName.key("Cafe\u{301}") == "caf\u{E9}")
        #expect(!CourseName.same("Café", "Cafe"))
        #expect(CourseName.key("  \u{200B} ") == "" && CourseName.key("") == "")
    }

    @Test("ASCII folded as bytes is the fold by scalars, over every ASCII character and random names")
    func asciiBytesAreScalars() {
        func viaBytes(_ text: String) -> String {
            Array(text.utf8).withUnsafeBytes { CourseName.withKey($0) { String(decoding: $0, as: UTF8.self) } }
        }
        for value in 0..<128 {
            let text = "a" + String(UnicodeScalar(UInt8(value))) + "Z " + String(UnicodeScalar(UInt8(value)))
            #expect(viaBytes(text) == CourseName.foldByScalars(text), "\(value)")
        }
        let alphabet = Array("aZ 0\t\n\r\u{0B}\u{0C}.-_Mq".unicodeScalars)
        var generator = SeededGenerator(state: 3)
        for _ in 0..<5_000 {
            let text = String(String.UnicodeScalarView((0..<Int.random(in: 0..<12, using: &generator)).map { _ in
                alphabet[Int.random(in: 0..<alphabet.count, using: &generator)]
            }))
            #expect(viaBytes(text) == CourseName.foldByScalars(text), "\(text.debugDescription)")
            // Folding twice changes nothing more.
            #expect(viaBytes(viaBytes(text)) == viaBytes(text))
        }
    }

    @Test("a name already folded is handed over as it is, not copied")
    func foldedNotCopied() {
        for name in ["data literacy 101", "ai 1", "x", ""] {
            Array(name.utf8).withUnsafeBytes { bytes in
                let same = CourseName.withKey(bytes) { $0.baseAddress == bytes.baseAddress && $0.count == bytes.count }
                #expect(same, "\(name)")
            }
        }
        Array("Data literacy 101".utf8).withUnsafeBytes { bytes in
            #expect(CourseName.withKey(bytes) { $0.baseAddress != bytes.baseAddress })
        }
    }

    @Test("the state numbers spellings of one course alike, by String and by bytes, and keeps the first")
    func numbering() {
        var courses = NumberedNames(folding: true)
        let first = courses.number(for: "Data Literacy 101")
        for spelling in Self.spellingsOfOne {
            #expect(courses.number(of: spelling) == first, "\(spelling)")
            #expect(Array(spelling.utf8).withUnsafeBytes { courses.number(ofBytes: $0) } == first, "\(spelling)")
            #expect(Array(spelling.utf8).withUnsafeBytes { courses.number(forBytes: $0) } == first, "\(spelling)")
            #expect(courses.number(for: spelling) == first, "\(spelling)")
        }
        #expect(courses.count == 1 && courses[first] == "Data Literacy 101")
        let other = courses.number(for: "AI 1")
        #expect(other != first && courses.number(of: "ai  1") == other && courses.number(of: "AI 2") == nil)
        // As index.bin lists them: two names of one course are refused; kept apart without the fold.
        #expect(NumberedNames(["Data Literacy 101", "AI 1"], folding: true)?.names == ["Data Literacy 101", "AI 1"])
        #expect(NumberedNames(["Data Literacy 101", "data literacy 101"], folding: true) == nil)
        #expect(NumberedNames(["Data Literacy 101", "data literacy 101"])?.count == 2)
        // Activities are not course names: compared as written.
        var activities = NumberedNames()
        #expect(activities.number(for: "LEARN") != activities.number(for: "learn"))
    }

    @Test("[points.courses] is found by any spelling of its course")
    func pointsByAnySpelling() {
        var rules = Rules()
        rules.perCourse = ["data  literacy 101": 30]
        #expect(rules.points(forCourse: "Data Literacy 101") == 30)
        #expect(rules.points(forCourse: "DATA\u{A0}LITERACY 101") == 30)
        #expect(rules.points(forCourse: "AI 1") == 20)
    }

    @Test("an index.bin that numbers two spellings of one course apart is of its time, not damaged")
    func indexNumberedApart() throws {
        // A state folded as a Tally before the fold did: course names compared as written.
        var state = State()
        state.courses = NumberedNames()
        let source = EventSource(file: "t.csv", sha256: "abc", row: 2)
        let email = try Email(normalising: "ada@example.com")
        for (n, course) in ["Data Literacy 101", "data literacy 101"].enumerated() {
            let at = Timestamp(milliseconds: 1_725_273_000_000 + Int64(n))
            let event = Event(id: Event.contentID(kind: .courseCompleted, email: email, course: course, points: nil, at: at),
                              kind: .courseCompleted, email: email, name: "Ada", course: course, at: at, source: source)
            state.apply(EventRecord(seq: n + 1, event: event, student: email.value, status: .applied))
            state.apply(PointsRecord(seq: n + 1, at: at, student: email.value, points: 20, activity: Activity.learn,
                                     event: event.id, reason: "completed \(course)", course: course))
        }
        #expect(state.courses.count == 2)
        let path = "/tmp/tally-index-apart-\(UInt64.random(in: 0...UInt64.max)).bin"
        defer { unlink(path) }
        try FileSystem.writeAtomically(Snapshot.encodeIndex(state), to: path)
        #expect(throws: Snapshot.CoursesNumberedApart.self) { try Snapshot.readIndex(at: path) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
