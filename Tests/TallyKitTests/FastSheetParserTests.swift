import Foundation
import Testing
@testable import TallyKit

/// The fast sheet path (libxml2's SAX events on bytes) reads what the reader path reads:
/// the same rows, numbers, cells and rejections, and the same refusals.
@Suite("Fast sheet parser")
struct FastSheetParserTests {
    /// Rows, or the refusal, of one read; rows read before a refusal do not count (the file
    /// is refused whole and its lines are rolled back).
    enum Outcome: Equatable {
        case rows([WorkbookRow])
        case refused(String)
    }

    static func outcome(_ read: ((WorkbookRow) throws -> Bool) throws -> Void) -> Outcome {
        var rows: [WorkbookRow] = []
        do {
            try read { rows.append($0); return true }
            return .rows(rows)
        } catch {
            return .refused("\(error)")
        }
    }

    static var workbooks: [String] {
        func list(_ directory: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
                .filter { [".xlsx", ".xlsm"].contains(where: $0.lowercased().hasSuffix) }
                .map { directory + "/" + $0 }
        }
        return list(WorkbookTests.corpus) + list(WorkbookTests.fixtures) + list(large)
    }

    /// Sheets longer than a batch of `SheetRowPipe`, written for these tests (one broken
    /// after its 4,000th row).
    static let large = WorkbookTests.fixtures + "/../large"

    /// A workbook read as `WorkbookTable` reads it: three passes (header, date order, rows),
    /// the later ones with what the first found before the sheet; the rows of the last.
    static func read(_ path: String, limits: WorkbookLimits = .init(), fast: Bool, row: (WorkbookRow) throws -> Bool) throws {
        var prelude: XLSXWorkbook.Prelude?
        try XLSXWorkbook.read(path: path, sheet: nil, limits: limits, fast: fast, prelude: &prelude) { _ in false }
        try XLSXWorkbook.read(path: path, sheet: nil, limits: limits, fast: fast, prelude: &prelude) { _ in true }
        try XLSXWorkbook.read(path: path, sheet: nil, limits: limits, fast: fast, prelude: &prelude, row: row)
    }

    @Test("every XLSX of the corpus and the fixtures reads the same both ways, under default and tight limits",
          arguments: workbooks)
    func sameWorkbook(path: String) {
        for limits in [WorkbookLimits(), WorkbookLimits(maxFields: 3, maxRowBytes: 40), WorkbookLimits(maxFields: 1, maxRowBytes: 4)] {
            let simple = Self.outcome { try Self.read(path, limits: limits, fast: false, row: $0) }
            let fast = Self.outcome { try Self.read(path, limits: limits, fast: true, row: $0) }
            #expect(fast == simple, "\(path)")
        }
    }

    @Test("a stop asked for by the row callback stops both ways after the same row")
    func stopsEarly() throws {
        for path in Self.workbooks {
            var simple: [WorkbookRow] = [], fast: [WorkbookRow] = []
            try? Self.read(path, fast: false) { simple.append($0); return simple.count < 2 }
            try? Self.read(path, fast: true) { fast.append($0); return fast.count < 2 }
            #expect(fast == simple, "\(path)")
        }
    }

    /// Sheet XML read both ways from memory; a refusal of the fast path is explained by the
    /// reader, as `XLSXWorkbook` does.
    static func both(_ xml: String, limits: WorkbookLimits = .init()) -> (simple: Outcome, fast: Outcome) {
        let bytes = Array(xml.utf8)
        let strings = ["zero", "one", " two "]
        let dateStyles = [false, true]
        let simple = outcome { row in
            let reader = try XMLStreamReader(source: BytesXMLSource(bytes), name: "sheet1.xml")
            defer { reader.close() }
            try SheetParser(reader: reader, strings: strings, dateStyles: dateStyles, date1904: false, limits: limits).rows(row)
        }
        let fast = outcome { row in
            do {
                try FastSheetParser.rows(source: BytesXMLSource(bytes), name: "sheet1.xml", strings: strings,
                                         dateStyles: dateStyles, date1904: false, limits: limits, row: row)
            } catch let refused as XMLEventParser.Refused {
                let reader = try XMLStreamReader(source: BytesXMLSource(bytes), name: "sheet1.xml")
                defer { reader.close() }
                while try reader.next() {}
                throw WorkbookError.corrupt("the reader read it all (\(refused.message))")
            }
        }
        return (simple, fast)
    }

