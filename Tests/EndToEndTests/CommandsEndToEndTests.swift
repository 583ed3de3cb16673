import Foundation
import Testing

/// The smaller commands and options, as a user runs them.
@Suite("Commands and options, end to end")
struct CommandsEndToEndTests {
    @Test("a roster named in tally.toml is read in place, and read again when it changes; a student removed is withdrawn")
    func configuredRoster() throws {
        let w = try Workspace()
        try w.write("tally.toml", "[roster]\nfile = \"school-roster.csv\"\n")
        try w.write("school-roster.csv", "id,email,name\nS1,ada@example.org,Ada Lovelace\nS2,bob@example.org,Bob Brown\n")
        try w.write("inbox/a.csv", "Email,Course,Date\nada@example.org,AI,2024-09-01\nbob@example.org,AI,2024-09-01\neve@example.org,AI,2024-09-01\n")
        #expect(try w.tally("sync").status == 0)
        #expect(try w.xp() == ["S1": 20, "S2": 20])
        #expect(w.exists("school-roster.csv"), "a configured roster is the user's file: it stays where it is")
        #expect(try w.ledger("unmatched").map { $0["email"] as? String } == ["eve@example.org"])
        // Bob leaves the roster: his completion is withdrawn, by new lines.
        try w.write("school-roster.csv", "id,email,name\nS1,ada@example.org,Ada Lovelace\n")
        #expect(try w.tally("sync").status == 0)
        #expect(try w.xp() == ["S1": 20])
        #expect(try w.ledger("points").last?["points"] as? Int == -20)
        #expect(try w.tally("verify").status == 0)
    }

    @Test("--inbox, --data and --site put the folders anywhere; render rebuilds the site from the snapshot")
    func foldersAndRender() throws {
        let w = try Workspace()
        try w.write("drops/a.csv", "Email,Name,Course\nada@example.org,Ada Lovelace,AI\n")
        let run = try w.tally("sync", "--inbox", "drops", "--data", "store", "--site", "public")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("site: public/index.html"))
        #expect(w.exists("store/state.json") && w.exists("store/archive/a.csv") && w.exists("public/index.html"))
        try FileManager.default.removeItem(at: w.root.appendingPathComponent("public"))
        let render = try w.tally("render", "--data", "store", "--site", "public")
        #expect(render.status == 0)
        #expect(try w.read("public/index.html").contains("Ada L."))
        #expect(!(try w.read("public/leaderboard.json")).contains("@"))
    }

    @Test("a bulk-award table adds MANUAL points with its reasons")
    func bulkAward() throws {
        let w = try Workspace()
        try w.write("inbox/bonus.csv", "Email,Points,Reason\nada@example.org,15,Helped at the meetup\nbob@example.org,-5,Correction\n")
        #expect(try w.tally("sync").status == 0)
        #expect(try w.xp() == ["ada@example.org": 15, "bob@example.org": -5])
        #expect(try w.ledger("points").map { $0["activity"] as? String } == ["MANUAL", "MANUAL"])
    }

    @Test("an explicit --config that does not exist is a usage error, exit 2")
    func missingConfig() throws {
        let w = try Workspace()
        let run = try w.tally("sync", "--config", "nope.toml")
        #expect(run.status == 2)
        #expect(run.stderr.contains("nope.toml"))
    }
}
