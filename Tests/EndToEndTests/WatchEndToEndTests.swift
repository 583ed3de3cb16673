import Foundation
import Testing

/// `tally watch`: the real daemon, real inotify, real signals, real `kill -9`.
@Suite("tally watch, end to end", .serialized)
struct WatchEndToEndTests {
    /// Twelve exports of five rows each: eight students, six courses, with repeats across files.
    static let exports: [(name: String, text: String)] = (1...12).map { n in
        var rows = ["Timestamp,Email Address,Name,Course"]
        for r in 0..<5 {
            let student = (n * 3 + r) % 8
            let course = (n + r * 2) % 6
            rows.append("2024-09-\(String(format: "%02d", n)) 10:\(String(format: "%02d", r)):00,student\(student)@example.org,Student \(student) Lastname,Course \(course)")
        }
        return (String(format: "export-%02d.csv", n), rows.joined(separator: "\n") + "\n")
    }

    /// The ledgers and points of one clean `tally sync` over the exports.
    static let cleanRun: (events: String, points: String, xp: [String: Int]) = {
        let w = try! Workspace()
        for export in exports { try! w.write("inbox/" + export.name, export.text) }
        let run = try! w.tally("sync")
        precondition(run.status == 0, run.stderr)
        return (try! w.read("data/events.jsonl"), try! w.read("data/points.jsonl"), try! w.xp())
    }()

    /// Waits until the daemon has archived `count` files and emptied the inbox.
    static func settled(_ w: Workspace, archived count: Int) -> Bool {
        eventually { w.list("inbox").isEmpty && w.list("data/archive").count >= count }
    }

