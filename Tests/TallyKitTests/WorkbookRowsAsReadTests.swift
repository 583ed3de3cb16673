import Foundation
import Testing
@testable import TallyKit

/// Every spreadsheet Tally has — the shared corpus and the fixtures — read exactly as the
/// reader read it when `Fixtures/spreadsheets/rows-as-read.txt` was written: the same rows,
/// numbers, cells, rejections and refusals. A faster reader must not change what is read.
///
/// To rewrite the file after a change that is meant to alter what is read:
/// `TALLY_WRITE_ROWS_AS_READ=1 swift test --filter WorkbookRowsAsRead`, then review its diff.
@Suite("Workbooks read as before")
struct WorkbookRowsAsReadTests {
    static let expected = WorkbookTests.fixtures + "/rows-as-read.txt"

    /// The limits each workbook is read under: the defaults, and tight ones that reject rows.
    static let limits: [(String, WorkbookLimits)] = [
        ("default", WorkbookLimits()),
        ("tight", WorkbookLimits(maxFields: 3, maxRowBytes: 40)),
    ]

    static var workbooks: [(directory: String, name: String)] {
        func list(_ directory: String) -> [(String, String)] {
            ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
                .filter { [".xlsx", ".xlsm", ".ods"].contains(where: $0.lowercased().hasSuffix) }
                .map { (directory, $0) }
        }
        return list(WorkbookTests.corpus) + list(WorkbookTests.fixtures)
    }

    /// The rows of every workbook as text: a header line per file and limits, then one line
    /// per row (number, rejection, cells), or the refusal.
    static func transcript() -> String {
        var out = ""
        for (directory, name) in workbooks {
            for (label, limits) in limits {
                out += "== \(name) [\(label)]\n"
                do {
                    let rows = try WorkbookTests.rows(name, in: directory, limits: limits)
                    for row in rows {
                        out += "\(row.number)"
                        if let rejection = row.rejection { out += " !\(rejection)" }
                        out += " " + row.cells.map(escaped).joined(separator: " | ") + "\n"
                    }
                } catch {
                    out += "refused: \(error)\n"
                }
            }
        }
        return out
    }

    /// A cell on one line: control characters, `\` and `|` escaped.
    static func escaped(_ cell: String) -> String {
        var out = ""
        for scalar in cell.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "|": out += "\\|"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    @Test("every corpus workbook and fixture yields the same rows as before, under default and tight limits")
    func sameRows() throws {
        let now = Self.transcript()
        if ProcessInfo.processInfo.environment["TALLY_WRITE_ROWS_AS_READ"] == "1" {
            try now.write(toFile: Self.expected, atomically: true, encoding: .utf8)
            return
        }
        let before = try String(contentsOfFile: Self.expected, encoding: .utf8)
        let old = before.split(separator: "\n", omittingEmptySubsequences: false)
        let new = now.split(separator: "\n", omittingEmptySubsequences: false)
        let firstDifference = (0..<min(old.count, new.count)).first { old[$0] != new[$0] } ?? min(old.count, new.count)
        #expect(old.count == new.count)
        if firstDifference < max(old.count, new.count) {
            let was = firstDifference < old.count ? String(old[firstDifference]) : "(end)"
            let is_ = firstDifference < new.count ? String(new[firstDifference]) : "(end)"
            Issue.record("line \(firstDifference + 1) was \"\(was)\", is \"\(is_)\"")
        }
    }
}
