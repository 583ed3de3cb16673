import Testing
@testable import TallyKit

/// A batch lists its students as arrays (`State.listed(rules:)`) for the snapshot and the
/// site; they must say what the dictionary of `students(rules:)` said before.
struct StudentListingTests {
    /// `students(rules:)` as it was written before the listing: the plain way.
    static func simpleStudents(_ state: State, rules: Rules) -> [String: StudentState] {
        var result: [String: StudentState] = [:]
        for (id, account) in zip(state.accounts.ids, state.accounts.list) where account.applied > 0 || state.roster[id] != nil {
            var student = account.state
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
        for state in Self.states() {
            let listing = state.listed(rules: rules)
            let simple = Self.simpleStudents(state, rules: rules)
            #expect(listing.dictionary == simple)
            #expect(listing.count == simple.count)
            #expect(state.students(rules: rules) == simple)
            var parts: [[UInt8]] = []
            Snapshot.writeState(listing, positions: state.positions, chunk: 16) { parts.append($0) }
            #expect(Array(parts.joined()) == Snapshot.encodeState(students: simple, positions: state.positions))
        }
    }

    @Test("a board made from the listing equals the board made from the dictionary, in any order")
    func sameBoard() {
        let at = Timestamp(milliseconds: 1_725_278_400_000)
        for state in Self.states() {
            let listing = state.listed(rules: Rules())
            let reversed = StudentListing(ids: listing.ids.reversed(), states: listing.states.reversed())
            let simple = Leaderboard(students: Self.simpleStudents(state, rules: Rules()), settings: SiteSettings(), generatedAt: at)
            #expect(Leaderboard(listing, settings: SiteSettings(), generatedAt: at) == simple)
            #expect(Leaderboard(reversed, settings: SiteSettings(), generatedAt: at) == simple)
        }
    }
}