    @Test("catch-up, then drops by cp, by mv, through a .part name, and a burst of 200 all go through; SIGTERM exits 0")
    func dropsOfEveryKind() throws {
        let w = try Workspace()
        try w.write("inbox/already-there.csv", "Email,Course\nearly@example.org,Course A\n")
        let daemon = try Daemon(w)
        defer { daemon.kill9() }
        #expect(Self.settled(w, archived: 1), "catch-up: \(daemon.log)")
        #expect(eventually { daemon.log.contains("watching inbox") })

        // cp: created, written in several writes, then closed — as cp(1) does.
        let fd = open(w.root.appendingPathComponent("inbox/copied.csv").path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        _ = "Email,Course\n".withCString { write(fd, $0, strlen($0)) }
        usleep(100_000)
        #expect(w.exists("inbox/copied.csv"), "a file still open for writing is left alone")
        _ = "copied@example.org,Course A\n".withCString { write(fd, $0, strlen($0)) }
        close(fd)
        #expect(Self.settled(w, archived: 2), "\(daemon.log)")

        // mv: written elsewhere, renamed in.
        try w.write("outside.csv", "Email,Course\nmoved@example.org,Course A\n")
        try FileManager.default.moveItem(at: w.root.appendingPathComponent("outside.csv"), to: w.root.appendingPathComponent("inbox/moved.csv"))
        #expect(Self.settled(w, archived: 3), "\(daemon.log)")

        // A sync client: an incomplete name first, then the rename.
        try w.write("inbox/synced.csv.part", "Email,Course\nsynced@example.org,Course A\n")
        usleep(150_000)
        #expect(w.exists("inbox/synced.csv.part"), "a .part file is never taken")
        try FileManager.default.moveItem(at: w.root.appendingPathComponent("inbox/synced.csv.part"),
                                         to: w.root.appendingPathComponent("inbox/synced.csv"))
        #expect(Self.settled(w, archived: 4), "\(daemon.log)")

        // A burst: 200 files within a second.
        for n in 0..<200 { try w.write("inbox/burst-\(n).csv", "Email,Course\nburst\(n)@example.org,Course B\n") }
        #expect(Self.settled(w, archived: 204), "\(daemon.log)")

        let xp = try w.xp()
        #expect(xp.count == 204)
        #expect(xp.values.allSatisfy { $0 == 20 })
        daemon.signal(SIGTERM)
        let exit = daemon.waitForExit(seconds: 5)
        #expect(exit?.status == 0 && exit?.signalled == false, "SIGTERM: clean exit 0, \(String(describing: exit))\n\(daemon.log)")
        #expect(try w.tally("verify").status == 0)
    }

    @Test("a second tally on the same data directory exits 75")
    func secondInstance() throws {
        let w = try Workspace()
        let daemon = try Daemon(w)
        defer { daemon.kill9() }
        #expect(eventually { daemon.log.contains("watching inbox") }, "\(daemon.log)")
        let second = try Daemon(w, log: "second.log")
        let exit = second.waitForExit(seconds: 5)
        #expect(exit?.status == 75, "\(second.log)")
        #expect(try w.tally("sync").status == 75)
        // data/.lock deleted as "stale": the daemon still holds the directory.
        try FileManager.default.removeItem(at: w.root.appendingPathComponent("data/.lock"))
        try w.write("inbox/a.csv", "Email,Course\na@example.org,Course A\n")
        let sync = try w.tally("sync")
        #expect(sync.status == 75, "\(sync.stderr)")
        #expect(sync.stderr.contains("another Tally is using this data directory"))
    }

    @Test("a file the watcher never heard of is found by a rescan (SIGUSR1, as after an inotify overflow)")
    func rescan() throws {
        let w = try Workspace()
        let daemon = try Daemon(w)
        defer { daemon.kill9() }
        #expect(eventually { daemon.log.contains("watching inbox") }, "\(daemon.log)")
        // A hard link makes a complete file appear with only IN_CREATE: no close, no move.
        try w.write("elsewhere.csv", "Email,Course\nlinked@example.org,Course A\n")
        try FileManager.default.linkItem(at: w.root.appendingPathComponent("elsewhere.csv"),
                                         to: w.root.appendingPathComponent("inbox/linked.csv"))
        usleep(200_000)
        #expect(w.exists("inbox/linked.csv"))
        daemon.signal(SIGUSR1)
        #expect(Self.settled(w, archived: 1), "\(daemon.log)")
        #expect(try w.xp() == ["linked@example.org": 20])
    }

    @Test("SIGHUP reloads tally.toml; a broken one keeps the running settings")
    func reload() throws {
        let w = try Workspace()
        let daemon = try Daemon(w)
        defer { daemon.kill9() }
        #expect(eventually { daemon.log.contains("watching inbox") }, "\(daemon.log)")
        try w.write("tally.toml", "[points]\ncourse_completed = 35\n")
        daemon.signal(SIGHUP)
        #expect(eventually { daemon.log.contains("tally.toml reloaded") }, "\(daemon.log)")
        try w.write("inbox/a.csv", "Email,Course\na@example.org,Course A\n")
        #expect(Self.settled(w, archived: 1), "\(daemon.log)")
        try w.write("tally.toml", "[points]\ncourse_completed = \"many\"\n")
        daemon.signal(SIGHUP)
        #expect(eventually { daemon.log.contains("tally.toml not reloaded") }, "\(daemon.log)")
        try w.write("inbox/b.csv", "Email,Course\nb@example.org,Course A\n")
        #expect(Self.settled(w, archived: 2), "\(daemon.log)")
        #expect(try w.xp() == ["a@example.org": 35, "b@example.org": 35])
        daemon.signal(SIGINT)
        #expect(daemon.waitForExit(seconds: 5)?.status == 0)
    }

    @Test("SIGHUP (systemctl reload) takes no file still being written; the file is read whole once closed")
    func reloadLeavesOpenFiles() throws {
        let w = try Workspace()
        let daemon = try Daemon(w)
        defer { daemon.kill9() }
        #expect(eventually { daemon.log.contains("watching inbox") }, "\(daemon.log)")
        let path = w.root.appendingPathComponent("inbox/slow.csv").path
        // Created open: no close yet, so no event says the file is complete.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        try #require(descriptor >= 0)
        let writer = FileHandle(fileDescriptor: descriptor, closeOnDealloc: false)
        writer.write(Data("Email,Course\na@example.org,Course A\nb@exam".utf8))
        try w.write("tally.toml", "[points]\ncourse_completed = 35\n")
        daemon.signal(SIGHUP)
        #expect(eventually { daemon.log.contains("tally.toml reloaded") }, "\(daemon.log)")
        usleep(300_000)
        #expect(w.exists("inbox/slow.csv") && !w.exists("data/archive/slow.csv"), "\(daemon.log)")
        writer.write(Data("ple.org,Course A\n".utf8))
        try writer.close()
        #expect(Self.settled(w, archived: 1), "\(daemon.log)")
        #expect(try w.xp() == ["a@example.org": 35, "b@example.org": 35])
        #expect(try w.ledger("rejected").isEmpty)
    }

    @Test("tally verify while the daemon commits batches never reports damage: ok, or 75 and run it again")
    func verifyWhileWatching() throws {
        let w = try Workspace()
        let daemon = try Daemon(w)
        defer { daemon.kill9() }
        #expect(eventually { daemon.log.contains("watching inbox") }, "\(daemon.log)")
        var statuses: [Int32: Int] = [:]
        for round in 0..<15 {
            var text = "Email,Course\n"
            for row in 0..<300 { text += "s\(row)@example.org,Course \(round)\n" }
            try w.write("drop-\(round).csv", text)
            #expect(rename(w.root.appendingPathComponent("drop-\(round).csv").path,
                           w.root.appendingPathComponent("inbox/drop-\(round).csv").path) == 0)
            let verify = try w.tally("verify")
            statuses[verify.status, default: 0] += 1
            #expect(verify.status == 0 || verify.status == 75, "round \(round): \(verify.stderr)")
            if verify.status == 75 {
                #expect(verify.stderr.contains("a running Tally committed a batch while verify read the ledgers"))
            }
        }
        #expect(Self.settled(w, archived: 15), "\(daemon.log)")
        #expect(try w.tally("verify").status == 0)
    }

    @Test("kill -9 at each step of the commit protocol, then a restart, gives exactly the ledgers of one clean run",
          arguments: ["ledger-staged", "commit-torn", "committed", "snapshot-written", "file-moved", "file-moved:7"])
    func crashAtEachStep(point: String) throws {
        let w = try Workspace()
        for export in Self.exports { try w.write("inbox/" + export.name, export.text) }
        let crashing = try Daemon(w, environment: ["TALLY_CRASH_AT": point], log: "crash.log")
        let crash = crashing.waitForExit(seconds: 15)
        #expect(crash?.signalled == true && crash?.status == SIGKILL, "died by SIGKILL at \(point): \(crashing.log)")

        let daemon = try Daemon(w)
        defer { daemon.kill9() }
        #expect(Self.settled(w, archived: Self.exports.count), "\(daemon.log)")
        #expect(eventually { daemon.log.contains("watching inbox") }, "\(daemon.log)")
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit()?.status == 0)

        let clean = Self.cleanRun
        #expect(try w.read("data/points.jsonl") == clean.points)
        #expect(try w.read("data/events.jsonl") == clean.events)
        #expect(try w.xp() == clean.xp)
        #expect(try w.tally("verify").status == 0)
        if point == "ledger-staged" || point == "commit-torn" {
            #expect(try w.ledger("audit").contains { $0["action"] as? String == "recovered" }, "recovery said what it cut")
        }
    }

    @Test("kill -9 at random instants during a stream of drops loses nothing and counts nothing twice")
    func randomKills() throws {
        let w = try Workspace()
        var daemon = try Daemon(w)
        var pending = Self.exports[...]
        var kills = 0
        while !pending.isEmpty {
            let next = pending.removeFirst()
            try w.write("inbox/" + next.name, next.text)
            if pending.count % 4 == 0 {
                usleep(UInt32.random(in: 0...30_000))
                daemon.signal(SIGKILL)
                _ = daemon.waitForExit()
                kills += 1
                daemon = try Daemon(w, log: "watch-\(kills).log")
            }
        }
        defer { daemon.kill9() }
        #expect(kills == 3)
        #expect(Self.settled(w, archived: Self.exports.count), "\(daemon.log)")
        // SIGTERM before the daemon has set up its signal handling would kill it outright
        // (safe, like any crash, but not the graceful exit this checks): wait until it watches.
        #expect(eventually { daemon.log.contains("watching inbox") }, "\(daemon.log)")
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit()?.status == 0)
        let clean = Self.cleanRun
        #expect(try w.read("data/points.jsonl") == clean.points)
        #expect(try w.read("data/events.jsonl") == clean.events)
        #expect(try w.tally("verify").status == 0)
    }
}

extension WatchEndToEndTests {
    @Test("the inbox deleted and re-created under a running daemon: the watch comes back, drops still go through")
    func inboxReplaced() throws {
        let w = try Workspace()
        let daemon = try Daemon(w)
        defer { daemon.kill9() }
        #expect(eventually { daemon.log.contains("watching inbox") }, "\(daemon.log)")
        try FileManager.default.removeItem(at: w.root.appendingPathComponent("inbox"))
        #expect(eventually { w.exists("inbox") }, "the daemon re-creates its inbox: \(daemon.log)")
        usleep(100_000)
        try w.write("inbox/after.csv", "Email,Course\nafter@example.org,Course A\n")
        #expect(Self.settled(w, archived: 1), "\(daemon.log)")
        // And it is not spinning: it sleeps in poll, using next to no CPU over a second.
        let before = try cpuTicks(of: daemon.process.processIdentifier)
        sleep(1)
        let after = try cpuTicks(of: daemon.process.processIdentifier)
        #expect(after - before < 20, "CPU ticks in one idle second: \(after - before)")
    }

    /// utime + stime of a process, in clock ticks (usually 1/100 s).
    func cpuTicks(of pid: Int32) throws -> Int {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
        return Int(fields[11])! + Int(fields[12])!
    }
}
