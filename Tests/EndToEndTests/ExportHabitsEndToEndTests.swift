import Foundation
import Testing

/// What spreadsheets and form tools put in their exports besides the rows — bare quiz
/// scores, optional date questions, rows of empty cells, a placeholder alias in a roster —
/// through the real binary.
@Suite("export habits, end to end")
struct ExportHabitsEndToEndTests {
    /// `kind email at` of each event, and `row reason` of each rejected row.
    func outcome(_ w: Workspace) throws -> (events: [String], rejected: [String]) {
        let events = try w.ledger("events").map {
            "\($0["kind"] as? String ?? "?") \($0["email"] as? String ?? "?") \($0["at"] as? String ?? "?")"
        }
        let rejected = try w.ledger("rejected").map { "\($0["row"] as? Int ?? -1) \($0["reason"] as? String ?? "?")" }
        return (events, rejected)
    }

    @Test("a bare quiz score above 1 is refused with how to write it; a bare fraction, a `/` score and a % are compared to pass")
    func bareQuizScores() throws {
        let w = try Workspace()
        try w.write("tally.toml", "[points]\nquiz_passed = 5\n[[sources]]\nfiles = \"quiz-*\"\nquiz = \"Module 1 Quiz\"\npass = 0.7\n")
        try w.write("inbox/quiz-export.csv", """
            Timestamp,Email Address,Score
            1/31/2024 14:03:04,a@example.com,3 / 10
            1/31/2024 14:03:04,b@example.com,3
            1/31/2024 14:03:04,c@example.com,50
            1/31/2024 14:03:04,d@example.com,50%
            1/31/2024 14:03:04,e@example.com,0.5
            1/31/2024 14:03:04,f@example.com,0.8
            1/31/2024 14:03:04,g@example.com,8 / 10

            """)
        let run = try w.tally("sync")
        #expect(run.status == 1)
        let (events, rejected) = try outcome(w)
        #expect(events == ["quiz_failed a@example.com 2024-01-31T14:03:04Z", "quiz_failed d@example.com 2024-01-31T14:03:04Z",
                           "quiz_failed e@example.com 2024-01-31T14:03:04Z", "quiz_passed f@example.com 2024-01-31T14:03:04Z",
                           "quiz_passed g@example.com 2024-01-31T14:03:04Z"])
        let advice = "write it as points of a maximum, such as \"8 / 10\", or as a percentage, such as \"80%\"; a bare number is read only from 0 to 1, as a fraction (0.8 is 80%)"
        #expect(rejected == ["3 score \"3\" for quiz \"Module 1 Quiz\" has no maximum (3 of what? 3%?): " + advice,
                             "4 score \"50\" for quiz \"Module 1 Quiz\" has no maximum (50 of what? 50%?): " + advice])
        #expect(try w.xp().filter { $0.value != 0 } == ["f@example.com": 5, "g@example.com": 5])
        #expect(run.stderr.contains("quiz-export.csv row 3 rejected: score \"3\""))
    }

    @Test("an empty optional date cell takes the row's Timestamp, not the file's time")
    func optionalDate() throws {
        let w = try Workspace()
        try w.write("inbox/optdate.csv", """
            Timestamp,Email Address,Course,Completion date
            1/31/2024 14:03:04,ada@example.com,AI 1,1/30/2024
            1/31/2024 15:00:00,bob@example.com,AI 1,

            """)
        let run = try w.tally("sync")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try outcome(w).events == ["course_completed ada@example.com 2024-01-30T00:00:00Z",
                                          "course_completed bob@example.com 2024-01-31T15:00:00Z"])
    }

    @Test("rows of empty cells, in a CSV and in a workbook, are skipped and the rows after keep their numbers")
    func emptyRows() throws {
        let w = try Workspace()
        try w.write("inbox/emptyrows.csv", "Email,Course,Completed at\r\nada@example.com,AI 1,2024-01-31\r\n,,\r\n , ,\r\n,,\r\nbob@example.com,AI 1,nope\r\n")
        let sheet = WorkbookEndToEndTests.xlsxRow("2", [("A2", "cy@example.com"), ("C2", "AI 2")])
            + WorkbookEndToEndTests.xlsxRow("3", [("A3", " ")])
            + WorkbookEndToEndTests.xlsxRow("4", [("A4", ""), ("B4", " "), ("C4", "")])
            + WorkbookEndToEndTests.xlsxRow("5", [("B5", "Nobody"), ("C5", "AI 2")])
        try WorkbookEndToEndTests.xlsx(sheet).write(to: w.root.appendingPathComponent("inbox/gaps.xlsx"))
        try w.touch("inbox/gaps.xlsx")
        let run = try w.tally("sync")
        #expect(run.status == 1)
        let (events, rejected) = try outcome(w)
        #expect(events.count == 2 && events[0].hasPrefix("course_completed ada@example.com") && events[1].hasPrefix("course_completed cy@example.com"))
        #expect(rejected == ["6 unreadable date \"nope\" (expected ISO 8601, m/d/yyyy or dd.mm.yyyy)", "5 no email address"])
    }

    @Test("a roster row with a placeholder alias keeps its student, who keeps their points; the alias is rejected on its own")
    func rosterAlias() throws {
        let w = try Workspace()
        try w.write("inbox/comp.csv", "Email,Course,Completed at\nada@example.com,AI 1,2024-01-31\nbob@example.com,AI 1,2024-01-31\n")
        try w.write("inbox/roster-alias.csv", "id,email,name,aliases\nS1,ada@example.com,Ada,\"ada@old.example; n/a\"\nS2,bob@example.com,Bob,\n")
        let run = try w.tally("sync")
        #expect(run.status == 1)
        #expect(try w.xp() == ["S1": 20, "S2": 20])
        let rejected = try w.ledger("rejected")
        #expect(rejected.count == 1)
        #expect(rejected.first?["file"] as? String == "roster-alias.csv")
        #expect(rejected.first?["row"] as? Int == 2)
        #expect(rejected.first?["reason"] as? String
                == "alias \"n/a\" is not a valid email address: left out; student S1 is kept with ada@example.com, ada@old.example")
        #expect(try w.ledger("unmatched").isEmpty)
        // The valid alias is Ada's: a completion under it is hers, once.
        try w.write("inbox/comp-2.csv", "Email,Course,Completed at\nada@old.example,AI 2,2024-02-01\n")
        #expect(try w.tally("sync").status == 0)
        #expect(try w.xp() == ["S1": 40, "S2": 20])
    }
}
