import Foundation
import Testing

/// `tally sync` over a realistic mix of drops, as a school would make them.
@Suite("tally sync, end to end")
struct SyncEndToEndTests {
    static let secret = "s3cret-for-tests"

    static let config = """
        [kajabi]
        secret = "\(secret)"

        [[sources]]
        files = "forms-*"
        [sources.columns]
        course = "Which course did you complete?"
        """

    static let day1 = """
        Timestamp,Email Address,Full name,Which course did you complete?
        9/2/2024 10:30:00,ada@example.org,Ada Lovelace,AI Foundations
        9/2/2024 11:00:00,Grace.Hopper@Gmail.com,Grace Hopper,AI Foundations
        9/3/2024 09:00:00,,Nobody,AI Foundations
        9/3/2024 09:30:00,bob at example,Bob,AI Foundations

        """

    /// The next day's export repeats yesterday's rows, then adds two.
    static let day2 = day1 + """
        9/4/2024 08:00:00,g.r.a.c.e.hopper+forms@gmail.com,Grace Hopper,AI Foundations
        9/4/2024 09:15:00,grace.hopper@gmail.com,Grace Hopper,Data Literacy

        """

    static func formPayload(eventID: String, email: String, course: String, name: String, pretty: Bool = false) -> String {
        let object: [String: Any] = [
            "event_type": "form.submitted", "event_id": eventID, "created_at": "2024-09-03T12:00:00Z",
            "data": ["form": ["id": "77", "title": "Completion"],
                     "submission": ["id": "sub-\(eventID)", "fields": ["email": email, "course_name": course, "student_name": name]]]]
        let data = try! JSONSerialization.data(withJSONObject: object, options: pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    static func capture(body: String, signature: String?) -> String {
        var headers = ["Content-Type": "application/json"]
        if let signature { headers["X-Kajabi-Signature"] = signature }
        let data = try! JSONSerialization.data(withJSONObject: ["headers": headers, "body": body], options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// Drops the mix, runs sync, and returns the workspace.
    static func mixedDrops() throws -> (Workspace, Workspace.Run) {
        let w = try Workspace()
        try w.write("tally.toml", config)
        try w.write("inbox/forms-2024-09-03.csv", day1)
        try w.write("inbox/kajabi-unsigned.json", formPayload(eventID: "evt_1", email: "alan@example.org", course: "Data Literacy", name: "Alan Turing"))
        // Kajabi retries the same delivery: the same event, bytes laid out differently.
        try w.write("inbox/kajabi-retry.json", formPayload(eventID: "evt_1", email: "alan@example.org", course: "Data Literacy", name: "Alan Turing", pretty: true))
        // A signed capture, written by `tally sign` exactly as a relay would.
        try w.write("body.json", formPayload(eventID: "evt_2", email: "ada@example.org", course: "Data Literacy", name: "Ada Lovelace"))
        let signed = try w.tally("sign", "body.json", "--output", "inbox/kajabi-signed.json", environment: ["KAJABI_WEBHOOK_SECRET": secret])
        #expect(signed.status == 0, "\(signed.stderr)")
        try w.touch("inbox/kajabi-signed.json")
        try w.write("inbox/kajabi-forged.json", capture(body: formPayload(eventID: "evt_3", email: "grace.hopper@gmail.com", course: "Ethics", name: "Grace"),
                                                        signature: String(repeating: "ab", count: 32)))
        try w.write("inbox/forms-2024-09-04.csv", day2)
        let run = try w.tally("sync")
        return (w, run)
    }

    @Test("a realistic mix awards exact points, keeps every file, and rejects what is bad")
    func realisticMix() throws {
        let (w, run) = try Self.mixedDrops()
        #expect(run.status == 1, "rows were rejected and a file refused: exit 1\n\(run.stderr)")
        #expect(run.stdout.contains("6 files"))
        #expect(try w.xp() == ["ada@example.org": 40, "gracehopper@gmail.com": 40, "alan@example.org": 20])
        #expect(try w.student("ada@example.org")?["courses"] as? [String] == ["AI Foundations", "Data Literacy"])
        #expect(try w.student("ada@example.org")?["name"] as? String == "Ada Lovelace")

        // Every file is in archive/ or failed/, none left in the inbox.
        #expect(w.list("inbox").isEmpty)
        #expect(w.list("data/archive") == ["forms-2024-09-03.csv", "forms-2024-09-04.csv", "kajabi-retry.json",
                                           "kajabi-signed.json", "kajabi-unsigned.json"])
        #expect(w.list("data/failed") == ["kajabi-forged.json", "kajabi-forged.json.error.txt"])
        let reason = try w.read("data/failed/kajabi-forged.json.error.txt")
        #expect(reason.contains("X-Kajabi-Signature does not match the body"))

        // events.jsonl: every row that became an event, in order, with its fate.
        let events = try w.ledger("events")
        #expect(events.map { $0["seq"] as? Int } == Array(1...events.count).map { Optional($0) })
        let fates = events.map { "\($0["email"] as? String ?? "-") \($0["course"] as? String ?? "-") \($0["status"] as? String ?? "-")" }
        #expect(fates == [
            "ada@example.org AI Foundations applied",
            "gracehopper@gmail.com AI Foundations applied",
            "alan@example.org Data Literacy applied",
            "alan@example.org Data Literacy duplicate",          // the retry
            "ada@example.org Data Literacy applied",             // the signed capture
            "ada@example.org AI Foundations duplicate",          // day 2 repeats day 1
            "gracehopper@gmail.com AI Foundations duplicate",
            "gracehopper@gmail.com AI Foundations duplicate",    // same course again, other spelling
            "gracehopper@gmail.com Data Literacy applied",
        ])
        #expect(events[0]["id"] as? String == events[5]["id"] as? String, "a repeated row has the same id")
        #expect(events[2]["id"] as? String == "evt_1")
        let source = events[0]["source"] as? [String: Any]
        #expect(source?["file"] as? String == "forms-2024-09-03.csv")
        #expect(source?["row"] as? Int == 2)
        #expect((source?["sha256"] as? String)?.count == 64)
        #expect(events[0]["at"] as? String == "2024-09-02T10:30:00Z")

        // points.jsonl: one line per award, 20 LEARN each.
        let points = try w.ledger("points")
        #expect(points.map { "\($0["student"] as? String ?? "") \($0["points"] as? Int ?? 0) \($0["activity"] as? String ?? "")" } == [
            "ada@example.org 20 LEARN", "gracehopper@gmail.com 20 LEARN", "alan@example.org 20 LEARN",
            "ada@example.org 20 LEARN", "gracehopper@gmail.com 20 LEARN"])

        // rejected.jsonl: the bad rows of both exports, with file, row, reason and the raw row.
        let rejected = try w.ledger("rejected")
        #expect(rejected.map { "\($0["file"] as? String ?? "") \($0["row"] as? Int ?? 0) \($0["reason"] as? String ?? "")" } == [
            "forms-2024-09-03.csv 4 no email address",
            "forms-2024-09-03.csv 5 \"bob at example\" is not a valid email address",
            "forms-2024-09-04.csv 4 no email address",
            "forms-2024-09-04.csv 5 \"bob at example\" is not a valid email address"])
        #expect(rejected[1]["raw"] as? String == "9/3/2024 09:30:00,bob at example,Bob,AI Foundations")

        // audit.jsonl: each file taken and done (or failed), and the batch's commit.
        let audit = try w.ledger("audit").map { $0["action"] as? String ?? "" }
        #expect(audit.filter { $0 == "file_done" }.count == 5)
        #expect(audit.filter { $0 == "file_failed" }.count == 1)
        #expect(audit.last == "commit")
        #expect(run.stderr.contains("kajabi-forged.json was refused"))
    }

    @Test("syncing again changes nothing; an empty inbox prints nothing; a re-dropped file awards nothing")
    func idempotent() throws {
        let (w, _) = try Self.mixedDrops()
        let points = try w.read("data/points.jsonl")
        let again = try w.tally("sync")
        #expect(again.status == 0)
        #expect(again.stdout.isEmpty && again.stderr.isEmpty, "cron must get no mail: \(again.stdout)\(again.stderr)")
        try w.write("inbox/forms-2024-09-03.csv", Self.day1)
        let redrop = try w.tally("sync")
        #expect(redrop.status == 0)
        #expect(redrop.stdout.contains("1 already processed"))
        #expect(try w.read("data/points.jsonl") == points)
        #expect(w.list("data/archive").contains("forms-2024-09-03 (2).csv"))
    }

    @Test("a roster arriving after the events moves earnings to roster ids; link applies the waiting ones once")
    func rosterAfterEvents() throws {
        let (w, _) = try Self.mixedDrops()
        try w.write("inbox/roster.csv", """
            id,email,name,public
            S1,ada@example.org,Ada Lovelace,yes
            S2,Grace.Hopper@gmail.com,Grace Hopper,no
            S3,alan.turing@example.org,Alan Turing,yes

            """)
        let run = try w.tally("sync")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try w.xp() == ["S1": 40, "S2": 40, "S3": 0])
        #expect(try w.student("S2")?["public"] as? Bool == false)
        #expect(try w.read("data/roster.csv").contains("S3,alan.turing@example.org"))
        // alan@example.org is not on the roster: withdrawn by a negative line, waiting.
        let unmatched = try w.ledger("unmatched")
        #expect(unmatched.map { "\($0["email"] as? String ?? "") \($0["status"] as? String ?? "")" } == ["alan@example.org unmatched"])
        let points = try w.ledger("points")
        #expect(points.contains { $0["student"] as? String == "alan@example.org" && $0["points"] as? Int == -20 })

        let wrong = try w.tally("link", "alan@example.org", "S9")
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("no student \"S9\" on the roster"))
        let link = try w.tally("link", "alan@example.org", "S3")
        #expect(link.status == 0, "\(link.stderr)")
        #expect(link.stdout.contains("1 event applied, 20 points"))
        #expect(try w.xp() == ["S1": 40, "S2": 40, "S3": 20])
        let again = try w.tally("link", "alan@example.org", "S3")
        #expect(again.status == 0)
        #expect(try w.xp()["S3"] == 20, "a second link applies nothing twice")
        #expect(try w.tally("verify").status == 0)
    }

    @Test("rebuild reproduces the snapshot byte for byte; verify catches an edited or cut line")
    func rebuildAndVerify() throws {
        let (w, _) = try Self.mixedDrops()
        let snapshot = try w.read("data/state.json")
        let rebuild = try w.tally("rebuild")
        #expect(rebuild.status == 0)
        #expect(rebuild.stdout.contains("it matched the previous state.json byte for byte"))
        #expect(try w.read("data/state.json") == snapshot)

        let verify = try w.tally("verify")
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("state.json matches the ledgers"))

        // A state.json as a Tally before months wrote it is older, not wrong; the next run rewrites it.
        let withoutMonths = try NSRegularExpression(pattern: #","months":\{[^}]*\}"#)
        try w.write("data/state.json", withoutMonths.stringByReplacingMatches(
            in: snapshot, range: NSRange(snapshot.startIndex..., in: snapshot), withTemplate: ""))
        let older = try w.tally("verify")
        #expect(older.status == 0, "\(older.stderr)")
        #expect(older.stdout.contains("state.json was written by an earlier Tally, without months"))
        // A wrong figure names the field that differs.
        try w.write("data/state.json", snapshot.replacingOccurrences(of: #""reached_at":"#, with: #""reached_at":9"#))
        let wrong = try w.tally("verify")
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("state.json says reached_at 9"), "\(wrong.stderr)")
        try w.write("data/state.json", snapshot)

        // Someone edits an award from 20 to 200.
        let points = try w.read("data/points.jsonl")
        try w.write("data/points.jsonl", points.replacingOccurrences(of: "\"points\":20,\"activity\":\"LEARN\",\"event\":\"evt_1\"",
                                                                     with: "\"points\":200,\"activity\":\"LEARN\",\"event\":\"evt_1\""))
        let edited = try w.tally("verify")
        #expect(edited.status == 1)
        #expect(edited.stderr.contains("points.jsonl line 4 (seq 4): its prev hash does not match the line before it"))

        // Restore it, then cut the last line of events.jsonl.
        try w.write("data/points.jsonl", points)
        #expect(try w.tally("verify").status == 0)
        var events = try w.read("data/events.jsonl").split(separator: "\n")
        events.removeLast()
        try w.write("data/events.jsonl", events.joined(separator: "\n") + "\n")
        let cut = try w.tally("verify")
        #expect(cut.status == 1)
        #expect(cut.stderr.contains("events.jsonl is"))
        #expect(cut.stderr.contains("but the last commit recorded"))
    }

    @Test("a configuration error exits 2 naming the key; a held data directory exits 75")
    func exitCodes() throws {
        let w = try Workspace()
        try w.write("tally.toml", "[points]\ncorse_completed = 20\n")
        let bad = try w.tally("sync")
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("points.corse_completed"))

        try w.write("tally.toml", "")
        try FileManager.default.createDirectory(at: w.root.appendingPathComponent("data"), withIntermediateDirectories: true)
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = ["data/.lock", "sleep", "2"]
        holder.currentDirectoryURL = w.root
        try holder.run()
        defer { holder.waitUntilExit() }
        // Wait until flock holds the lock (it creates the file first).
        for _ in 0..<100 where !w.exists("data/.lock") { usleep(20_000) }
        usleep(200_000)
        let locked = try w.tally("sync")
        #expect(locked.status == 75)
        #expect(locked.stderr.contains("another Tally is using this data directory"))
    }

    @Test("manual awards add points by hand, and negative ones correct them")
    func manualAward() throws {
        let w = try Workspace()
        let plus = try w.tally("award", "ada@example.org", "15", "--reason", "Helped at the meetup")
        #expect(plus.status == 0, "\(plus.stderr)")
        let minus = try w.tally("award", "--reason", "Typo", "--", "ada@example.org", "-5")
        #expect(minus.status == 0, "\(minus.stderr)")
        #expect(try w.xp() == ["ada@example.org": 10])
        let points = try w.ledger("points")
        #expect(points.map { $0["reason"] as? String } == ["Helped at the meetup", "Typo"])
        #expect(try w.tally("verify").status == 0)
    }
}

