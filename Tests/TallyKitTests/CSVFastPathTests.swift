import Testing
@testable import TallyKit

/// The CSV intake's shortcuts against the plain way: the same strings, the same events.
struct CSVFastPathTests {
    /// Byte strings an interned column may hold: repeats, near misses of equal length,
    /// every length around the eight-byte steps, invalid UTF-8, and nothing at all.
    static let values: [[UInt8]] = {
        var values: [[UInt8]] = [[], Array("AI 1".utf8), Array("AI 2".utf8), Array("Course 01: Practical Skills".utf8),
                                 Array("Course 02: Practical Skills".utf8), Array("Écoles & \"Zoë\"".utf8),
                                 [0xFF, 0xFE, 0x41], [0xC3], [0x41, 0xC3]]
        for length in 1...24 { values.append(Array(repeating: UInt8(ascii: "x"), count: length)) }
        return values
    }()

    @Test("an interned value equals the string made from its bytes, and a repeat is the same string")
    func internedStrings() {
        var interner = TextInterner()
        for round in 0..<3 {
            for bytes in Self.values {
                let interned = bytes.withUnsafeBytes { interner.string($0) }
                #expect(interned == String(decoding: bytes, as: UTF8.self), "round \(round): \(bytes)")
                #expect(Array(interned.utf8) == Array(String(decoding: bytes, as: UTF8.self).utf8))
            }
        }
    }

    @Test("past its limit the interner still returns the right strings")
    func internerLimit() {
        var interner = TextInterner(limit: 3)
        for round in 0..<2 {
            for bytes in Self.values {
                #expect(bytes.withUnsafeBytes { interner.string($0) } == String(decoding: bytes, as: UTF8.self), "round \(round)")
            }
        }
    }

    /// A table of strings, read the plain way (`string(at:)` for every cell).
    struct StringTable: TableSource {
        struct Row: TableRow {
            var number: Int
            var cells: [String]
            var count: Int { cells.count }
            func string(at index: Int) -> String { index < cells.count ? cells[index] : "" }
            var rejection: String? { nil }
            var raw: String { cells.joined(separator: ",") }
            func dateOrderEvidence(at index: Int) -> DateOrder? { DateParser.evidence(string(at: index)) }
        }
        var rows: [[String]]
        func forEachRow(_ body: (Row) throws -> Bool) throws {
            for (index, cells) in rows.enumerated() where try !body(Row(number: index + 1, cells: cells)) { return }
        }
    }

    @Test("events read from a CSV file (courses interned) equal those read cell by cell as strings")
    func csvEqualsStrings() throws {
        let courses = ["AI 1", "AI 2", " AI 1 ", "Course, with comma", "Say \"hi\"", "Écoles", "", "AI 1", "ai 1", "AI  1",
                       "Ai\u{A0}1", "ÉCOLES"]
        var rows = [["Email", "Course", "Completed at", "Name"]]
        for index in 0..<40 {
            rows.append(["student\(index % 6)@example.org", courses[index % courses.count], "9/\(index % 28 + 1)/2024 10:30",
                         "Student \(index)"])
        }
        func quoted(_ cell: String) -> String {
            cell.contains(",") || cell.contains("\"") ? "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : cell
        }
        let text = rows.map { $0.map(quoted).joined(separator: ",") }.joined(separator: "\n") + "\n"
        let path = "/tmp/tally-csv-fastpath-\(UInt64.random(in: 0...UInt64.max)).csv"
        defer { unlink(path) }
        try FileSystem.writeAtomically(Array(text.utf8), to: path)

        let intake = TableIntake(settings: .init())
        let modified = Timestamp(year: 2024, month: 9, day: 10)!
        var fromFile: [IntakeItem] = [], fromStrings: [IntakeItem] = []
        try intake.read(path: path, file: "t.csv", sha256: "sha", kind: .csv, modified: modified) { fromFile.append($0) }
        try intake.read(StringTable(rows: rows), file: "t.csv", sha256: "sha", modified: modified) { fromStrings.append($0) }
        #expect(fromFile.count == 40)
        #expect(fromFile == fromStrings)
    }
}

import Foundation
