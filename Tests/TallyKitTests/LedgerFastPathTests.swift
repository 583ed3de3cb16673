import Foundation
import Testing
@testable import TallyKit

/// Lines staged between `beginLine` and `endLine` against lines staged through `append(_:)`
/// with a closure: the same bytes, seqs and hash chain.
struct LedgerFastPathTests {
    @Test("event and award lines staged without a closure equal those staged with one")
    func sameLines() throws {
        let base = "/tmp/tally-ledger-fastpath-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let fast = try Ledger(directory: base + "/fast")
        let simple = try Ledger(directory: base + "/simple")
        for n in 1...40 {
            let event = ScoringTests.completion("s\(n % 6)@example.org", "Course \(n % 4) \"quoted\"", minutes: n)
            let record = EventRecord(seq: n, event: event, student: "s\(n % 6)@example.org", status: n % 3 == 0 ? .duplicate : .applied)
            let award = PointsRecord(seq: n, at: event.at, student: "s\(n % 6)@example.org", points: n, activity: "LEARN",
                                     event: event.id, reason: "completed \(event.course!)", course: event.course)
            let offset = try fast.append(record)
            try fast.append(award)
            #expect(offset == simple.events.size + simple.events.pending)
            simple.events.append { _, _, w in record.encode(into: &w) }
            simple.points.append { _, prev, w in award.encode(into: &w, prev: prev) }
            #expect(fast.points.lastHash == simple.points.lastHash)
            #expect(fast.events.lastSeq == simple.events.lastSeq && fast.points.lastSeq == simple.points.lastSeq)
        }
        try fast.commit(at: ScoringTests.t0)
        try simple.commit(at: ScoringTests.t0)
        for name in ["events", "points"] {
            let a = try FileSystem.readFile(base + "/fast/\(name).jsonl", limit: 1 << 20)
            let b = try FileSystem.readFile(base + "/simple/\(name).jsonl", limit: 1 << 20)
            #expect(a == b, "\(name).jsonl")
            #expect(!a.isEmpty)
        }
    }
}
