import Foundation
import Testing
@testable import TallyKit

/// Every fast path of the hot loop against the simple code it stands in for: the same
/// bytes out, for ordinary and awkward inputs.
struct FastPathTests {
    @Test("one-shot SHA-256 (SHA256_*) equals the streaming EVP hasher, at every length around the block size")
    func sha256() {
        var bytes: [UInt8] = []
        for length in 0...300 {
            var hasher = SHA256Hasher()
            hasher.update(bytes)
            let simple = hasher.finalize()
            let fast = bytes.withUnsafeBytes { Crypto.sha256($0) }
            #expect(fast.bytes == simple, "length \(length)")
            #expect(fast.hex == Crypto.hex(simple))
            bytes.append(UInt8(truncatingIfNeeded: length &* 31 &+ 7))
        }
    }

    @Test("members with compile-time keys write what fields with string keys write")
    func literalKeys() {
        let names: [String?] = [nil, "", "Ada", "Zoë \"Z\" \\ <b>", "tab\there\u{2028}", String(repeating: "long ", count: 20)]
        for name in names {
            for number in [0, -1, 42, Int.max, Int.min] {
                var fast = JSONWriter(), simple = JSONWriter()
                fast.beginObject()
                simple.beginObject()
                fast.member("name", name)
                simple.field("name", name)
                fast.member("n", number)
                simple.field("n", number)
                fast.member("ok", number > 0)
                simple.field("ok", number > 0)
                fast.endObject()
                simple.endObject()
                #expect(fast.bytes == simple.bytes)
            }
        }
    }

    @Test("a time written in place equals its ISO 8601 string")
    func timesInPlace() {
        let times: [Int64] = [0, 1, 999, 1_725_273_000_000, 1_725_273_000_123, -1, -86_400_001, 253_402_300_799_999]
        for milliseconds in times {
            let time = Timestamp(milliseconds: milliseconds)
            var fast = JSONWriter(), simple = JSONWriter()
            fast.beginObject()
            simple.beginObject()
            fast.member("at", time)
            simple.field("at", time.iso8601)
            fast.endObject()
            simple.endObject()
            #expect(fast.bytes == simple.bytes, "\(milliseconds)")
        }
    }

    @Test("a ledger line encoded into the staging buffer equals the record's own encoding")
    func stagedLines() throws {
        let directory = "/tmp/tally-fastpath-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ledger = try Ledger(directory: directory)
        let event = ScoringTests.completion("Ada@Example.org", "AI 1")
        let record = EventRecord(seq: 1, event: event, student: "ada@example.org", status: .applied)
        let award = PointsRecord(seq: 1, at: event.at, student: "ada@example.org", points: 20, activity: "LEARN",
                                 event: event.id, reason: "completed AI 1", course: "AI 1")
        let offset = try ledger.append(record)
        try ledger.append(award)
        try ledger.events.flush()
        try ledger.points.flush()
        #expect(try ledger.events.line(at: offset) == record.encoded())
        var expected = award
        expected.prev = LedgerFile.genesis
        #expect(try ledger.points.line(at: 0) == expected.encoded())
        #expect(ledger.points.lastHash == Crypto.sha256Hex(expected.encoded()))
        #expect(try ledger.record(seq: 1, offset: offset) == record)
    }

    @Test("an event made from its content key equals the one made from its id text; spellings of a course are other ids",
          arguments: ["AI 1", "ai 1", "AI  1", "AI\u{A0}1"])
    func eventsFromKeys(course: String) throws {
        let email = try Email(normalising: "Grace.Hopper+x@Gmail.com")
        let at = Timestamp(milliseconds: 1_725_273_000_000)
        let source = EventSource(file: "a.csv", sha256: "abc", row: 2)
        let key = Event.contentKey(kind: .courseCompleted, email: email, course: course, points: nil, at: at)
        let fast = Event(key: key, kind: .courseCompleted, email: email, name: "Grace", course: course, at: at,
                         source: source, certificate: "https://c.example/1")
        let simple = Event(id: Event.contentID(kind: .courseCompleted, email: email, course: course, points: nil, at: at),
                           kind: .courseCompleted, email: email, name: "Grace", course: course, at: at, source: source,
                           certificate: "https://c.example/1")
        #expect(fast == simple)
        #expect(fast.key == EventKey(simple.id))
        // The content id hashes the course as written, as it always did: a cumulative export
        // read tomorrow finds today's rows by their ids.
        if course != "AI 1" {
            #expect(key != Event.contentKey(kind: .courseCompleted, email: email, course: "AI 1", points: nil, at: at))
        }
    }
}
