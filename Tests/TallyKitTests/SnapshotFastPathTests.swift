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

    @Test("the longest months a student can hold fit the room reckoned for them")
    func longestMonths() {
        // The last year a month number holds, and the longest points, thirty times: 36
        // bytes a month, past the 32 once reckoned (the writer stops at an overrun).
        let months = (0..<30).map { MonthPoints(month: Month(number: Int32.max - 29 + Int32($0)), points: Int.min) }
        let student = StudentState(name: nil, xp: Int.min, level: nil, courses: [], isPublic: false, reachedAt: Int.min, months: months)
        var listing = StudentListing()
        listing.append(id: "a@example.org", student)
        let plain = Self.encoded(listing, plain: true)
        #expect(plain == Self.encoded(listing, plain: false))
        #expect(String(decoding: plain, as: UTF8.self).contains(#","178956970-08":-9223372036854775808}}"#))
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

    /// A state's students as random completions make them: names from `texts` (plain, to
    /// escape, not ASCII), plain and awkward course names, months across years; badges for
    /// three courses (the students who hold one are written as `ListedStudent`s); manual
    /// awards taking points away (XP and months below zero); courses taken back but still
    /// completed (listed no more). With `roster`, a roster names and hides a few, and names
    /// students with no account yet.
    static func randomState(seed: UInt64, roster: Bool) -> (State, Rules) {
        var generator = SeededGenerator(seed: seed)
        var rules = Rules()
        rules.badges = [.init(id: "three", name: "Three", completions: 3)]
        var events: [Event] = []
        for index in 0..<300 {
            let student = Int.random(in: 0..<40, using: &generator)
            let course = Int.random(in: 0..<6, using: &generator) == 0 ? texts.randomElement(using: &generator)!
                : "Course \(Int.random(in: 0..<12, using: &generator))"
            // A third in the month of `ScoringTests.t0` (the boards' month in the tests).
            let minutes = index % 3 == 0 ? Int.random(in: 0..<1_000, using: &generator)
                : Int.random(in: -40_000_000...40_000_000, using: &generator)
            var event = ScoringTests.completion("r\(student)@example.org", course, minutes: minutes)
            event.name = texts.randomElement(using: &generator)!
            events.append(event)
            if index % 25 == 0 {
                events.append(Event(id: "m\(index)", kind: .manualAward, email: try! Email(normalising: "r\(student)@example.org"),
                                    at: event.at, source: ScoringTests.source, points: -Int.random(in: 1...900, using: &generator),
                                    reason: "taken"))
            }
            if roster && index % 40 == 0 {
                var entry = ScoringTests.rosterEntry("r\(student)@example.org", "S\(student)", name: texts.randomElement(using: &generator)!)
                entry.isPublic = index % 80 != 0
                events.append(entry)
                events.append(ScoringTests.rosterEntry("ghost\(index)@example.org", "G\(index)", name: texts.randomElement(using: &generator)!))
            }
        }
        var state = ScoringTests.run(events, rules: rules).0
        // Points of a course taken back by a ledger line (as a move does): the course stays
        // completed but is listed no more.
        let applied = state.tracked.filter { $0.value.status == .applied && $0.value.account >= 0 }
        for (number, (key, entry)) in applied.enumerated() where number % 9 == 0 {
            guard let student = state.student(of: entry) else { continue }
            state.apply(PointsRecord(seq: 10_000 + number, at: ScoringTests.t0, student: student, points: -20, activity: Activity.learn,
                                     event: key.id, reason: "taken back", change: .revoke, course: "Course \(number % 12)"),
                        eventKey: key)
        }
        return (state, rules)
    }

    @Test("students read in place where the state keeps them give the bytes of students made whole",
          arguments: [0, 1, 2, 3])
    func inPlace(seed: UInt64) {
        func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
        // Levels out of order, two at one XP, one to escape, none at all.
        let levels: [[Rules.Level]] = [
            [], [.init(name: "Starter", xp: 0), .init(name: "Pro", xp: 40)],
            [.init(name: "Later", xp: 100), .init(name: "First", xp: -10), .init(name: "Twin A", xp: 60),
             .init(name: "Twin B", xp: 60), .init(name: "Say \"pro\"", xp: 200)],
        ]
        for roster in [false, true] {
            var (state, rules) = Self.randomState(seed: seed, roster: roster)
            // What the state must hold for both paths to be taken and every field to vary.
            let accounts = state.accounts.list
            #expect(accounts.contains { $0.hasBadgesOrUnlocks } && accounts.contains { $0.xp < 0 })
            #expect(accounts.contains { $0.applied > 0 && $0.courses.entries.contains { !$0.isListed } })
            #expect(!roster || state.roster.keys.contains { state.accounts.index(of: $0) == nil })
            for set in levels {
                rules.levels = set
                // The batch's listing: every account (no roster), else the listed ones.
                // Compared as text, so that a failure shows where the two part.
                let listing = state.listing(rules: rules)
                let whole = text(Snapshot.encodeState(students: state.students(rules: rules), positions: state.positions))
                #expect(text(Self.encoded(listing, plain: true, positions: state.positions)) == whole, "seed \(seed), roster \(roster)")
                #expect(text(Self.encoded(listing, plain: true, chunk: 7, positions: state.positions)) == whole)
                #expect(text(Self.encoded(listing, plain: false, positions: state.positions)) == whole)
            }
        }
    }

    @Test("a plain student of a state is written in place; one with badges, or a roster student with no account, is not")
    func inPlaceWhichStudents() {
        var rules = Rules()
        rules.levels = [.init(name: "Starter", xp: 0), .init(name: "Pro", xp: 40)]
        rules.badges = [.init(id: "two", name: "Two", completions: 2)]
        let state = ScoringTests.run([
            ScoringTests.completion("a@example.org", "AI 1"), ScoringTests.completion("b@example.org", "AI 1", minutes: 2),
            ScoringTests.rosterEntry("a@example.org", "S1", name: "Ada"), ScoringTests.rosterEntry("b@example.org", "S2", name: "Bea"),
            ScoringTests.rosterEntry("z@example.org", "S9", name: "Zed"),
            ScoringTests.completion("b@example.org", "AI 2", minutes: 3),
        ], rules: rules).0
        let listing = state.listed(rules: rules)
        let names = QuotedNames(listing.numberedCourseNames ?? [])
        listing.ids.withUnsafeBufferPointer { ids in
            listing.withStudentsInPlace { inPlace in
                guard let inPlace else {
                    Issue.record("a state's listing is read in place")
                    return
                }
                let a = ids.firstIndex(of: "S1")!
                #expect(inPlace.student(ids.firstIndex(of: "S2")!) == nil)
                #expect(inPlace.student(ids.firstIndex(of: "S9")!) == nil)
                var w = JSONWriter()
                w.beginObject()
                QuotedNames.withBuffers(of: names) { names in
                    #expect(Snapshot.appendPlain(id: ids.baseAddress! + a, inPlace.student(a)!, courseNames: names!, to: &w))
                }
                w.endObject()
                #expect(String(decoding: w.bytes, as: UTF8.self) == """
                    {"S1":{"name":"Ada","xp":20,"level":"Starter","badges":[],"unlocks":[],\
                    "courses":["AI 1"],"public":true,"reached_at":\(state.accounts.list[state.accounts.index(of: "S1")!].reachedAt),\
                    "months":{"2024-09":20}}}
                    """)
            }
        }
        // Students made whole are not read in place.
        StudentListing(ids: ["a"], states: [StudentState()]).withStudentsInPlace { #expect($0 == nil) }
    }
}
