import Foundation
import Testing
import ZIPFoundation
@testable import TallyKit

/// The sheet data read by hand (`SheetDataScanner`) against libxml2 alone (`scanning: false`)
/// and the reader (`SheetParser`): the same rows, numbers, cells and rejections, the same
/// refusals, wherever the bytes are cut; and the hand reading really reads what it should.
@Suite("Sheet data scanner")
struct SheetDataScannerTests {
    /// The rows read, how the read ended ("done", a refusal, a limit), and how many rows the scanner read.
    struct Read: Equatable {
        var rows: [WorkbookRow] = []
        var ending = "done"
        var scanned = 0
    }

    struct Sheet {
        var strings = ["zero", "one", " two ", ""]
        var dateStyles = [false, true]
        var date1904 = false
    }

    static func read(_ bytes: [UInt8], scanning: Bool, piece: Int = .max, sheet: Sheet = Sheet(),
                     limits: WorkbookLimits = .init(), stopAfter: Int = .max) -> Read {
        var read = Read()
        do {
            try FastSheetParser.rawRows(source: BytesXMLSource(bytes, piece: piece), name: "sheet1.xml",
                                                       strings: sheet.strings, dateStyles: sheet.dateStyles,
                                                       date1904: sheet.date1904, limits: limits, scanning: scanning, scanned: { read.scanned = $0 }) { raw in
                read.rows.append(raw.row(strings: sheet.strings, limits: limits))
                return read.rows.count < stopAfter
            }
        } catch is XMLEventParser.Refused {
            read.ending = "refused"   // its reason is the reader's to give, as XLSXWorkbook does
        } catch {
            read.ending = "\(error)"
        }
        return read
    }

    /// The reader's rows of `bytes`, or "refused".
    static func simple(_ bytes: [UInt8], sheet: Sheet = Sheet(), limits: WorkbookLimits = .init()) -> Read {
        var read = Read()
        do {
            let reader = try XMLStreamReader(source: BytesXMLSource(bytes), name: "sheet1.xml")
            defer { reader.close() }
            try SheetParser(reader: reader, strings: sheet.strings, dateStyles: sheet.dateStyles, date1904: sheet.date1904,
                            limits: limits).rows { read.rows.append($0); return true }
        } catch {
            read.ending = "refused"
        }
        return read
    }

    /// Expects the scanned read of `bytes` to equal libxml2's alone at every piece size; returns the scanned read.
    @discardableResult
    static func expectSame(_ bytes: [UInt8], pieces: [Int] = [.max, 1, 5, 64], sheet: Sheet = Sheet(),
                           limits: WorkbookLimits = .init(), stopAfter: Int = .max,
                           sourceLocation: SourceLocation = #_sourceLocation) -> Read {
        var alone = read(bytes, scanning: false, sheet: sheet, limits: limits, stopAfter: stopAfter)
        #expect(alone.scanned == 0, sourceLocation: sourceLocation)
        var first: Read?
        for piece in pieces {
            var scanned = read(bytes, scanning: true, piece: piece, sheet: sheet, limits: limits, stopAfter: stopAfter)
            first = first ?? scanned
            let count = scanned.scanned
            scanned.scanned = 0
            alone.scanned = 0
            #expect(scanned == alone, "piece \(piece), \(count) rows scanned", sourceLocation: sourceLocation)
        }
        return first!
    }

    static let head = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
        + #"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><dimension ref="A1:F3"/><sheetData>"#
    static let tail = "</sheetData><pageMargins left=\"0.7\"/></worksheet>"

    static func document(_ body: String) -> [UInt8] { document(Array(body.utf8)) }
    static func document(_ body: [UInt8]) -> [UInt8] { Array(head.utf8) + body + Array(tail.utf8) }

