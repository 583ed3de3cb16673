import Foundation
import Testing

/// `tally verify` and `tally rebuild` against ledgers and snapshots edited by hand.
@Suite("Verify and rebuild, end to end")
struct VerifyEndToEndTests {
    static let completions = "Email,Course,Date\nada@example.org,AI Foundations,2024-09-01\nbob@example.org,Prompt Design,2024-09-01\n"

    /// A workspace after one sync of two completions: two points lines, one commit.
    static func synced() throws -> Workspace {
        let w = try Workspace()
        try w.write("inbox/completions.csv", completions)
        let sync = try w.tally("sync")
        #expect(sync.status == 0, "\(sync.stderr)")
        let verify = try w.tally("verify")
        #expect(verify.status == 0, "\(verify.stderr)")
        return w
    }

    /// Replaces `old` with `new` in the last line of a data file.
    static func editLastLine(of relative: String, in w: Workspace, _ old: String, _ new: String) throws {
        var lines = try w.read(relative).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.removeLast() == "")
        #expect(lines[lines.count - 1].contains(old))
        lines[lines.count - 1] = lines[lines.count - 1].replacingOccurrences(of: old, with: new)
        try w.write(relative, lines.joined(separator: "\n") + "\n")
    }

    @Test("an edit to the last line of points.jsonl, which no later line chains to, is caught by the last commit's head")
    func lastPointsLineEdited() throws {
        let w = try Self.synced()
        try Self.editLastLine(of: "data/points.jsonl", in: w, #""reason":"completed Prompt Design""#,
                              #""reason":"completed Prompt Desigx""#)
        let verify = try w.tally("verify")
        #expect(verify.status == 1)
        #expect(verify.stderr == "tally: points.jsonl's line 2 (seq 2) is not the line the last commit recorded: it was edited, or lines were cut and the commit edited\n")
        #expect(!verify.stdout.contains("\nok\n"))
    }

    @Test("a committed line torn at the end is called a cut, not an interrupted write the next sync would cut")
    func committedTailTorn() throws {
        let w = try Self.synced()
        let events = try w.read("data/events.jsonl")
        try w.write("data/events.jsonl", String(events.dropLast(5)))
        let verify = try w.tally("verify")
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("events.jsonl ends with a torn line (") && verify.stderr.contains(
            " bytes without a newline): committed bytes are missing, so it was cut outside Tally; restore it from a backup"))
        #expect(!verify.stderr.contains("which the next sync cuts"))
        #expect(verify.stderr.contains("but the last commit recorded"))
    }

    @Test("audit.jsonl cut into its last commit, whose batch state.json reflects: sync refuses, never cutting a durable batch")
    func auditCutAfterCommit() throws {
        let w = try Self.synced()
        try w.write("inbox/more.csv", "Email,Course,Date\ncy@example.org,Ethics,2024-09-02\n")
        #expect(try w.tally("sync").status == 0)
        let audit = try w.read("data/audit.jsonl")
        try w.write("data/audit.jsonl", String(audit.dropLast(5)))
        let sync = try w.tally("sync")
        #expect(sync.status == 1)
        #expect(sync.stderr.contains("audit.jsonl's last commit line is gone (its end was cut), yet state.json reflects that commit"))
        #expect(try w.xp() == ["ada@example.org": 20, "bob@example.org": 20, "cy@example.org": 20])
        #expect(try w.ledger("events").count == 3)
        let verify = try w.tally("verify")
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("audit.jsonl ends with a torn line (") && verify.stderr.contains("so it was cut outside Tally"))
    }

    @Test("the last points line cut, the last commit's length edited to fit and the snapshot rebuilt: verify still catches it")
    func lastPointsLineCutAndCommitEdited() throws {
        let w = try Self.synced()
        let points = try w.read("data/points.jsonl")
        let first = try #require(points.split(separator: "\n").first)
        try w.write("data/points.jsonl", first + "\n")
        try Self.editLastLine(of: "data/audit.jsonl", in: w, #""points":\#(points.utf8.count),"#,
                              #""points":\#(first.utf8.count + 1),"#)
        #expect(try w.tally("rebuild").status == 0)

        let verify = try w.tally("verify")
        #expect(verify.status == 1)
        #expect(verify.stderr == "tally: points.jsonl's line 1 (seq 1) is not the line the last commit recorded: it was edited, or lines were cut and the commit edited\n")
    }

    @Test("ledgers of a Tally before heads, whose commits record only lengths, verify as before")
    func commitsWithoutHeads() throws {
        let w = try Self.synced()
        let audit = try w.read("data/audit.jsonl")
        let head = try NSRegularExpression(pattern: #","heads":\{"points":"[0-9a-f]{64}"\}"#)
        #expect(head.numberOfMatches(in: audit, range: NSRange(audit.startIndex..., in: audit)) == 1)
        try w.write("data/audit.jsonl", head.stringByReplacingMatches(
            in: audit, range: NSRange(audit.startIndex..., in: audit), withTemplate: ""))
        // The snapshot of those ledgers, whose audit.jsonl is that much shorter.
        #expect(try w.tally("rebuild").status == 0)
        let verify = try w.tally("verify")
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.hasSuffix("\nok\n"))
        // Their next commit records heads, and the edit of the last line is caught again.
        try w.write("inbox/more.csv", "Email,Course,Date\ncarol@example.org,Ethics,2024-09-02\n")
        #expect(try w.tally("sync").status == 0)
        try Self.editLastLine(of: "data/points.jsonl", in: w, #""reason":"completed Ethics""#, #""reason":"completed Ethicz""#)
        #expect(try w.tally("verify").stderr.contains("points.jsonl's line 3 (seq 3) is not the line the last commit recorded"))
    }

    @Test("rebuild compares with the state.json on disk: an edited figure differed, and the rebuild puts it right")
    func rebuildSeesAnEditedSnapshot() throws {
        let w = try Self.synced()
        let snapshot = try w.read("data/state.json")
        #expect(snapshot.contains(#""xp":20"#))
        try w.write("data/state.json", snapshot.replacingOccurrences(of: #""xp":20"#, with: #""xp":21"#))
        let rebuild = try w.tally("rebuild")
        #expect(rebuild.status == 0, "\(rebuild.stderr)")
        #expect(rebuild.stdout == "tally: state.json rebuilt from the ledgers; it differed from the previous state.json\n")
        #expect(try w.read("data/state.json") == snapshot)
        let again = try w.tally("rebuild")
        #expect(again.stdout == "tally: state.json rebuilt from the ledgers; it matched the previous state.json byte for byte\n")
        #expect(try w.read("data/state.json") == snapshot)
    }

    @Test("rebuild compares with the state.json the user left, even when the start rewrites it first (no index.bin)")
    func rebuildSeesAnEditedSnapshotTheStartRewrote() throws {
        let w = try Self.synced()
        let snapshot = try w.read("data/state.json")
        try w.write("data/state.json", snapshot.replacingOccurrences(of: #""xp":20"#, with: #""xp":21"#))
        try FileManager.default.removeItem(at: w.root.appendingPathComponent("data/index.bin"))
        let rebuild = try w.tally("rebuild")
        #expect(rebuild.stdout == "tally: state.json rebuilt from the ledgers; it differed from the previous state.json\n")
        #expect(try w.read("data/state.json") == snapshot)
    }

    @Test("rebuild with no state.json says there was none, and makes it")
    func rebuildWithoutSnapshot() throws {
        let w = try Self.synced()
        let snapshot = try w.read("data/state.json")
        try FileManager.default.removeItem(at: w.root.appendingPathComponent("data/state.json"))
        let rebuild = try w.tally("rebuild")
        #expect(rebuild.status == 0, "\(rebuild.stderr)")
        #expect(rebuild.stdout == "tally: state.json rebuilt from the ledgers; there was no state.json before\n")
        #expect(try w.read("data/state.json") == snapshot)
    }

    @Test("a fresh folder, where a sync of an empty inbox made the ledgers and nothing else, verifies ok")
    func freshFolder() throws {
        let w = try Workspace()
        let sync = try w.tally("sync")
        #expect(sync.status == 0)
        #expect(sync.stdout.isEmpty)
        #expect(w.exists("data/audit.jsonl") && !w.exists("data/state.json"))
        let verify = try w.tally("verify")
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stderr.isEmpty)
        #expect(verify.stdout.hasSuffix("nothing is recorded yet: the ledgers are empty and there is no state.json\nok\n"), "\(verify.stdout)")
    }

    @Test("ledgers with lines and no state.json are still a problem")
    func missingSnapshot() throws {
        let w = try Self.synced()
        try FileManager.default.removeItem(at: w.root.appendingPathComponent("data/state.json"))
        let verify = try w.tally("verify")
        #expect(verify.status == 1)
        #expect(verify.stderr == "tally: state.json is missing; run `tally rebuild`\n")
    }
}
