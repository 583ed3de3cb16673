import Foundation
import Testing
@testable import TallyKit

/// What a worksheet says of its own rows and cells — `r` numbers and references, text
/// lengths — taken as hostile: never an overflow, a row that breaks a rule rejected alone
/// with the reason and the start of its text, and the same rows whichever parser reads
/// them (`SheetDataScanner`, libxml2's SAX events, the reader's `SheetParser`).
@Suite("Sheet numbers, references and lengths")
struct SheetBoundsTests {
    /// The rows of sheet XML `body`, expected the same read every way; returned as read.
    static func rows(_ body: String, limits: WorkbookLimits = .init(), sourceLocation: SourceLocation = #_sourceLocation) -> [WorkbookRow] {
        let bytes = SheetDataScannerTests.document(body)
        let read = SheetDataScannerTests.expectSame(bytes, limits: limits, sourceLocation: sourceLocation)
        #expect(read.ending == "done", sourceLocation: sourceLocation)
        #expect(read.rows == SheetDataScannerTests.simple(bytes, limits: limits).rows, sourceLocation: sourceLocation)
        return read.rows
    }

    static func row(_ reference: String?, _ cells: [(String?, String)]) -> String {
        var xml = reference.map { #"<row r="\#($0)">"# } ?? "<row>"
        for (cell, text) in cells {
            xml += (cell.map { #"<c r="\#($0)" t="inlineStr">"# } ?? #"<c t="inlineStr">"#) + "<is><t>\(text)</t></is></c>"
        }
        return xml + "</row>"
    }

    static let huge = "9223372036854775807"

    @Test("a row numbered Int.max, then one without a number: rejected with the reason, counted on without overflow")
    func rowNumberedIntMax() {
        let rows = Self.rows(Self.row("1", [(nil, "Email")]) + Self.row(Self.huge, [(nil, "c@example.com"), (nil, "C")])
                             + Self.row(nil, [(nil, "d@example.com")]))
        #expect(rows.map(\.number) == [1, 2, 3])
        #expect(rows[1].rejection == #"its row number "9223372036854775807" is not one a sheet has (1 to 2147483647)"#)
        #expect(rows[1].raw == "c@example.com,C")
        #expect(rows[2] == WorkbookRow(number: 3, cells: ["d@example.com"]))
    }

    @Test("a row number that is not one (1 to 2147483647) rejects its row, which takes the number after the last",
          arguments: ["-5", "0", "2147483648", "99999999999999999999", "abc", " 9", "", "1e3"])
    func badRowNumbers(reference: String) {
        let rows = Self.rows(Self.row("4", [(nil, "x")]) + Self.row(reference, [(nil, "y")]) + Self.row(nil, [(nil, "z")]))
        #expect(rows.map(\.number) == [4, 5, 6])
        #expect(rows[1].rejection == #"its row number "\#(reference)" is not one a sheet has (1 to 2147483647)"#)
        #expect(rows[1].raw == "y")
        #expect(rows[2].rejection == nil)
    }

    @Test("the last row number is read; a row counted after it is rejected; empty rows with odd numbers are no rows")
    func lastRow() {
        let rows = Self.rows(#"<row r="-1"/><row r="x"></row>"# + Self.row("2147483647", [(nil, "last")]) + Self.row(nil, [(nil, "after")])
                             + Self.row(nil, [(nil, "again")]))
        #expect(rows.map(\.number) == [2_147_483_647, 2_147_483_648, 2_147_483_648])
        #expect(rows.map(\.rejection) == [nil, Workbook.pastLastRow, Workbook.pastLastRow])
        #expect(rows[2].raw == "again")
    }

    @Test("a cell reference that names no column rejects its row, never lands in the next column", arguments: [
        "ZZZZZZ5", "AAAA5", "5", "$5", "", "é5", "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ5",
    ])
    func badCellReferences(reference: String) {
        let rows = Self.rows(Self.row("5", [("A5", "e@example.com"), ("B5", "E"), (reference, "Course Z")])
                             + Self.row("6", [("A6", "f@example.com"), ("C6", "Course F")]))
        let shown = reference.utf8.count > 32 ? String(reference.prefix(32)) + "…" : reference
        #expect(rows[0].number == 5)
        #expect(rows[0].rejection == #"a cell's reference "\#(shown)" names no column Tally can place (A to ZZZ)"#)
        #expect(rows[0].raw == "e@example.com,E")
        #expect(rows[1] == WorkbookRow(number: 6, cells: ["f@example.com", "", "Course F"]))
    }

    @Test("references up to ZZZ are columns: past max_fields the row is too wide, within it they are placed")
    func farColumns() {
        var rows = Self.rows(Self.row("1", [("A1", "a"), ("ZZZ1", "far")]))
        #expect(rows[0].rejection == "the row has cells beyond column 1024, more than the limit of 1024 fields")
        #expect(rows[0].raw == "a")
        rows = Self.rows(Self.row("1", [("A1", "a"), ("$zzz$1", "far")]), limits: WorkbookLimits(maxFields: 20_000))
        #expect(rows[0].cells.count == 18_278)
        #expect(rows[0].cells.last == "far")
        #expect(SheetParser.column(of: "XFD1") == 16_384)
        #expect(SheetParser.column(of: "ZZZ1") == Workbook.lastColumn)
        #expect(SheetParser.column(of: "AAAA1") == nil)
    }

    @Test("of several problems in one row, the reason given is the row number's, then the reference's, then the width's, then the length's")
    func reasonsInOrder() {
        let limits = WorkbookLimits(maxFields: 2, maxRowBytes: 4)
        let body = Self.row("x", [("A1", "long text"), ("Q1", "wide"), ("?", "bad")]) + Self.row("2", [("A2", "long text"), ("Q2", "wide"), ("?", "bad")])
            + Self.row("3", [("A3", "long text"), ("Q3", "wide")]) + Self.row("4", [("A4", "long text")])
        let rows = Self.rows(body, limits: limits)
        #expect(rows.map(\.rejection) == [
            #"its row number "x" is not one a sheet has (1 to 2147483647)"#,
            #"a cell's reference "?" names no column Tally can place (A to ZZZ)"#,
            "the row has cells beyond column 2, more than the limit of 2 fields",
            "the row is longer than 4 bytes",
        ])
    }

    @Test("a row's text is counted as it is read: once past max_row_bytes, nothing more of it is kept")
    func rowTextBounded() {
        let limits = WorkbookLimits(maxRowBytes: 16)
        // Within, at and past the limit, over several cells; a shared string counts its own length.
        var rows = Self.rows(Self.row("1", [(nil, "01234567"), (nil, "89abcdef")]) + Self.row("2", [(nil, "01234567"), (nil, "89abcdefg")])
                             + #"<row r="3"><c t="inlineStr"><is><t>0123456789ab</t></is></c><c t="s"><v>2</v></c></row>"#, limits: limits)
        #expect(rows.map(\.rejection) == [nil, "the row is longer than 16 bytes", "the row is longer than 16 bytes"])
        #expect(rows[1].raw == "01234567")
        #expect(rows[2].raw == "0123456789ab")
        // A cell a later one at the same reference replaces counts too.
        rows = Self.rows(Self.row("1", [("A1", "0123456789"), ("A1", "0123456789")]), limits: limits)
        #expect(rows[0].rejection == "the row is longer than 16 bytes")
    }

    @Test("a cell of many rich-text runs is stopped at seven times the row limit, whatever its escapes")
    func cellTextBounded() {
        let limits = WorkbookLimits(maxRowBytes: 1000)
        // Seven-byte escapes of one character each: 1,000 characters of text from 7,000 bytes.
        let escapes = String(repeating: "_x0041_", count: 1000)
        var rows = Self.rows(#"<row r="1"><c t="inlineStr"><is><t>\#(escapes)</t></is></c></row>"#, limits: limits)
        #expect(rows[0].rejection == nil)
        #expect(rows[0].cells == [String(repeating: "A", count: 1000)])
        rows = Self.rows(#"<row r="1"><c t="inlineStr"><is><t>\#(escapes)_</t></is></c></row>"#, limits: limits)
        #expect(rows[0].rejection == "the row is longer than 1000 bytes")
        // Runs, each short, that add up: the reading keeps at most what the limit allows.
        let run = "<r><t>" + String(repeating: "r", count: 100) + "</t></r>"
        let runs = #"<row r="1"><c r="A1" t="inlineStr"><is><t>a@example.com</t></is></c><c r="B1" t="inlineStr"><is>"#
            + String(repeating: run, count: 100) + "</is></c></row>"
        rows = Self.rows(runs, limits: limits)
        #expect(rows[0].rejection == "the row is longer than 1000 bytes")
        #expect(rows[0].raw == "a@example.com")
    }
}