    /// Rows the scanner reads whole: every shape it knows.
    static let scannedBodies = [
        // XlsxWriter's constant-memory shape, and its shared strings
        #"<row r="1"><c r="A1" t="inlineStr"><is><t>Timestamp</t></is></c><c r="B1" t="inlineStr"><is><t>Email Address</t></is></c></row><row r="2" spans="1:2"><c r="A2" t="s"><v>1</v></c><c r="B2" t="s" s="1"><v>2</v></c></row>"#,
        // numbers, dates by style, booleans, errors, formula strings, ISO dates, absent types, style 0
        #"<row r="3"><c r="A3" s="1"><v>45537.4375</v></c><c r="B3"><v>007</v></c><c r="C3"><v>1e3</v></c><c r="D3" t="n"><v>-5</v></c><c r="E3" t="b"><v>1</v></c><c r="F3" t="e"><v>#N/A</v></c><c r="G3" t="str"><v>a_x000D_b</v></c><c r="H3" t="d"><v>2024-09-02T10:30:00</v></c><c r="I3" s="0"><v>12345678901234567890</v></c></row>"#,
        // entities, UTF-8 of every length, tabs and newlines, a `>` and a `]` alone
        #"<row r="4"><c r="A4" t="inlineStr"><is><t>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; é ☺ 𝄞 ]x> y]</t></is></c><c r="B4" t="inlineStr"><is><t xml:space="preserve">  line\#ntwo\#ttab  </t></is></c><c r="C4" t="str"><v>&amp;&amp;</v></c></row>"#,
        // white space between everything, single quotes, spaces around `=`, empty elements, sparse and odd references
        "\n  <row r='5' >\n    <c r = \"B5\" t= 'inlineStr' ><is> <t>spaced</t> </is></c>\n    <c/><c r=\"D5\"><v/></c><c t=\"inlineStr\"><is/></c><c r=\"$F$5\" ><v>6</v ></c><c r=\"c5\"><v>3</v></c>\n  </row >\n",
        // rows without numbers, with odd ones, empty, numbered down; cells without references
        #"<row r="6"/><row r="7"></row><row><c><v>1</v></c><c><v>2</v></c></row><row r=" 9"><c><v>1</v></c></row><row r="+10"><c r="A10"><v>1</v></c></row><row r="2"><c><v>1</v></c></row>"#,
        // shared strings out of range, empty, with spaces; `t="s"` with a value that is not an index
        #"<row r="11"><c t="s"><v>9</v></c><c t="s"><v>3</v></c><c t="s"><v> 2 </v></c><c t="s"><v>-1</v></c><c t="s"><v/></c><c t="s"><v>0</v></c></row>"#,
        // every attribute a row and a cell may have, passed over
        #"<row r="12" spans="1:3" ht="15" customHeight="1" hidden="0" s="1" customFormat="1" outlineLevel="0" collapsed="0" thickBot="0" thickTop="0" ph="0"><c r="A12" s="1" t="n" cm="1" vm="1" ph="0"><v>2</v></c></row>"#,
        // several `<v>` and `<t>` in one cell: their texts joined, as the reader joins them
        #"<row r="13"><c r="A13"><v>1</v><v>2</v></c><c r="B13" t="inlineStr"><is><t>a</t><t/><t>b</t></is></c><c r="C13" t="inlineStr"><v>ignored</v><is><t>kept</t></is></c></row>"#,
    ]

    @Test("the shapes the scanner knows are read by it, as libxml2 reads them, wherever the bytes are cut",
          arguments: scannedBodies)
    func scannedRows(body: String) {
        let bytes = Self.document(body)
        let rowCount = body.components(separatedBy: "<row").count - 1
        for limits in [WorkbookLimits(), WorkbookLimits(maxFields: 3, maxRowBytes: 12)] {
            let read = Self.expectSame(bytes, limits: limits)
            #expect(read.scanned == rowCount)
            #expect(read == Self.simple(bytes, limits: limits).with(scanned: read.scanned))
        }
    }

