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
        #expect(try w.tally("rebuild").stdout.contains("it matched the previous snapshot"))
        #expect(try w.tally("verify").status == 0)
    }
}
