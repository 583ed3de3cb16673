import Foundation
import Testing
@testable import TallyKit

/// XLSX and ODS read by streaming, from files real producers wrote, and hostile ones refused.
@Suite("Workbooks")
struct WorkbookTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/spreadsheets").path

    static let corpus: String = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.deletingLastPathComponent().appendingPathComponent("shared/corpus/spreadsheets").path
    }()

    static func rows(_ name: String, in directory: String = fixtures, sheet: String? = nil,
                     limits: WorkbookLimits = .init()) throws -> [WorkbookRow] {
        var rows: [WorkbookRow] = []
        let path = directory + "/" + name
        let read = name.lowercased().hasSuffix(".ods") ? ODSWorkbook.read : XLSXWorkbook.read
        try read(path, sheet, limits) { rows.append($0); return true }
        return rows
    }

    @Test("an openpyxl export: dates from number formats, numbers plain, formulas' cached values, empty cells")
    func openpyxl() throws {
        let rows = try Self.rows("openpyxl-form.xlsx")
        #expect(rows.map(\.number) == [1, 2, 3])
        #expect(rows[0].cells == ["Timestamp", "Email Address", "Name", "Course", "Score"])
        #expect(rows[1].cells == ["2024-09-02T10:30:00Z", "ada@example.org", "Ada Lovelace", "AI Foundations", "8"])
        // openpyxl writes no cached value for its formula: the cell is empty, and so trimmed.
        #expect(rows[2].cells == ["2024-09-03T11:00:00Z", "grace@example.org", "", "Data Literacy", "7.5"])
    }

    @Test("the sheet named in [[sources]] is read; an unknown name lists the sheets there are")
    func namedSheet() throws {
        #expect(try Self.rows("openpyxl-form.xlsx", sheet: "Notes").map(\.cells) == [["Email", "Course"], ["notes@example.org", "Hidden Course"]])
        #expect(throws: WorkbookError.noSuchSheet(name: "Missing", available: ["Form Responses 1", "Notes"])) {
            try Self.rows("openpyxl-form.xlsx", sheet: "Missing")
        }
    }

    @Test("without a named sheet, the first sheet a user sees: not a hidden one, not a chart sheet")
    func firstVisibleSheet() throws {
        let expected = [["Email", "Course", "Completed at"], ["ada@example.com", "AI 1", "2024-01-31T00:00:00Z"]]
        #expect(try Self.rows("openpyxl-hidden-first.xlsx").map(\.cells) == expected)
        #expect(try Self.rows("openpyxl-chart-first.xlsx").map(\.cells) == expected)
        // Named, a hidden sheet is read all the same.
        #expect(try Self.rows("openpyxl-hidden-first.xlsx", sheet: "Instructions").map(\.cells) == [["Read me"]])
    }

    @Test("an xlsxwriter 1904 workbook: its dates, a sparse row by reference, a boolean, rich text")
    func xlsxwriter1904() throws {
        let rows = try Self.rows("xlsxwriter-1904.xlsx")
        #expect(rows.map(\.number) == [1, 2, 4])
        #expect(rows[1].cells == ["2024-09-02T10:30:00Z", "alan@example.org", "Alan Turing", "AI Foundations", "https://certs.example/alan"])
        #expect(rows[2].cells == ["2024-09-04T09:00:00Z", "kat@example.org", "", "Prompt Design", "", "TRUE"])
    }

    @Test("an ODS with a million repeated empty rows and 16,000 repeated empty columns reads in no time")
    func odsRepeats() throws {
        let started = ContinuousClock.now
        let rows = try Self.rows("odfpy-repeats.ods")
        #expect(rows.map(\.number) == [1, 2, 200_003])
        #expect(rows[1].cells == ["2024-09-02T10:30:00Z", "mary@example.org", "Mary Jackson", "AI Foundations", "9"])
        #expect(rows[2].cells == ["2024-09-05T00:00:00Z", "dorothy@example.org", "", "Data Literacy"])
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test("a DOCTYPE (XXE, billion laughs) is refused before any entity is touched; no local file leaks",
          arguments: ["hostile-xxe.xlsx", "hostile-laughs.xlsx"])
    func hostileXML(name: String) throws {
        do {
            let rows = try Self.rows(name)
            Issue.record("expected a refusal, got \(rows)")
        } catch let error as WorkbookError {
            guard case .hostileXML(let reason) = error else { Issue.record("\(error)"); return }
            #expect(reason.contains("DOCTYPE") || reason.contains("DTD"))
            #expect(!error.description.contains("root:"))
        }
    }

    @Test("a zip bomb is refused by the compression ratio, early and within bounded memory")
    func zipBombMemoryBound() throws {
        let before = residentPeak()
        #expect {
            try Self.rows("hostile-bomb.xlsx")
        } throws: { error in
            guard case WorkbookError.limitExceeded(let reason) = error else { return false }
            return reason.contains("max_compression_ratio")
        }
        #expect(residentPeak() - before < 200 << 20)
        // With the ratio check out of the way, the entry size limit stops it too.
        #expect {
            try Self.rows("hostile-bomb.xlsx", limits: WorkbookLimits(maxEntryBytes: 8 << 20, maxCompressionRatio: 1_000_000))
        } throws: { error in
            guard case WorkbookError.limitExceeded(let reason) = error else { return false }
            return reason.contains("max_entry_bytes")
        }
    }

    @Test("a truncated workbook is refused as damaged or not a workbook, never a crash")
    func truncated() throws {
        #expect(throws: WorkbookError.self) { try Self.rows("truncated.xlsx") }
    }

    @Test("a row wider than the field limit is rejected on its own; the next rows are read")
    func wideRow() throws {
        let rows = try Self.rows("openpyxl-form.xlsx", limits: WorkbookLimits(maxFields: 4))
        #expect(rows.map { $0.rejection != nil } == [true, true, true])
        #expect(rows[1].rejection?.contains("limit of 4") == true)
    }

    @Test("every workbook of the shared corpus yields rows or is refused with a reason, quickly",
          arguments: (try? FileManager.default.contentsOfDirectory(atPath: corpus))?.sorted()
            .filter { [".xlsx", ".xlsm", ".ods"].contains(where: $0.lowercased().hasSuffix) } ?? [])
    func corpusFile(name: String) throws {
        let started = ContinuousClock.now
        let head = (try? FileSystem.readFile(Self.corpus + "/" + name, limit: 1 << 30).prefix(8).map { $0 }) ?? []
        do {
            if head.starts(with: [0xD0, 0xCF, 0x11, 0xE0]) { return }   // password-protected: FileKind refuses it
            let rows = try Self.rows(name, in: Self.corpus)
            #expect(rows.allSatisfy { $0.cells.count <= 1024 })
        } catch let error as WorkbookError {
            #expect(!error.description.isEmpty)
        }
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test("spreadsheet serials: the 1900 system's phantom 29 February, and the 1904 system")
    func serials() {
        let parser1900 = SheetParser(reader: nil, strings: [], dateStyles: [], date1904: false, limits: .init())
        #expect(parser1900.serialDate(1) == "1900-01-01T00:00:00Z")
        #expect(parser1900.serialDate(59) == "1900-02-28T00:00:00Z")
        #expect(parser1900.serialDate(61) == "1900-03-01T00:00:00Z")
        #expect(parser1900.serialDate(45537.4375) == "2024-09-02T10:30:00Z")
        let parser1904 = SheetParser(reader: nil, strings: [], dateStyles: [], date1904: true, limits: .init())
        #expect(parser1904.serialDate(44075.4375) == "2024-09-02T10:30:00Z")
        #expect(XLSXFormat.isDateFormat("yyyy-mm-dd"))
        #expect(XLSXFormat.isDateFormat("[$-409]h:mm AM/PM"))
        #expect(!XLSXFormat.isDateFormat("#,##0.00\\ \"kg\""))
        #expect(!XLSXFormat.isDateFormat("[Red]0.00"))
        #expect(XLSXFormat.unescape("a_x000D_b_x0041_") == "a\rbA")
        // The fast path leaves text without an escape as it is; half an escape stays text.
        for plain in ["", "_", "x_", "plain text", "Zoë_y", "_x", "a_x00", "a_xZZZZ_b", "_X0041_"] {
            #expect(XLSXFormat.unescape(plain) == plain)
        }
    }
}

/// The peak resident memory of this process so far (VmHWM), in bytes.
func residentPeak() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kilobytes * 1024
}

extension WorkbookTests {
    @Test("a password-protected ODS is refused as such")
    func encryptedODS() throws {
        #expect(throws: WorkbookError.encrypted) { try Self.rows("pass_protected.ods", in: Self.corpus) }
    }
}

extension WorkbookTests {
    @Test("LibreOffice's XLSX and ODS of the same CSV read the same (its import kept the dates as text)",
          arguments: ["libreoffice-form.xlsx", "libreoffice-form.ods"])
    func libreOffice(name: String) throws {
        let rows = try Self.rows(name)
        #expect(rows.map(\.cells) == [
            ["Timestamp", "Email Address", "Name", "Course"],
            ["2024-09-02 10:30:00", "lo.xlsx@example.org", "Libre Office", "AI Foundations"],
            ["09/03/2024", "lo2@example.org", "Calc User", "Data Literacy"],
        ])
    }
}