    /// Rows the scanner leaves to libxml2 from where it meets them, and what comes after.
    static let unusualBodies = [
        // character references, CR LF, other entities, CDATA, comments, processing instructions
        #"<row r="1"><c t="inlineStr"><is><t>a&#233;&#x263A;</t></is></c></row>"#,
        "<row r=\"1\"><c t=\"inlineStr\"><is><t>a\r\nb\rc</t></is></c></row>",
        "<row r=\"1\"><c r=\"A1\"\r\n t=\"inlineStr\"><is><t>ab</t></is></c></row>",
        #"<row r="1"><c t="str"><v><![CDATA[x<y]]></v></c></row>"#,
        #"<row r="1"><!-- c --><c><v>1</v></c></row>"#,
        #"<row r="1"><c t="inlineStr"><is><t>a<!-- x -->b<?pi x?>c</t></is></c></row>"#,
        #"<!-- between --><row r="1"><c><v>1</v></c></row>"#,
        // rich text and phonetic runs, formulas, unknown elements and attributes, prefixes, namespaces
        #"<row r="1"><c t="inlineStr"><is><r><t>a</t></r><r><rPr><b/></rPr><t xml:space="preserve"> b </t></r><rPh><t>p</t></rPh></is></c></row>"#,
        #"<row r="1"><c r="A1"><f>1+1</f><v>2</v></c></row>"#,
        #"<row r="1" x14ac:dyDescent="0.25" xmlns:x14ac="urn:x"><c><v>1</v></c></row>"#,
        #"<row r="1"><c r="A1" foo="1"><v>1</v></c><extLst/></row>"#,
        #"<x:row xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="1"><x:c t="inlineStr"><x:is><x:t>p</x:t></x:is></x:c></x:row>"#,
        #"<row r="1"><c xmlns:o="urn:o" o:r="C1" r="B1"><v>2</v></c><c r="C1" t="s&amp;"><v>1</v></c></row>"#,
        #"<row r="1"><c r="A1" t="inlineStr"><is><t xml:space="other">x</t></is></c></row>"#,
        #"<row r="1"><c r="A1"><v xml:space="preserve">1</v></c></row>"#,
        // text between rows and in cells; values in attributes that libxml2 rewrites
        #"<row r="1"><c><v>1</v></c></row>text<row r="2"><c><v>2</v></c></row>"#,
        #"<row r="1"><c>loose<v>1</v></c></row>"#,
        "<row r=\"1\"><c r=\"A\tB\"><v>1</v></c></row>",
        // a second sheet data after the first: libxml2's
        #"<row r="1"><c><v>1</v></c></row></sheetData><sheetData><row r="2"><c><v>1</v></c></row>"#,
        // the scanner's rows first, then one it leaves: libxml2 goes on from that row
        #"<row r="1"><c><v>1</v></c></row><row r="2"><c t="inlineStr"><is><t>&#65;</t></is></c></row><row r="3"><c><v>3</v></c></row>"#,
    ]

    @Test("what the scanner does not know, libxml2 reads from the row where it starts, as if alone",
          arguments: unusualBodies)
    func unusualRows(body: String) {
        for limits in [WorkbookLimits(), WorkbookLimits(maxFields: 2, maxRowBytes: 4)] {
            let bytes = Self.document(body)
            let read = Self.expectSame(bytes, limits: limits)
            #expect(read.scanned <= 1)
            #expect(read == Self.simple(bytes, limits: limits).with(scanned: read.scanned))
        }
    }

    @Test("damaged or hostile sheet data is refused the same, scanned or not", arguments: [
        #"<row r="1"><c><v>1</v></c></row><row r="2"><c><v>1</v></row>"#,
        #"<row r="1"><c><v>1</v></c></rox>"#,
        #"<row r="1"><c><v>1</v></c></row><row r="2" r="3"><c><v>1</v></c></row>"#,
        #"<row r="1"><c r="A1"r="B1"><v>1</v></c></row>"#,
        #"<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r=A2><v>1</v></c></row>"#,
        #"<row r="1"><c><v>&undefined;</v></c></row>"#,
        #"<row r="1"><c><v>a]]>b</v></c></row>"#,
        "<row r=\"1\"><c><v>a\u{1}b</v></c></row>",
        "<row r=\"1\"><c t=\"inlineStr\"><is><t>\u{FFFE}</t></is></c></row>",
        #"<row r="1"><c><v>1</v></c></row></sheetData></worksheet><extra/><worksheet><sheetData>"#,
        #"<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row><row r="2"><c"#,
    ])
    func damaged(body: String) {
        let bytes = Self.document(body)
        let read = Self.expectSame(bytes)
        #expect(read.ending == "refused")
        #expect(Self.simple(bytes).ending == "refused")
    }

