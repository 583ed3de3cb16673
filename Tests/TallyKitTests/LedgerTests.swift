import Foundation
import Testing
@testable import TallyKit

/// The ledgers: append-only lines, hash chains, commits, and what recovery cuts.
final class LedgerTests {
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString)").path
        try FileSystem.createDirectory(directory)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    static let t0 = Timestamp(year: 2024, month: 9, day: 2)!

    func lines(_ name: String) throws -> [String] {
        try String(contentsOfFile: directory + "/\(name).jsonl", encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test("each points line names the SHA-256 of the line before it")
    func hashChain() throws {
        let ledger = try Ledger(directory: directory)
        try ledger.append(PointsRecord(seq: 1, at: Self.t0, student: "a", points: 20, activity: "LEARN", event: "e1", reason: "x"))
        try ledger.append(PointsRecord(seq: 2, at: Self.t0, student: "b", points: 20, activity: "LEARN", event: "e2", reason: "y"))
        try ledger.commit(at: Self.t0)
        let points = try lines("points")
        #expect(points.count == 2)
        #expect(points[0].contains("\"prev\":\"\(LedgerFile.genesis)\""))
        #expect(points[1].contains("\"prev\":\"\(Crypto.sha256Hex(Array(points[0].utf8)))\""))
        #expect(points[0] == #"{"seq":1,"at":"2024-09-02T00:00:00Z","student":"a","points":20,"activity":"LEARN","event":"e1","reason":"x","change":"award","prev":"0000000000000000000000000000000000000000000000000000000000000000"}"#)
    }

    @Test("a reopened ledger continues the sequence and the chain")
    func reopen() throws {
        do {
            let ledger = try Ledger(directory: directory)
            try ledger.append(PointsRecord(seq: 1, at: Self.t0, student: "a", points: 20, activity: "LEARN", event: "e1", reason: "x"))
            try ledger.commit(at: Self.t0)
        }
        let ledger = try Ledger(directory: directory)
        #expect(ledger.points.lastSeq == 1)
        try ledger.append(PointsRecord(seq: 2, at: Self.t0, student: "a", points: 5, activity: "MANUAL", event: "e2", reason: "y"))
        try ledger.commit(at: Self.t0)
        let points = try lines("points")
        #expect(points[1].contains("\"prev\":\"\(Crypto.sha256Hex(Array(points[0].utf8)))\""))
    }

    @Test("recovery cuts lines written after the last commit, and says so in the audit")
    func recoveryCutsUncommitted() throws {
        do {
            let ledger = try Ledger(directory: directory)
            try ledger.append(PointsRecord(seq: 1, at: Self.t0, student: "a", points: 20, activity: "LEARN", event: "e1", reason: "x"))
            try ledger.commit(at: Self.t0)
            // A batch that was written but never committed, and a torn half line.
            try ledger.append(PointsRecord(seq: 2, at: Self.t0, student: "b", points: 20, activity: "LEARN", event: "e2", reason: "y"))
            try ledger.points.flush()
        }
        let handle = FileHandle(forWritingAtPath: directory + "/points.jsonl")!
        handle.seekToEndOfFile()
        handle.write(Data(#"{"seq":3,"at":"2024-"#.utf8))
        handle.closeFile()

        let ledger = try Ledger(directory: directory)
        let messages = try ledger.recover(at: Self.t0)
        #expect(messages.count == 1)
        #expect(messages[0].hasPrefix("cut "))
        #expect(messages[0].hasSuffix("uncommitted bytes from the end of points.jsonl"))
        #expect(try lines("points").count == 1)
        #expect(ledger.points.lastSeq == 1)
        let audit = try lines("audit")
        #expect(audit.contains { $0.contains("\"action\":\"recovered\"") })
        // Clean ledgers need nothing.
        #expect(try Ledger(directory: directory).recover(at: Self.t0).isEmpty)
    }

    @Test("a commit records each ledger's length and the chain head of points.jsonl; lastCommit reads both back")
    func commitRecordsHead() throws {
        let ledger = try Ledger(directory: directory)
        try ledger.commit(at: Self.t0)
        #expect(try Ledger(directory: directory).lastCommit()?.heads == ["points": LedgerFile.genesis],
                "an empty points.jsonl: the genesis hash")
        try ledger.append(PointsRecord(seq: 1, at: Self.t0, student: "a", points: 20, activity: "LEARN", event: "e1", reason: "x"))
        try ledger.commit(at: Self.t0)
        let points = try lines("points")
        let head = Crypto.sha256Hex(Array(points[0].utf8))
        #expect(try lines("audit").last?.contains(#""detail":{"events":0,"points":\#(points[0].utf8.count + 1),"unmatched":0,"rejected":0,"heads":{"points":"\#(head)"}}"#) == true)
        let commit = try #require(try Ledger(directory: directory).lastCommit())
        #expect(commit.lengths == ["events": 0, "points": points[0].utf8.count + 1, "unmatched": 0, "rejected": 0])
        #expect(commit.heads == ["points": head])
    }

    @Test("a torn commit line is no commit: recovery goes back to the one before it, whose head still holds")
    func tornCommit() throws {
        do {
            let ledger = try Ledger(directory: directory)
            try ledger.append(PointsRecord(seq: 1, at: Self.t0, student: "a", points: 20, activity: "LEARN", event: "e1", reason: "x"))
            try ledger.commit(at: Self.t0)
            try ledger.append(PointsRecord(seq: 2, at: Self.t0, student: "b", points: 20, activity: "LEARN", event: "e2", reason: "y"))
            try ledger.points.sync()
        }
        let before = try lines("points")
        let handle = FileHandle(forWritingAtPath: directory + "/audit.jsonl")!
        handle.seekToEndOfFile()
        handle.write(Data(#"{"seq":3,"at":"2024-09-02T00:00:00Z","action":"commit","detail":{"events":0,"poi"#.utf8))
        handle.closeFile()

        let ledger = try Ledger(directory: directory)
        let head = Crypto.sha256Hex(Array(before[0].utf8))
        let commit = try #require(try ledger.lastCommit())
        #expect(commit.heads == ["points": head])
        let messages = try ledger.recover(at: Self.t0)
        #expect(messages.count == 2)
        #expect(try lines("points") == [before[0]])
        // The recovery's own commit (a line after the first) records the head of what is left.
        let recovered = try #require(try Ledger(directory: directory).lastCommit())
        #expect(recovered.auditLength > commit.auditLength)
        #expect(recovered.heads == ["points": head])
    }

    @Test("a ledger shorter than its last commit is refused, not silently accepted")
    func cutOutside() throws {
        do {
            let ledger = try Ledger(directory: directory)
            try ledger.append(PointsRecord(seq: 1, at: Self.t0, student: "a", points: 20, activity: "LEARN", event: "e1", reason: "x"))
            try ledger.commit(at: Self.t0)
        }
        truncate(directory + "/points.jsonl", 10)
        let ledger = try Ledger(directory: directory)
        #expect(throws: RecordError.self) { try ledger.recover(at: Self.t0) }
    }

    @Test("a rollback discards a half-read file, including bytes already written")
    func rollback() throws {
        let ledger = try Ledger(directory: directory)
        try ledger.append(PointsRecord(seq: 1, at: Self.t0, student: "a", points: 20, activity: "LEARN", event: "e1", reason: "x"))
        let mark = ledger.checkpoint()
        try ledger.append(PointsRecord(seq: 2, at: Self.t0, student: "b", points: 20, activity: "LEARN", event: "e2", reason: "y"))
        try ledger.points.flush()
        try ledger.append(PointsRecord(seq: 3, at: Self.t0, student: "c", points: 20, activity: "LEARN", event: "e3", reason: "z"))
        try ledger.rollback(to: mark)
        try ledger.commit(at: Self.t0)
        #expect(try lines("points").count == 1)
        #expect(ledger.points.lastSeq == 1)
    }

    /// Stages `count` numbered lines of about 200 bytes in `file`; returns where each starts.
    func stage(_ count: Int, in file: LedgerFile, from first: Int = 1) -> [Int] {
        (first..<(first + count)).map { n in
            let offset = file.size + file.pending
            file.append { seq, _, w in
                w.beginObject()
                w.member("seq", seq)
                w.member("text", "line \(n) " + String(repeating: "x", count: 180))
                w.endObject()
            }
            return offset
        }
    }

    @Test("lines handed to the writer thread 256 KiB at a time read back, roll back and sync as staged ones do; their writeback starts every 4 MiB")
    func writerThread() throws {
        let path = directory + "/big.jsonl"
        let file = try LedgerFile(path: path, chained: true)
        let offsets = stage(10_000, in: file)   // about 2 MB: several hand-offs, short of 4 MiB
        #expect(file.writebackFrom == 0)
        // Written or in flight, every line reads back where it was staged.
        for n in [0, 1, 4_999, 9_999] {
            let line = String(decoding: try file.line(at: offsets[n]), as: UTF8.self)
            #expect(line.hasPrefix("{\"seq\":\(n + 1),\"text\":\"line \(n + 1) "), "\(line.prefix(40))")
        }
        // Past 4 MiB (writeback started), then cut back to before it.
        let mark = file.checkpoint()
        _ = stage(15_000, in: file, from: 10_001)
        #expect(file.writebackFrom >= FileSystem.writebackStep)
        try file.rollback(to: mark)
        #expect(file.lastSeq == 10_000)
        #expect(file.writebackFrom == file.size)
        // Past 4 MiB beyond the cut: started again, from the cut.
        let cut = file.size
        _ = stage(25_000, in: file, from: 10_001)
        #expect(file.writebackFrom >= cut + FileSystem.writebackStep)
        try file.sync()
        #expect(file.writebackFrom == file.size)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes.count == file.size)
        let lines = bytes.split(separator: 0x0A)
        #expect(lines.count == 35_000)
        #expect(lines.enumerated().allSatisfy { n, line in line.starts(with: Array("{\"seq\":\(n + 1),\"text\":\"line \(n + 1) ".utf8)) })
        // Reopened, the file continues the same chain.
        let reopened = try LedgerFile(path: path, chained: true)
        #expect(reopened.lastSeq == 35_000)
        #expect(reopened.lastHash == file.lastHash)
        // The last line's hash, as kept (a digest) and as the next line's `prev` writes it.
        #expect(file.lastHash == Crypto.sha256Hex(lines[34_999]))
        #expect(file.withLastHash { Array($0) } == Array(file.lastHash.utf8))
        #expect(try LedgerFile(path: directory + "/new.jsonl", chained: true).lastHash == LedgerFile.genesis)
    }

    @Test("a write the writer thread could not make loses nothing: its lines are staged again and flush says why")
    func writerThreadFailure() throws {
        // /dev/full refuses every write with ENOSPC, as a full disk does.
        let file = try LedgerFile(path: "/dev/full", chained: false)
        _ = stage(12_000, in: file)   // more than two megabytes: handed off, and failed
        #expect(throws: SystemError.self) { try file.flush() }
        #expect(file.size == 0)
        #expect(file.lastSeq == 12_000)
        // Every staged line is still there, in order.
        let first = String(decoding: try file.line(at: 0), as: UTF8.self)
        #expect(first.hasPrefix("{\"seq\":1,"))
        #expect(file.pending > 12_000 * 190)
    }
}