extension SyncEndToEndTests {
    @Test("a file that fails half-way counts for nothing; the files around it in the batch still count")
    func failureMidFile() throws {
        // b.csv is over 256 KiB, so that it is read on a thread of its own, which is reading
        // ahead when the row after its first fails.
        let more = (0..<8_000).map { "more\($0)@example.org,Course A,2024-09-01\n" }.joined()
        let files = [
            ("a.csv", "Email,Course,Date\none@example.org,Course A,2024-09-01\ntwo@example.org,Course A,2024-09-01\n"),
            ("b.csv", "Email,Course,Date\nthree@example.org,Course A,2024-09-01\nfour@example.org,Course A,2024-09-01\nfive@example.org,Course A,2024-09-01\n" + more),
            ("c.csv", "Email,Course,Date\nsix@example.org,Course A,2024-09-01\n"),
        ]
        #expect(files[1].1.utf8.count > 256 << 10)
        let w = try Workspace()
        for (name, text) in files { try w.write("inbox/" + name, text) }
        // The fourth event is the second row of b.csv: b.csv fails after one of its rows was scored.
        let run = try w.tally(["sync"], environment: ["TALLY_FAIL_AT": "event:4"])
        #expect(run.status == 1)
        #expect(w.list("data/failed") == ["b.csv", "b.csv.error.txt"])
        #expect(try w.read("data/failed/b.csv.error.txt").contains("injected read error"))
        #expect(try w.xp() == ["one@example.org": 20, "two@example.org": 20, "six@example.org": 20])

        let clean = try Workspace()
        for (name, text) in files where name != "b.csv" { try clean.write("inbox/" + name, text) }
        #expect(try clean.tally("sync").status == 0)
        #expect(try w.read("data/points.jsonl") == clean.read("data/points.jsonl"))
        #expect(try w.read("data/events.jsonl") == clean.read("data/events.jsonl"))
        #expect(try w.tally("verify").status == 0)
    }
}