    @Test("bytes that are not UTF-8 are refused the same, scanned or not", arguments: [
        [0xC3], [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF], [0xE2, 0x98],
    ] as [[UInt8]])
    func notUTF8(bytes: [UInt8]) {
        let document = Array((Self.head + #"<row r="1"><c><v>1</v></c></row><row r="2"><c t="inlineStr"><is><t>a"#).utf8)
            + bytes + Array(("b</t></is></c></row>" + Self.tail).utf8)
        let read = Self.expectSame(document)
        #expect(read.ending == "refused")
        #expect(read.scanned == 1)
    }

    @Test("a stop asked for by the row callback stops after the same row, scanned or not")
    func stops() {
        let body = (1...40).map { #"<row r="\#($0)"><c r="A\#($0)" t="inlineStr"><is><t>row \#($0)</t></is></c></row>"# }.joined()
        for stopAfter in [1, 2, 39, 40, 41] {
            let read = Self.expectSame(Self.document(body), pieces: [.max, 7], stopAfter: stopAfter)
            #expect(read.rows.count == min(stopAfter, 40))
        }
    }

    @Test("a row longer than a chunk is read whole; one past the longest the scanner reads goes to libxml2")
    func longRows() {
        let long = #"<row r="1"><c t="inlineStr"><is><t>"# + String(repeating: "é", count: 100_000) + "</t></is></c></row>"
        let longer = #"<row r="2"><c t="inlineStr"><is><t>"# + String(repeating: "x", count: XMLEventParser.longestScannedUnit + 100_000) + "</t></is></c></row>"
        let after = #"<row r="3"><c><v>3</v></c></row>"#
        let read = Self.expectSame(Self.document(long + longer + after), pieces: [.max, 60_000])
        #expect(read.rows.count == 3)
        #expect(read.scanned == 1)
    }

    /// Sheet data of random rows from the fragments of both lists above, and some damage.
    @Test("random sheets of usual and unusual rows read the same, scanned or not, cut anywhere")
    func randomSheets() {
        var random = SeededGenerator(state: 6)
        let fragments = Self.scannedBodies + Self.unusualBodies
        let damage: [[UInt8]] = ["<", "</row>", "&", "\r", "<c>", "\"", "]]>"].map { Array($0.utf8) } + [[0xC3], [0xFF]]
        var scanned = 0
        for _ in 0..<300 {
            var body = Array((0..<Int.random(in: 1...6, using: &random)).map { _ in fragments.randomElement(using: &random)! }.joined().utf8)
            if Int.random(in: 0..<4, using: &random) == 0 {
                body.insert(contentsOf: damage.randomElement(using: &random)!, at: Int.random(in: 0..<body.count, using: &random))
            }
            let piece = [Int.max, 1, 3, 16, 100].randomElement(using: &random)!
            scanned += Self.expectSame(Self.document(body), pieces: [piece]).scanned
        }
        #expect(scanned > 200)
    }

    @Test("every XLSX of the corpus and the fixtures: its sheet reads the same scanned as by libxml2 alone")
    func corpus() throws {
        var scannedIn: [String] = []
        for path in FastSheetParserTests.workbooks {
            guard let (bytes, sheet) = try? Self.sheetXML(path) else { continue }
            let pieces = bytes.count > 100_000 ? [.max, 4096] : [.max, 7]
            for limits in [WorkbookLimits(), WorkbookLimits(maxFields: 3, maxRowBytes: 40)] {
                let read = Self.expectSame(bytes, pieces: pieces, sheet: sheet, limits: limits)
                if read.scanned > 0 { scannedIn.append((path as NSString).lastPathComponent) }
            }
        }
        // The writers of the fixtures (XlsxWriter, openpyxl) write what the scanner reads.
        #expect(scannedIn.contains("five-thousand-rows.xlsx"))
        #expect(scannedIn.contains("xlsxwriter-1904.xlsx"))
    }

    /// The first sheet's XML of a workbook, and what reading it needs.
    static func sheetXML(_ path: String) throws -> ([UInt8], Sheet) {
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        let prelude = try XLSXWorkbook.prelude(ZipArchive(path: path), sheet: nil, budget: ZipEntryStream.Budget(limits: .init()), fast: true)
        // The bomb's sheet (256 MiB of nothing) is for the limits' tests, which read it through `XLSXWorkbook`.
        guard let entry = archive[prelude.sheetPath], entry.uncompressedSize < 8 << 20 else { throw WorkbookError.noSheets }
        var bytes: [UInt8] = []
        _ = try archive.extract(entry, skipCRC32: true) { bytes.append(contentsOf: $0) }
        return (bytes, Sheet(strings: prelude.strings, dateStyles: prelude.dateStyles, date1904: prelude.date1904))
    }
}

extension SheetDataScannerTests.Read {
    func with(scanned: Int) -> Self {
        var read = self
        read.scanned = scanned
        return read
    }
}
