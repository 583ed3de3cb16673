import Foundation
import Testing

/// What spreadsheets and form tools put in their exports besides the rows — bare quiz
/// scores, optional date questions, rows of empty cells, a placeholder alias in a roster,
/// Excel's `sep=` line, headers full of the other delimiters — through the real binary.
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

    @Test("a yes/no column taken for the course (Course completed?) rejects its rows with the reason; no course is named Yes")
    func yesNoCourse() throws {
        let w = try Workspace()
        try w.write("inbox/yesno.csv", """
            Timestamp,Email Address,Which course did you take?,Course completed?
            1/31/2024 10:00:00,ada@example.com,AI Foundations 1,Yes
            1/31/2024 11:00:00,bob@example.com,Prompt Design,no

            """)
        let run = try w.tally("sync")
        #expect(run.status == 1)
        let reason = "an answer, not a course name (a \"Course completed?\" question?): name the course column with "
            + "`[[sources]] columns.course`, or the course with `[[sources]] course`"
        #expect(try outcome(w).rejected == ["2 the course column holds \"Yes\", " + reason, "3 the course column holds \"no\", " + reason])
        #expect(try w.ledger("events").isEmpty)
        // Named, the real course column is read.
        let named = try Workspace()
        try named.write("tally.toml", "[[sources]]\nfiles = \"*\"\n[sources.columns]\ncourse = \"Which course did you take?\"\n")
        try named.write("inbox/yesno.csv", try w.read("data/archive/yesno.csv"))
        #expect(try named.tally("sync").status == 0)
        #expect(try named.ledger("events").map { $0["course"] as? String } == ["AI Foundations 1", "Prompt Design"])
    }

    @Test("JSON or a roster saved as UTF-16 goes to failed/ saying what it is and how to save it, not 'no email column'")
    func utf16JSONAndRoster() throws {
        func utf16(_ text: String) -> Data { Data([0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }) }
        let w = try Workspace()
        try utf16("[{\"email\":\"ada@example.com\",\"course\":\"AI 1\"}]").write(to: w.root.appendingPathComponent("inbox/ps.json"))
        try utf16("ID\tEmail\tName\r\nS1\tada@example.com\tAda\r\n").write(to: w.root.appendingPathComponent("inbox/roster-u16.txt"))
        #expect(try w.tally("sync").status == 1)
        #expect(try w.read("data/failed/ps.json.error.txt").contains("it is JSON saved as UTF-16 (what Windows PowerShell 5 writes"))
        #expect(try w.read("data/failed/roster-u16.txt.error.txt").contains("it is a roster saved as UTF-16"))
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

    @Test("the rows these fixes touch, read fine before, keep the ids they had (a cumulative export still dedupes)")
    func idsKept() throws {
        let w = try Workspace()
        try w.write("tally.toml", "[[sources]]\nfiles = \"quiz-*\"\nquiz = \"Module 1 Quiz\"\npass = 0.7\n")
        try w.write("inbox/optdate.csv", """
            Timestamp,Email Address,Course,Completion date
            1/31/2024 14:03:04,ada@example.com,AI 1,1/30/2024
            2/1/2024 09:00:00,cy@example.com,AI 2,2/1/2024

            """)
        try w.write("inbox/de.csv", "Email;Course;Completed at\r\nbea@example.com;KI 1;31.01.2024\r\n")
        let unicode = "Timestamp\tEmail Address\tCourse\r\n1/31/2024 14:03:04\tdan@example.com\tAI 1\r\n"
        try (Data([0xFF, 0xFE]) + unicode.data(using: .utf16LittleEndian)!).write(to: w.root.appendingPathComponent("inbox/u16.txt"))
        try w.touch("inbox/u16.txt")
        try w.write("inbox/quiz-1.csv", "Timestamp,Email Address,Score\n1/31/2024 14:03:04,eve@example.com,8 / 10\n1/31/2024 14:05:00,fay@example.com,0.9\n")
        #expect(try w.tally("sync").status == 0)
        // The ids the release before these fixes gave the same files.
        #expect(try w.ledger("events").map { "\($0["id"] as? String ?? "?") \($0["email"] as? String ?? "?")" } == [
            "h-b9fa4cf2ab4d8a38d1dce2a616603912 ada@example.com", "h-74f014f5b9704aeb847a624978250667 cy@example.com",
            "h-dc3f82ab29dad10211163ce841e67ce2 bea@example.com", "h-8ace55c8e524af3ac55eada6af3790a2 dan@example.com",
            "h-086bd6082a7db2a5ee4c3e1b2d4a24c7 eve@example.com", "h-054841c1d2b508f29af64415881a2e40 fay@example.com",
        ])
    }

    @Test("delimiters: UTF-16 text with commas in its header, a comma file with a semicolon question, a German semicolon file")
    func delimiters() throws {
        let w = try Workspace()
        try w.write("tally.toml", "[[sources]]\nfiles = \"de_*\"\n[sources.columns]\ncourse = \"Kurs, Titel\"\nname = \"Name, Vorname\"\n")
        let unicode = "Timestamp\tEmail Address\tCourse\tHow did you hear about us? (friend, ad, search, other)\r\n1/31/2024 14:03:04\tada@example.com\tAI 1\tfriend\r\n"
        try (Data([0xFF, 0xFE]) + unicode.data(using: .utf16LittleEndian)!).write(to: w.root.appendingPathComponent("inbox/u16commas.txt"))
        try w.touch("inbox/u16commas.txt")
        try w.write("inbox/semiq2.csv", "Timestamp,Email Address,Course,Rate the course (1 = poor; 2 = meh; 3 = ok; 4 = good; 5 = great)\n1/31/2024 14:03:04,bob@example.com,AI 1,5\n")
        try w.write("inbox/de_excel.csv", "E-Mail;Name, Vorname;Kurs, Titel\r\ncy@example.com;Lovelace, Ada;KI 1\r\n")
        let run = try w.tally("sync")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(w.list("data/failed").isEmpty)
        let events = try w.ledger("events").map {
            "\($0["email"] as? String ?? "?") \($0["name"] as? String ?? "-") \($0["course"] as? String ?? "?")"
        }
        #expect(events == ["ada@example.com - AI 1", "bob@example.com - AI 1", "cy@example.com Lovelace, Ada KI 1"])
    }

    @Test("Excel's sep=; first line names the delimiter; rows keep the numbers Excel shows (the header is row 1)")
    func separatorLine() throws {
        let w = try Workspace()
        try w.write("inbox/sepline.csv", "sep=;\r\nEmail;Course;Completed at;Name\r\nada@example.com;AI 1;31.01.2024;Ada Lovelace\r\nbob@example.com;AI 1;someday;Bob\r\n")
        let run = try w.tally("sync")
        #expect(run.status == 1)
        let (events, rejected) = try outcome(w)
        #expect(events == ["course_completed ada@example.com 2024-01-31T00:00:00Z"])
        #expect(rejected == ["3 unreadable date \"someday\" (expected ISO 8601, m/d/yyyy or dd.mm.yyyy)"])
    }
}
