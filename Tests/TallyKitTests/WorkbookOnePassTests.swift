import Foundation
import Testing
import ZIPFoundation
@testable import TallyKit

/// A workbook's sheet read in one pass (`TableIntake.readInOnePass`) against the passes it
/// replaces (header, date order, rows): the same events and rejections in the same order,
/// the same refusal.
@Suite("Workbook tables read in one pass")
struct WorkbookOnePassTests {
    /// What a read gives: the items it emitted, then how it ended.
    struct Outcome: Equatable {
        var items: [IntakeItem] = []
        var ending = "done"
    }

    static func outcome(_ path: String, onePass: Bool, bytes: Bool = true, settings: TableIntake.Settings = .init(),
                        limits: WorkbookLimits = .init(), heldBackBytes: Int? = nil, dateScanRows: Int? = nil) -> Outcome {
        var intake = TableIntake(settings: settings)
        intake.readsWorkbooksInOnePass = onePass
        intake.readsPlainRowsAsBytes = bytes
        if let heldBackBytes { intake.heldBackBytes = heldBackBytes }
        if let dateScanRows { intake.dateScanRows = dateScanRows }
        let table = WorkbookTable(format: path.lowercased().hasSuffix(".ods") ? .ods : .xlsx, path: path, file: "book",
                                  sheet: nil, limits: limits)
        var outcome = Outcome()
        do {
            try intake.read(table, file: "book", sha256: "sha", modified: Timestamp(year: 2024, month: 9, day: 10)!) {
                outcome.items.append($0)
            }
        } catch {
            outcome.ending = "\(error)"
        }
        return outcome
    }

    /// Both ways, under each variant of settings; expects equal outcomes and returns the one-pass ones.
    @discardableResult
    static func expectSame(_ path: String, settings: TableIntake.Settings = .init(), limits: WorkbookLimits = .init(),
                           heldBackBytes: Int? = nil, dateScanRows: Int? = nil,
                           sourceLocation: SourceLocation = #_sourceLocation) -> Outcome {
        let passes = outcome(path, onePass: false, settings: settings, limits: limits, dateScanRows: dateScanRows)
        let once = outcome(path, onePass: true, settings: settings, limits: limits, heldBackBytes: heldBackBytes,
                           dateScanRows: dateScanRows)
        if once != passes {
            let first = (0..<min(once.items.count, passes.items.count)).first { once.items[$0] != passes.items[$0] } ?? min(once.items.count, passes.items.count)
            let item = { (items: [IntakeItem]) in first < items.count ? "\(items[first])" : "(none)" }
            Issue.record("\(path): item \(first) of \(once.items.count) in one pass is \(item(once.items)), of \(passes.items.count) in passes \(item(passes.items)); ending \(once.ending) / \(passes.ending)",
                         sourceLocation: sourceLocation)
        }
        return once
    }

    static var workbooks: [String] {
        WorkbookRowsAsReadTests.workbooks.map { $0.directory + "/" + $0.name } + FastSheetParserTests.workbooks
    }

    @Test("every corpus workbook and fixture reads the same in one pass as in passes, its first columns taken as email and date")
    func corpus() throws {
        for path in Self.workbooks {
            Self.expectSame(path)
            Self.expectSame(path, limits: WorkbookLimits(maxFields: 3, maxRowBytes: 40))
            // The first row's first cells as the email and date columns, so that the date scan runs.
            var first: [String] = []
            let read = path.lowercased().hasSuffix(".ods") ? ODSWorkbook.read : XLSXWorkbook.read
            try? read(path, nil, WorkbookLimits()) { first = $0.cells; return false }
            guard first.count >= 2 else { continue }
            var settings = TableIntake.Settings(overrides: [.email: first[0], .completedAt: first[1]])
            Self.expectSame(path, settings: settings)
            Self.expectSame(path, settings: settings, heldBackBytes: 0)
            Self.expectSame(path, settings: settings, dateScanRows: 2)
            settings.dateOrderConfigured = true
            Self.expectSame(path, settings: settings)
        }
    }

