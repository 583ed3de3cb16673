import Testing
@testable import TallyKit

/// The pure scoring core: events and rules in, ledger records and state out.
struct ScoringTests {
    static let source = EventSource(file: "test.csv", sha256: "abc", row: 2)
    static let t0 = Timestamp(year: 2024, month: 9, day: 2, hour: 10, minute: 30)!

    static func completion(_ email: String, _ course: String, id: String? = nil, minutes: Int = 0) -> Event {
        let address = try! Email(normalising: email)
        let at = Timestamp(milliseconds: t0.milliseconds + Int64(minutes) * 60_000)
        return Event(id: id ?? Event.contentID(kind: .courseCompleted, email: address, course: course, points: nil, at: at),
                     kind: .courseCompleted, email: address, name: "Ada Lovelace", course: course, at: at, source: source)
    }

    static func rosterEntry(_ email: String, _ student: String, name: String = "Someone") -> Event {
        Event(id: "r-\(email)-\(student)", kind: .rosterEntry, email: try! Email(normalising: email), name: name, at: t0,
              source: source, student: student)
    }

    /// Applies events in order and returns the state and every record made.
    static func run(_ events: [Event], rules: Rules = Rules(), state: State = State()) -> (State, Outcome) {
        var state = state
        var outcome = Outcome()
        for event in events { try! Scoring.apply(event, to: &state, rules: rules, into: &outcome) }
        return (state, outcome)
    }

    @Test("a completed course awards 20 LEARN points once per student per course")
    func onceperCourse() {
        let (state, outcome) = Self.run([Self.completion("ada@example.org", "AI 1", minutes: 0),
                                         Self.completion("ada@example.org", "AI 1", minutes: 5)])
        #expect(state.students(rules: Rules())["ada@example.org"]?.xp == 20)
        #expect(outcome.events.map(\.status) == [.applied, .duplicate])
        #expect(outcome.points.map(\.points) == [20])
        #expect(outcome.points.first?.activity == "LEARN")
        #expect(outcome.points.first?.reason == "completed AI 1")
    }

    @Test("the same event id seen twice is a duplicate, never a second award")
    func sameID() {
        let event = Self.completion("ada@example.org", "AI 1", id: "evt_1")
        let (state, outcome) = Self.run([event, event])
        #expect(outcome.events.map(\.status) == [.applied, .duplicate])
        #expect(state.students(rules: Rules())["ada@example.org"]?.xp == 20)
    }

    @Test("an id that already names another email's event is not that event: the row counts under an id of its own")
    func sameIDAnotherEmail() {
        // Two forms that number their submissions 1, 2, 3: form B's "1" is Cy's, not Ada's.
        let ada = Self.completion("ada@example.org", "AI 1", id: "1")
        let cy = Self.completion("cy@example.org", "Prompt Design", id: "1")
        let (state, outcome) = Self.run([ada, cy, cy, ada])
        let cyID = "1~" + Crypto.sha256Hex(Array("cy@example.org".utf8)).prefix(16)
        #expect(outcome.events.map(\.event.id) == ["1", cyID, cyID, "1"])
        #expect(outcome.events.map(\.status) == [.applied, .applied, .duplicate, .duplicate])
        #expect(outcome.points.map(\.event) == ["1", cyID])
        #expect(state.students(rules: Rules())["cy@example.org"]?.xp == 20)
        #expect(state.students(rules: Rules())["ada@example.org"]?.xp == 20)
    }

    @Test("an id seen again under a roster student's other email awards nothing twice")
    func sameIDSameStudentOtherEmail() {
        let entries = [Self.rosterEntry("ada@example.org", "S1"), Self.rosterEntry("ada@home.example", "S1")]
        let first = Self.completion("ada@example.org", "AI 1", id: "sub-9")
        let again = Self.completion("ada@home.example", "AI 1", id: "sub-9", minutes: 3)
        let (state, outcome) = Self.run(entries + [first, again, first])
        let derived = "sub-9~" + Crypto.sha256Hex(Array("ada@home.example".utf8)).prefix(16)
        #expect(outcome.events.suffix(3).map(\.event.id) == ["sub-9", derived, "sub-9"])
        #expect(outcome.events.suffix(3).map(\.status) == [.applied, .duplicate, .duplicate])
        #expect(outcome.points.map(\.points) == [20])
        #expect(state.students(rules: Rules())["S1"]?.xp == 20)
    }

    @Test("points per course override the default award")
    func perCourse() {
        var rules = Rules()
        rules.perCourse = ["Data Literacy 101": 30]
        let (state, _) = Self.run([Self.completion("a@example.org", "Data Literacy 101"), Self.completion("a@example.org", "AI 1")],
                                  rules: rules)
        #expect(state.students(rules: rules)["a@example.org"]?.xp == 50)
    }

