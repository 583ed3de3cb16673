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

extension WorkbookEndToEndTests {
    /// A zip of stored entries, written by hand (Tally checks no CRC), with a ZIP64 offset
    /// for the entry named in `hugeOffset` that points 2^63 bytes on.
    static func zip(_ entries: [(String, String)], hugeOffset: String? = nil) -> Data {
        func le<Integer: FixedWidthInteger>(_ value: Integer) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
        var out: [UInt8] = [], central: [UInt8] = []
        for (name, text) in entries {
            let name = Array(name.utf8), data = Array(text.utf8), offset = UInt32(out.count)
            out += le(UInt32(0x0403_4B50)) + le(UInt16(20)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt32(0)) + le(UInt32(0))
            out += le(UInt32(data.count)) + le(UInt32(data.count)) + le(UInt16(name.count)) + le(UInt16(0)) + name + data
            let huge = String(decoding: name, as: UTF8.self) == hugeOffset
            let extra = huge ? le(UInt16(1)) + le(UInt16(8)) + le(UInt64(1) << 63) : []
            central += le(UInt32(0x0201_4B50)) + le(UInt16(45)) + le(UInt16(45)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt32(0))
            central += le(UInt32(0)) + le(UInt32(data.count)) + le(UInt32(data.count)) + le(UInt16(name.count)) + le(UInt16(extra.count))
            central += le(UInt16(0)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt32(0)) + le(huge ? UInt32.max : offset) + name + extra
        }
        let start = UInt32(out.count)
        out += central + le(UInt32(0x0605_4B50)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt16(entries.count)) + le(UInt16(entries.count))
        out += le(UInt32(central.count)) + le(start) + le(UInt16(0))
        return Data(out)
    }

    static func ods(_ rows: [String]) -> Data {
        let ns = #"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0""#
        let header = odsRow(["Email", "Name", "Course"])
        return zip([("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
                    ("content.xml", #"<?xml version="1.0" encoding="UTF-8"?><office:document-content \#(ns)><office:body><office:spreadsheet><table:table table:name="S">"#
                        + header + rows.joined() + "</table:table></office:spreadsheet></office:body></office:document-content>")])
    }

    static func odsRow(_ cells: [String], _ extra: String = "", cellExtra: [Int: String] = [:]) -> String {
        "<table:table-row\(extra)>" + cells.enumerated().map { index, text in
            #"<table:table-cell office:value-type="string"\#(cellExtra[index] ?? "")><text:p>\#(text)</text:p></table:table-cell>"#
        }.joined() + "</table:table-row>"
    }

    static func xlsx(_ rows: String, hugeOffset: Bool = false) -> Data {
        let sheet = #"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Email</t></is></c><c r="B1" t="inlineStr"><is><t>Name</t></is></c><c r="C1" t="inlineStr"><is><t>Course</t></is></c></row>"#
            + rows + "</sheetData></worksheet>"
        return zip([("xl/workbook.xml", #"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="S" sheetId="1"/></sheets></workbook>"#),
                    ("xl/worksheets/sheet1.xml", sheet)], hugeOffset: hugeOffset ? "xl/worksheets/sheet1.xml" : nil)
    }

    static func xlsxRow(_ reference: String, _ cells: [(String, String)]) -> String {
        #"<row r="\#(reference)">"# + cells.map { #"<c r="\#($0.0)" t="inlineStr"><is><t>\#($0.1)</t></is></c>"# }.joined() + "</row>"
    }

    @Test("workbooks whose counts crashed tally sync (exit 132): the run ends, bad rows are rejected with their text, good ones count")
    func hostileCounts() throws {
        let w = try Workspace()
        let huge = "9223372036854775807"
        let drops: [(String, Data)] = [
            ("negative-space.ods", Self.ods([Self.odsRow(["n@example.org", #"O<text:s text:c="-1"/>Two"#, "Course N"])])),
            ("wide-repeat.ods", Self.ods([Self.odsRow(["w@example.org", "X"], cellExtra: [1: #" table:number-columns-repeated="\#(huge)""#])])),
            ("empty-repeats.ods", Self.ods([#"<table:table-row><table:table-cell table:number-columns-repeated="\#(huge)"/><table:table-cell table:number-columns-repeated="\#(huge)"/>"#
                                            + #"<table:table-cell office:value-type="string"><text:p>e@example.org</text:p></table:table-cell></table:table-row>"#])),
            ("row-repeat.ods", Self.ods([#"<table:table-row table:number-rows-repeated="\#(huge)"/>"#, Self.odsRow(["r@example.org", "R", "Course R"])])),
            ("spaces.ods", Self.ods([Self.odsRow(["s@example.org", "O" + String(repeating: #"<text:s text:c="400000000"/>"#, count: 5) + "Two", "Course S"])])),
            ("row-max.xlsx", Self.xlsx(Self.xlsxRow(huge, [("A2", "m@example.org"), ("B2", "M"), ("C2", "Course M")])
                                       + #"<row><c r="A3" t="inlineStr"><is><t>k@example.org</t></is></c><c r="C3" t="inlineStr"><is><t>Course K</t></is></c></row>"#)),
            ("far-column.xlsx", Self.xlsx(Self.xlsxRow("2", [("A2", "z@example.org"), ("B2", "Z"), ("ZZZZZZ2", "Course Z")]))),
            ("zip64.xlsx", Self.xlsx(Self.xlsxRow("2", [("A2", "q@example.org"), ("C2", "Course Q")]), hugeOffset: true)),
        ]
        for (name, data) in drops {
            try data.write(to: w.root.appendingPathComponent("inbox/" + name))
            try w.touch("inbox/" + name)
        }
        try w.write("inbox/good.csv", "Email,Course\nok@example.org,Course A\n")
        let started = ContinuousClock.now
        let run = try w.tally("sync")
        #expect(run.status == 1, "\(run.stderr)")
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(try w.xp() == ["ok@example.org": 20, "n@example.org": 20, "k@example.org": 20])
        #expect(try w.ledger("events").first?["name"] as? String == "O Two")
        let rejected = try w.ledger("rejected").map { "\($0["file"] as? String ?? "") \($0["row"] as? Int ?? 0): \($0["raw"] as? String ?? "")" }
        #expect(rejected == [
            "wide-repeat.ods 2: w@example.org",
            "empty-repeats.ods 2: ",
            "row-repeat.ods 2147483648: r@example.org,R,Course R",
            "spaces.ods 2: s@example.org",
            "row-max.xlsx 2: m@example.org,M,Course M",
            "far-column.xlsx 2: z@example.org,Z",
        ])
        #expect(w.list("data/failed") == ["zip64.xlsx", "zip64.xlsx.error.txt"])
        #expect(try w.read("data/failed/zip64.xlsx.error.txt").contains("past the end of the file"))
        #expect(w.list("inbox").isEmpty)
    }
}
