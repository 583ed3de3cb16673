import Testing
@testable import TallyKit

/// The compact index: event ids as 16-byte keys, and `index.bin` read back whole or refused.
struct IndexTests {
    @Test("a content id is kept as 16 bytes and spelled back exactly; any other id stays text")
    func eventKeys() {
        let id = Event.contentID(kind: .courseCompleted, email: try! Email(normalising: "ada@example.org"), course: "AI 1",
                                 points: nil, at: Timestamp(milliseconds: 1_725_273_000_000))
        guard case .digest = EventKey(id) else { Issue.record("\(id) was not kept as a digest"); return }
        #expect(EventKey(id).id == id)
        #expect(EventKey("h-0123456789abcdef0123456789abcdef").id == "h-0123456789abcdef0123456789abcdef")
        for other in ["evt_1", "h-0123456789ABCDEF0123456789abcdef", "h-0123456789abcdef0123456789abcde",
                      "h-0123456789abcdef0123456789abcdef0", "x-0123456789abcdef0123456789abcdef", ""] {
            #expect(EventKey(other) == .text(other))
            #expect(EventKey(other).id == other)
        }
    }

    @Test("a digest is spelled as `h-` and its two words in lowercase hex, every nibble value in every place")
    func digestText() {
        func reference(_ high: UInt64, _ low: UInt64) -> String {
            func pad(_ word: UInt64) -> String {
                let digits = String(word, radix: 16)
                return String(repeating: "0", count: 16 - digits.count) + digits
            }
            return "h-" + pad(high) + pad(low)
        }
        // Each nibble value at each of the 32 places, then random words.
        var pairs: [(UInt64, UInt64)] = [(0, 0), (.max, .max), (0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210)]
        for nibble in UInt64(0)...15 {
            for place in 0..<16 {
                pairs.append((nibble << UInt64(4 * place), 0))
                pairs.append((0, nibble << UInt64(4 * place)))
            }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 { pairs.append((generator.next(), generator.next())) }
        for (high, low) in pairs {
            let text = EventKey.digest(high, low).id
            #expect(text == reference(high, low))
            #expect(EventKey(text) == .digest(high, low))
        }
    }

    @Test("numbers and ids laid out in one append are LEB128, zigzag and tagged words, and read back, at the extremes")
    func rawLayout() throws {
        func leb128(_ value: UInt64) -> [UInt8] {
            var value = value, bytes: [UInt8] = []
            repeat {
                let low = UInt8(value & 0x7F)
                value >>= 7
                bytes.append(value == 0 ? low : low | 0x80)
            } while value != 0
            return bytes
        }
        func zigzag(_ value: Int) -> UInt64 { value >= 0 ? UInt64(value) << 1 : (UInt64(-(value + 1)) << 1) | 1 }
        let unsigned: [UInt64] = [0, 1, 0x7F, 0x80, 0x3FFF, 0x4000, UInt64(Int32.max), 1 << 56, .max]
        let signed: [Int] = [0, 1, -1, 63, -64, 64, -65, Int(Int32.min), Int.max, Int.min]
        let digests: [(UInt64, UInt64)] = [(0, 0), (.max, .max), (0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210)]
        var w = BinaryWriter(capacity: 0)
        w.append(room: (unsigned.count + signed.count) * RawBinary.longestNumber + digests.count * RawBinary.digestSize) { raw in
            for value in unsigned { raw.unsigned(value) }
            for value in signed { raw.signed(value) }
            for (high, low) in digests { raw.digest(high, low) }
        }
        var expected = unsigned.flatMap(leb128) + signed.flatMap { leb128(zigzag($0)) }
        for (high, low) in digests {
            expected.append(0)
            for shift in stride(from: 56, through: 0, by: -8) { expected.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
            for shift in stride(from: 56, through: 0, by: -8) { expected.append(UInt8(truncatingIfNeeded: low >> UInt64(shift))) }
        }
        #expect(w.bytes == expected)
        let (readUnsigned, readSigned, readKeys, remaining) = try w.bytes.withUnsafeBufferPointer { bytes throws in
            var r = BinaryReader(bytes)
            let readUnsigned = try unsigned.map { _ in try r.unsigned() }
            let readSigned = try signed.map { _ in try r.signed() }
            let readKeys = try digests.map { _ in try r.key() }
            return (readUnsigned, readSigned, readKeys, r.remaining)
        }
        #expect(readUnsigned == unsigned && readSigned == signed && remaining == 0)
        #expect(readKeys == digests.map { EventKey.digest($0.0, $0.1) })
    }

    @Test("content ids are the documented hash, byte for byte (ledgers written before stay valid)")
    func contentIDs() throws {
        // Python: "h-" + sha256("course_completed\x1fada@example.org\x1fAI 1\x1f\x1f1725273000000\x1f").hexdigest()[:32]
        #expect(Event.contentID(kind: .courseCompleted, email: try Email(normalising: "Ada@Example.org"), course: "AI 1",
                                points: nil, at: Timestamp(milliseconds: 1_725_273_000_000)) == "h-1fbd248aa7f084a8d36fecf8ead398a8")
        #expect(Event.contentID(kind: .manualAward, email: try Email(normalising: "ada@example.org"), course: nil, points: -15,
                                at: nil, reason: "helped") == "h-fedff9e11ad875ff69ea4dad5bf0cd93")
    }

    @Test("keys sort as their ids do, digests and text mixed")
    func keyOrder() {
        let ids = ["h-ffffffffffffffff0000000000000000", "evt_9", "h-00000000000000000000000000000001", "h-x", "award-1",
                   "h-0000000000000000ffffffffffffffff", "i"]
        #expect(ids.map(EventKey.init).sorted().map(\.id) == ids.sorted())
    }

    @Test("index.bin reads back to the same state; cut anywhere or with another format it is refused")
    func roundTripAndDamage() throws {
        let (state, _) = ScoringTests.run([ScoringTests.completion("ada@example.org", "AI 1"),
                                           ScoringTests.completion("bob@example.org", "AI 1", id: "evt_7"),
                                           ScoringTests.rosterEntry("ada@example.org", "S1"),
                                           ScoringTests.completion("ada@example.org", "AI 2", minutes: 4)])
        let bytes = Snapshot.encodeIndex(state)
        #expect(try Snapshot.decodeIndex(bytes) == state)
        for length in 0..<bytes.count {
            #expect(throws: RecordError.self) { try Snapshot.decodeIndex(Array(bytes.prefix(length))) }
        }
        #expect(throws: RecordError.self) { try Snapshot.decodeIndex(bytes + [0]) }
        var other = bytes
        other[8] = 1   // the format number
        #expect(throws: RecordError.self) { try Snapshot.decodeIndex(other) }
    }

    @Test("state.json's positions are read from its last bytes, whatever the students are called")
    func statePositions() throws {
        var positions = State.Positions()
        positions.events = .init(seq: 12, bytes: 3456)
        positions.audit = .init(seq: 7, bytes: 890)
        let students = ["positions": StudentState(name: "\"positions\":{}", xp: 20),
                        "ada@example.org": StudentState(name: "Ada", xp: 40, courses: ["AI 1", "AI 2"])]
        let path = (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/state-\(UInt64.random(in: 0...UInt64.max)).json"
        defer { unlink(path) }
        try FileSystem.writeAtomically(Snapshot.encodeState(students: students, positions: positions), to: path)
        #expect(try Snapshot.statePositions(at: path) == positions)
        // A file that does not end as Tally writes it is read whole.
        try FileSystem.writeAtomically(Array(#"{"format":1,"positions":{"events":{"seq":3,"bytes":9}},"students":{}}"#.utf8), to: path)
        #expect(try Snapshot.statePositions(at: path).events == .init(seq: 3, bytes: 9))
    }
}

import Foundation
