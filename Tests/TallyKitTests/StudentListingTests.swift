import Testing
@testable import TallyKit

/// A batch lists its students as arrays (`State.listed(rules:)`) for the snapshot and the
/// site; they must say what the dictionary of `students(rules:)` said before.
struct StudentListingTests {
    /// `students(rules:)` as it was written before the listing: the plain way.
    static func simpleStudents(_ state: State, rules: Rules) -> [String: StudentState] {
        var result: [String: StudentState] = [:]
        for (id, account) in zip(state.accounts.ids, state.accounts.list) where account.applied > 0 || state.roster[id] != nil {
            var student = account.figures(state.courses)
            student.name = state.roster[id]?.name ?? account.latestName
            student.isPublic = state.roster[id]?.isPublic ?? true
            student.level = rules.level(forXP: student.xp)
            result[id] = student
        }
        for (id, entry) in state.roster where result[id] == nil {
            result[id] = StudentState(name: entry.name, level: rules.level(forXP: 0), isPublic: entry.isPublic)
        }
        return result
    }

    /// Students with and without events, roster students with and without an account, an
    /// email bound to a roster student, and a student whose only event was withdrawn.
    static func states() -> [State] {
        let open = ScoringTests.run((0..<12).map {
            ScoringTests.completion("s\($0 % 5)@example.org", "Course \($0 % 3)", minutes: $0)
        }).0
        let roster = ScoringTests.run([
            ScoringTests.completion("a@example.org", "AI 1"), ScoringTests.completion("b@example.org", "AI 1"),
            ScoringTests.rosterEntry("a@example.org", "S1", name: "Ada"), ScoringTests.rosterEntry("z@example.org", "S9", name: "Zed"),
            ScoringTests.completion("a@example.org", "AI 2", minutes: 4),
        ]).0
        return [State(), open, roster]
    }

    @Test("the listing holds exactly the students of students(rules:), and writes the same state.json")
    func sameStudents() {
        var rules = Rules()
        rules.levels = [.init(name: "Starter", xp: 0), .init(name: "Pro", xp: 40)]
        // The listing of every student (a roster's too), and the batch's: its accounts
        // themselves when there is no roster.
        for state in Self.states() + [Self.everyAccount(), Self.awkwardCourses(), Self.withBadges()] {
          for listing in [state.listed(rules: rules), state.listing(rules: rules)] {
            let simple = Self.simpleStudents(state, rules: rules)
            #expect(listing.dictionary == simple)
            #expect(listing.count == simple.count)
            #expect(state.students(rules: rules) == simple)
            var parts: [[UInt8]] = []
            Snapshot.writeState(listing, positions: state.positions, chunk: 16) { parts.append($0) }
            #expect(Array(parts.joined()) == Snapshot.encodeState(students: simple, positions: state.positions))
            // The stats page counts the students made from the accounts as the dictionary's.
            let figures = LedgerStats()
            let stats = SiteStats(students: Array(simple.values), figures: figures, rules: rules)
            #expect(SiteStats(students: listing.states, figures: figures, rules: rules) == stats)
            // And counted by the state's course numbers, as a batch counts them.
            #expect(listing.numberedCourseNames == state.courses.names)
            #expect(SiteStats(listing: listing, figures: figures, rules: rules) == stats)
            #expect(Array(listing.states) == listing.ids.map { simple[$0]! })
            // The figures read one by one are the whole student's.
            for index in 0..<listing.count {
                #expect(listing.level(index) == listing[index].level && listing.badges(index) == listing[index].badges)
            }
          }
        }
    }

    /// Students with several courses and months, names that change, one who reaches a
    /// level: an export's state, every account listed.
    static func everyAccount() -> State {
        ScoringTests.run((0..<40).map {
            var event = ScoringTests.completion("e\($0 % 7)@example.org", "Course \($0 % 4)", minutes: $0 * 50_000)
            event.name = "Name \($0 % 3)"
            return event
        }).0
    }

    /// Students who earn badges, one on the roster: the stats page counts their badges.
    static func withBadges() -> State {
        var rules = Rules()
        rules.badges = [.init(id: "first", name: "First", completions: 1), .init(id: "two", name: "Two", completions: 2)]
        return ScoringTests.run([ScoringTests.completion("a@example.org", "AI 1"), ScoringTests.completion("b@example.org", "AI 1"),
                                 ScoringTests.completion("a@example.org", "AI 2", minutes: 3),
                                 ScoringTests.rosterEntry("b@example.org", "S2", name: "Bea")], rules: rules).0
    }

    /// Every account listed, with course names that need escaping next to plain ones (the
    /// plain writer copies names by number, and must give way to the member-by-member one).
    static func awkwardCourses() -> State {
        let courses = ["Course 1", "Say \"hi\"", "Zoë’s course", "back\\slash", "line\u{2028}break", "Course 2"]
        // Even students complete only plain courses; odd ones four of all six.
        return ScoringTests.run((0..<24).map {
            let (student, round) = ($0 % 6, $0 / 6)
            let course = student % 2 == 0 ? courses[round % 2 == 0 ? 0 : 5] : courses[(student + round) % courses.count]
            return ScoringTests.completion("k\(student)@example.org", course, minutes: $0)
        }).0
    }

