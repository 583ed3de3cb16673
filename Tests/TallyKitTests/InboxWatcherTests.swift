import Foundation
import Testing
@testable import TallyKit

/// The inotify watcher, against a real directory and real kernel events.
@Suite("InboxWatcher")
final class InboxWatcherTests {
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(UUID().uuidString)").path
        try FileSystem.createDirectory(directory)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// Collects batches until `enough` says so (or 5 s pass), then stops the watcher.
    func collect(_ watcher: InboxWatcher, until enough: @escaping @Sendable ([InboxWatcher.Batch]) -> Bool) async throws -> [InboxWatcher.Batch] {
        let timeout = Task {
            try await Task.sleep(for: .seconds(5))
            watcher.stop()
        }
        defer { timeout.cancel() }
        var batches: [InboxWatcher.Batch] = []
        for try await batch in watcher.batches {
            batches.append(batch)
            if enough(batches) { break }
        }
        watcher.stop()
        return batches
    }

    func write(_ name: String, _ text: String = "Email,Course\na@example.org,X\n") {
        #expect(FileManager.default.createFile(atPath: directory + "/" + name, contents: Data(text.utf8)))
    }

    @Test("a closed file and a renamed-in file are ready; names of incomplete files never are")
    func readyNames() async throws {
        let watcher = try InboxWatcher(directory: directory)
        for name in ["export.csv.part", ".hidden.csv", "data.tmp", "~$sheet.xlsx", ".~lock.sheet.ods#", "x.crdownload", "y.swp"] {
            write(name)
        }
        write("closed.csv")
        try FileManager.default.moveItem(atPath: directory + "/export.csv.part", toPath: directory + "/renamed.csv")
        let batches = try await collect(watcher) { Set($0.flatMap(\.names)).isSuperset(of: ["closed.csv", "renamed.csv"]) }
        #expect(batches.flatMap(\.names).sorted() == ["closed.csv", "renamed.csv"])
        #expect(batches.allSatisfy { !$0.rescan })
    }

    @Test("in a Maildir, a delivery hard-linked from tmp/ into new/ is ready (procmail, maildrop, getmail); a name created in the inbox itself is not")
    func maildirLink() async throws {
        for folder in ["tmp", "new", "cur"] { try FileSystem.createDirectory(directory + "/" + folder) }
        write("tmp/1700000000.M1P1.host", "From: forms@school.example\r\nSubject: x\r\n\r\nbody\r\n")
        let watcher = try InboxWatcher(directory: directory)
        #expect(link(directory + "/tmp/1700000000.M1P1.host", directory + "/new/1700000000.M1P1.host") == 0)
        #expect(link(directory + "/tmp/1700000000.M1P1.host", directory + "/linked.csv") == 0)
        let batches = try await collect(watcher) { $0.flatMap(\.names).contains("new/1700000000.M1P1.host") }
        #expect(batches.flatMap(\.names) == ["new/1700000000.M1P1.host"])
        #expect(batches.allSatisfy { !$0.rescan })
    }

    @Test("300 files dropped at once arrive in a few batches, every name, none twice in a batch")
    func burst() async throws {
        let watcher = try InboxWatcher(directory: directory, maxFiles: 100)
        for n in 0..<300 { write("file-\(n).csv") }
        let batches = try await collect(watcher) { Set($0.flatMap(\.names)).count >= 300 }
        // A name closed twice (a writer that reopens it) may come again in a later batch:
        // the daemon finds it gone or already processed. Within a batch, each name once.
        #expect(Set(batches.flatMap(\.names)).count == 300)
        #expect(batches.allSatisfy { Set($0.names).count == $0.names.count })
        #expect(batches.allSatisfy { $0.names.count <= 100 })
        #expect(batches.count < 30)
    }

    @Test("a requested rescan arrives as a rescan batch")
    func rescan() async throws {
        let watcher = try InboxWatcher(directory: directory)
        watcher.requestRescan()
        let batches = try await collect(watcher) { !$0.isEmpty }
        #expect(batches.first == InboxWatcher.Batch(names: [], rescan: true))
    }

    @Test("an inbox that cannot come back ends the stream with an error naming it, instead of spinning")
    func inboxGone() async throws {
        let inbox = directory + "/inbox"
        try FileSystem.createDirectory(inbox)
        let watcher = try InboxWatcher(directory: inbox)
        // Swap the inbox with a regular file in one step (renameat2 RENAME_EXCHANGE, through
        // Python's ctypes): the watched folder moves away and its path is now a file.
        #expect(FileManager.default.createFile(atPath: directory + "/blocker", contents: Data("not a folder".utf8)))
        let swap = Process()
        swap.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        swap.arguments = ["python3", "-c", "import ctypes,sys; libc=ctypes.CDLL(None, use_errno=True); "
            + "sys.exit(libc.renameat2(-100, sys.argv[1].encode(), -100, sys.argv[2].encode(), 2))",
            directory + "/blocker", inbox]
        try swap.run()
        swap.waitUntilExit()
        #expect(swap.terminationStatus == 0)
        do {
            _ = try await collect(watcher) { _ in false }
            Issue.record("expected the stream to end with an error")
        } catch let error as WatcherError {
            #expect(error.description.contains(inbox))
            #expect(error.description.contains("could not be re-created"))
        }
    }

