import Foundation
import Testing
@testable import TallyKit

/// The live fold finds each tracked entry once per line and changes it in place (the
/// table's numbered entries, `place`, the award lines that follow): however it gets there,
/// every tracked entry must point at its own line and hold its own grants.
struct TrackedEntryTests {
    @Test("after events, duplicates, a roster arrival and awards, every entry points at its line and holds its grants")
    func entriesPointAtTheirLines() throws {
        let directory = "/tmp/tally-recent-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ledger = try Ledger(directory: directory)
        var state = State()
        var rules = Rules()
        rules.badges = [.init(id: "two", name: "Two", completions: 2)]
        var events: [Event] = []
        for n in 0..<60 { events.append(ScoringTests.completion("s\(n % 7)@example.org", "Course \(n % 5)", minutes: n % 13)) }
        events.append(ScoringTests.rosterEntry("s1@example.org", "S1", name: "One"))
        events.append(ScoringTests.rosterEntry("s2@example.org", "S1", name: "One"))
        for n in 0..<10 { events.append(ScoringTests.completion("s\(n % 3)@example.org", "Course 9", minutes: n)) }

        var granted: [EventKey: Int] = [:]
        for event in events {
            var outcome = Outcome()
            try Scoring.apply(event, to: &state, rules: rules, into: &outcome, lines: ledger)
            state.place(outcome.events, at: try ledger.append(outcome))
            for line in outcome.points where line.points != 0 || line.course != nil {
                granted[EventKey(line.event), default: 0] += line.points
            }
        }
        #expect(state.tracked.count > 20)
        for (number, (key, entry)) in state.tracked.enumerated() {
            let line = try ledger.record(seq: entry.seq, offset: entry.offset)
            #expect(line.event.key == key)
            #expect(state.grants(of: number).reduce(0) { $0 + $1.points } == granted[key, default: 0], "\(key.id)")
        }
    }
}
