import Foundation
import Testing
@testable import TallyKit

/// Replays every input under Fixtures/fuzz/ — crashes the fuzzers (scripts/fuzz) found, and
/// seeds written by hand — through the same checks the fuzz targets make.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static func inputs(_ target: String) -> [String] {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/fuzz/\(target)")
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { !$0.hasPrefix(".") }.sorted().map { directory.appendingPathComponent($0).path }
    }

    @Test("CSV inputs read the same at every buffer size, without crashing", arguments: inputs("csv"))
    func csv(path: String) throws {
        let bytes = try FileSystem.readFile(path)
        let limits = TableLimits(maxRowBytes: 256, maxFields: 16)
        func records(_ reader: CSVReader) throws -> [[String]] {
            var out: [[String]] = []
            try reader.forEachRecord { record in
                out.append(record.rejection.map { ["!" + $0] } ?? record.fields)
                return true
            }
            return out
        }
        let whole = try records(CSVReader(bytes: bytes, limits: limits))
        for size in [1, 2, 3, 7, 64] {
            #expect(try records(CSVReader(bytes: bytes, limits: limits, bufferSize: size)) == whole)
        }
    }

    @Test("JSON inputs are parsed or refused; parsed ones survive a round trip and shape detection", arguments: inputs("json"))
    func json(path: String) throws {
        let bytes = try FileSystem.readFile(path)
        guard let value = try? JSONParser.parse(bytes) else { return }
        #expect(try JSONParser.parse(value.serialized()) == value)
        _ = try? KajabiPayload.events(in: value, source: EventSource(file: "f", sha256: "", row: 1), settings: .init(),
                                      fallbackTime: Timestamp(milliseconds: 0))
    }
}

extension FuzzRegressionTests {
    @Test("worksheet XML inputs give bounded rows or a refusal", arguments: inputs("xlsx"))
    func xlsxSheet(path: String) throws {
        let reader = try XMLStreamReader(source: BytesXMLSource(try FileSystem.readFile(path)), name: "sheet1.xml")
        defer { reader.close() }
        let parser = SheetParser(reader: reader, strings: ["a", "b"], dateStyles: [false, true], date1904: false,
                                 limits: WorkbookLimits(maxFields: 64, maxRowBytes: 4096))
        try? parser.rows { row in
            #expect(row.cells.count <= 64)
            return true
        }
    }

    @Test("ODS content inputs give bounded rows or a refusal", arguments: inputs("ods"))
    func odsContent(path: String) throws {
        let reader = try XMLStreamReader(source: BytesXMLSource(try FileSystem.readFile(path)), name: "content.xml")
        defer { reader.close() }
        try? ODSWorkbook.rows(of: reader, sheet: nil, limits: WorkbookLimits(maxFields: 64, maxRowBytes: 4096)) { row in
            #expect(row.cells.count <= 64)
            return true
        }
    }
}

extension FuzzRegressionTests {
    @Test("email inputs parse within the part limit, or fail with a MailError", arguments: inputs("mail"))
    func mail(path: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tally-fuzz-mail-\(UUID().uuidString)").path
        try FileSystem.createDirectory(directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var limits = MailLimits()
        limits.maxParts = 40
        limits.maxDepth = 6
        guard let message = try? MIMEReader(source: ArrayByteSource(try FileSystem.readFile(path)), directory: directory,
                                            limits: limits).read() else { return }
        #expect(message.attachments.count + message.skipped.count <= limits.maxParts)
        #expect(Set(message.attachments.map(\.number)).count == message.attachments.count)
        _ = MailPolicy(allowFrom: ["@school.example"], requireAuth: "mx.school.example").refusal(for: message.headers)
    }
}
