import Foundation
import Testing
@testable import TallyKit

/// Lines staged through the encoder's thread (`Ledger.stagePlain`) against the same lines
/// written directly (`appendLine`, `appendAward`): the same bytes, hash chain and places.
struct LineEncoderTests {
    /// One row's text, and how it was decided.
    struct Staged {
        var email: String
        var name: String?
        var course: String
        var certificate: String?
        var applied: Bool
        var owned: Bool
        var points: Int
        var note: String
        var file: String
    }

    /// Rows that cross several chunks (by count, and by bytes with one row bigger than a
    /// chunk), change file mid-chunk (to a name that needs escaping), need escaping, lack a
    /// name or a certificate, and carry a cap's note.
    static func rows() -> [Staged] {
        (0..<5000).map { n in
            var row = Staged(email: "s\(n % 97)@example.org", name: n % 5 == 0 ? nil : "Student \(n % 97)",
                             course: "Course \(n % 7)", certificate: n % 3 == 0 ? "https://c.example/\(n)" : nil,
                             applied: n % 4 != 1, owned: n % 8 != 5, points: n % 11 == 0 ? 5 : 20,
                             note: n % 11 == 0 ? " (capped: LEARN at most 45)" : "", file: n < 2500 ? "a.csv" : n < 4000 ? "b.csv" : "c \"quoted\".csv")
            if n == 1234 { row.course = "Course \"quoted\" \\ tab\t" }
            if n == 3000 { row.certificate = "https://c.example/" + String(repeating: "x", count: 300_000) }
            if n == 3001 { row.name = "Zoë \u{2028}" }
            return row
        }
    }

    @discardableResult
    static func withRow<T>(_ row: Staged, seq: Int, _ body: (borrowing CompletionRow) throws -> T) rethrows -> T {
        func bytes(_ text: String?) -> [UInt8]? { text.map { Array($0.utf8) } }
        let email = bytes(row.email)!, course = bytes(row.course)!, name = bytes(row.name), certificate = bytes(row.certificate)
        return try email.withUnsafeBytes { email in
            try course.withUnsafeBytes { course in
                try (name ?? []).withUnsafeBytes { name in
                    try (certificate ?? []).withUnsafeBytes { certificate in
                        // One text id, of an applied row, written directly in turn with the queued lines;
                        // a duplicate and an applied row follow.
                        let key = seq == 4001 ? EventKey.text("manual-4001")
                            : EventKey.digest(UInt64(seq) &* 0x9E37_79B9_7F4A_7C15, UInt64(seq))
                        let completion = CompletionRow(
                            key: key, email: email, name: row.name == nil ? nil : name, course: course,
                            certificate: row.certificate == nil ? nil : certificate,
                            at: Timestamp(milliseconds: 1_725_000_000_000 + Int64(seq) * 1_500), row: seq + 1)
                        return try body(completion)
                    }
                }
            }
        }
    }

    @Test("rows staged for the encoder's thread give the lines, hash chain and places of rows written directly")
    func sameAsDirect() throws {
        let base = "/tmp/tally-line-encoder-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let staged = try Ledger(directory: base + "/staged")
        let direct = try Ledger(directory: base + "/direct")
        var expected: [Int32: Int] = [:]
        var placed: [Int32: Int] = [:]
        var (seq, awardSeq) = (0, 0)
        for (n, row) in Self.rows().enumerated() {
            seq += 1
            let award: (seq: Int, points: Int, note: String)?
            if row.applied {
                awardSeq += 1
                award = (awardSeq, row.points, row.note)
            } else {
                award = nil
            }
            let entry: Int32 = row.applied ? Int32(n) : -1
            let sha = row.file == "a.csv" ? String(repeating: "a", count: 64) : String(repeating: "b", count: 64)
            try Self.withRow(row, seq: seq) { completion in
                let placesWait = try staged.stagePlain(completion, seq: seq, status: row.applied ? .applied : .duplicate,
                                                       ownedByEmail: row.owned, entry: entry, award: award, file: row.file,
                                                       sha256: sha)
                // The engine takes this answer for `hasPlaced` (one look at the staging per row).
                #expect(placesWait == staged.hasPlaced, "row \(n)")
                let offset = try direct.appendLine(completion, seq: seq, status: row.applied ? .applied : .duplicate,
                                                   student: row.owned ? completion.email : nil, file: row.file, sha256: sha)
                if let award {
                    try direct.appendAward(completion, seq: award.seq, student: completion.email, points: award.points,
                                           note: award.note)
                }
                if entry >= 0 { expected[entry] = offset }
            }
            // Places come back while rows are still being staged, not only when settled.
            if n % 700 == 0 { staged.takePlaced { placed[$0] = $1 } }
        }
        #expect(!placed.isEmpty, "no place came back before the end")
        staged.settle()
        staged.takePlaced { placed[$0] = $1 }
        #expect(placed == expected)
        #expect(staged.points.lastHash == direct.points.lastHash)
        #expect(staged.events.lastSeq == 5000 && staged.points.lastSeq == awardSeq)
        try staged.commit(at: ScoringTests.t0)
        try direct.commit(at: ScoringTests.t0)
        for name in ["events", "points"] {
            let a = try FileSystem.readFile(base + "/staged/\(name).jsonl", limit: 1 << 26)
            let b = try FileSystem.readFile(base + "/direct/\(name).jsonl", limit: 1 << 26)
            #expect(a == b, "\(name).jsonl")
            #expect(a.count > 1 << 20)
        }
        // The escaped course and the long certificate went through.
        let events = String(decoding: try FileSystem.readFile(base + "/staged/events.jsonl", limit: 1 << 26), as: UTF8.self)
        #expect(events.contains(#""course":"Course \"quoted\" \\ tab\t""#))
        #expect(events.contains(String(repeating: "x", count: 300_000)))
        #expect(events.contains(#""id":"manual-4001""#))
    }

    @Test("a staged row out of sequence is refused before it is queued, as a direct one is")
    func outOfSequence() throws {
        let base = "/tmp/tally-line-encoder-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let ledger = try Ledger(directory: base)
        let row = Self.rows()[0]
        try Self.withRow(row, seq: 1) { completion in
            try ledger.stagePlain(completion, seq: 1, status: .applied, ownedByEmail: true, entry: 0, award: (1, 20, ""),
                                  file: "a.csv", sha256: "")
            #expect(throws: RecordError.self) {
                try ledger.stagePlain(completion, seq: 3, status: .duplicate, ownedByEmail: true, entry: -1, award: nil,
                                      file: "a.csv", sha256: "")
            }
            #expect(throws: RecordError.self) {
                try ledger.stagePlain(completion, seq: 2, status: .applied, ownedByEmail: true, entry: 1, award: (3, 20, ""),
                                      file: "a.csv", sha256: "")
            }
        }
        ledger.settle()
        #expect(ledger.events.lastSeq == 1 && ledger.points.lastSeq == 1)
    }

    @Test("a rollback forgets the places of lines it cuts")
    func rollbackDropsPlaces() throws {
        let base = "/tmp/tally-line-encoder-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let ledger = try Ledger(directory: base)
        let mark = ledger.checkpoint()
        let row = Self.rows()[0]
        try Self.withRow(row, seq: 1) { completion in
            try ledger.stagePlain(completion, seq: 1, status: .applied, ownedByEmail: true, entry: 0, award: (1, 20, ""),
                                  file: "a.csv", sha256: "")
        }
        try ledger.rollback(to: mark)
        #expect(!ledger.hasPlaced)
        #expect(ledger.events.lastSeq == 0 && ledger.events.pending == 0 && ledger.points.pending == 0)
    }
}