    static let head = #"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#
    static let tail = "</sheetData></worksheet>"

    @Test("odd sheets read the same both ways", arguments: [
        // types: shared (with spaces, out of range, negative), inline with runs and phonetics, booleans, errors, dates
        #"<row r="1"><c r="A1" t="s"><v>1</v></c><c r="B1" t="s"><v> 2 </v></c><c r="C1" t="s"><v>9</v></c><c r="D1" t="s"><v>-1</v></c><c r="E1" t="s"><v>+0</v></c></row>"#,
        #"<row r="2"><c r="A2" t="inlineStr"><is><r><t>a</t></r><r><t xml:space="preserve"> b </t></r><rPh><t>ignored</t></rPh></is></c><c r="B2" t="b"><v>1</v></c><c r="C2" t="b"><v>0</v></c><c r="D2" t="e"><v>#N/A</v></c></row>"#,
        #"<row r="3"><c r="A3" s="1"><v>45537.4375</v></c><c r="B3"><v>007</v></c><c r="C3"><v>1e3</v></c><c r="D3"><v>-5</v></c><c r="E3"><v>12345678901234567890</v></c><c r="F3" t="d"><v>2024-09-02T10:30:00</v></c><c r="G3" t="n" s="7"><v>3</v></c></row>"#,
        // escapes, entities, character references, CDATA, whitespace-only text
        #"<row><c t="inlineStr"><is><t>a_x000D_b &amp; &lt;c&gt; &#233;&#x263A;</t></is></c><c t="str"><v><![CDATA[x<y]]></v></c><c t="inlineStr"><is><t> </t></is></c><c><v> </v></c></row>"#,
        // references: absent, lower case, $, sparse, repeated, beyond the limit, not references
        #"<row r="5"><c><v>1</v></c><c r="c5"><v>3</v></c><c r="$E$5"><v>5</v></c><c r="A5"><v>again</v></c><c r="5"><v>6</v></c><c r="ZZZZ5"><v>7</v></c></row>"#,
        // empty elements, empty rows, rows without numbers or with odd ones, rows numbered down
        #"<row r="6"/><row r="7"></row><row r="8"><c r="A8"/><c r="B8"><v/></c><c r="C8" t="inlineStr"><is/></c></row><row r=" 9"><c><v>1</v></c></row><row r="+10"><c><v>1</v></c></row><row r="2"><c><v>1</v></c></row><row><c><v>1</v></c></row>"#,
        // prefixes, attributes in other namespaces, an unbound attribute prefix, ampersands in attributes
        #"<x:row xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="11"><x:c r="A11" t="inlineStr"><x:is><x:t>p</x:t></x:is></x:c><c xmlns:o="urn:o" o:r="C11" r="B11" o:t="s"><v>2</v></c><c r="C11" t="s&amp;"><v>4</v></c></x:row>"#,
        // a cell outside any row, and a row left open at the end of the sheet data
        #"<c r="B1"><v>loose</v></c><row r="12"><c r="A12"><v>1</v></c></row>"#,
        // cells longer than the parser's first buffers (type 16, value 64, inline text 256 bytes), in pieces
        #"<row r="14"><c r="A14" t="inlineStrinlineStrinlineStr"><v>1</v></c><c r="B14"><v>\#(String(repeating: "7", count: 300))</v></c><c r="C14" t="str"><v>\#(String(repeating: "v", count: 70))&amp;\#(String(repeating: "w", count: 70))</v></c><c r="D14" t="inlineStr"><is><r><t>\#(String(repeating: "é", count: 200))</t></r><r><t>\#(String(repeating: "x", count: 900))</t></r></is></c><c r="E14" t="inlineStr"><is><t>short</t></is></c></row>"#,
        // comments and processing instructions between the nodes
        #"<row r="13"><!-- c --><c r="A13" t="inlineStr"><is><t>a<!-- x -->b<?pi x?>c</t></is></c></row>"#,
    ])
    func oddSheets(body: String) {
        for limits in [WorkbookLimits(), WorkbookLimits(maxFields: 4, maxRowBytes: 12)] {
            let (simple, fast) = Self.both(Self.head + body + Self.tail, limits: limits)
            #expect(fast == simple)
        }
    }

