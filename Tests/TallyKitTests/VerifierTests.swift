import Testing
@testable import TallyKit

/// What `tally verify` says when the last commit's chain head of `points.jsonl` does not hold.
struct VerifierTests {
    static let head = String(repeating: "ab", count: 32)

    @Test("the line that ends where the last commit says must hash to the head it recorded")
    func headOfLine() {
        let line = Verifier.LineAtEnd(number: 7, seq: 7, hash: Self.head)
        #expect(Verifier.headProblem(Self.head, at: 900, found: line) == nil)
        var edited = line
        edited.hash = LedgerFile.genesis
        #expect(Verifier.headProblem(Self.head, at: 900, found: edited)
                == "points.jsonl's line 7 (seq 7) is not the line the last commit recorded: it was edited, or lines were cut and the commit edited")
    }

    @Test("no line ending at the committed length, or a head for an empty file, is an edit too")
    func noLineThere() {
        #expect(Verifier.headProblem(Self.head, at: 900, found: nil)
                == "points.jsonl has no line that ends at byte 900, where the last commit says its lines end: a line was edited")
        #expect(Verifier.headProblem(LedgerFile.genesis, at: 0, found: nil) == nil)
        #expect(Verifier.headProblem(Self.head, at: 0, found: nil)
                == "the last commit recorded points.jsonl as empty yet names a last line: audit.jsonl's last line was edited")
    }
}
