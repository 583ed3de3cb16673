import Foundation
import Testing

/// Quizzes, unlocks, levels and badges as tally.toml configures them, through the real binary:
/// exact `state.json`, and a rebuild that agrees.
@Suite("quizzes, levels and badges, end to end")
struct GamificationEndToEndTests {
    @Test("a Google Forms quiz export against its pass mark, unlocks, level and badge thresholds: exact state.json")
    func quizLevelsBadges() throws {
        let w = try Workspace()
        try w.write("tally.toml", """
            [points]
            quiz_passed = 5
            [[levels]]
            name = "Explorer"
            xp = 0
            [[levels]]
            name = "Practitioner"
            xp = 40
            [[badges]]
            id = "first-course"
            name = "First course"
            completions = 1
            [[badges]]
            id = "ai-track"
            name = "AI track"
            courses = ["AI 1", "AI 2"]
            [[unlocks]]
            quiz = "Module 1 Quiz"
            step = "module-2"
            [[sources]]
            files = "quiz-*.csv"
            quiz = "Module 1 Quiz"
            pass = 0.7
            """)
        try w.write("inbox/completions.csv", """
            Email,Course,Completed at
            ada@example.org,AI 1,2024-09-02T10:00:00Z
            ada@example.org,AI 2,2024-09-03T10:00:00Z
            bob@example.org,AI 2,2024-09-03T11:00:00Z
            """)
        // Google Forms quiz export: 7 / 10 is exactly the mark (a pass), 6 / 10 a fail.
        try w.write("inbox/quiz-module-1.csv", """
            Timestamp,Email Address,Score
            2024/09/04 9:00:00 AM GMT,ada@example.org,7 / 10
            2024/09/04 9:05:00 AM GMT,bob@example.org,6 / 10
            2024/09/04 9:10:00 AM GMT,cy@example.org,10 / 10
            """)
        let run = try w.tally("sync")
        #expect(run.status == 0, "\(run.stderr)")
        func student(_ id: String) throws -> [String: Any] { try #require(try w.student(id)) }
        let ada = try student("ada@example.org")
        #expect(ada["xp"] as? Int == 45 && ada["level"] as? String == "Practitioner")
        #expect(ada["badges"] as? [String] == ["first-course", "ai-track"] && ada["unlocks"] as? [String] == ["module-2"])
        #expect(ada["courses"] as? [String] == ["AI 1", "AI 2"])
        let bob = try student("bob@example.org")
        #expect(bob["xp"] as? Int == 20 && bob["level"] as? String == "Explorer")
        #expect(bob["badges"] as? [String] == ["first-course"] && bob["unlocks"] as? [String] == [])
        let cy = try student("cy@example.org")
        #expect(cy["xp"] as? Int == 5 && cy["level"] as? String == "Explorer" && cy["unlocks"] as? [String] == ["module-2"])
        #expect(cy["badges"] as? [String] == [] && cy["courses"] as? [String] == [])
        let kinds = try w.ledger("events").map { "\($0["email"] as? String ?? "") \($0["kind"] as? String ?? "")" }
        #expect(kinds.suffix(3) == ["ada@example.org quiz_passed", "bob@example.org quiz_failed", "cy@example.org quiz_passed"])
        #expect(try w.tally("rebuild").stdout.contains("it matched the previous state.json byte for byte"))
        #expect(try w.tally("verify").status == 0)
    }

    @Test("a changed [[levels]] table shows at once in tally render, and state.json takes it at the next batch")
    func levelsChange() throws {
        let w = try Workspace()
        func levels(_ practitioner: Int) throws {
            try w.write("tally.toml", "[[levels]]\nname = \"Explorer\"\nxp = 0\n[[levels]]\nname = \"Practitioner\"\nxp = \(practitioner)\n")
        }
        try levels(40)
        try w.write("inbox/a.csv", "Email,Name,Course\nada@example.org,Ada Lovelace,AI 1\nada@example.org,Ada Lovelace,AI 2\n")
        #expect(try w.tally("sync").status == 0)
        #expect(try w.read("site/index.html").contains(#"<span class="level">Practitioner</span>"#))
        try levels(60)
        #expect(try w.tally("render").status == 0)
        let html = try w.read("site/index.html")
        #expect(html.contains(#"<span class="level">Explorer</span>"#) && !html.contains("Practitioner</span>"))
        #expect(try w.read("site/leaderboard.json").contains(#""level" : "Explorer""#))
        // verify does not take a changed table for damage to the ledgers.
        let verify = try w.tally("verify")
        #expect(verify.status == 0, "\(verify.stdout)")
        #expect(verify.stdout.contains("state.json names the levels of 1 student by an earlier [[levels]] table"), "\(verify.stdout)")
        try w.write("inbox/b.csv", "Email,Name,Course\nbob@example.org,Bob Brown,AI 1\n")
        #expect(try w.tally("sync").status == 0)
        #expect(try w.student("ada@example.org")?["level"] as? String == "Explorer")
    }

    @Test("caps per rolling window cut awards in points.jsonl; the this-month board ranks this month's points")
    func capsAndThisMonth() throws {
        let w = try Workspace()
        try w.write("tally.toml", """
            [[caps]]
            activity = "LEARN"
            max = 40
            days = 7
            """)
        // This month and the one before, in UTC, as the board counts them.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let now = calendar.dateComponents([.year, .month], from: Date())
        let (year, month) = (now.year!, now.month!)
        let (lastYear, lastMonth) = month == 1 ? (year - 1, 12) : (year, month - 1)
        func day(_ y: Int, _ m: Int, _ d: Int, _ time: String) -> String { String(format: "%04d-%02d-%02dT", y, m, d) + time + "Z" }
        try w.write("inbox/completions.csv", """
            Email,Name,Course,Completed at
            ada@example.org,Ada Lovelace,A,\(day(lastYear, lastMonth, 1, "10:00:00"))
            ada@example.org,Ada Lovelace,B,\(day(lastYear, lastMonth, 2, "10:00:00"))
            ada@example.org,Ada Lovelace,C,\(day(lastYear, lastMonth, 3, "10:00:00"))
            ada@example.org,Ada Lovelace,D,\(day(year, month, 1, "00:00:00"))
            ada@example.org,Ada Lovelace,E,\(day(year, month, 1, "00:00:01"))
            ada@example.org,Ada Lovelace,F,\(day(year, month, 1, "00:00:02"))
            bob@example.org,Bob Babbage,A,\(day(year, month, 1, "00:00:00"))
            cy@example.org,Cy Young,A,\(day(lastYear, lastMonth, 1, "10:00:00"))
            """)
        let run = try w.tally("sync")
        #expect(run.status == 0, "\(run.stderr)")
        let points = try w.ledger("points").map { "\($0["student"] as? String ?? "") \($0["points"] as? Int ?? -1) \($0["reason"] as? String ?? "")" }
        #expect(points == [
            "ada@example.org 20 completed A", "ada@example.org 20 completed B",
            "ada@example.org 0 completed C (capped: LEARN at most 40 in 7 days)",
            "ada@example.org 20 completed D", "ada@example.org 20 completed E",
            "ada@example.org 0 completed F (capped: LEARN at most 40 in 7 days)",
            "bob@example.org 20 completed A", "cy@example.org 20 completed A",
        ])
        let this = String(format: "%04d-%02d", year, month), last = String(format: "%04d-%02d", lastYear, lastMonth)
        let ada = try #require(try w.student("ada@example.org"))
        #expect(ada["xp"] as? Int == 80 && ada["courses"] as? [String] == ["A", "B", "C", "D", "E", "F"])
        #expect(ada["months"] as? [String: Int] == [last: 40, this: 40])
        #expect(try w.student("cy@example.org")?["months"] as? [String: Int] == [last: 20])

        let board = try #require(try JSONSerialization.jsonObject(with: Data(w.read("site/leaderboard.json").utf8)) as? [String: Any])
        let thisMonth = try #require(board["month"] as? [String: Any])
        #expect(thisMonth["month"] as? String == this)
        let rows = (thisMonth["students"] as? [[String: Any]] ?? []).map { "\($0["rank"] as? Int ?? 0) \($0["name"] as? String ?? "") \($0["xp"] as? Int ?? 0)" }
        #expect(rows == ["1 Ada L. 40", "2 Bob B. 20"])
        let page = try w.read("site/month.html")
        #expect(page.contains("Ada L.") && page.contains("Bob B.") && !page.contains("Cy Y."))
        #expect(try w.read("site/index.html").contains("href=\"month.html\""))
        #expect(try w.tally("rebuild").stdout.contains("it matched the previous state.json byte for byte"))
        #expect(try w.tally("verify").status == 0)
    }
}
