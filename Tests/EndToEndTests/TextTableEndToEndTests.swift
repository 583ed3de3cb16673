import Foundation
import Testing

/// Text tables as real producers write them: Python's csv module with `;` and tabs, Excel's
/// UTF-16 "Unicode Text", and text in another encoding.
@Suite("Text tables, end to end")
struct TextTableEndToEndTests {
    /// Runs a Python snippet in the workspace (Python's csv module is the producer).
    func python(_ w: Workspace, _ script: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        process.currentDirectoryURL = w.root
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    static let rows = """
        rows = [["Timestamp", "Email Address", "Name", "Course"],
                ["02/09/2024 10:30:00", "zoë@example.org", "Zoë Ångström", "Données 101"],
                ["25/09/2024 08:00:00", "li@example.org", "李 小龍", "AI Foundations"]]
        """

    @Test("semicolon CSV (UTF-8 with BOM) and UTF-16 tab-separated text from Python's csv module give the same exact events",
          arguments: [
            ("semicolon.csv", "open('inbox/semicolon.csv', 'w', encoding='utf-8-sig', newline='')", "delimiter=';'"),
            ("unicode.txt", "open('inbox/unicode.txt', 'w', encoding='utf-16', newline='')", "delimiter='\\t'"),
            ("unicode-be.csv", "open('inbox/unicode-be.csv', 'w', encoding='utf-16-be', newline='')", "delimiter=','"),
          ])
    func producers(name: String, opener: String, dialect: String) throws {
        let w = try Workspace()
        let bom = name == "unicode-be.csv" ? "f.write('\\ufeff'); " : ""
        try python(w, Self.rows + "\nimport csv\nwith \(opener) as f:\n    \(bom)csv.writer(f, \(dialect)).writerows(rows)\n")
        let run = try w.tally("sync")
        #expect(run.status == 0, "\(run.stderr)")
        let events = try w.ledger("events")
        #expect(events.map { $0["email"] as? String } == ["zoë@example.org", "li@example.org"])
        #expect(events.map { $0["name"] as? String } == ["Zoë Ångström", "李 小龍"])
        #expect(events.map { $0["course"] as? String } == ["Données 101", "AI Foundations"])
        // 25/09 can only be day-first, so the whole file is read day-first: 2 September.
        #expect(events.map { $0["at"] as? String } == ["2024-09-02T10:30:00Z", "2024-09-25T08:00:00Z"])
        #expect(w.list("data/archive") == [name])
    }

    @Test("text in another encoding is refused whole, saying how to save it")
    func latin1() throws {
        let w = try Workspace()
        try python(w, "open('inbox/latin1.csv', 'w', encoding='latin-1').write('Email,Name,Course\\nrene@example.org,René,AI\\n')")
        let run = try w.tally("sync")
        #expect(run.status == 1)
        #expect(try w.read("data/failed/latin1.csv.error.txt").contains("not UTF-8"))
        #expect(try w.read("data/failed/latin1.csv.error.txt").contains("CSV UTF-8"))
    }
}
