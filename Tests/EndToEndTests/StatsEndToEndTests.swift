import Foundation
import Testing

/// `tally stats`, `data/stats.json` and `data/metrics.prom`, from the real binary.
@Suite("tally stats and metrics.prom")
struct StatsEndToEndTests {
    static func drop(_ w: Workspace, _ name: String, _ text: String) throws { try w.write("inbox/" + name, text) }

    static let export = """
        Timestamp,Email Address,Name,Course
        9/2/2024 10:30:00,ada@example.org,Ada Lovelace,AI Foundations
        9/2/2024 11:30:00,grace@example.org,Grace Hopper,AI Foundations
        9/3/2024 09:00:00,ada@example.org,Ada Lovelace,AI Foundations
        9/3/2024 09:30:00,not-an-email,Nobody,AI Foundations
        """

    /// The figures of `tally stats --json`, without the line a batch adds (`generated_at`).
    static func figures(_ w: Workspace) throws -> [String: Any] {
        let run = try w.tally("stats", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        var json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] ?? [:]
        json["generated_at"] = nil
        json["students"] = nil
        return json
    }

    @Test("after a batch: exact counts in stats --json, the human table and metrics.prom; a recount from the ledgers agrees")
    func counts() throws {
        let w = try Workspace()
        try Self.drop(w, "export.csv", Self.export)
        try Self.drop(w, "again.csv", Self.export)      // same content: skipped
        try Self.drop(w, "broken.json", "{\"email\": ")  // bad JSON: failed
        try Self.drop(w, "award.jsonl", #"{"email": "grace@example.org", "kind": "manual_award", "points": 5, "reason": "helped"}"# + "\n")
        #expect(try w.tally("sync").status == 1)

        let figures = try Self.figures(w)
        let events = figures["events"] as? [String: [String: Int]]
        #expect(events == ["course_completed": ["applied": 2, "duplicate": 1, "unmatched": 0],
                           "manual_award": ["applied": 1, "duplicate": 0, "unmatched": 0]])
        #expect(figures["rejected_rows"] as? Int == 1 && figures["moves"] as? Int == 0)
        #expect(figures["files"] as? [String: Int] == ["done": 2, "failed": 1, "skipped": 1, "rosters": 0])
        #expect(figures["points_awarded"] as? Int == 45 && figures["points_revoked"] as? Int == 0)
        #expect(figures["matched_rate"] as? Double == 1 && figures["duplicate_rate"] as? Double == 0.25)
        #expect((figures["processing_ms"] as? [String: Int])?["files"] == 2)

        let table = try w.tally("stats").stdout
        #expect(table.contains("  course_completed              2          1          0\n  manual_award                  1          0          0\n"))
        #expect(table.contains("duplicate rate            25.0 %"))
        #expect(table.contains("files                     2 done, 1 failed, 1 already processed, 0 rosters"))
        #expect(table.contains("students                  2"))

        let metrics = try w.read("data/metrics.prom")
        for line in [#"tally_events_total{kind="course_completed",status="applied"} 2"#,
                     #"tally_events_total{kind="course_completed",status="duplicate"} 1"#,
                     #"tally_files_total{outcome="failed"} 1"#, "tally_rejected_rows_total 1",
                     "tally_points_awarded_total 45", "tally_students 2", #"tally_ledger_lines{ledger="events"} 4"#,
                     "# TYPE tally_events_total counter"] {
            #expect(metrics.contains(line + "\n"), "\(line)")
        }

