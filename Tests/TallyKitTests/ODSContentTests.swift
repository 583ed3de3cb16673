import Foundation
import Testing
import ZIPFoundation
@testable import TallyKit

/// An ODS `content.xml` read with the counts it gives taken as hostile: repeats and spaces
/// bounded, sums that cannot overflow, rows past a limit rejected alone with their text.
@Suite("ODS content")
struct ODSContentTests {
    static let head = #"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="Sheet1">"#
    static let tail = "</table:table></office:spreadsheet></office:body></office:document-content>"

    /// A string cell whose paragraph is `text` (markup allowed), with attributes `extra`.
    static func cell(_ text: String, _ extra: String = "") -> String {
        #"<table:table-cell office:value-type="string"\#(extra)><text:p>\#(text)</text:p></table:table-cell>"#
    }

    static func row(_ cells: [String], _ extra: String = "") -> String {
        "<table:table-row\(extra)>" + cells.joined() + "</table:table-row>"
    }

    static let header = row([cell("Email"), cell("Name"), cell("Course")])
    static let good = row([cell("o1@example.com"), cell("O One"), cell("Course O")])

    /// The rows of a sheet whose rows are `rows`, read from memory as `ODSWorkbook.read` reads `content.xml`.
    static func rows(_ rows: [String], limits: WorkbookLimits = .init()) throws -> [WorkbookRow] {
        let reader = try XMLStreamReader(source: BytesXMLSource(Array((head + rows.joined() + tail).utf8)), name: "content.xml")
        defer { reader.close() }
        var read: [WorkbookRow] = []
        try ODSWorkbook.rows(of: reader, sheet: nil, limits: limits) { read.append($0); return true }
        return read
    }

    static let huge = "9223372036854775807"

