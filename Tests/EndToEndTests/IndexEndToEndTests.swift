import Foundation
import Testing

/// The scoring index (`data/index.bin`) keeps events by their place in `events.jsonl`, not in
/// memory: a move (a roster arriving, a link) reads the lines back. These runs make it read
/// lines from every place one can be: written in an earlier run and known from the index,
/// folded after a stale index, and still staged in the batch that moves them.
@Suite("the scoring index, end to end")
struct IndexEndToEndTests {
    static let header = "Timestamp,Email Address,Full name,Course\n"

    /// A workspace after one sync of one completion, and its index.bin.
    static func oneSync() throws -> (Workspace, URL) {
        let w = try Workspace()
        try w.write("inbox/day1.csv", header + "9/2/2024 10:30:00,ada@example.org,Ada Lovelace,AI Foundations\n")
        #expect(try w.tally("sync").status == 0)
        return (w, w.root.appendingPathComponent("data/index.bin"))
    }

    @Test("a roster moves events whose lines come from the index, a roll-forward and the same batch")
    func movesReadLinesBack() throws {
        let w = try Workspace()
        try w.write("inbox/day1.csv", Self.header + "9/2/2024 10:30:00,ada@example.org,Ada Lovelace,AI Foundations\n"
                    + "9/2/2024 11:00:00,bob@example.org,Bob Babbage,AI Foundations\n")
        #expect(try w.tally("sync").status == 0)
        let early = try Data(contentsOf: w.root.appendingPathComponent("data/index.bin"))

        try w.write("inbox/day2.csv", Self.header + "9/3/2024 09:00:00,carol@example.org,Carol Shaw,Ethics\n"
                    + "9/3/2024 09:30:00,ada@example.org,Ada Lovelace,Ethics\n")
        #expect(try w.tally("sync").status == 0)
        // Put the first run's index back: the next start folds day2's lines after it.
        try early.write(to: w.root.appendingPathComponent("data/index.bin"))

        // One batch: dave's completion is staged when the roster (dropped after it) moves it.
        try w.write("inbox/day3.csv", Self.header + "9/4/2024 08:00:00,dave@example.org,Dave Cutler,AI Foundations\n")
        try w.write("inbox/roster.csv", """
            id,email,name,public
            S1,ada@example.org,Ada Lovelace,yes
            S2,carol@example.org,Carol Shaw,yes
            S3,dave@example.org,Dave Cutler,yes

            """)
        let run = try w.tally("sync")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try w.xp() == ["S1": 40, "S2": 20, "S3": 20])

        // Bob is not on the roster: withdrawn, waiting; the lines say so, each exactly once.
        let events = try w.ledger("events")
        let moved = events.filter { $0["rehomed"] as? Bool == true }
        #expect(moved.map { "\($0["email"] as? String ?? "") \($0["student"] as? String ?? "-") \($0["status"] as? String ?? "")" }.sorted()
                == ["ada@example.org S1 applied", "ada@example.org S1 applied", "bob@example.org - unmatched",
                    "carol@example.org S2 applied", "dave@example.org S3 applied"])
        // A moved line re-states the whole event, read back from the ledger: name and source too.
        let carol = try #require(moved.first { $0["email"] as? String == "carol@example.org" })
        #expect(carol["name"] as? String == "Carol Shaw")
        #expect((carol["source"] as? [String: Any])?["file"] as? String == "day2.csv")
        #expect((carol["source"] as? [String: Any])?["row"] as? Int == 2)

        // The link reads bob's line back from the file, where the roster's batch wrote it.
        #expect(try w.tally("link", "bob@example.org", "S2").status == 0)
        #expect(try w.xp() == ["S1": 40, "S2": 40, "S3": 20])
        let verify = try w.tally("verify")
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("index.bin matches the ledgers"))
        #expect(try w.tally("rebuild").stdout.contains("it matched the previous state.json byte for byte"))
        // The same ledgers give the same index.bin in every run: its files, roster, bindings
        // and contacts are written in order, not in the order a process's hashing gives.
        let index = w.root.appendingPathComponent("data/index.bin")
        let first = try Data(contentsOf: index)
        #expect(try w.tally("rebuild").status == 0)
        #expect(try Data(contentsOf: index) == first)
    }

    @Test("a damaged or foreign index.bin is rebuilt from the ledgers, with a warning")
    func damagedIndex() throws {
        let (w, url) = try Self.oneSync()
        let whole = try Data(contentsOf: url)
        try whole.prefix(whole.count - 3).write(to: url)
        try w.write("inbox/day2.csv", Self.header + "9/2/2024 10:30:00,ada@example.org,Ada Lovelace,AI Foundations\n"
                    + "9/3/2024 10:30:00,ada@example.org,Ada Lovelace,Ethics\n")
        let run = try w.tally("sync")
        #expect(run.status == 0)
        #expect(run.stderr.contains("index.bin could not be read (index.bin ends early); rebuilding it from the ledgers"))
        #expect(try w.xp() == ["ada@example.org": 40], "the repeated row still counts once")
        #expect(try w.tally("verify").stdout.contains("index.bin matches the ledgers"))

        // An index.json left by an earlier Tally is removed at the next start.
        try w.write("data/index.json", "{\"format\":1}\n")
        #expect(try w.tally("sync").status == 0)
        #expect(!w.exists("data/index.json"))
    }

    @Test("the daemon leaves index.bin alone for small drops and writes it at shutdown")
    func daemonWritesIndexAtShutdown() throws {
        let (w, url) = try Self.oneSync()
        let before = try Data(contentsOf: url)

        let daemon = try Daemon(w)
        defer { daemon.kill9() }
        #expect(eventually { daemon.log.contains("watching inbox") })
        try w.write("inbox/day2.csv", Self.header + "9/3/2024 10:30:00,bob@example.org,Bob Babbage,AI Foundations\n")
        #expect(eventually { (try? w.xp()) == ["ada@example.org": 20, "bob@example.org": 20] }, "\(daemon.log)")
        #expect(try Data(contentsOf: url) == before, "a few lines do not rewrite the whole index")

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit(seconds: 10)?.status == 0)
        #expect(try Data(contentsOf: url) != before)
        let verify = try w.tally("verify")
        #expect(verify.stdout.contains("index.bin matches the ledgers"), "\(verify.stdout)\(verify.stderr)")
    }
}
