import Testing
@testable import TallyKit

/// `state.json` writes a student whose strings need no escaping whole at a pointer
/// (`Snapshot.appendPlain`); it must give exactly the bytes of the member-by-member writer.
struct SnapshotFastPathTests {
    /// Strings that are plain, and strings that need escaping or only look as if they might
    /// (an E2 byte that is not U+2028 or U+2029).
    static let texts = ["Ada Lovelace", "", "Zoë Ünal", "Course 04: Practical Skills", "say \"hi\"", "back\\slash", "line\nbreak",
                        "tab\there", "bell\u{07}", "sep\u{2028}arator", "it’s", "🎓 graduate", "<script>&amp;</script>",
                        "x@example.org"]

    static func students(count: Int, seed: UInt64) -> StudentListing {
        var generator = SeededGenerator(seed: seed)
        func text() -> String { texts.randomElement(using: &generator)! }
        func some(_ plain: Bool) -> [String] {
            (0..<Int.random(in: 0...3, using: &generator)).map { _ in plain ? "Course \(Int.random(in: 0...9, using: &generator))" : text() }
        }
        // Years with fewer than four digits, and more, as well as this century's.
        let years = [2024, 2023, 1999, 999, 45, 5, 0, 12_000]
        var listing = StudentListing()
        for index in 0..<count {
            // Half the students plain throughout, so that both paths are taken.
            let plain = index % 2 == 0
            let id = plain ? "student\(index)@example.org" : "S\(index) " + text()
            let months = (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                MonthPoints(month: Month(year: years.randomElement(using: &generator)!, month: Int.random(in: 1...12, using: &generator)),
                            points: Int.random(in: -60...200, using: &generator))
            }.sorted { $0.month < $1.month }
            listing.append(id: id, StudentState(
                name: index % 7 == 0 ? nil : plain ? "Student \(index)" : text(), xp: Int.random(in: -40...100_000, using: &generator),
                level: index % 3 == 0 ? nil : plain ? "Level \(index % 4)" : text(), badges: some(plain), unlocks: some(plain),
                courses: some(plain), isPublic: index % 5 != 0, reachedAt: Int.random(in: 0...Int.max, using: &generator),
                months: months))
        }
        return listing
    }

    static func encoded(_ listing: StudentListing, plain: Bool, chunk: Int = 1 << 20,
                        positions: State.Positions = State.Positions(events: .init(seq: 12, bytes: 3400))) -> [UInt8] {
        var parts: [[UInt8]] = []
        Snapshot.writeState(listing, positions: positions, chunk: chunk, plain: plain) { parts.append($0) }
        return Array(parts.joined())
    }

    @Test("students written whole give the bytes of students written member by member", arguments: [0, 1, 2, 3, 4, 5])
    func sameBytes(seed: UInt64) throws {
        let listing = Self.students(count: 60 + Int(seed) * 31, seed: seed)
        let simple = Self.encoded(listing, plain: false)
        for chunk in [1, 100, 1 << 20] {
            #expect(Self.encoded(listing, plain: true, chunk: chunk) == simple, "seed \(seed), chunk \(chunk)")
        }
        #expect(try JSONParser.parse(simple)["students"]?.object.map { Array($0).count } == listing.count)
    }

    @Test("a plain student is written whole; one with a string to escape, or a month before year 0, not at all")
    func whichPath() {
        let plain = StudentState(name: "Ada", xp: 40, level: "Pro", badges: ["first"], courses: ["AI 1", "AI 2"],
                                 isPublic: false, reachedAt: 7, months: [MonthPoints(month: Month(year: 812, month: 3), points: 40)])
        var w = JSONWriter()
        w.beginObject()
        #expect(Snapshot.appendPlain(id: "a@example.org", plain, to: &w))
        #expect(Snapshot.appendPlain(id: "b@example.org", plain, to: &w))
        w.endObject()
        #expect(String(decoding: w.bytes, as: UTF8.self) == """
            {"a@example.org":{"name":"Ada","xp":40,"level":"Pro","badges":["first"],"unlocks":[],"courses":["AI 1","AI 2"],\
            "public":false,"reached_at":7,"months":{"0812-03":40}},"b@example.org":{"name":"Ada","xp":40,"level":"Pro",\
            "badges":["first"],"unlocks":[],"courses":["AI 1","AI 2"],"public":false,"reached_at":7,"months":{"0812-03":40}}}
            """)
        var escaping = [plain, plain, plain, plain]
        escaping[0].name = "Zoë \"Z\""
        escaping[1].courses.append("a\nb")
        escaping[2].unlocks = ["it’s"]
        escaping[3].months = [MonthPoints(month: Month(number: -3), points: 20)]
        for student in escaping {
            var w = JSONWriter()
            w.beginObject()
            #expect(!Snapshot.appendPlain(id: "a@example.org", student, to: &w))
            #expect(w.bytes == [UInt8(ascii: "{")])
        }
        var w2 = JSONWriter()
        #expect(!Snapshot.appendPlain(id: "tab\there", plain, to: &w2))
        #expect(w2.bytes.isEmpty)
    }

    @Test("a state's listing, roster students and non-public ones included, writes the same state.json both ways")
    func stateListing() {
        var rules = Rules()
        rules.levels = [.init(name: "Starter", xp: 0), .init(name: "Pro \"40\"", xp: 40)]
        for state in StudentListingTests.states() {
            let listing = state.listed(rules: rules)
            #expect(Self.encoded(listing, plain: true) == Self.encoded(listing, plain: false))
            #expect(Self.encoded(listing, plain: true, chunk: 1, positions: state.positions) == Snapshot.encodeState(state, rules: rules))
        }
    }
}
