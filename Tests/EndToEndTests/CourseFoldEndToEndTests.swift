import Foundation
import Testing

/// One course per folded name: `Data Literacy 101`, `data literacy 101`, `Data  Literacy 101`
/// and `Data Literacy\u{A0}101` are one course, awarded once per student and shown by the
/// first spelling; and a data directory written before, which counted them apart, still reads.
@Suite("spellings of one course, end to end")
struct CourseFoldEndToEndTests {
    /// A data directory written by the Tally before the fold (see its README).
    static let beforeFold: URL = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("Tests/TallyKitTests/Fixtures/before-fold")
    }()

    /// A workspace holding a copy of the data directory written before the fold.
    static func beforeFoldWorkspace() throws -> Workspace {
        let w = try Workspace()
        for item in ["tally.toml", "data", "site"] {
            try FileManager.default.copyItem(at: beforeFold.appendingPathComponent(item), to: w.root.appendingPathComponent(item))
        }
        return w
    }

    /// The rows of a ledger: each event's (student, course as written, status), in order.
    static func decisions(_ w: Workspace) throws -> [[String]] {
        try w.ledger("events").map { [$0["student"] as? String ?? "-", $0["course"] as? String ?? "-", $0["status"] as? String ?? "-"] }
    }

    @Test("case, inner spaces, a no-break space and a zero-width space make no second course: points once, duplicates, [points.courses] and badges by any spelling, one course page")
    func oneCourse() throws {
        let w = try Workspace()
        // The configuration names the course in spellings of its own.
        try w.write("tally.toml", """
            [points.courses]
            "data literacy  101" = 30
            [[badges]]
            id = "dl"
            name = "Data literate"
            courses = ["DATA LITERACY 101"]
            """)
        // Plain rows (the byte lane) and rows that are not (a trailing space, non-ASCII).
        try w.write("inbox/completions.csv", """
            Timestamp,Email Address,Course
            1/31/2024 10:00:00,ada@example.com,Data Literacy 101
            2/1/2024 10:00:00,ada@example.com,data literacy 101
            2/1/2024 10:00:00,bob@example.com,Data literacy 101
            2/2/2024 10:00:00,bob@example.com,Data Literacy 101\u{20}
            2/3/2024 10:00:00,bob@example.com,Data  Literacy 101
            2/3/2024 10:00:00,cy@example.com,Data\u{A0}Literacy 101
            2/4/2024 10:00:00,cy@example.com,"Data\u{200B} Literacy\t101"
            2/4/2024 10:00:00,cy@example.com,AI 1
            """)
        // Flat completion events as JSON lines.
        try w.write("inbox/more.jsonl", """
            {"kind":"course_completed","email":"dee@example.com","course":"DATA LITERACY 101","at":"2024-02-05T10:00:00Z"}
            {"kind":"course_completed","email":"dee@example.com","course":"Data Literacy 101","at":"2024-02-06T10:00:00Z"}
            """)
        let sync = try w.tally("sync")
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(try Self.decisions(w) == [
            ["ada@example.com", "Data Literacy 101", "applied"],
            ["ada@example.com", "data literacy 101", "duplicate"],
            ["bob@example.com", "Data literacy 101", "applied"],
            ["bob@example.com", "Data Literacy 101", "duplicate"],
            ["bob@example.com", "Data  Literacy 101", "duplicate"],
            ["cy@example.com", "Data\u{A0}Literacy 101", "applied"],
            ["cy@example.com", "Data\u{200B} Literacy\t101", "duplicate"],
            ["cy@example.com", "AI 1", "applied"],
            ["dee@example.com", "DATA LITERACY 101", "applied"],
            ["dee@example.com", "Data Literacy 101", "duplicate"],
        ])
        let awards = try w.ledger("points").map { "\($0["student"] as? String ?? "") \($0["points"] as? Int ?? -1) \($0["badge"] as? String ?? $0["activity"] as? String ?? "")" }
        #expect(awards == ["ada@example.com 30 LEARN", "ada@example.com 0 dl", "bob@example.com 30 LEARN", "bob@example.com 0 dl",
                           "cy@example.com 30 LEARN", "cy@example.com 0 dl", "cy@example.com 20 LEARN",
                           "dee@example.com 30 LEARN", "dee@example.com 0 dl"])
        #expect(try w.xp() == ["ada@example.com": 30, "bob@example.com": 30, "cy@example.com": 50, "dee@example.com": 30])
        // Shown by the first spelling met, everywhere.
        for id in ["ada@example.com", "bob@example.com", "dee@example.com"] {
            #expect(try w.student(id)?["courses"] as? [String] == ["Data Literacy 101"], "\(id)")
        }
        #expect(try w.student("cy@example.com")?["courses"] as? [String] == ["Data Literacy 101", "AI 1"])
        #expect(w.list("site/courses") == ["ai-1.html", "data-literacy-101.html"])
        let page = try w.read("site/courses/data-literacy-101.html")
        #expect(page.contains("Data Literacy 101") && !page.contains("data literacy 101"))
        let board = try JSONSerialization.jsonObject(with: Data(w.read("site/leaderboard.json").utf8)) as? [String: Any]
        let courses = board?["courses"] as? [[String: Any]] ?? []
        #expect(courses.map { $0["course"] as? String } == ["AI 1", "Data Literacy 101"])
        #expect((courses.last?["students"] as? [Any])?.count == 4)

        let verify = try w.tally("verify")
        #expect(verify.status == 0 && verify.stdout.contains("state.json matches the ledgers"), "\(verify.stdout)\(verify.stderr)")
        let state = try w.read("data/state.json")
        let rebuild = try w.tally("rebuild")
        #expect(rebuild.status == 0, "\(rebuild.stderr)")
        #expect(try w.read("data/state.json") == state)
    }

    @Test("two [points.courses] keys of one course are a configuration error naming both")
    func configNamesBoth() throws {
        let w = try Workspace()
        try w.write("tally.toml", """
            [points.courses]
            "Data Literacy 101" = 30
            "data  literacy 101" = 40
            """)
        let sync = try w.tally("sync")
        #expect(sync.status == 2)
        #expect(sync.stderr.contains("\"Data Literacy 101\"") && sync.stderr.contains("data  literacy 101"), "\(sync.stderr)")
    }

    @Test("the same rows, before and after the fold, give the same event ids and keep the course as written")
    func sameIDs() throws {
        let before = try Self.beforeFoldWorkspace()
        let w = try Workspace()
        try w.write("tally.toml", try before.read("tally.toml"))
        try w.write("inbox/completions.csv", try String(contentsOf: Self.beforeFold.appendingPathComponent("completions.csv"),
                                                         encoding: .utf8))
        let sync = try w.tally("sync")
        #expect(sync.status == 0, "\(sync.stderr)")
        let old = try before.ledger("events"), new = try w.ledger("events")
        #expect(new.count == 7 && old.count == 7)
        #expect(new.map { $0["id"] as? String } == old.map { $0["id"] as? String })
        #expect(new.map { $0["course"] as? String } == old.map { $0["course"] as? String })
        #expect(new.map { $0["status"] as? String } == ["applied", "duplicate", "applied", "duplicate", "duplicate", "applied", "applied"])
        // A cumulative export dropped on the data written before: every row is known by its id.
        try before.write("inbox/completions-again.csv", try String(contentsOf: Self.beforeFold.appendingPathComponent("completions.csv"),
                                                                    encoding: .utf8) + "\n")
        let again = try before.tally("sync")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try before.ledger("events").dropFirst(7).allSatisfy { $0["status"] as? String == "duplicate" })
        #expect(try before.ledger("points").count == 9)
    }

    @Test("a data directory written before the fold, with four spellings of one course each awarded, reads as one course with the awards its ledgers hold")
    func dataWrittenBefore() throws {
        let w = try Self.beforeFoldWorkspace()
        let events = try w.read("data/events.jsonl"), points = try w.read("data/points.jsonl")
        #expect(w.list("site/courses").count == 4)

        // Before any run of this Tally: verify finds nothing wrong, and says what is of its time.
        let verify = try w.tally("verify")
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("\nok\n") && verify.stderr.isEmpty, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("state.json lists spellings of one course apart for 3 students"), "\(verify.stdout)")
        #expect(verify.stdout.contains("index.bin numbers two spellings of one course apart"), "\(verify.stdout)")

        // A run: the awards stand (rules are not retroactive), the course is one, shown as first met.
        let sync = try w.tally("sync")
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(try w.read("data/events.jsonl") == events && w.read("data/points.jsonl") == points)
        #expect(try w.xp() == ["ada@example.com": 50, "bob@example.com": 70, "cy@example.com": 40])
        #expect(try w.student("ada@example.com")?["courses"] as? [String] == ["Data Literacy 101"])
        #expect(try w.student("bob@example.com")?["courses"] as? [String] == ["Data Literacy 101"])
        #expect(try w.student("cy@example.com")?["courses"] as? [String] == ["Data Literacy 101", "AI 1"])
        #expect(try w.student("bob@example.com")?["badges"] as? [String] == ["dl"])
        let synced = try w.read("data/state.json")
        let rebuild = try w.tally("rebuild")
        #expect(rebuild.status == 0, "\(rebuild.stderr)")
        #expect(try w.read("data/state.json") == synced)
        // Rendered (by rebuild here; by the next drop or `tally render` otherwise): one page.
        #expect(w.list("site/courses") == ["ai-1.html", "data-literacy-101.html"])
        let after = try w.tally("verify")
        #expect(after.status == 0 && after.stdout.contains("index.bin matches the ledgers"), "\(after.stdout)\(after.stderr)")
        #expect(!after.stdout.contains("apart"), "\(after.stdout)")

        // From now on, one course: a new spelling is a duplicate, a new student earns it once.
        try w.write("inbox/march.csv", """
            Timestamp,Email Address,Course
            3/1/2024 10:00:00,ada@example.com,DATA LITERACY 101
            3/1/2024 10:00:00,dee@example.com,data literacy 101
            3/2/2024 10:00:00,dee@example.com,Data Literacy 101
            """)
        let march = try w.tally("sync")
        #expect(march.status == 0, "\(march.stderr)")
        #expect(try Self.decisions(w).suffix(3) == [["ada@example.com", "DATA LITERACY 101", "duplicate"],
                                                    ["dee@example.com", "data literacy 101", "applied"],
                                                    ["dee@example.com", "Data Literacy 101", "duplicate"]])
        #expect(try w.xp()["dee@example.com"] == 30)
        #expect(try w.student("dee@example.com")?["courses"] as? [String] == ["Data Literacy 101"])
    }

    @Test("tally render of a state.json written before the fold shows one page per course")
    func renderBefore() throws {
        let w = try Self.beforeFoldWorkspace()
        let render = try w.tally("render")
        #expect(render.status == 0, "\(render.stderr)")
        #expect(w.list("site/courses") == ["ai-1.html", "data-literacy-101.html"])
    }
}