    @Test("levels are the highest threshold reached; badges are earned once, in order")
    func levelsAndBadges() {
        var rules = Rules()
        rules.levels = [.init(name: "Explorer", xp: 0), .init(name: "Practitioner", xp: 40)]
        rules.badges = [.init(id: "first", name: "First", completions: 1), .init(id: "two", name: "Two", completions: 2),
                        .init(id: "ai", name: "AI", courses: ["AI 1"])]
        let (state, outcome) = Self.run([Self.completion("a@example.org", "Data"), Self.completion("a@example.org", "AI 1")],
                                        rules: rules)
        let student = state.students(rules: rules)["a@example.org"]
        #expect(student?.level == "Practitioner")
        #expect(student?.badges == ["first", "two", "ai"])
        #expect(outcome.points.filter { $0.badge != nil }.map(\.points) == [0, 0, 0])
    }

    @Test("with a roster required, an unknown email waits unmatched and awards nothing")
    func unmatchedWaits() {
        var rules = Rules()
        rules.rosterRequired = true
        let (state, outcome) = Self.run([Self.completion("ada@example.org", "AI 1")], rules: rules)
        #expect(outcome.events.map(\.status) == [.unmatched])
        #expect(outcome.unmatched.count == 1)
        #expect(outcome.points.isEmpty)
        #expect(state.students(rules: rules).isEmpty)
    }

