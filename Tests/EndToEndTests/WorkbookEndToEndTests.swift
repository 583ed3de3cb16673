import Foundation
import Testing

/// Workbooks dropped into the inbox, read for what they are, hostile ones refused alone.
@Suite("Workbooks, end to end")
struct WorkbookEndToEndTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TallyKitTests/Fixtures/spreadsheets")
    static let corpus = fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/corpus/spreadsheets")

    func drop(_ w: Workspace, _ source: URL, as name: String) throws {
        try w.write("inbox/" + name, "")
        let target = w.root.appendingPathComponent("inbox/" + name)
        try FileManager.default.removeItem(at: target)
        try FileManager.default.copyItem(at: source, to: target)
        try w.touch("inbox/" + name)
    }

    @Test("an XLSX named .csv is read as XLSX; an ODS from odfpy and an 1904 xlsxwriter workbook give exact events")
    func kindsByContent() throws {
        let w = try Workspace()
        try drop(w, Self.fixtures.appendingPathComponent("openpyxl-form.xlsx"), as: "export.csv")
        try drop(w, Self.fixtures.appendingPathComponent("xlsxwriter-1904.xlsx"), as: "completions.xlsx")
        try drop(w, Self.fixtures.appendingPathComponent("odfpy-repeats.ods"), as: "responses.ods")
        let run = try w.tally("sync")
        #expect(run.status == 0, "\(run.stderr)")
        let events = try w.ledger("events").map { "\($0["email"] as? String ?? "") \($0["course"] as? String ?? "") \($0["at"] as? String ?? "") \(($0["source"] as? [String: Any])?["row"] as? Int ?? 0)" }
        #expect(events == [
            "ada@example.org AI Foundations 2024-09-02T10:30:00Z 2",
            "grace@example.org Data Literacy 2024-09-03T11:00:00Z 3",
            "alan@example.org AI Foundations 2024-09-02T10:30:00Z 2",
            "kat@example.org Prompt Design 2024-09-04T09:00:00Z 4",
            "mary@example.org AI Foundations 2024-09-02T10:30:00Z 2",
            "dorothy@example.org Data Literacy 2024-09-05T00:00:00Z 200003",
        ])
    }

    @Test("hostile and broken files are refused one by one with their reason; the good file in the batch still counts")
    func hostileBatch() throws {
        let w = try Workspace()
        try drop(w, Self.fixtures.appendingPathComponent("hostile-xxe.xlsx"), as: "xxe.xlsx")
        try drop(w, Self.fixtures.appendingPathComponent("hostile-laughs.xlsx"), as: "laughs.xlsx")
        try drop(w, Self.fixtures.appendingPathComponent("hostile-bomb.xlsx"), as: "bomb.xlsx")
        try drop(w, Self.fixtures.appendingPathComponent("truncated.xlsx"), as: "truncated.xlsx")
        try drop(w, Self.corpus.appendingPathComponent("pass_protected.xlsx"), as: "locked.xlsx")
        try drop(w, Self.corpus.appendingPathComponent("pass_protected.ods"), as: "locked.ods")
        try w.write("inbox/garbage.csv", String(decoding: [0x00, 0xFF, 0x13, 0x37, 0x00, 0x42], as: UTF8.self))
        try w.write("inbox/good.csv", "Email,Course\nok@example.org,Course A\n")
        let run = try w.tally("sync")
        #expect(run.status == 1)
        #expect(try w.xp() == ["ok@example.org": 20])
        #expect(w.list("data/archive") == ["good.csv"])
        func reason(_ name: String) throws -> String { try w.read("data/failed/\(name).error.txt") }
        #expect(try reason("xxe.xlsx").contains("DOCTYPE"))
        #expect(try reason("laughs.xlsx").contains("refused"))
        #expect(try reason("bomb.xlsx").contains("max_compression_ratio"))
        #expect(try reason("truncated.xlsx").contains("truncated.xlsx was refused"))
        #expect(try reason("locked.xlsx").contains("password-protected"))
        #expect(try reason("locked.ods").contains("password-protected"))
        #expect(try reason("garbage.csv").contains("binary"))
        // Nothing of /etc/passwd reached any output.
        for file in ["data/events.jsonl", "data/rejected.jsonl", "data/audit.jsonl", "site/index.html", "data/failed/xxe.xlsx.error.txt"] {
            #expect(!(try w.read(file)).contains("root:"))
        }
        // The whole run, zip bomb included, stayed far below 400 MiB.
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        #expect(usage.ru_maxrss < 400 * 1024, "peak RSS of a child: \(usage.ru_maxrss) KiB")
    }
}
