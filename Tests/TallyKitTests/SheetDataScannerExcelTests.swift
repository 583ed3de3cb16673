import Foundation
import Testing
@testable import TallyKit

/// The scanner over what Excel writes (its rows' `x14ac:dyDescent`, a prefix its root
/// declares) and over text of every kind of byte, against libxml2 alone: the same rows, and
/// the scanner reads what it should and leaves to libxml2 what it should.
@Suite("Sheet data scanner: Excel's rows, and text byte by byte")
struct SheetDataScannerExcelTests {
    typealias Scanner = SheetDataScannerTests

    /// Excel's root: the namespaces it declares, `x14ac` among them, before the sheet data.
    static let excelHead = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\r\n"
        + #"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac xr xr2 xr3" xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" xr:uid="{00000000-0001-0000-0000-000000000000}"><dimension ref="A1:C3"/><sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15" x14ac:dyDescent="0.25"/><sheetData>"#

    static func excel(_ body: String) -> [UInt8] { Array((excelHead + body + Scanner.tail).utf8) }

    static let excelBodies = [
        #"<row r="1" spans="1:3" x14ac:dyDescent="0.25"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" s="1"><v>45537.4375</v></c></row>"#,
        #"<row r="2" spans="1:3" ht="17.25" customHeight="1" x14ac:dyDescent="0.3"><c r="A2" s="2" t="s"><v>2</v></c><c r="B2"><v>12</v></c></row>"#,
        "<row r=\"3\" spans=\"1:3\" x14ac:dyDescent = '0.25' >\n<c r=\"A3\" xr:foo=\"1\" t=\"inlineStr\"><is><t>x</t></is></c></row>",
        #"<row r="4" x14ac:dyDescent="0.25"/>"#,
    ]

    @Test("Excel's rows, an attribute of a prefix the root declares on each, are read by the scanner as libxml2 reads them")
    func excelRows() {
        let body = Self.excelBodies.joined()
        let read = Scanner.expectSame(Self.excel(body))
        #expect(read.scanned == Self.excelBodies.count)
        #expect(read.rows.count == 3)
        #expect(read.ending == "done")
    }

    /// Prefixed attributes that libxml2 reads otherwise, or refuses, or that the scanner does
    /// not tell from such: the row is libxml2's.
    static let prefixedLeftToLibxml2 = [
        #"<row r="1" foo:dyDescent="0.25"><c><v>1</v></c></row>"#,                                   // not declared
        #"<row r="1" xmlns:x14ac="urn:other" x14ac:dyDescent="0.25"><c><v>1</v></c></row>"#,          // declared again
        #"<row r="1" xmlns:y="urn:y" y:a="1"><c><v>1</v></c></row>"#,
        #"<row r="1" xmlns="urn:default"><c><v>1</v></c></row>"#,
        #"<row r="1" x14ac:dyDescent="0.25" xr:uid="{1}"><c><v>1</v></c></row>"#,                    // two
        #"<row r="1" x14ac:dyDescent="0.25" x14ac:dyDescent="0.3"><c><v>1</v></c></row>"#,           // twice: refused
        #"<row r="1" xr:a="1" mc:a="2"><c><v>1</v></c></row>"#,
        #"<row r="1" xml:lang="en"><c><v>1</v></c></row>"#,
        #"<row r="1" xmlns:a="1"><c><v>1</v></c></row>"#,
        #"<row r="1" x14ac:1a="0"><c><v>1</v></c></row>"#,
        #"<row r="1" x14ac:a:b="0"><c><v>1</v></c></row>"#,
        #"<row r="1" x14ac:="0"><c><v>1</v></c></row>"#,
        #"<row r="1" :a="0"><c><v>1</v></c></row>"#,
        #"<row r="1" x14ac:a="&amp;"><c><v>1</v></c></row>"#,
        #"<row r="1"><c r="A1" x14ac:r="B1" x14ac:t="s"><v>1</v></c></row>"#,
        #"<row r="1"><c r="A1" t="inlineStr"><is><t x14ac:a="1" x14ac:b="2">t</t></is></c></row>"#,
    ]

    @Test("a prefix not declared by the root, declared again, twice in a tag, or not a plain name: libxml2 reads the row",
          arguments: prefixedLeftToLibxml2)
    func prefixedLeft(body: String) {
        let read = Scanner.expectSame(Self.excel(body + #"<row r="2"><c><v>2</v></c></row>"#))
        #expect(read.scanned == 0)
    }

    @Test("sheet data that declares a namespace of its own is libxml2's from its start")
    func sheetDataDeclaring() {
        let bytes = Array((Self.excelHead.replacingOccurrences(of: "<sheetData>", with: #"<sheetData xmlns:x14ac="urn:other">"#)
            + #"<row r="1" x14ac:dyDescent="0.25"><c><v>1</v></c></row>"# + Scanner.tail).utf8)
        let read = Scanner.expectSame(bytes)
        #expect(read.scanned == 0)
        #expect(read.rows.count == 1)
    }

    @Test("every Excel workbook of the corpus has its rows read by the scanner, and the same as by libxml2 alone")
    func excelCorpus() throws {
        var scanned: [String] = []
        for name in ["any_sheets.xlsx", "merged_range.xlsx", "strict_iso_paths.xlsx", "temperature-fallible.xlsx"] {
            let path = "../shared/corpus/spreadsheets/" + name
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let (bytes, sheet) = try Scanner.sheetXML(path)
            let read = Scanner.expectSame(bytes, pieces: [.max, 7], sheet: sheet)
            if read.scanned > 0 { scanned.append(name) }
        }
        #expect(scanned.count >= 3, "scanned: \(scanned)")
    }

    /// The bytes text is made of here: mostly runs the scanner passes over eight at a time,
    /// and each kind of byte that stops such a run.
    static let textPieces: [[UInt8]] = ["abcdefgh", "student042445@school.example.org", "x", " ", "<", "&amp;", "&lt;", "&#65;",
                                        ">", "]]>", "]", "]]", "\t", "\n", "\r", "é", "☺", "𝄞", "_x000D_", "=", "\"", "'"]
        .map { Array($0.utf8) } + [[0x01], [0x1F], [0x7F], [0xC3], [0xFF], [0xE2, 0x98], [0xEF, 0xBF, 0xBE]]

    @Test("texts of every kind of byte, at every place in a run of eight, read the same scanned or not")
    func texts() {
        var random = SeededGenerator(state: 11)
        var scanned = 0
        for _ in 0..<400 {
            var bytes: [UInt8] = []
            for row in 1...3 {
                var text: [UInt8] = []
                for _ in 0..<Int.random(in: 0...12, using: &random) {
                    let plain = Int.random(in: 0..<3, using: &random) > 0
                    text += plain ? Self.textPieces[Int.random(in: 0..<3, using: &random)] : Self.textPieces.randomElement(using: &random)!
                }
                let (open, close) = Bool.random(using: &random) ? (#"<c r="A\#(row)" t="inlineStr"><is><t>"#, "</t></is></c>")
                                                                : (#"<c r="A\#(row)" t="str"><v>"#, "</v></c>")
                bytes += Array((#"<row r="\#(row)">"# + open).utf8) + text + Array((close + "</row>").utf8)
            }
            let piece = [Int.max, 1, 8, 13].randomElement(using: &random)!
            scanned += Scanner.expectSame(Scanner.document(bytes), pieces: [piece]).scanned
        }
        #expect(scanned > 300)
    }
}
