import Foundation
import Testing
@testable import TallyKit

/// One line as the reader reported it.
private struct Reported: Equatable {
    var line: Int
    var value: JSONValue?
    var error: String?
    var raw: String
}

/// Where the bytes come from: memory, or a temporary file (which streams in chunks).
enum JSONLinesSource: String, CaseIterable, Sendable {
    case bytes, file
}

private func temporaryFile(_ bytes: [UInt8]) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("jsonlines-\(UUID().uuidString).jsonl")
    try Data(bytes).write(to: url)
    return url
}

private func readAll(_ bytes: [UInt8], from source: JSONLinesSource, maxLineBytes: Int = 1 << 20,
                     stopAfter: Int = .max) throws -> [Reported] {
    var reported: [Reported] = []
    let collect = { (line: Int, result: Result<JSONValue, JSONError>, raw: UnsafeRawBufferPointer) -> Bool in
        let text = String(decoding: raw, as: UTF8.self)
        switch result {
        case .success(let value): reported.append(Reported(line: line, value: value, raw: text))
        case .failure(let error): reported.append(Reported(line: line, error: error.description, raw: text))
        }
        return reported.count < stopAfter
    }
    switch source {
    case .bytes:
        try JSONLinesReader(bytes: bytes, maxLineBytes: maxLineBytes).forEachLine(collect)
    case .file:
        let url = try temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(at: url) }
        try JSONLinesReader(path: url.path, maxLineBytes: maxLineBytes).forEachLine(collect)
    }
    return reported
}

private func ok(_ line: Int, _ raw: String) throws -> Reported {
    Reported(line: line, value: try JSONParser.parse(raw), raw: raw)
}

@Suite("JSONLinesReader")
struct JSONLinesReaderTests {
    @Test("blank lines are skipped and line numbers count every line", arguments: JSONLinesSource.allCases)
    func blankLines(source: JSONLinesSource) throws {
        let text = "{\"seq\":1}\n\n   \n\t\n[2]\n\n"
        #expect(try readAll(Array(text.utf8), from: source) == [try ok(1, "{\"seq\":1}"), try ok(5, "[2]")])
    }