        // stats.json is derived: without it, the ledgers give the same figures.
        try FileManager.default.removeItem(at: w.root.appendingPathComponent("data/stats.json"))
        var recounted = try Self.figures(w)
        recounted["processing_ms"] = nil
        var kept = figures
        kept["processing_ms"] = nil
        #expect(NSDictionary(dictionary: recounted).isEqual(to: kept))
    }

    @Test("site/stats.html: counts for the course creator, linked from every page, and nobody's name or email")
    func page() throws {
        let w = try Workspace()
        try w.write("tally.toml", """
            [[levels]]
            name = "Explorer"
            xp = 0
            [[levels]]
            name = "Scholar"
            xp = 40
            [[badges]]
            id = "first"
            name = "First <course>"
            completions = 1
            """)
        try Self.drop(w, "export.csv", Self.export + "\n9/4/2024 09:30:00,ada@example.org,Ada Lovelace,Data & Ethics\n"
                      + "9/5/2024 09:30:00,grace@example.org,Grace Hopper,Write to ada@secret.example\n")
        #expect(try w.tally("sync").status == 1)
        let html = try w.read("site/stats.html")
        for fragment in ["<dt>Students</dt><dd>2</dd>", "<dt>Courses completed</dt><dd>4</dd>", "<dt>XP earned</dt><dd>80</dd>",
                         "<dt>Repeats recognised</dt><dd>1 (20 %)</dd>", "<dt>Rows rejected</dt><dd>1</dd>",
                         "<tr><td>AI Foundations</td><td>2</td></tr><tr><td>Data &amp; Ethics</td><td>1</td></tr>",
                         // A course's name with an email in it is shown as the boards show it.
                         "<tr><td>Write to (email hidden)</td><td>1</td></tr>",
                         "<tr><td>Explorer</td><td>0</td></tr><tr><td>Scholar</td><td>2</td></tr>",
                         "<tr><td>First &lt;course&gt;</td><td>2</td></tr>"] {
            #expect(html.contains(fragment), "\(fragment)")
        }
        for personal in ["ada", "Ada", "grace", "Grace", "@example.org", "secret"] { #expect(!html.contains(personal), "\(personal)") }
        #expect(try w.read("site/index.html").contains("<a href=\"stats.html\">Stats</a>"))
        #expect(try w.read("site/courses/ai-foundations.html").contains("<a href=\"../stats.html\">Stats</a>"))

        // tally render makes it again from stats.json and state.json.
        try FileManager.default.removeItem(at: w.root.appendingPathComponent("site"))
        #expect(try w.tally("render").status == 0)
        #expect(try w.read("site/stats.html").contains("<dt>Courses completed</dt><dd>4</dd>"))
        #expect(!(try w.read("site/stats.html")).contains("secret"))
    }

    @Test("stats reads only: with a data folder that does not exist it says so, exits 1 and makes nothing")
    func missingData() throws {
        let w = try Workspace()
        let run = try w.tally("stats", "--data", "dta")
        #expect(run.status == 1)
        #expect(run.stderr == "tally: dta does not exist: nothing to count\n")
        #expect(!w.exists("dta"))
    }

    @Test("a stats.json left behind by a crash is brought forward over the newer ledger lines")
    func behind() throws {
        let w = try Workspace()
        try Self.drop(w, "export.csv", Self.export)
        #expect(try w.tally("sync").status == 1)
        let old = try w.read("data/stats.json")
        try Self.drop(w, "more.csv", "Email,Course\nkat@example.org,Prompt Design\nkat@example.org,Prompt Design\n")
        #expect(try w.tally("sync").status == 0)
        let current = try Self.figures(w)
        try w.write("data/stats.json", old)
        #expect(NSDictionary(dictionary: try Self.figures(w)).isEqual(to: current))
        #expect((current["events"] as? [String: [String: Int]])?["course_completed"] == ["applied": 3, "duplicate": 2, "unmatched": 0])

        // The next start of the engine adopts it too: the next batch adds to the right figures.
        try w.write("data/stats.json", old)
        try Self.drop(w, "last.csv", "Email,Course\nlin@example.org,Prompt Design\n")
        #expect(try w.tally("sync").status == 0)
        #expect((try Self.figures(w)["events"] as? [String: [String: Int]])?["course_completed"] == ["applied": 4, "duplicate": 2, "unmatched": 0])
        #expect(try w.read("data/metrics.prom").contains(#"tally_events_total{kind="course_completed",status="applied"} 4"#))
    }

    @Test("under tally watch, metrics.prom is replaced after every batch")
    func daemon() throws {
        let w = try Workspace()
        let daemon = try Daemon(w)
        defer { daemon.kill9() }
        #expect(eventually { daemon.log.contains("watching") })
        try Self.drop(w, "one.csv", "Email,Course\nada@example.org,AI\n")
        #expect(eventually { (try? w.read("data/metrics.prom"))?.contains("tally_points_awarded_total 20\n") == true })
        try Self.drop(w, "two.csv", "Email,Course\ngrace@example.org,AI\n")
        #expect(eventually { (try? w.read("data/metrics.prom"))?.contains("tally_points_awarded_total 40\n") == true })
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit(seconds: 15)?.status == 0)
    }
}
