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

    @Test("a configured roster that goes back to an earlier content is in force again; one that is missing is said, once a run")
    func configuredRosterGoesBack() throws {
        let w = try Workspace()
        let one = "id,email,name\nS1,ada@example.org,Ada Lovelace\n"
        let both = one + "S2,bob@example.org,Bob Brown\n"
        try w.write("tally.toml", "[roster]\nfile = \"school-roster.csv\"\n")
        let missing = try w.tally("sync")
        #expect(missing.status == 0)
        #expect(missing.stderr.contains("[roster] file names school-roster.csv, which does not exist: there is no roster yet"), "\(missing.stderr)")
        try w.write("inbox/a.csv", "Email,Course,Date\nada@example.org,AI,2024-09-01\nbob@example.org,AI,2024-09-01\n")
        try w.write("school-roster.csv", both)
        #expect(try w.tally("sync").status == 0)
        #expect(try w.xp() == ["S1": 20, "S2": 20])
        try w.write("school-roster.csv", one)
        #expect(try w.tally("sync").status == 0)
        #expect(try w.xp() == ["S1": 20])
        // Back to both: Bob is on the roster again, and his completion counts again.
        try w.write("school-roster.csv", both)
        let back = try w.tally("sync")
        #expect(back.status == 0, "\(back.stderr)")
        #expect(try w.xp() == ["S1": 20, "S2": 20])
        // Unchanged: nothing is read again.
        #expect(try w.tally("sync").stdout.isEmpty)
        #expect(try w.tally("verify").status == 0)
        // Every roster event has an id of its own, though the roster's bytes came twice.
        let ids = try w.ledger("events").filter { ($0["kind"] as? String)?.hasPrefix("roster") == true }.compactMap { $0["id"] as? String }
        #expect(Set(ids).count == ids.count && ids.count >= 4, "\(ids)")
        try FileManager.default.removeItem(at: w.root.appendingPathComponent("school-roster.csv"))
        try w.write("inbox/b.csv", "Email,Course,Date\nada@example.org,ML,2024-09-02\n")
        let gone = try w.tally("sync")
        #expect(gone.stderr.contains("which does not exist: the roster loaded before stays in force"), "\(gone.stderr)")
        #expect(try w.xp() == ["S1": 40, "S2": 20])
    }

    @Test("with [roster] file set, a dropped roster*.csv is refused with the reason, and the configured one stays")
    func droppedRosterWhileConfigured() throws {
        let w = try Workspace()
        try w.write("tally.toml", "[roster]\nfile = \"school-roster.csv\"\n")
        try w.write("school-roster.csv", "id,email,name\nS1,ada@example.org,Ada Lovelace\n")
        try w.write("inbox/roster-new.csv", "id,email,name\nS9,bob@example.org,Bob Brown\n")
        try w.write("inbox/a.csv", "Email,Course,Date\nada@example.org,AI,2024-09-01\nbob@example.org,AI,2024-09-01\n")
        let run = try w.tally("sync")
        #expect(run.status == 1)
        #expect(w.list("data/failed") == ["roster-new.csv", "roster-new.csv.error.txt"])
        #expect(try w.read("data/failed/roster-new.csv.error.txt").contains("[roster] file names school-roster.csv, the only roster read"))
        #expect(try w.xp() == ["S1": 20])
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

    @Test("a site that cannot be rendered after the commit is said, but the work stands: award says what it granted, sync archives its files")
    func renderFailsAfterCommit() throws {
        let w = try Workspace()
        try w.write("inbox/c.csv", "Email,Name,Course\na@x.org,Ann Able,A\n")
        #expect(try w.tally("sync").status == 0)
        try w.write("templates/index.mustache", "{{#rows}}")   // a typo: never closed
        let award = try w.tally("award", "a@x.org", "10", "--reason", "Helping at open day")
        #expect(award.status == 1)
        #expect(award.stdout == "tally: awarded 10 points to a@x.org\n")
        #expect(award.stderr.contains("the site was not rendered: ") && award.stderr.contains("templates/index.mustache")
                && award.stderr.contains("what the batch did is committed, so do not run it again"))
        #expect(try w.xp() == ["a@x.org": 30])
        try w.write("inbox/d.csv", "Email,Name,Course\nb@x.org,Bob,A\n")
        let sync = try w.tally("sync")
        #expect(sync.status == 1)
        #expect(sync.stdout.hasSuffix("20 points; site NOT rendered (see the error above)\n"))
        #expect(w.list("inbox").isEmpty && w.list("data/archive") == ["c.csv", "d.csv"])
        // Templates that include each other: the same, never a crash.
        try w.write("templates/index.mustache", "x{{> index}}")
        try w.write("inbox/e.csv", "Email,Name,Course\ncy@x.org,Cy,A\n")
        let cycle = try w.tally("sync")
        #expect(cycle.status == 1)
        #expect(cycle.stderr.contains("include each other in a circle (index.mustache → index.mustache)"))
        try FileManager.default.removeItem(at: w.root.appendingPathComponent("templates"))
        #expect(try w.tally("render").status == 0)
        #expect(try w.read("site/index.html").contains("Cy"))
        #expect(try w.xp() == ["a@x.org": 30, "b@x.org": 20, "cy@x.org": 20])
    }

    @Test("a hidden student removed from the roster, who still holds a linked email, stays anonymous on the site")
    func removedStudentStaysHidden() throws {
        let w = try Workspace()
        try w.write("tally.toml", "[site]\nnames = \"full\"\n")
        try w.write("inbox/roster-1.csv", "id,email,name,public\nS1,a@x.org,Ann Able,yes\nS2,b@x.org,Bob Private,no\n")
        try w.write("inbox/c.csv", "Email,Name,Course\nbob.home@x.org,Robert Private-Person,B\n")
        #expect(try w.tally("sync").status == 0)
        #expect(try w.tally("link", "bob.home@x.org", "S2").status == 0)
        try w.write("inbox/roster-2.csv", "id,email,name\nS1,a@x.org,Ann Able\n")
        #expect(try w.tally("sync").status == 0)
        let s2 = try #require(try w.student("S2"))
        #expect(s2["public"] as? Bool == false && s2["xp"] as? Int == 20)
        for page in w.list("site") where page.hasSuffix(".html") || page.hasSuffix(".json") {
            #expect(!(try w.read("site/" + page)).contains("Robert"), "\(page) names the hidden student")
        }
        #expect(try w.read("site/index.html").contains("Anonymous"))
    }

    @Test("[roster] required turned on after open-mode events: the first roster withdraws what emails not on it earned")
    func requiredAfterOpenMode() throws {
        let w = try Workspace()
        try w.write("inbox/c.csv", "Email,Name,Course\na@x.org,Ann Able,A\n")
        #expect(try w.tally("sync").status == 0)
        try w.write("tally.toml", "[roster]\nrequired = true\n")
        try w.write("inbox/c2.csv", "Email,Name,Course\nb@x.org,Bob,A\n")
        #expect(try w.tally("sync").status == 0)
        #expect(try w.xp() == ["a@x.org": 20])
        try w.write("inbox/roster.csv", "id,email,name\nS2,b@x.org,Bob Bee\n")
        let roster = try w.tally("sync")
        #expect(roster.status == 0)
        #expect(roster.stderr.contains("1 withdrawn to wait unmatched"))
        #expect(try w.xp() == ["S2": 20])
        #expect(try w.ledger("points").map { $0["points"] as? Int } == [20, -20, 20])
        #expect(!(try w.read("site/index.html")).contains("Ann"))
        #expect(try w.tally("verify").status == 0)
    }

    @Test("a crash after a new roster's commit, before its copy: the next run puts it in data/roster.csv")
    func rosterCopyAfterCrash() throws {
        let w = try Workspace()
        let first = "id,email,name\nS1,a@x.org,Ann Able\n"
        let second = "id,email,name\nS1,a@x.org,Ann Able\nS2,b@x.org,Bob Bee\n"
        try w.write("inbox/roster-1.csv", first)
        #expect(try w.tally("sync").status == 0)
        #expect(try w.read("data/roster.csv") == first)
        try w.write("inbox/roster-2.csv", second)
        let crashed = try w.tally("sync", environment: ["TALLY_CRASH_AT": "snapshot-written"])
        #expect(crashed.status != 0)
        #expect(try w.read("data/roster.csv") == first)
        #expect(try w.tally("sync").status == 0)
        #expect(try w.read("data/roster.csv") == second)
        #expect(w.list("inbox").isEmpty)
    }

    @Test("a bulk-award table adds MANUAL points with its reasons")
    func bulkAward() throws {
        let w = try Workspace()
        try w.write("inbox/bonus.csv", "Email,Points,Reason\nada@example.org,15,Helped at the meetup\nbob@example.org,-5,Correction\n")
        #expect(try w.tally("sync").status == 0)
        #expect(try w.xp() == ["ada@example.org": 15, "bob@example.org": -5])
        #expect(try w.ledger("points").map { $0["activity"] as? String } == ["MANUAL", "MANUAL"])
    }

    @Test("a mistyped command, option or missing argument is a usage error, exit 2, with the usage; help and version exit 0")
    func usageErrors() throws {
        let w = try Workspace()
        for arguments in [["nosuch"], ["sync", "--bogus"], ["award", "ada@example.org", "5"], ["link", "ada@example.org"],
                          ["stats", "--log-format", "xml"]] {
            let run = try w.tally(arguments)
            #expect(run.status == 2, "\(arguments): \(run.status)")
            #expect(run.stderr.contains("Error:") && run.stderr.contains("Usage:"), "\(arguments): \(run.stderr)")
        }
        #expect(try w.tally("award", "ada@example.org", "5").stderr.contains("--reason"))
        #expect(try w.tally("--help").status == 0)
        #expect(try w.tally("sync", "--help").status == 0)
        // `sign`'s help names its own option for a site's secret, not the site folder's.
        let sign = try w.tally("sign", "--help").stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(sign.contains("a [kajabi.sites] secret with --site-name NAME"), "\(sign)")
        let version = try w.tally("--version")
        #expect(version.status == 0 && version.stdout.contains("0.1.0"))
    }

    @Test("sign -o writes through a link, a device, a FIFO and standard output instead of replacing them; a file is replaced")
    func signOutput() throws {
        let w = try Workspace()
        try w.write("tally.toml", "[kajabi]\nsecret = \"x-secret-123456\"\n")
        try w.write("ok.json", "{\"email\":\"ok@school.example\",\"course\":\"AI 1\"}")
        try w.write("out/real.json", "old")
        let path = { (name: String) in w.root.appendingPathComponent(name).path }
        func type(_ name: String) -> mode_t {
            var info = stat()
            return lstat(path(name), &info) == 0 ? info.st_mode & S_IFMT : 0
        }
        let links = [("out/link.json", "real.json"), ("out/stdout", "/dev/stdout"), ("out/null", "/dev/null"), ("out/fd1", "/proc/self/fd/1")]
        for (link, target) in links { #expect(symlink(target, path(link)) == 0) }

        // A link to a file: the file gets the capture, the link stays.
        #expect(try w.tally("sign", "ok.json", "-o", "out/link.json").status == 0)
        #expect(type("out/link.json") == S_IFLNK && type("out/real.json") == S_IFREG)
        #expect(try w.read("out/real.json").contains("X-Kajabi-Signature"))
        // Standard output, by a link to /dev/stdout or /proc/self/fd/1; a device.
        for link in ["out/stdout", "out/fd1"] {
            let run = try w.tally("sign", "ok.json", "-o", link)
            #expect(run.status == 0 && run.stdout.contains("X-Kajabi-Signature"), "\(link): \(run.stderr)")
        }
        #expect(try w.tally("sign", "ok.json", "-o", "out/null").status == 0)
        #expect(["out/stdout", "out/null", "out/fd1"].allSatisfy { type($0) == S_IFLNK })
        // A FIFO with a reader (this test, so that nothing waits on a FIFO a rename took away).
        #expect(mkfifo(path("out/pipe"), 0o600) == 0)
        let reader = open(path("out/pipe"), O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0)
        defer { close(reader) }
        #expect(try w.tally("sign", "ok.json", "-o", "out/pipe").status == 0)
        #expect(type("out/pipe") == S_IFIFO)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let count = read(reader, &buffer, buffer.count)
        #expect(String(decoding: buffer[0..<max(count, 0)], as: UTF8.self).contains("X-Kajabi-Signature"))
        // A regular file is still replaced atomically.
        #expect(try w.tally("sign", "ok.json", "-o", "out/new.json").status == 0)
        #expect(try w.read("out/new.json").contains("X-Kajabi-Signature"))
    }

    @Test("an explicit --config that does not exist is a usage error, exit 2")
    func missingConfig() throws {
        let w = try Workspace()
        let run = try w.tally("sync", "--config", "nope.toml")
        #expect(run.status == 2)
        #expect(run.stderr.contains("nope.toml"))
    }
}
