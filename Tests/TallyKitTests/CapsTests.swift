import Testing
@testable import TallyKit

/// `[[caps]]`: points per activity at most so many, ever or per rolling window; and the
/// points per month that the "this month" board reads.
struct CapsTests {
    static let day: Int64 = 86_400_000

    static func completion(_ email: String, _ course: String, at offset: Int64) -> Event {
        let address = try! Email(normalising: email)
        let at = Timestamp(milliseconds: ScoringTests.t0.milliseconds + offset)
        return Event(id: Event.contentID(kind: .courseCompleted, email: address, course: course, points: nil, at: at),
                     kind: .courseCompleted, email: address, name: "Ada Lovelace", course: course, at: at,
                     source: ScoringTests.source)
    }

    static func manual(_ email: String, _ points: Int, id: String, at offset: Int64 = 0) -> Event {
        Event(id: id, kind: .manualAward, email: try! Email(normalising: email),
              at: Timestamp(milliseconds: ScoringTests.t0.milliseconds + offset), source: ScoringTests.source,
              points: points, reason: "helped")
    }

    static func rules(_ caps: Rules.Cap...) -> Rules {
        var rules = Rules()
        for cap in caps { rules.caps[cap.activity, default: []].append(cap) }
        return rules
    }

    @Test("a cap ever: awards stop at the cap, the last one cut to what is left, and the courses still count")
    func capEver() {
        var rules = Self.rules(.init(activity: "LEARN", max: 50))
        rules.badges = [.init(id: "three", name: "Three courses", completions: 3)]
        let (state, outcome) = ScoringTests.run(["A", "B", "C", "D"].enumerated().map { index, course in
            Self.completion("ada@example.org", course, at: Int64(index) * Self.day)
        }, rules: rules)
        let learn = outcome.points.filter { $0.activity == "LEARN" }
        #expect(learn.map(\.points) == [20, 20, 10, 0])
        #expect(learn.map(\.reason) == ["completed A", "completed B", "completed C (capped: LEARN at most 50)",
                                        "completed D (capped: LEARN at most 50)"])
        let ada = state.students(rules: rules)["ada@example.org"]
        #expect(ada?.xp == 50)
        #expect(ada?.courses == ["A", "B", "C", "D"])
        #expect(ada?.badges == ["three"])
        #expect(outcome.events.map(\.status) == [.applied, .applied, .applied, .applied])
    }

    @Test("a rolling window: at most 40 LEARN in any 7 days, counted by event time")
    func rollingWindow() {
        let rules = Self.rules(.init(activity: "LEARN", max: 40, days: 7))
        let (state, outcome) = ScoringTests.run([
            Self.completion("ada@example.org", "A", at: 0),
            Self.completion("ada@example.org", "B", at: 1 * Self.day),
            Self.completion("ada@example.org", "C", at: 2 * Self.day),           // A and B are within 7 days
            Self.completion("ada@example.org", "D", at: 7 * Self.day + Self.day / 2),  // A is out; B is in
            Self.completion("ada@example.org", "E", at: 9 * Self.day),           // B is out; D is in
        ], rules: rules)
        #expect(outcome.points.map(\.points) == [20, 20, 0, 20, 20])
        #expect(outcome.points[2].reason == "completed C (capped: LEARN at most 40 in 7 days)")
        #expect(state.students(rules: rules)["ada@example.org"]?.xp == 80)
    }

    @Test("awards exactly the window's length apart are never in one window")
    func windowEdges() {
        let rules = Self.rules(.init(activity: "LEARN", max: 20, days: 7))
        let (_, outcome) = ScoringTests.run([
            Self.completion("ada@example.org", "A", at: 0),
            Self.completion("ada@example.org", "B", at: 7 * Self.day - 1),   // one millisecond inside A's window
            Self.completion("ada@example.org", "C", at: 7 * Self.day),       // exactly 7 days after A
        ], rules: rules)
        #expect(outcome.points.map(\.points) == [20, 0, 20])
    }

    @Test("a negative award leaving a window does not let it exceed the cap")
    func negativeInWindow() {
        let rules = Self.rules(.init(activity: "MANUAL", max: 40, days: 7))
        let (_, outcome) = ScoringTests.run([
            Self.manual("ada@example.org", -10, id: "m1", at: 0),
            Self.manual("ada@example.org", 40, id: "m2", at: Self.day),
            Self.manual("ada@example.org", 40, id: "m3", at: 2 * Self.day),   // [1 day, 8 days) already holds 40
        ], rules: rules)
        #expect(outcome.points.map(\.points) == [-10, 40, 0])
    }

    @Test("events out of time order: no window of the cap's length ever holds more than the cap")
    func outOfOrder() {
        let rules = Self.rules(.init(activity: "LEARN", max: 40, days: 7))
        let (_, outcome) = ScoringTests.run([
            Self.completion("ada@example.org", "A", at: 10 * Self.day),
            Self.completion("ada@example.org", "B", at: 5 * Self.day),   // one window holds A and B: 40
            Self.completion("ada@example.org", "C", at: 7 * Self.day),   // the 7 days ending on the 10th would hold 60: 0
            Self.completion("ada@example.org", "D", at: 0),              // [0, 7d) holds B only: 20 more is 40
        ], rules: rules)
        #expect(outcome.points.map(\.points) == [20, 20, 0, 20])
        #expect(CapLedger.used([.init(at: 0, points: 20), .init(at: 7 * Self.day, points: 20)], at: 3 * Self.day, days: 7) == 20)
        #expect(CapLedger.used([.init(at: 0, points: 20), .init(at: 6 * Self.day, points: 20)], at: 3 * Self.day, days: 7) == 40)
        #expect(CapLedger.used([.init(at: 0, points: 20), .init(at: 6 * Self.day, points: 20)], at: 3 * Self.day, days: nil) == 40)
    }

    @Test("two caps on one activity: the tighter one at each award decides, and names itself")
    func twoCaps() {
        let rules = Self.rules(.init(activity: "LEARN", max: 50), .init(activity: "LEARN", max: 30, days: 1))
        let (_, outcome) = ScoringTests.run([
            Self.completion("ada@example.org", "A", at: 0),
            Self.completion("ada@example.org", "B", at: Self.day / 2),
            Self.completion("ada@example.org", "C", at: 2 * Self.day),
            Self.completion("ada@example.org", "D", at: 4 * Self.day),
        ], rules: rules)
        #expect(outcome.points.map(\.points) == [20, 10, 20, 0])
        #expect(outcome.points.map(\.reason) == ["completed A", "completed B (capped: LEARN at most 30 in 1 day)",
                                                  "completed C", "completed D (capped: LEARN at most 50)"])
    }

    @Test("manual awards under a MANUAL cap: a negative award is never capped and frees room")
    func manualCap() {
        let rules = Self.rules(.init(activity: "MANUAL", max: 100))
        let (state, outcome) = ScoringTests.run([
            Self.manual("ada@example.org", 80, id: "m1"), Self.manual("ada@example.org", 50, id: "m2"),
            Self.manual("ada@example.org", -30, id: "m3"), Self.manual("ada@example.org", 50, id: "m4"),
            Self.completion("ada@example.org", "A", at: 0),
        ], rules: rules)
        #expect(outcome.points.map(\.points) == [80, 20, -30, 30, 20])
        #expect(outcome.points[1].reason == "helped (capped: MANUAL at most 100)")
        #expect(state.students(rules: rules)["ada@example.org"]?.xp == 120)
    }

    @Test("a move takes back what it granted, and the new owner's caps decide afresh")
    func moveUnderCap() {
        let rules = Self.rules(.init(activity: "LEARN", max: 40))
        let (live, outcome) = ScoringTests.run([
            Self.completion("ada@example.org", "A", at: 0), Self.completion("ada@example.org", "B", at: Self.day),
            Self.completion("bob@example.org", "C", at: 2 * Self.day),
            ScoringTests.rosterEntry("ada@example.org", "S1"), ScoringTests.rosterEntry("bob@example.org", "S1"),
        ], rules: rules)
        let s1 = outcome.points.filter { $0.student == "S1" }
        #expect(s1.map(\.points) == [20, 20, 0])
        #expect(s1.map(\.course) == ["A", "B", "C"])
        #expect(live.students(rules: rules)["S1"]?.xp == 40)

        // A fold of the same lines (a rebuild, a start from index.bin) decides the next award alike.
        var folded = State()
        for record in outcome.events { folded.apply(record) }
        for record in outcome.points { folded.apply(record) }
        #expect(folded == live)
        var loaded = try! Snapshot.decodeIndex(Snapshot.encodeIndex(live))
        #expect(loaded == live)
        let next = Self.completion("ada@example.org", "D", at: 3 * Self.day)
        var fromLive = live, liveOutcome = Outcome(), foldedOutcome = Outcome(), loadedOutcome = Outcome()
        try! Scoring.apply(next, to: &fromLive, rules: rules, into: &liveOutcome)
        try! Scoring.apply(next, to: &folded, rules: rules, into: &foldedOutcome)
        try! Scoring.apply(next, to: &loaded, rules: rules, into: &loadedOutcome)
        #expect(liveOutcome.points.map(\.points) == [0])
        #expect(foldedOutcome == liveOutcome && loadedOutcome == liveOutcome)
    }

    @Test("an event moved away frees its room under the cap of the student who had it")
    func moveFreesRoom() {
        let rules = Self.rules(.init(activity: "LEARN", max: 40))
        let (live, outcome) = ScoringTests.run([
            ScoringTests.rosterEntry("old@example.org", "S1"), ScoringTests.rosterEntry("ada@example.org", "S1"),
            Self.completion("old@example.org", "A", at: 0), Self.completion("ada@example.org", "B", at: Self.day),
            ScoringTests.rosterEntry("old@example.org", "S2"),              // A moves to S2
            Self.completion("ada@example.org", "C", at: 2 * Self.day),       // S1 has 20 in force: 20 more
            Self.completion("ada@example.org", "D", at: 3 * Self.day),       // and then none
        ], rules: rules)
        #expect(outcome.points.map { "\($0.student) \($0.points)" } == ["S1 20", "S1 20", "S1 -20", "S2 20", "S1 20", "S1 0"])
        #expect(live.students(rules: rules)["S1"]?.xp == 40 && live.students(rules: rules)["S2"]?.xp == 20)

        // Folded from its lines, the state decides the next award as the live one does.
        var folded = State()
        for record in outcome.events { folded.apply(record) }
        for record in outcome.points { folded.apply(record) }
        var fromLive = live, liveOutcome = Outcome(), foldedOutcome = Outcome()
        let next = Self.completion("old@example.org", "E", at: 4 * Self.day)
        try! Scoring.apply(next, to: &fromLive, rules: rules, into: &liveOutcome)
        try! Scoring.apply(next, to: &folded, rules: rules, into: &foldedOutcome)
        #expect(liveOutcome.points.map { "\($0.student) \($0.points)" } == ["S2 20"])
        #expect(foldedOutcome == liveOutcome)
    }

    @Test("a refund takes its points back and frees the room under the cap")
    func refundFreesRoom() throws {
        var rules = Self.rules(.init(activity: "PURCHASE", max: 10))
        rules.purchaseCreated = 10
        let email = try Email(normalising: "ada@example.org")
        func event(_ id: String, _ kind: EventKind, purchase: String, minutes: Int64) -> Event {
            var event = Event(id: id, kind: kind, email: email,
                              at: Timestamp(milliseconds: ScoringTests.t0.milliseconds + minutes * 60_000), source: ScoringTests.source)
            event.purchase = purchase
            event.offer = "Course Bundle"
            return event
        }
        func purchase(_ id: String, minutes: Int64) -> Event {
            event(KajabiPayload.purchaseEventID(id), .purchaseCreated, purchase: id, minutes: minutes)
        }
        let refund = event("refund-1", .purchaseRefunded, purchase: "p1", minutes: 2)
        let (state, outcome) = ScoringTests.run([purchase("p1", minutes: 0), purchase("p2", minutes: 1), refund,
                                                 purchase("p3", minutes: 3)], rules: rules)
        #expect(outcome.points.map(\.points) == [10, 0, -10, 10])
        #expect(state.students(rules: rules)["ada@example.org"]?.xp == 10)
    }

    @Test("points are kept per calendar month of their event time; a move nets its months to nothing")
    func months() throws {
        let september = Timestamp(year: 2024, month: 9, day: 30, hour: 23)!.milliseconds - ScoringTests.t0.milliseconds
        let october = Timestamp(year: 2024, month: 10, day: 1, hour: 1)!.milliseconds - ScoringTests.t0.milliseconds
        let (state, outcome) = ScoringTests.run([
            Self.completion("ada@example.org", "A", at: 0), Self.completion("ada@example.org", "B", at: september),
            Self.completion("ada@example.org", "C", at: october), Self.completion("bob@example.org", "A", at: october),
            Event(id: "link-bob", kind: .link, email: try Email(normalising: "bob@example.org"), at: ScoringTests.t0,
                  source: ScoringTests.source, student: "S2"),
        ], rules: Rules())
        let students = state.students(rules: Rules())
        let ada = try #require(students["ada@example.org"])
        #expect(ada.months == [MonthPoints(month: Month(year: 2024, month: 9), points: 40),
                               MonthPoints(month: Month(year: 2024, month: 10), points: 20)])
        #expect(ada.points(in: Month(year: 2024, month: 10)) == 20 && ada.points(in: Month(year: 2024, month: 11)) == 0)
        // bob's October: +20, then -20 when a link moved it to S2.
        #expect(outcome.points.filter { $0.student == "bob@example.org" }.map(\.points) == [20, -20])
        #expect(students["S2"]?.months == [MonthPoints(month: Month(year: 2024, month: 10), points: 20)])

        let json = String(decoding: Snapshot.encodeState(state, rules: Rules()), as: UTF8.self)
        #expect(json.contains(#""ada@example.org":{"name":"Ada Lovelace","xp":60,"level":null,"badges":[],"unlocks":[],"#
                              + #""courses":["A","B","C"],"public":true,"reached_at":3,"months":{"2024-09":40,"2024-10":20}}"#))
        let decoded = try Snapshot.decodeStudents(Snapshot.encodeState(state, rules: Rules()))
        #expect(decoded == students)
        #expect(try Snapshot.decodeIndex(Snapshot.encodeIndex(state)) == state)
    }

    @Test("a refund takes its points back from the month of the purchase, not the month of the refund")
    func refundMonth() throws {
        var rules = Rules()
        rules.purchaseCreated = 50
        let email = try Email(normalising: "ada@example.org")
        var purchase = Event(id: KajabiPayload.purchaseEventID("p1"), kind: .purchaseCreated, email: email,
                             at: Timestamp(year: 2024, month: 10, day: 20)!, source: ScoringTests.source)
        purchase.purchase = "p1"
        var refund = Event(id: "refund-1", kind: .purchaseRefunded, email: email, at: Timestamp(year: 2024, month: 11, day: 3)!,
                           source: ScoringTests.source)
        refund.purchase = "p1"
        let completion = Self.completion("ada@example.org", "A",
                                         at: Timestamp(year: 2024, month: 11, day: 4)!.milliseconds - ScoringTests.t0.milliseconds)
        let (state, outcome) = ScoringTests.run([purchase, refund, completion], rules: rules)
        #expect(outcome.points.map(\.points) == [50, -50, 20])
        #expect(outcome.points[1].at == Timestamp(year: 2024, month: 11, day: 3)!)
        let ada = try #require(state.students(rules: rules)["ada@example.org"])
        #expect(ada.xp == 20 && ada.months == [MonthPoints(month: Month(year: 2024, month: 11), points: 20)])
        var folded = State()
        for record in outcome.events { folded.apply(record) }
        for record in outcome.points { folded.apply(record) }
        #expect(folded == state)
    }

    @Test("months print and parse as YYYY-MM and are named for the site")
    func monthText() {
        let month = Month(Timestamp(year: 2026, month: 1, day: 31, hour: 23, minute: 59)!)
        #expect(month.description == "2026-01" && month.name == "January 2026")
        #expect(Month("2026-01") == month && Month("2026-1") == nil && Month("2026-13") == nil && Month("x") == nil)
        #expect(Month(year: 2025, month: 12) < month)
        // A typed year such as 0202 (the date parser takes it) prints as four digits and reads back.
        #expect(Month(year: 202, month: 11).description == "0202-11" && Month("0202-11") == Month(year: 202, month: 11))
    }
}