    @Test("a roster arriving after events moves what an email earned to its roster id, by new lines")
    func rosterMovesEarnings() {
        let (state, outcome) = Self.run([Self.completion("ada@example.org", "AI 1"),
                                         Self.completion("bob@example.org", "AI 1"),
                                         Self.rosterEntry("ada@example.org", "S1", name: "Ada Lovelace")])
        let students = state.students(rules: Rules())
        #expect(students.keys.sorted() == ["S1"])
        #expect(students["S1"]?.xp == 20)
        #expect(students["S1"]?.courses == ["AI 1"])
        #expect(students["S1"]?.name == "Ada Lovelace")
        // ada: +20 then -20 (moved) and +20 to S1; bob: +20 then -20 (withdrawn)
        #expect(outcome.points.map { "\($0.student) \($0.points)" } ==
                ["ada@example.org 20", "bob@example.org 20", "ada@example.org -20", "S1 20", "bob@example.org -20"])
        #expect(outcome.points[4].reason == "withdrawn: bob@example.org is not on the roster")
        #expect(outcome.unmatched.map(\.event.email?.value) == ["bob@example.org"])
    }

    @Test("a link applies an email's waiting events exactly once")
    func linkAppliesOnce() {
        var rules = Rules()
        rules.rosterRequired = true
        let link = Event(id: "link-1", kind: .link, email: try! Email(normalising: "ada@example.org"), at: Self.t0,
                         source: Self.source, student: "S1")
        let (state, outcome) = Self.run([Self.rosterEntry("other@example.org", "S1"), Self.completion("ada@example.org", "AI 1"),
                                         link, link], rules: rules)
        #expect(state.students(rules: rules)["S1"]?.xp == 20)
        #expect(outcome.points.map(\.points) == [20])
        #expect(outcome.unmatched.map(\.status) == [.unmatched, .applied])
    }

    @Test("two emails of one student complete a course once between them")
    func aliasesShareCompletions() {
        let (state, outcome) = Self.run([Self.rosterEntry("a@example.org", "S1"), Self.rosterEntry("b@example.org", "S1"),
                                         Self.completion("a@example.org", "AI 1"), Self.completion("b@example.org", "AI 1")])
        #expect(state.students(rules: Rules())["S1"]?.xp == 20)
        #expect(outcome.events.suffix(2).map(\.status) == [.applied, .duplicate])
    }

    @Test("spellings of one course (case, inner spaces, a no-break space) are one course: awarded once, shown as first spelled")
    func spellingsOfOneCourse() {
        var rules = Rules()
        rules.perCourse = ["DATA LITERACY 101": 30]
        rules.badges = [.init(id: "dl", name: "Data literate", courses: ["data  literacy 101"])]
        let (state, outcome) = Self.run([Self.completion("ada@example.org", "Data Literacy 101"),
                                         Self.completion("ada@example.org", "data literacy 101", minutes: 1),
                                         Self.completion("bob@example.org", "Data  Literacy 101", minutes: 2),
                                         Self.completion("bob@example.org", "Data\u{A0}Literacy 101", minutes: 3),
                                         Self.completion("bob@example.org", "AI 1", minutes: 4)], rules: rules)
        #expect(outcome.events.map(\.status) == [.applied, .duplicate, .applied, .duplicate, .applied])
        #expect(outcome.points.map(\.points) == [30, 0, 30, 0, 20])
        #expect(outcome.points.map { $0.badge ?? $0.activity } == ["LEARN", "dl", "LEARN", "dl", "LEARN"])
        // The lines keep the course as the row spelled it; the state shows the first spelling.
        #expect(outcome.events.map { $0.event.course } == ["Data Literacy 101", "data literacy 101", "Data  Literacy 101",
                                                          "Data\u{A0}Literacy 101", "AI 1"])
        #expect(outcome.points[2].reason == "completed Data  Literacy 101")
        let students = state.students(rules: rules)
        #expect(students["ada@example.org"]?.courses == ["Data Literacy 101"] && students["ada@example.org"]?.xp == 30)
        #expect(students["bob@example.org"]?.courses == ["Data Literacy 101", "AI 1"] && students["bob@example.org"]?.xp == 50)
        // The ids still hash the course as written: the spellings are not one event.
        #expect(Set(outcome.events.map(\.event.id)).count == 5)
        var folded = State()
        for record in outcome.events { folded.apply(record) }
        for record in outcome.points { folded.apply(record) }
        #expect(folded == state)
    }

    @Test("two emails of one student, each with a spelling of one course: once between them when a roster joins them")
    func spellingsMoveToOneStudent() {
        let (state, outcome) = Self.run([Self.completion("a@example.org", "Data Literacy 101"),
                                         Self.completion("b@example.org", "data literacy 101", minutes: 1),
                                         Self.rosterEntry("a@example.org", "S1"), Self.rosterEntry("b@example.org", "S1")])
        #expect(state.students(rules: Rules())["S1"]?.xp == 20)
        #expect(state.students(rules: Rules())["S1"]?.courses == ["Data Literacy 101"])
        #expect(outcome.events.last?.status == .duplicate && outcome.events.last?.event.course == "data literacy 101")
    }

    @Test("a quiz pass unlocks the steps gated on it")
    func quizUnlocks() {
        var rules = Rules()
        rules.quizPassed = 5
        rules.unlocks = ["Module 1 Quiz": ["module-2"]]
        let pass = Event(id: "q1", kind: .quizPassed, email: try! Email(normalising: "a@example.org"), at: Self.t0,
                         source: Self.source, quiz: "Module 1 Quiz", score: "8 / 10")
        let (state, _) = Self.run([pass], rules: rules)
        #expect(state.students(rules: rules)["a@example.org"]?.unlocks == ["module-2"])
        #expect(state.students(rules: rules)["a@example.org"]?.xp == 5)
    }

    @Test("manual awards add and take away points")
    func manualAwards() {
        let email = try! Email(normalising: "a@example.org")
        let plus = Event(id: "m1", kind: .manualAward, email: email, at: Self.t0, source: Self.source, points: 15, reason: "helped")
        let minus = Event(id: "m2", kind: .manualAward, email: email, at: Self.t0, source: Self.source, points: -5, reason: "typo")
        let (state, outcome) = Self.run([plus, minus])
        #expect(state.students(rules: Rules())["a@example.org"]?.xp == 10)
        #expect(outcome.points.map(\.activity) == ["MANUAL", "MANUAL"])
    }

    @Test("folding the records a run produced gives the state the run ended with")
    func foldEqualsLive() {
        var rules = Rules()
        rules.badges = [.init(id: "first", name: "First", completions: 1)]
        let (live, outcome) = Self.run([Self.completion("ada@example.org", "AI 1"), Self.completion("bob@example.org", "AI 1"),
                                        Self.completion("ada@example.org", "AI 1", minutes: 3),
                                        Self.rosterEntry("ada@example.org", "S1"), Self.completion("ada@example.org", "AI 2")],
                                       rules: rules)
        var folded = State()
        for record in outcome.events { folded.apply(record) }
        for record in outcome.points { folded.apply(record) }
        #expect(folded == live)
        #expect(Snapshot.encodeState(folded, rules: rules) == Snapshot.encodeState(live, rules: rules))
    }

    @Test("a snapshot reads back to the same state")
    func snapshotRoundTrip() throws {
        let (live, _) = Self.run([Self.completion("ada@example.org", "AI 1"), Self.rosterEntry("ada@example.org", "S1"),
                                  Self.completion("bob@example.org", "AI 1")])
        let decoded = try Snapshot.decodeIndex(Snapshot.encodeIndex(live))
        #expect(decoded == live)
    }
}