    @Test("a space count that is not a positive integer is one space, as if absent", arguments: ["-1", "0", "x", ""])
    func oddSpaceCount(count: String) throws {
        let rows = try Self.rows([Self.row([Self.cell(#"O<text:s text:c="\#(count)"/>Two"#)])])
        #expect(rows == [WorkbookRow(number: 1, cells: ["O Two"])])
    }

    @Test("a content cell repeated Int.max times makes its row too wide; the next row is read")
    func hugeColumnRepeat() throws {
        let rows = try Self.rows([Self.header, Self.row([Self.cell("a@example.com"), Self.cell("X", #" table:number-columns-repeated="\#(Self.huge)""#)]),
                                  Self.good])
        #expect(rows.map(\.number) == [1, 2, 3])
        #expect(rows[1].rejection == "the row has more than 1024 cells")
        #expect(rows[2].cells == ["o1@example.com", "O One", "Course O"])
    }

    @Test("empty cells repeated Int.max times, twice, then content: the row is too wide, counted without overflow")
    func hugeEmptyRepeats() throws {
        let empty = #"<table:table-cell table:number-columns-repeated="\#(Self.huge)"/>"#
        let rows = try Self.rows([Self.header, Self.row([empty, empty, Self.cell("a@example.com")]), Self.good])
        #expect(rows.map(\.number) == [1, 2, 3])
        #expect(rows[1].rejection == "the row has more than 1024 cells")
        // Trailing empty runs, however long, cost nothing and are no row.
        #expect(try Self.rows([Self.row([Self.cell("a"), empty, empty])]) == [WorkbookRow(number: 1, cells: ["a"])])
    }

    @Test("rows repeated Int.max times, empty or not: the rows after them are past the last row, rejected, never an overflow")
    func hugeRowRepeat() throws {
        let emptyRun = #"<table:table-row table:number-rows-repeated="\#(Self.huge)"/>"#
        var rows = try Self.rows([Self.header, emptyRun, Self.good, Self.good])
        #expect(rows.map(\.number) == [1, Workbook.lastRow + 1, Workbook.lastRow + 1])
        #expect(rows[1].rejection == Workbook.pastLastRow)
        #expect(rows[1].raw == "o1@example.com,O One,Course O")

        let contentRun = Self.row([Self.cell("a@example.com")], #" table:number-rows-repeated="\#(Self.huge)""#)
        rows = try Self.rows([Self.header, contentRun, Self.good])
        #expect(rows.count == 1 + ODSWorkbook.maxRowCopies + 2)
        #expect(rows[ODSWorkbook.maxRowCopies + 1].rejection == "the row is repeated \(Workbook.lastRow) times; Tally reads the first \(ODSWorkbook.maxRowCopies)")
        #expect(rows.last?.rejection == Workbook.pastLastRow)
        // Repeats that end at the last row leave it to the row after, which is past it.
        let toTheEnd = #"<table:table-row table:number-rows-repeated="\#(Workbook.lastRow - 2)"/>"#
        rows = try Self.rows([Self.header, toTheEnd, Self.good, Self.good])
        #expect(rows.map(\.number) == [1, Workbook.lastRow, Workbook.lastRow + 1])
        #expect(rows.map { $0.rejection == nil } == [true, true, false])
    }

    @Test("counts past Int.max, or not counts at all, are bounded or the default", arguments: [
        ("99999999999999999999999", Workbook.lastRow), ("-3", 1), ("0", 1), ("1e3", 1), ("+2", 2), ("", 1),
    ])
    func counts(text: String, count: Int) {
        #expect(Workbook.count(text) == count)
    }

    @Test("an 842-byte ODS asking for 2 GB of spaces: the row is rejected without making them, in little time and memory")
    func spacesPastTheRowLimit() throws {
        let spaces = String(repeating: #"<text:s text:c="400000000"/>"#, count: 5)
        let before = residentPeak()
        let started = ContinuousClock.now
        let rows = try Self.rows([Self.header, Self.row([Self.cell("b@example.com"), Self.cell("O" + spaces + "Two"), Self.cell("Course O")]),
                                  Self.good])
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(residentPeak() - before < 64 << 20)
        #expect(rows.map(\.number) == [1, 2, 3])
        #expect(rows[1].rejection == "the row is longer than 1048576 bytes")
        #expect(rows[1].raw == "b@example.com")
        #expect(rows[2].rejection == nil)
    }

    @Test("text is counted against the row limit as it grows: paragraphs, tabs, line breaks, spaces, repeats",
          arguments: [
            // (cells, whether the row is too long under a 16-byte limit)
            ([cell("0123456789abcdef")], false),
            ([cell("0123456789abcdefg")], true),
            ([cell(#"0123456789<text:s text:c="6"/>"#)], false),
            ([cell(#"0123456789<text:s text:c="7"/>"#)], true),
            ([#"<table:table-cell><text:p>01234567</text:p><text:p>0123456</text:p></table:table-cell>"#], false),
            ([#"<table:table-cell><text:p>01234567</text:p><text:p>01234567</text:p></table:table-cell>"#], true),
            ([cell("a<text:tab/>b<text:line-break/>c<text:span>0123456789a</text:span>")], false),
            ([cell("a<text:tab/>b<text:line-break/>c<text:span>0123456789ab</text:span>")], true),
            ([cell("01234567", #" table:number-columns-repeated="2""#)], false),
            ([cell("012345678", #" table:number-columns-repeated="2""#)], true),
            ([cell("01234567"), cell("89abcdef")], false),
            ([cell("01234567"), cell("89abcdefg")], true),
            // A typed cell's value is its text; its paragraphs are not counted.
            ([#"<table:table-cell office:value-type="float" office:value="7"><text:p>\#(String(repeating: "x", count: 40))</text:p></table:table-cell>"#], false),
          ])
    func rowLimit(cells: [String], tooLong: Bool) throws {
        let rows = try Self.rows([Self.row(cells)], limits: WorkbookLimits(maxRowBytes: 16))
        #expect(rows.count == 1)
        #expect((rows.first?.rejection == "the row is longer than 16 bytes") == tooLong)
    }

    @Test("which limit a row breaks does not depend on when its text passed the limit: too wide wins, as before")
    func tooWideAfterTooLong() throws {
        let rows = try Self.rows([Self.row([Self.cell(String(repeating: "x", count: 30)), Self.cell(String(repeating: "y", count: 30)),
                                            Self.cell("z"), Self.cell("w")])],
                                 limits: WorkbookLimits(maxFields: 3, maxRowBytes: 40))
        #expect(rows.map(\.rejection) == ["the row has more than 3 cells"])
    }

    @Test("a rejected row keeps the start of its text for rejected.jsonl, at most 4 KiB")
    func rejectedText() throws {
        let long = String(repeating: "é", count: 3000)
        var rows = try Self.rows([Self.row([Self.cell("a@example.com"), Self.cell(long), Self.cell("tail")])],
                                 limits: WorkbookLimits(maxRowBytes: 8000))
        #expect(rows[0].rejection == nil)
        // The cell that passes the limit is never made: the text before it is kept.
        rows = try Self.rows([Self.row([Self.cell("a@example.com"), Self.cell(long), Self.cell("tail")])],
                             limits: WorkbookLimits(maxRowBytes: 6000))
        #expect(rows[0].rejection == "the row is longer than 6000 bytes")
        #expect(rows[0].raw == "a@example.com")
        let short = String(repeating: "é", count: 1000)
        rows = try Self.rows([Self.row([Self.cell("a@example.com"), Self.cell(short), Self.cell(short), Self.cell("z")])],
                             limits: WorkbookLimits(maxFields: 3))
        #expect(rows[0].rejection == "the row has more than 3 cells")
        #expect(rows[0].raw == "a@example.com,\(short),\(short)")
        rows = try Self.rows([Self.row([Self.cell("a@example.com"), Self.cell(long), Self.cell(long), Self.cell("z")])],
                             limits: WorkbookLimits(maxFields: 3, maxRowBytes: 20000))
        #expect(rows[0].raw == "a@example.com," + String(repeating: "é", count: 2041))
        #expect(rows[0].raw.utf8.count == 4096)
        let copies = try Self.rows([Self.row([Self.cell("c@example.com")], #" table:number-rows-repeated="10001""#)])
        #expect(copies.last?.rejection?.contains("repeated 10001 times") == true)
        #expect(copies.last?.raw == "c@example.com")
    }

    /// An .ods file of `rows`, in a temporary directory.
    static func workbook(_ rows: [String]) throws -> String {
        let path = NSTemporaryDirectory() + "tally-ods-\(UInt64.random(in: 0...UInt64.max)).ods"
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        for (name, text) in [("mimetype", "application/vnd.oasis.opendocument.spreadsheet"), ("content.xml", head + rows.joined() + tail)] {
            let data = Data(text.utf8)
            try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(data.count),
                                 compressionMethod: name == "mimetype" ? .none : .deflate) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        return path
    }

    @Test("an ODS of the counts that crashed tally sync: its good rows count, the others are rejected with reason and text")
    func hostileCountsThroughIntake() throws {
        let empty = #"<table:table-cell table:number-columns-repeated="\#(Self.huge)"/>"#
        let path = try Self.workbook([
            Self.header,
            Self.row([Self.cell("a@example.com"), Self.cell(#"O<text:s text:c="-1"/>Two"#), Self.cell("Course O")]),
            Self.row([Self.cell("b@example.com"), Self.cell("X", #" table:number-columns-repeated="\#(Self.huge)""#)]),
            Self.row([Self.cell("c@example.com"), empty, empty, Self.cell("C")]),
            Self.row([Self.cell("d@example.com"), Self.cell("O" + String(repeating: #"<text:s text:c="400000000"/>"#, count: 5)), Self.cell("Course O")]),
            Self.row([Self.cell("e@example.com"), Self.cell("E"), Self.cell("Course O")], #" table:number-rows-repeated="\#(Self.huge)""#),
            Self.good,
        ])
        defer { unlink(path) }
        let table = WorkbookTable(format: .ods, path: path, file: "book.ods", sheet: nil, limits: WorkbookLimits())
        var events: [String] = [], rejected: [String] = []
        try TableIntake(settings: .init()).read(table, file: "book.ods", sha256: "sha", modified: Timestamp(year: 2024, month: 9, day: 10)!) { item in
            switch item {
            case .event(let event): events.append("\(event.source.row) \(event.name ?? "")")
            case let .rejected(row, reason, raw): rejected.append("\(row) \(reason): \(raw)")
            }
        }
        #expect(events.first == "2 O Two")
        #expect(events.count == 1 + ODSWorkbook.maxRowCopies)
        #expect(rejected == [
            "3 the row has more than 1024 cells: b@example.com",
            "4 the row has more than 1024 cells: c@example.com",
            "5 the row is longer than 1048576 bytes: d@example.com",
            "10006 the row is repeated 2147483647 times; Tally reads the first 10000: e@example.com,E,Course O",
            "2147483648 the row comes after row 2147483647, past the last row a sheet has: o1@example.com,O One,Course O",
        ])
    }
}