    @Test("a broken line is reported with its position, and the next lines are still read", arguments: JSONLinesSource.allCases)
    func brokenLine(source: JSONLinesSource) throws {
        let text = "{\"a\":1}\n{\"a\":2,}\n{\"a\":3}\n"
        let lines = try readAll(Array(text.utf8), from: source)
        #expect(lines.count == 3)
        #expect(lines[1] == Reported(line: 2, error: "line 2, column 8: expected an object key in double quotes, found '}'",
                                     raw: "{\"a\":2,}"))
        #expect(lines[2] == (try ok(3, "{\"a\":3}")))
    }

    @Test("an error's offset is the file's", arguments: JSONLinesSource.allCases)
    func fileOffsets(source: JSONLinesSource) throws {
        let bytes = Array("[1]\n[2,]\n".utf8)
        var offsets: [Int] = []
        let url = try temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(at: url) }
        let reader = source == .bytes ? JSONLinesReader(bytes: bytes) : try JSONLinesReader(path: url.path)
        try reader.forEachLine { _, result, _ in
            if case .failure(let error) = result { offsets.append(error.offset) }
            return true
        }
        #expect(offsets == [7])
    }

    @Test("CRLF line endings and a byte-order mark are dropped", arguments: JSONLinesSource.allCases)
    func crlf(source: JSONLinesSource) throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("{\"a\":\"x\"}\r\n\r\n[1]\r\n".utf8)
        #expect(try readAll(bytes, from: source) == [try ok(1, "{\"a\":\"x\"}"), try ok(3, "[1]")])
    }

    @Test("a file without a final newline gives its last line", arguments: JSONLinesSource.allCases)
    func noFinalNewline(source: JSONLinesSource) throws {
        #expect(try readAll(Array("1\n2".utf8), from: source) == [try ok(1, "1"), try ok(2, "2")])
        #expect(try readAll(Array("1\r".utf8), from: source) == [try ok(1, "1")])
        #expect(try readAll([], from: source) == [])
    }

    @Test("a line over the limit is reported and skipped, and reading goes on", arguments: JSONLinesSource.allCases)
    func overLongLine(source: JSONLinesSource) throws {
        // Long enough to span several reads, so the file reader must skip without buffering it.
        let long = "[\"" + String(repeating: "x", count: 300_000) + "\"]"
        let text = "[1]\n\(long)\n[22]\n" + "[1234567890]\n" + "[123456789]\r\n" + long
        let lines = try readAll(Array(text.utf8), from: source, maxLineBytes: 11)
        #expect(lines.map(\.line) == [1, 2, 3, 4, 5, 6])
        #expect(lines[0] == (try ok(1, "[1]")))
        #expect(lines[1] == Reported(line: 2, error: "line 2, column 1: the line is longer than 11 bytes", raw: "[\"xxxxxxxxx"))
        #expect(lines[2] == (try ok(3, "[22]")))
        #expect(lines[3].error == "line 4, column 1: the line is longer than 11 bytes")
        #expect(lines[4] == (try ok(5, "[123456789]")))
        #expect(lines[5].error == "line 6, column 1: the line is longer than 11 bytes")
    }

    @Test("returning false stops the reading", arguments: JSONLinesSource.allCases)
    func stop(source: JSONLinesSource) throws {
        #expect(try readAll(Array("1\n2\n3\n".utf8), from: source, stopAfter: 2).map(\.line) == [1, 2])
    }

    @Test("an error thrown by the caller comes out of forEachLine")
    func callerErrors() {
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try JSONLinesReader(bytes: Array("1\n2\n".utf8)).forEachLine { _, _, _ in throw Stop() }
        }
    }

    @Test("a missing file is an error that names it")
    func missingFile() {
        do {
            _ = try JSONLinesReader(path: "/nonexistent/events.jsonl")
            Issue.record("opened a missing file")
        } catch {
            #expect(error.description == "cannot open /nonexistent/events.jsonl: No such file or directory")
        }
    }

    @Test("parse limits apply to each line")
    func limits() throws {
        var messages: [String] = []
        try JSONLinesReader(bytes: Array("[[1]]\n[1]\n".utf8)).forEachLine(limits: .init(maxDepth: 1)) { _, result, _ in
            if case .failure(let error) = result { messages.append(error.message) }
            return true
        }
        #expect(messages == ["nesting deeper than 1 levels"])
    }

    /// 40 MB rather than 30: a reader that held the whole file would then exceed the bound.
    @Test("a 40 MB file streams with less than 32 MiB of memory growth")
    func streamingMemoryBound() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("jsonlines-big-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        var written = 0
        var lines = 0
        while written < 40_000_000 {
            var batch = Data()
            for _ in 0..<2000 {
                lines += 1
                batch.append(contentsOf: Self.payload(lines))
            }
            written += batch.count
            try handle.write(contentsOf: batch)
        }
        try handle.close()

        Self.resetPeakMemory()
        let before = Self.peakMemory()
        var count = 0
        var failures = 0
        try JSONLinesReader(path: url.path).forEachLine { _, result, _ in
            count += 1
            if case .failure = result { failures += 1 }
            return true
        }
        let growth = Self.peakMemory() - before
        #expect(before > 0, "VmHWM is read from /proc/self/status")
        #expect(count == lines)
        #expect(failures == lines / 1000)
        #expect(growth < 32 << 20, "peak resident memory grew by \(growth >> 20) MiB")
    }

    /// A Kajabi-like webhook line; every thousandth one is broken.
    private static func payload(_ n: Int) -> [UInt8] {
        var w = JSONWriter(capacity: 512)
        w.beginObject()
        w.field("id", n)
        w.field("event", "purchase.created")
        w.key("payload")
        w.beginObject()
        w.field("member_email", "student\(n)@example.com")
        w.field("member_name", "Étudiant \(n) \"Quoted\"")
        w.field("offer_id", n % 97)
        w.field("offer_title", "Course \(n % 13)")
        w.field("amount", JSONValue.number("49.50"))
        w.endObject()
        w.endObject()
        if n % 1000 == 0 { w.bytes.append(UInt8(ascii: ",")) }
        w.bytes.append(0x0A)
        return w.bytes
    }

    /// Peak resident memory of this process (VmHWM), in bytes; 0 where /proc is missing.
    private static func peakMemory() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            return kilobytes * 1024
        }
        return 0
    }

    /// Resets the peak to the current resident size, so that other tests' peaks do not count.
    private static func resetPeakMemory() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }
}
