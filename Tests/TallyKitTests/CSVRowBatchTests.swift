import Foundation
import Testing
@testable import TallyKit

/// A CSV read on a thread of its own (`CSVRowBatch`, `CSVTable.forEachRowPastHeader`)
/// against the one-thread loop it stands in for: the same rows decided, the same events and
/// rejected rows, in the same order, and the same errors, wherever the batches are cut.
struct CSVRowBatchTests {
    /// A random export: plain rows, and rows that leave the lane (quotes to unescape, a name
    /// with an accent, a bad address, no course, a blank date), or break a limit (too long,
    /// too many fields), blank lines, quoted line breaks, and sometimes a quote left open at
    /// the end. Day-first files show a day past 12 only after `ambiguous` rows.
    static func export(_ random: inout SeededGenerator, rows: Int, dayFirst: Bool, ambiguous: Int = 0,
                       crlf: Bool = false, unterminated: Bool = false) -> String {
        var lines = ["Timestamp,Email Address,Full name,Course,Certificate link"]
        for index in 0..<rows {
            let student = Int.random(in: 0..<50, using: &random)
            let day = index < ambiguous ? Int.random(in: 1...12, using: &random) : Int.random(in: 1...28, using: &random)
            let date = dayFirst ? "\(day)/9/2024 10:\(10 + student % 50):00" : "9/\(day)/2024 10:\(10 + student % 50):00"
            let email = ["student\(student)@example.org", "Student\(student)@Example.ORG", "s.t\(student)+x@gmail.com"]
                .randomElement(using: &random)!
            let course = "Course \(Int.random(in: 1...6, using: &random))"
            let line: String
            switch Int.random(in: 0..<24, using: &random) {
            case 0: line = ""
            case 1: line = "\(date),\(email),\"Smith, \"\"Bob\"\"\",\(course),"
            case 2: line = "\(date),\(email),Zoë,\(course),https://c.example/\(index)"
            case 3: line = "\(date),not an email,Bob,\(course),"
            case 4: line = "\(date),\(email),\(String(repeating: "long ", count: Int.random(in: 10...1200, using: &random))),\(course),"
            case 5: line = "\(date),\(email),Bob,\(course),x,x,x,x,x"
            case 6: line = "\(date),\(email),\"Bob\nSmith\",\(course),"
            case 7: line = "\(date),\(email),Bob,,"
            case 8: line = "\(date),\"\(email)\"x,Bob,\(course),"
            case 9: line = ",\(email),Bob,\(course),"
            case 10: line = "\(date),\"\(email)\",\"Bob\",\"\(course)\",\"https://c.example/\(index)\""
            case 11: line = "\(date) ,\(email),Bob,\(course),"
            default: line = "\(date),\(email),Student \(student),\(course),https://c.example/\(student)"
            }
            lines.append(line)
        }
        var text = lines.joined(separator: crlf ? "\r\n" : "\n")
        if unterminated { text += (crlf ? "\r\n" : "\n") + "9/2/2024,a@example.org,\"Bob,Course 1," }
        return text
    }

    /// What a read did, in order: each row offered to `decided` (all it was handed), each
    /// item emitted, and how it ended.
    static func log(_ path: String, onAThread: Bool, batchRows: Int = CSVRowBatch.rows, limits: TableLimits = .init(),
                    dateOrderConfigured: Bool = false, failAt: Int? = nil, threadFrom: Int = 0) -> [String] {
        var intake = TableIntake(settings: .init(dateOrderConfigured: dateOrderConfigured, limits: limits))
        intake.readsCSVOnAThread = onAThread
        intake.csvThreadFrom = threadFrom   // 0: every file on the thread, however small
        intake.csvBatchRows = batchRows
        var log: [String] = []
        func text(_ bytes: UnsafeRawBufferPointer?) -> String { bytes.map { String(decoding: $0, as: UTF8.self) } ?? "nil" }
        struct Stop: Error {}
        do {
            try intake.read(path: path, file: "export.csv", sha256: "sha", kind: .csv, modified: Timestamp(year: 2024, month: 9, day: 10)!,
                            decided: { row in
                                log.append("decided \(row.row) \(row.key) \(text(row.email)) \(text(row.name)) \(text(row.course)) \(text(row.certificate)) \(row.at)")
                                if row.row == failAt { throw Stop() }
                                // Some rows are done there, the others made events, as the engine's lane does.
                                return row.row % 3 == 0
                            }, emit: { item in
                                if case .event(let event) = item, event.source.row == failAt { throw Stop() }
                                log.append("\(item)")
                            })
            log.append("done")
        } catch {
            log.append("threw \(error)")
        }
        return log
    }