    @Test("without a roster, the batch's listing holds nothing of its own: the accounts in order")
    func everyAccountShared() {
        let state = Self.everyAccount()
        let listing = state.listing(rules: Rules())
        #expect(listing.ids == state.accounts.ids)
        #expect(listing.count == 7)
        #expect(listing.dictionary == state.listed(rules: Rules()).dictionary)
    }

    @Test("a board made from the listing equals the board made from the dictionary, in any order")
    func sameBoard() {
        let at = Timestamp(milliseconds: 1_725_278_400_000)
        for state in Self.states() {
            let listing = state.listed(rules: Rules())
            let reversed = StudentListing(ids: listing.ids.reversed(), states: Array(listing.states.reversed()))
            let simple = Leaderboard(students: Self.simpleStudents(state, rules: Rules()), settings: SiteSettings(), generatedAt: at)
            #expect(Leaderboard(listing, settings: SiteSettings(), generatedAt: at) == simple)
            #expect(Leaderboard(reversed, settings: SiteSettings(), generatedAt: at) == simple)
        }
    }

    @Test("boards and stats of a state's listing (every account, or those listed) equal those of students made whole", arguments: [0, 1, 2])
    func inPlaceBoardsAndStats(seed: UInt64) {
        // Random students (awkward names and courses, badges, a roster naming and hiding a
        // few), levels out of order; the board of their month, cut short and whole.
        let at = Timestamp(milliseconds: ScoringTests.t0.milliseconds + 60_000)
        for roster in [false, true] {
            var (state, rules) = SnapshotFastPathTests.randomState(seed: seed, roster: roster)
            rules.levels = [.init(name: "Later", xp: 100), .init(name: "First", xp: -10), .init(name: "Twin", xp: 60),
                            .init(name: "Twin", xp: 80)]
            let whole = state.students(rules: rules)
            for listing in [state.listed(rules: rules), state.listing(rules: rules)] {
                for top in [3, 0] {
                    let settings = SiteSettings(top: top)
                    let board = Leaderboard(listing, settings: settings, generatedAt: at)
                    #expect(board == Leaderboard(students: whole, settings: settings, generatedAt: at), "seed \(seed), roster \(roster)")
                    #expect(!board.month.students.isEmpty && !board.courses.isEmpty)
                }
                let figures = LedgerStats()
                #expect(SiteStats(listing: listing, figures: figures, rules: rules)
                        == SiteStats(students: Array(whole.values), figures: figures, rules: rules))
            }
        }
    }
}

/// `byID()` orders ids by the bytes of their ASCII prefixes where it can; it must give the
/// order of `String`'s `<` over any ids.
struct StudentListingOrderTests {
    @Test("ids are listed in the order of String's <, whatever text they hold", arguments: [0, 1, 2, 3])
    func orderByID(seed: Int) {
        // Shared prefixes longer than sixteen bytes, short ids, NUL, non-ASCII letters, a
        // combining accent right after the sixteenth byte (NFC composes it with the byte
        // before), precomposed and decomposed forms of one name, and upper case.
        let parts = ["student000000000", "student00000000", "s", "S", "a@example.org", "\u{0}", "é", "e\u{301}", "zoë",
                     "Zoë", "student0000000e", "\u{301}", "x", "1", "~", "ø"]
        var generator = SystemRandomNumberGenerator()
        var ids: Set<String> = []
        while ids.count < 400 + seed * 100 {
            ids.insert((0..<Int.random(in: 1...3, using: &generator)).map { _ in parts.randomElement(using: &generator)! }.joined())
        }
        let listing = StudentListing(ids: Array(ids), states: Array(repeating: StudentState(), count: ids.count))
        let simple = listing.ids.indices.sorted { listing.ids[$0] < listing.ids[$1] }
        #expect(listing.byID().map { listing.ids[$0] } == simple.map { listing.ids[$0] })
    }

    @Test("the accounts' order by id, kept up to date as accounts come a few or many at a time", arguments: [0, 1, 2])
    func accountsOrder(seed: UInt64) {
        let parts = ["student000000000", "student00000000", "s", "S", "a@example.org", "\u{0}", "é", "zoë", "Zoë",
                     "student0000000e", "\u{301}", "x", "1", "~", "ø"]
        var generator = SeededGenerator(seed: seed)
        var table = AccountTable()
        // The first batch is sorted whole; then one, a few and forty (an eighth at most:
        // merged into the order kept), 120 (more than an eighth: all sorted again), and two.
        for batch in [300, 1, 3, 40, 1, 120, 2] {
            var added = 0
            while added < batch {
                let id = (0..<Int.random(in: 1...4, using: &generator)).map { _ in parts.randomElement(using: &generator)! }.joined()
                if table.index(of: id) == nil {
                    table.append(id, State.Account())
                    added += 1
                }
            }
            #expect(table.idOrder.count == table.count - batch, "behind the ids until sorted")
            // A listing made while the order is behind sorts the ids itself.
            let behind = StudentListing(everyAccountOf: table, courseNames: [], rules: Rules())
            #expect(behind.byID().map { table.ids[$0] } == table.ids.sorted())
            table.sortIDs()
            let sorted = table.ids.sorted()
            #expect(table.idOrder.map { table.ids[Int($0)] } == sorted, "seed \(seed), after \(batch)")
            // A listing of every account takes the order kept.
            let listing = StudentListing(everyAccountOf: table, courseNames: [], rules: Rules())
            #expect(listing.byID().map { table.ids[$0] } == sorted)
        }
    }
}