    // MARK: Sheets written for these tests

    /// A workbook of inline-string rows; `broken` cuts the sheet's XML short after that row.
    /// With `shared`, the cells are shared strings instead, but for plain digits (a number
    /// cell), a cell `=date:SERIAL` (a number in a date style) and "" (no cell: the row is sparse).
    static func workbook(_ rows: [[String]], broken: Int? = nil, shared: Bool = false) throws -> String {
        var sheet = #"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#
        var strings: [String] = [], indices: [String: Int] = [:]
        for (index, cells) in rows.enumerated() {
            sheet += #"<row r="\#(index + 1)">"#
            for (column, cell) in cells.enumerated() {
                guard shared else {
                    sheet += #"<c t="inlineStr"><is><t>\#(cell)</t></is></c>"#
                    continue
                }
                let reference = String(UnicodeScalar(UInt8(65 + column))) + "\(index + 1)"
                if cell.isEmpty { continue }
                if cell.hasPrefix("=date:") {
                    sheet += #"<c r="\#(reference)" s="1"><v>\#(cell.dropFirst(6))</v></c>"#
                } else if cell.allSatisfy(\.isASCII), cell.allSatisfy(\.isNumber) {
                    sheet += #"<c r="\#(reference)"><v>\#(cell)</v></c>"#
                } else {
                    let index = indices[cell] ?? strings.count
                    if index == strings.count {
                        indices[cell] = index
                        strings.append(cell)
                    }
                    sheet += #"<c r="\#(reference)" t="s"><v>\#(index)</v></c>"#
                }
            }
            sheet += "</row>"
            if index + 1 == broken { sheet += "<row><c></row>" }
        }
        sheet += "</sheetData></worksheet>"
        let workbook = #"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="S" sheetId="1"/></sheets></workbook>"#
        var parts = [("xl/workbook.xml", workbook), ("xl/worksheets/sheet1.xml", sheet)]
        if shared {
            let head = #"<?xml version="1.0" encoding="UTF-8"?>"#
            let ns = #"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main""#
            parts.append(("xl/sharedStrings.xml", head + "<sst \(ns)>" + strings.map { #"<si><t xml:space="preserve">\#($0)</t></si>"# }.joined() + "</sst>"))
            parts.append(("xl/styles.xml", head + "<styleSheet \(ns)><cellXfs count=\"2\"><xf numFmtId=\"0\"/><xf numFmtId=\"22\"/></cellXfs></styleSheet>"))
        }
        let path = NSTemporaryDirectory() + "tally-one-pass-\(UInt64.random(in: 0...UInt64.max)).xlsx"
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        for (name, text) in parts {
            let data = Data(text.utf8)
            try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) {
                position, size in data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        return path
    }

    /// Rows of completions whose dates either order reads (`3/8/2024`) until row `evidence`,
    /// whose date is `13/1/2024` (day first); every fifth row a bad email.
    static func completions(_ count: Int, evidence: Int?, header: [String] = ["Email", "Course", "Completed at"]) -> [[String]] {
        var rows = [header]
        for index in 2...count {
            let date = index == evidence ? "13/1/2024 10:00" : "\(index % 12 + 1)/\((index + 5) % 12 + 1)/2024 9:30"
            let email = index % 5 == 0 ? "not an email \(index)" : "student\(index % 50)@example.org"
            rows.append([email, "Course \(index % 3)", date])
        }
        return rows
    }

    @Test("a sheet whose date order shows early, late (past a batch), or never, reads the same in one pass",
          arguments: [3, 4_500, nil] as [Int?])
    func dateOrder(evidence: Int?) throws {
        let path = try Self.workbook(Self.completions(5_000, evidence: evidence))
        defer { unlink(path) }
        let once = Self.expectSame(path)
        #expect(once.items.count == 4_999)
        #expect(once.ending == "done")
        Self.expectSame(path, limits: WorkbookLimits(maxFields: 2, maxRowBytes: 1 << 20))
        Self.expectSame(path, heldBackBytes: 100_000)
        Self.expectSame(path, dateScanRows: 1_000)
        Self.expectSame(path, settings: TableIntake.Settings(dateOrderConfigured: true))
    }

    @Test("a day-first date decides the order of the rows held back before it")
    func heldBackRowsTakeTheOrder() throws {
        let path = try Self.workbook(Self.completions(3_000, evidence: 2_501))
        defer { unlink(path) }
        let once = Self.expectSame(path)
        func event(_ row: Int) -> Event? {
            once.items.lazy.compactMap { item -> Event? in
                if case .event(let event) = item, event.source.row == row { return event }
                return nil
            }.first
        }
        // Row 2's `3/8/2024` is the 3rd of August once row 2,501 shows the days come first.
        #expect(event(2)?.at == Timestamp(year: 2024, month: 8, day: 3, hour: 9, minute: 30))
        #expect(event(2_501)?.at == Timestamp(year: 2024, month: 1, day: 13, hour: 10))
    }

    @Test("a sheet broken before, at or after its deciding date is refused at the same point in one pass",
          arguments: [10, 2_000, 2_600, 4_900])
    func broken(at row: Int) throws {
        let path = try Self.workbook(Self.completions(5_000, evidence: 2_500), broken: row)
        defer { unlink(path) }
        let once = Self.expectSame(path)
        #expect(once.ending != "done")
        Self.expectSame(path, heldBackBytes: 50_000)
    }

    @Test("a header Tally cannot read is refused after the date scan, as in passes")
    func headerProblems() throws {
        for broken in [nil, 100, 3_000] as [Int?] {
            let path = try Self.workbook(Self.completions(4_000, evidence: 2_500, header: ["Who", "Course", "Completed at"]),
                                         broken: broken)
            defer { unlink(path) }
            let once = Self.expectSame(path)
            #expect(once.items.isEmpty)
            #expect(once.ending != "done")
        }
        let empty = try Self.workbook([])
        defer { unlink(empty) }
        #expect(Self.expectSame(empty).ending.contains("empty"))
        let headerOnly = try Self.workbook([["Email", "Course", "Completed at"]])
        defer { unlink(headerOnly) }
        #expect(Self.expectSame(headerOnly) == Outcome())
    }

    // MARK: The lane straight from the parser's batches

    /// Rows of completions in every shape the lane takes or leaves: plain, padded, non-ASCII,
    /// a bad email or date, no name, a number or a date-styled number, sparse cells, an
    /// ampersand escaped in the XML, and a cell past the header's columns. Past four batches
    /// of `SheetRowPipe`, so that the last are read on the parser's thread (`SheetLanePlan`):
    /// it can be at most two batches ahead of the rows that offer it the columns.
    static let laneRows: [[String]] = {
        var rows = [["Timestamp", "Email Address", "Full name", "Course", "Certificate link", "Notes"]]
        for index in 0..<(SheetRowPipe.batchSize * 5) {
            let date = index % 7 == 0 ? "=date:\(45_537 + index % 40).4375" : "\(index % 12 + 1)/\(index % 28 + 1)/2024 9:30:00"
            let email: String
            switch index % 11 {
            case 3: email = " padded\(index % 40)@example.org"
            case 5: email = "not an email"
            case 7: email = "Student.\(index % 40)+tag@Gmail.com"
            default: email = "student\(index % 40)@example.org"
            }
            let name = index % 13 == 0 ? "Zoë \(index % 5)" : index % 17 == 0 ? "" : "Student \(index % 40)"
            let course = index % 19 == 0 ? "101" : index % 23 == 0 ? "Course A &amp; B" : "Course \(index % 6)"
            let certificate = index % 3 == 0 ? "https://c.example/\(index)" : ""
            let notes = index % 29 == 0 ? "bad date next" : index % 31 == 0 ? String(repeating: "x", count: 300) : ""
            var row = [index % 29 == 0 ? "32/13/2024" : date, email, name, course, certificate, notes]
            if index % 37 == 0 { row.append("past the header") }
            rows.append(row)
        }
        return rows
    }()

    @Test("sheet rows the lane reads where the parser left them give what the ordinary path gives",
          arguments: [false, true])
    func laneFromBatches(shared: Bool) throws {
        let path = try Self.workbook(Self.laneRows, shared: shared)
        defer { unlink(path) }
        let settings = TableIntake.Settings(dateOrderConfigured: true)
        for limits in [WorkbookLimits(), WorkbookLimits(maxFields: 6, maxRowBytes: 200), WorkbookLimits(maxFields: 7, maxRowBytes: 100)] {
            for settings in [TableIntake.Settings(), settings] {
                let lane = Self.outcome(path, onePass: true, bytes: true, settings: settings, limits: limits)
                let ordinary = Self.outcome(path, onePass: true, bytes: false, settings: settings, limits: limits)
                #expect(lane.ending == "done")
                #expect(lane.items.count == SheetRowPipe.batchSize * 5)
                #expect(lane.items.count == ordinary.items.count)
                for (index, (fast, simple)) in zip(lane.items, ordinary.items).enumerated() where fast != simple {
                    Issue.record("item \(index): \(fast) by the lane, \(simple) by the ordinary path")
                    break
                }
                // Past the limits, a row is rejected with the reason either way.
                let limited = lane.items.filter { if case .rejected(_, let reason, _) = $0 { reason.contains("limit") || reason.contains("longer than") } else { false } }
                #expect(limited.isEmpty == (limits == WorkbookLimits()))
            }
        }
        // And every corpus workbook, its first columns taken as email and date.
        for path in Self.workbooks {
            var first: [String] = []
            let read = path.lowercased().hasSuffix(".ods") ? ODSWorkbook.read : XLSXWorkbook.read
            try? read(path, nil, WorkbookLimits()) { first = $0.cells; return false }
            guard first.count >= 4 else { continue }
            let settings = TableIntake.Settings(overrides: [.email: first[0], .completedAt: first[1], .course: first[3]])
            let lane = Self.outcome(path, onePass: true, bytes: true, settings: settings)
            let ordinary = Self.outcome(path, onePass: true, bytes: false, settings: settings)
            #expect(lane == ordinary, "\(path)")
        }
    }
}

extension WorkbookOnePassTests {
    @Test("a row past a limit is rejected with the start of its text, so the user can tell whose it was, every way it is read")
    func rejectedRowsKeepTheirText() throws {
        let path = try Self.workbook([["Email", "Course", "Completed at"],
                                      ["wide@example.org", "Course A", "2024-09-02", "x", "y"],
                                      ["long@example.org", String(repeating: "é", count: 30), "2024-09-02"],
                                      ["ok@example.org", "Course A", "2024-09-02"]])
        defer { unlink(path) }
        let limits = WorkbookLimits(maxFields: 4, maxRowBytes: 60)
        for bytes in [true, false] {
            let once = Self.outcome(path, onePass: true, bytes: bytes, limits: limits)
            #expect(once == Self.outcome(path, onePass: false, bytes: bytes, limits: limits))
            let rejected = once.items.compactMap { item -> String? in
                if case let .rejected(row, reason, raw) = item { return "\(row) \(reason): \(raw)" }
                return nil
            }
            #expect(rejected == [
                "2 the row has cells beyond column 4, more than the limit of 4 fields: wide@example.org,Course A,2024-09-02,x",
                "3 the row is longer than 60 bytes: long@example.org",
            ])
        }
        // The text kept is the start of the row, its first 4 KiB (cut as a CSV row's is, mid-character too).
        #expect(Workbook.raw(["a", "", String(repeating: "é", count: 3000)]) == "a,," + String(repeating: "é", count: 2046) + "\u{FFFD}")
        #expect(WorkbookRow(number: 1, cells: [], rejection: "r", raw: "kept").raw == "kept")
    }
}