    @Test("hostile and damaged sheets are refused the same both ways", arguments: [
        #"<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "b">]><worksheet><sheetData/></worksheet>"#,
        #"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><worksheet><sheetData><row><c t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>"#,
        #"<worksheet><sheetData><row><c><v>&undefined;</v></c></row></sheetData></worksheet>"#,
        #"<worksheet><sheetData><row><c><v>1</v></c></row></sheetData>"#,
        #"<worksheet><sheetData><row><c><v>1</v></row></sheetData></worksheet>"#,
        #"<worksheet xmlns:x="http"><sheetData/></worksheet>"#,
        #"<worksheet><sheetData/></worksheet><extra/>"#,
        "",
        "<w",
        "not xml at all",
        #"<worksheet><sheetData><row r="1" r="2"/></sheetData></worksheet>"#,
    ])
    func refusals(xml: String) {
        let (simple, fast) = Self.both(xml)
        #expect(fast == simple)
    }

    @Test("a text node past libxml2's 10,000,000 bytes is refused both ways")
    func hugeText() {
        let xml = Self.head + #"<row><c t="inlineStr"><is><t>"# + String(repeating: "a", count: 10_000_001) + "</t></is></c></row>" + Self.tail
        let (simple, fast) = Self.both(xml)
        #expect(fast == simple)
        guard case .refused = fast else { Issue.record("read: \(fast)"); return }
    }

    @Test("shared strings read the same both ways: runs, phonetic runs, empty and escaped strings, whitespace")
    func sharedStrings() throws {
        let xml = #"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="7">"#
            + #"<si><t>plain</t></si><si/><si><t/></si><si><r><t>a</t></r><r><rPr/><t xml:space="preserve"> b </t></r><rPh sb="0" eb="1"><t>ふ</t></rPh></si>"#
            + #"<si><t>x_x000D_y &amp; &#233;</t></si><si><t> </t></si><si><t><![CDATA[<c>]]></t></si><x:si xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:t>p</x:t></x:si></sst>"#
        let bytes = Array(xml.utf8)
        let fast = try SharedStringsParser.strings(source: BytesXMLSource(bytes), name: "sharedStrings.xml")
        let simple = try XLSXWorkbook.sharedStrings(reader: XMLStreamReader(source: BytesXMLSource(bytes), name: "sharedStrings.xml"))
        #expect(fast == simple)
        #expect(fast == ["plain", "", "", "a b ", "x\ry & é", " ", "<c>", "p"])
    }

    @Test("across the batches of the reading thread: a stop, a throwing callback and a refusal after thousands of rows")
    func batches() throws {
        let path = Self.large + "/five-thousand-rows.xlsx"
        for stopAfter in [1, 2047, 2048, 2049, 3000, 4999, 6000] {
            var simple: [WorkbookRow] = [], fast: [WorkbookRow] = []
            try Self.read(path, fast: false) { simple.append($0); return simple.count < stopAfter }
            try Self.read(path, fast: true) { fast.append($0); return fast.count < stopAfter }
            #expect(fast == simple)
            #expect(fast.count == min(stopAfter, 4994))   // a header, 5,000 rows, 7 of them empty
        }
        struct Enough: Error {}
        var seen = 0
        #expect(throws: Enough.self) {
            try Self.read(path, fast: true) { _ in
                seen += 1
                if seen == 2500 { throw Enough() }
                return true
            }
        }
        #expect(seen == 2500)
        let broken = Self.large + "/five-thousand-rows-broken-at-4000.xlsx"
        let simple = Self.outcome { try Self.read(broken, fast: false, row: $0) }
        let fast = Self.outcome { try Self.read(broken, fast: true, row: $0) }
        #expect(fast == simple)
        guard case .refused(let reason) = fast else { Issue.record("read: \(fast)"); return }
        #expect(reason.contains("not well-formed"))
    }
}