    @Test("stop ends the stream at once")
    func stop() async throws {
        let watcher = try InboxWatcher(directory: directory)
        let stoppedAt = Task { () -> ContinuousClock.Instant in
            try await Task.sleep(for: .milliseconds(50))
            let now = ContinuousClock.now
            watcher.stop()
            return now
        }
        for try await _ in watcher.batches {}
        // The reader sleeps in poll for up to a second when idle: ending well before that
        // shows stop() woke it rather than the timeout.
        #expect(ContinuousClock.now - (try await stoppedAt.value) < .milliseconds(900))
    }
}

/// The daemon's small operational parts: log lines, systemd notification, the publish command.
@Suite("Operations")
struct OperationsTests {
    @Test("a human log line is the time, the level and the message; a JSON one is one object")
    func logLines() throws {
        let at = Timestamp(year: 2026, month: 11, day: 23, hour: 2, minute: 55, second: 39, millisecond: 120)!
        let human = TallyLogHandler.line(at: at, level: .info, message: "a.csv: 1 rows", metadata: ["file": "a.csv"], format: .human)
        #expect(String(decoding: human, as: UTF8.self) == "2026-11-23T02:55:39Z info    a.csv: 1 rows\n")
        // A name from outside (a dropped file's, an attachment's) cannot start a line of its own.
        let forged = TallyLogHandler.line(at: at, level: .info, message: "new\n2026-11-23T02:55:40Z error   forged.csv\u{1B}[31m: 1 rows\tok",
                                          metadata: [:], format: .human)
        #expect(String(decoding: forged, as: UTF8.self)
                == "2026-11-23T02:55:39Z info    new\\n2026-11-23T02:55:40Z error   forged.csv\\u{1B}[31m: 1 rows\tok\n")
        let json = TallyLogHandler.line(at: at, level: .error, message: "bad \"quote\"\n",
                                        metadata: ["file": "a.csv", "points": .stringConvertible(40)], format: .json)
        #expect(String(decoding: json, as: UTF8.self)
                == #"{"at":"2026-11-23T02:55:39Z","level":"error","message":"bad \"quote\"\n","file":"a.csv","points":40}"# + "\n")
    }

    @Test("READY=1 reaches the socket in NOTIFY_SOCKET, by path and in the abstract namespace")
    func notify() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8))").path
        for address in [path, "@tally-test-\(UUID().uuidString.prefix(8))"] {
            let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(fd) }
            var sun = sockaddr_un()
            sun.sun_family = sa_family_t(AF_UNIX)
            var bytes = Array(address.utf8)
            if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
            withUnsafeMutableBytes(of: &sun.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
            let bound = withUnsafePointer(to: &sun) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)) }
            }
            #expect(bound == 0)
            #expect(SystemdNotifier.notify("READY=1", socketPath: address))
            var buffer = [UInt8](repeating: 0, count: 64)
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            #expect(n == 7)
            #expect(String(decoding: buffer.prefix(max(n, 0)), as: UTF8.self) == "READY=1")
        }
        unlink(path)
        #expect(!SystemdNotifier.notify("READY=1", socketPath: ""))
    }

    @Test("the publish command runs in the shell; a failure is reported, never thrown; a hang is cut short")
    func publish() async throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("published-\(UUID().uuidString)").path
        let ok = await Publisher(command: "echo done > \(marker)").run()
        #expect(ok?.succeeded == true)
        #expect(FileManager.default.fileExists(atPath: marker))
        try? FileManager.default.removeItem(atPath: marker)

        let failing = await Publisher(command: "echo 'no route to host' >&2; exit 3").run()
        #expect(failing?.succeeded == false)
        #expect(failing?.description.hasPrefix("publish command failed with exit code 3 after") == true)
        #expect(failing?.description.hasSuffix(": no route to host") == true)

        let hanging = await Publisher(command: "sleep 30", timeout: .milliseconds(200)).run()
        #expect(hanging?.succeeded == false)
        #expect(hanging?.description.contains("killed after") == true)

        #expect(await Publisher(command: nil).run() == nil)
        #expect(await Publisher(command: "  ").run() == nil)
    }
}
