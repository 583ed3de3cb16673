import Testing
@testable import TallyKit

/// `state.json` and `index.bin` are written in parts as they are encoded; joined, the parts
/// must be exactly the document encoded whole, wherever the parts are cut.
struct SnapshotStreamingTests {
    /// A state with several students, a duplicate, a roster student and an unmatched event.
    static func state() -> State {
        var events: [Event] = []
        for index in 0..<30 {
            events.append(ScoringTests.completion("student\(index % 7)@example.org", "Course \(index % 4)", minutes: index))
        }
        events.append(ScoringTests.completion("student1@example.org", "Course 1", minutes: 1))
        events.append(ScoringTests.rosterEntry("student2@example.org", "S2", name: "Zoë \"Z\""))
        return ScoringTests.run(events).0
    }

    @Test("state.json written in parts joins to the whole", arguments: [1, 7, 64, 1 << 20])
    func stateInParts(chunk: Int) {
        let state = Self.state()
        let students = state.students(rules: Rules())
        var parts: [[UInt8]] = []
        Snapshot.writeState(students: students, positions: state.positions, chunk: chunk) { parts.append($0) }
        #expect(parts.joined().elementsEqual(Snapshot.encodeState(students: students, positions: state.positions)))
        if chunk == 1 { #expect(parts.count > students.count) }
    }

    @Test("index.bin written in parts joins to the whole, and reads back", arguments: [1, 7, 64, 1 << 20])
    func indexInParts(chunk: Int) throws {
        let state = Self.state()
        var parts: [[UInt8]] = []
        Snapshot.writeIndex(state, chunk: chunk) { parts.append($0) }
        let joined = Array(parts.joined())
        #expect(joined == Snapshot.encodeIndex(state))
        #expect(try Snapshot.decodeIndex(joined) == state)
        if chunk == 1 { #expect(parts.count > state.tracked.count) }
    }

    @Test("a file written atomically in parts holds the parts in order")
    func atomicParts() throws {
        let path = "/tmp/tally-parts-\(UInt64.random(in: 0...UInt64.max)).bin"
        defer { unlink(path) }
        try FileSystem.writeAtomically(to: path) { write in
            try write(Array("one,".utf8))
            try write(Array("two,".utf8)[...])
            try write(Array("three".utf8))
        }
        #expect(try FileSystem.readFile(path, limit: 1 << 10) == Array("one,two,three".utf8))
    }
}

#if canImport(Glibc)
import Glibc
#endif