    static func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tally-csv-\(UUID().uuidString).csv").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func expectSame(_ path: String, batchRows: Int, limits: TableLimits = .init(), dateOrderConfigured: Bool = false,
                           failAt: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let simple = log(path, onAThread: false, limits: limits, dateOrderConfigured: dateOrderConfigured, failAt: failAt)
        let threaded = log(path, onAThread: true, batchRows: batchRows, limits: limits, dateOrderConfigured: dateOrderConfigured,
                           failAt: failAt)
        #expect(threaded.count == simple.count, "batches of \(batchRows)", sourceLocation: sourceLocation)
        if let first = (0..<min(threaded.count, simple.count)).first(where: { threaded[$0] != simple[$0] }) {
            Issue.record("batches of \(batchRows): entry \(first) is \(threaded[first]) on a thread, \(simple[first]) on one",
                         sourceLocation: sourceLocation)
        }
    }

    @Test("a CSV read on a reader thread decides, emits and rejects what the one-thread loop does, in order",
          arguments: 1...6)
    func sameAsOneThread(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        let dayFirst = seed % 2 == 0
        let text = Self.export(&random, rows: Int.random(in: 200...3000, using: &random), dayFirst: dayFirst,
                               ambiguous: dayFirst ? 150 : 0, crlf: seed % 3 == 0, unterminated: seed % 4 == 1)
        let path = try Self.write(text)
        defer { unlink(path) }
        for batchRows in [1, 7, 64, CSVRowBatch.rows] {
            Self.expectSame(path, batchRows: batchRows)
        }
        Self.expectSame(path, batchRows: 5, limits: TableLimits(maxRowBytes: 300, maxFields: 6))
        // As the engine reads it: on the thread from 256 KiB, else on the calling thread.
        #expect(Self.log(path, onAThread: true, threadFrom: TableIntake(settings: .init()).csvThreadFrom)
                == Self.log(path, onAThread: false))
        Self.expectSame(path, batchRows: 33, dateOrderConfigured: true)
        let log = Self.log(path, onAThread: true, batchRows: 7)
        // The lane took rows, the ordinary path made events, and rows were rejected.
        #expect(log.contains { $0.hasPrefix("decided ") })
        #expect(log.contains { $0.hasPrefix("event(") })
        #expect(log.contains { $0.hasPrefix("rejected(") })
        #expect(log.last == "done")
    }

    @Test("a day-first file read on a thread has its date order found as on one thread")
    func dayFirstDates() throws {
        var random = SeededGenerator(seed: 40)
        let path = try Self.write(Self.export(&random, rows: 600, dayFirst: true, ambiguous: 500))
        defer { unlink(path) }
        Self.expectSame(path, batchRows: 16)
        // Found, not assumed: the configured (month-first) order reads the file otherwise.
        #expect(Self.log(path, onAThread: true, batchRows: 16) != Self.log(path, onAThread: true, batchRows: 16, dateOrderConfigured: true))
    }

    @Test("an error thrown while the rows are scored stops the reading thread, after the same rows", arguments: [2, 50, 1999])
    func scoringError(failAt: Int) throws {
        var random = SeededGenerator(seed: UInt64(failAt))
        let path = try Self.write(Self.export(&random, rows: 2500, dayFirst: false))
        defer { unlink(path) }
        for batchRows in [1, 16, CSVRowBatch.rows] {
            Self.expectSame(path, batchRows: batchRows, failAt: failAt)
        }
        #expect(Self.log(path, onAThread: true, batchRows: 16, failAt: failAt).last?.hasPrefix("threw") == true)
    }

    @Test("headers only, a header the lane cannot read, and a TSV read on a thread as on one")
    func otherFiles() throws {
        let files = [
            "Timestamp,Email Address,Course",
            "Timestamp,Email Address,Course\n",
            "Email,Score\na@example.org,7\nb@example.org,x",
            "Email\tCourse\tCompleted\na@example.org\tCourse 1\t9/2/2024\nb@example.org\t\"Course\t2\"\t13/2/2024",
            "Response ID,Email,Course\n1,a@example.org,Course 1\n2,b@example.org,Course 1",
            "Name,Course\nBob,Course 1",
        ]
        for text in files {
            let path = try Self.write(text)
            defer { unlink(path) }
            Self.expectSame(path, batchRows: 1)
        }
    }

    /// A source that gives its bytes in pieces, then fails.
    final class FailingSource: ByteSource {
        private let bytes: [UInt8]
        private var offset = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        func read(into buffer: UnsafeMutableRawBufferPointer) throws(CSVError) -> Int {
            guard offset < bytes.count else { throw .cannotRead(path: "export.csv", errno: EIO) }
            let count = min(buffer.count, bytes.count - offset, 97)
            bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
            offset += count
            return count
        }
    }

    /// A record as the reader hands it on: everything a caller can ask of it.
    static func describe(_ record: borrowing CSVRecord) -> String {
        let record = copy record
        return "record \(record.number) line \(record.line) \(record.fields) raw \(record.raw.debugDescription) \(record.rejection ?? "-") "
            + "\((0..<record.count).map { record.bytesInPlace(at: $0).map { Array($0) } ?? [] })"
    }

    static func describe(_ row: borrowing CompletionRow) -> String {
        func text(_ bytes: UnsafeRawBufferPointer?) -> String { bytes.map { String(decoding: $0, as: UTF8.self) } ?? "nil" }
        return "plain \(row.row) \(row.key) \(text(row.email)) \(text(row.name)) \(text(row.course)) \(text(row.certificate)) \(row.at)"
    }

    @Test("records copied across threads, over-long ones by their saved start, read as the reader gave them; a read error comes after them",
          arguments: [7, 64, 1000, CSVReader.defaultBufferSize])
    func copiedRecords(bufferSize: Int) throws {
        var random = SeededGenerator(seed: UInt64(bufferSize))
        let text = Self.export(&random, rows: 400, dayFirst: false, crlf: bufferSize == 64)
        let limits = TableLimits(maxRowBytes: 300, maxFields: 6)
        let columns = try #require(CompletionRow.Columns(
            map: HeaderMap(headers: ["Timestamp", "Email Address", "Full name", "Course", "Certificate link"]),
            settings: .init(), file: "export.csv", sha256: "sha", fallbackTime: Timestamp(milliseconds: 0)))
        for plain in [columns, nil] {
            for failing in [false, true] {
                func reader() -> CSVReader {
                    let bytes = Array(text.utf8)
                    let source: any ByteSource = failing ? FailingSource(bytes) : ArrayByteSource(bytes)
                    return CSVReader(source: source, delimiter: nil, limits: limits, bufferSize: bufferSize)
                }
                var simple: [String] = []
                var first = true
                do {
                    try reader().forEachRecord { record in
                        if first {
                            first = false
                            return true
                        }
                        if let plain, record.problem == nil,
                           CompletionRow.read(record, columns: plain, { row in simple.append(Self.describe(row)); return true }) {
                            return true
                        }
                        simple.append(Self.describe(record))
                        return true
                    }
                } catch {
                    simple.append("threw \(error)")
                }
                for rows in [1, 3, 100] {
                    var threaded: [String] = []
                    do {
                        try CSVRowBatch.read(reader(), plain: plain, rows: rows, plainRow: { row in
                            threaded.append(Self.describe(row))
                            return true
                        }, record: { record in
                            threaded.append(Self.describe(record))
                            return true
                        })
                    } catch {
                        threaded.append("threw \(error)")
                    }
                    #expect(threaded.count == simple.count, "plain \(plain != nil), failing \(failing), rows \(rows)")
                    if let first = (0..<min(threaded.count, simple.count)).first(where: { threaded[$0] != simple[$0] }) {
                        Issue.record("plain \(plain != nil), failing \(failing), rows \(rows): entry \(first) is \(threaded[first]) on a thread, \(simple[first]) on one")
                    }
                }
                #expect(simple.contains { $0.contains("longer than 300") })
                #expect(simple.last?.hasPrefix("threw") == failing)
            }
        }
    }

    @Test("a caller that stops early stops the reading thread")
    func stopsEarly() throws {
        var random = SeededGenerator(seed: 9)
        let text = Self.export(&random, rows: 5000, dayFirst: false)
        for stopAt in [1, 10, 4000] {
            var seen = 0
            try CSVRowBatch.read(CSVReader(bytes: Array(text.utf8)), plain: nil, rows: 8, plainRow: { _ in false }, record: { _ in
                seen += 1
                return seen < stopAt
            })
            #expect(seen == stopAt)
        }
    }
}
