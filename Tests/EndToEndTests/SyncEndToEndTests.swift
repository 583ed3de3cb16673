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

    @Test("a bare ID column (a member's number) is not the event's id: each course a member completes counts; id_column makes it one")
    func bareIDColumn() throws {
        let w = try Workspace()
        let export = "ID,Name,Email,Course,Completed at\n4100231,Grace Hopper,grace@example.org,Data Literacy 101,2026-11-01\n"
            + "4100231,Grace Hopper,grace@example.org,Prompt Design,2026-11-02\n"
        try w.write("inbox/kajabi-export.csv", export)
        #expect(try w.tally("sync").status == 0)
        #expect(try w.xp() == ["grace@example.org": 40])
        let named = try Workspace()
        try named.write("tally.toml", "[[sources]]\nfiles = \"*\"\nid_column = \"ID\"\n")
        try named.write("inbox/kajabi-export.csv", export)
        #expect(try named.tally("sync").status == 0)
        #expect(try named.ledger("events").map { $0["status"] as? String } == ["applied", "duplicate"])
    }

    @Test("an attendee export's Event ID (the session's, on every row) is not the row's id; a submission id another form reused counts for its own student")
    func idsThatAreNotTheRows() throws {
        let w = try Workspace()
        try w.write("tally.toml", "[[sources]]\nfiles = \"attendees*\"\ncourse = \"Live Workshop\"\n")
        try w.write("inbox/attendees.csv", """
            Order #,Order Date,First Name,Last Name,Email,Event Name,Event ID,Attendee Status
            1001,2024-01-31 10:00:00,Ada,Lovelace,ada@example.com,Live Workshop,774411,Checked In
            1002,2024-01-31 10:05:00,Bob,Brown,bob@example.com,Live Workshop,774411,Checked In

            """)
        #expect(try w.tally("sync").status == 0)
        #expect(try w.xp() == ["ada@example.com": 20, "bob@example.com": 20])

        // Two forms that each number their submissions from 1.
        let forms = try Workspace()
        try forms.write("inbox/formA.csv", "Submission ID,Email,Course,Submission Date\n1,ada@example.com,AI 1,2024-01-31\n2,bob@example.com,AI 1,2024-01-31\n")
        #expect(try forms.tally("sync").status == 0)
        try forms.write("inbox/formB.csv", "Submission ID,Email,Course,Submission Date\n1,cy@example.com,Prompt Design,2024-02-01\n2,ada@example.com,Prompt Design,2024-02-01\n")
        #expect(try forms.tally("sync").status == 0)
        #expect(try forms.xp() == ["ada@example.com": 40, "bob@example.com": 20, "cy@example.com": 20])
        let events = try forms.ledger("events")
        #expect(events.map { $0["status"] as? String } == ["applied", "applied", "applied", "applied"])
        let cy = events[2]["id"] as? String ?? ""
        #expect(cy.hasPrefix("1~") && cy.count == 18)
        // Form B dropped again under another name (tomorrow's cumulative export): nothing new.
        try forms.write("inbox/formB-2.csv", "Submission ID,Email,Course,Submission Date\n1,cy@example.com,Prompt Design,2024-02-01\n2,ada@example.com,Prompt Design,2024-02-01\n3,dee@example.com,AI 1,2024-02-02\n")
        #expect(try forms.tally("sync").status == 0)
        #expect(try forms.ledger("events").suffix(3).map { [$0["id"] as? String, $0["status"] as? String] }
                == [[cy, "duplicate"], [events[3]["id"] as? String, "duplicate"], ["3", "applied"]])
        #expect(try forms.tally("verify").status == 0)
    }

    @Test("a Latin-1 row past the first 8 KiB is rejected with the reason, never read as U+FFFD; the UTF-8 rows around it count")
    func lateLatin1Row() throws {
        let w = try Workspace()
        var bytes = Array("Email,Name,Course,Date\n".utf8)
        for n in 0..<300 { bytes += Array("s\(n)@example.org,Student \(n),Course A,2026-11-01\n".utf8) }
        #expect(bytes.count > 8192)
        bytes += Array("late@example.org,Jos".utf8) + [0xE9] + Array(" Garc".utf8) + [0xED] + Array("a,Caf".utf8) + [0xE9]
            + Array(" Course,2026-11-02\n".utf8)
        bytes += Array("zoe@example.org,Zoë Ångström,Café Course,2026-11-03\n".utf8)
        try Data(bytes).write(to: w.root.appendingPathComponent("inbox/export.csv"))
        let run = try w.tally("sync")
        #expect(run.status == 1)
        let rejected = try w.ledger("rejected")
        #expect(rejected.map { $0["row"] as? Int } == [302])
        #expect((rejected.first?["reason"] as? String)?.hasPrefix("the row is not UTF-8 text") == true)
        #expect(try w.xp().count == 301)
        #expect(try w.xp()["late@example.org"] == nil && w.xp()["zoe@example.org"] == 20)
        #expect(!(try w.read("data/events.jsonl")).contains("\u{FFFD}"))
    }

    @Test("a file whose name is not UTF-8 is renamed to one that spells its bytes, and read; nothing is left behind unsaid")
    func nonUTF8Name() throws {
        let w = try Workspace()
        let path = Array(w.root.appendingPathComponent("inbox").path.utf8) + Array("/caf".utf8) + [0xE9] + Array("%.csv".utf8) + [0]
        let fd = path.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) } }
        #expect(fd >= 0)
        let text = Array("Email,Course,Date\nada@example.org,AI,2024-09-01\n".utf8)
        #expect(write(fd, text, text.count) == text.count)
        close(fd)
        let run = try w.tally("sync")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("whose name is not UTF-8 to caf%E9%25.csv"), "\(run.stderr)")
        #expect(w.list("data/archive") == ["caf%E9%25.csv"])
        #expect(w.list("inbox").isEmpty)
        #expect(try w.xp() == ["ada@example.org": 20])
    }

    @Test("a symbolic link or a FIFO in the inbox is not read, and the log says so; the file beside it is")
    func linksAndFIFOs() throws {
        let w = try Workspace()
        try w.write("elsewhere/secret.csv", "Email,Course,Date\nada@example.org,AI,2024-09-01\n")
        try FileManager.default.createSymbolicLink(atPath: w.root.appendingPathComponent("inbox/link.csv").path,
                                                   withDestinationPath: w.root.appendingPathComponent("elsewhere/secret.csv").path)
        #expect(mkfifo(w.root.appendingPathComponent("inbox/pipe.csv").path, 0o644) == 0)
        try w.write("inbox/real.csv", "Email,Course,Date\nbob@example.org,AI,2024-09-01\n")
        let run = try w.tally("sync")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("inbox/link.csv is a symbolic link, so it is not read; drop the file itself"), "\(run.stderr)")
        #expect(run.stderr.contains("inbox/pipe.csv is not a regular file, so it is not read"), "\(run.stderr)")
        #expect(try w.xp() == ["bob@example.org": 20])
        #expect(Set(w.list("inbox")) == ["link.csv", "pipe.csv"])
    }

    @Test("a long file name dropped twice is archived twice, and a failed one keeps its reason beside it")
    func longNames() throws {
        let w = try Workspace()
        let long = String(repeating: "b", count: 251) + ".csv"
        try w.write("inbox/" + long, "Email,Course,Date\nada@example.org,AI,2024-09-01\n")
        #expect(try w.tally("sync").status == 0)
        try w.write("inbox/" + long, "Email,Course,Date\nbob@example.org,AI,2024-09-01\n")
        let second = try w.tally("sync")
        #expect(second.status == 0, "\(second.stderr)")
        #expect(w.list("inbox").isEmpty)
        let archived = w.list("data/archive")
        #expect(archived.count == 2 && archived.allSatisfy { $0.utf8.count <= 255 && $0.hasSuffix(".csv") }, "\(archived)")
        #expect(archived.contains(long))
        let failing = String(repeating: "c", count: 250) + ".csv"
        try w.write("inbox/" + failing, "Name,Course\nNobody,AI\n")
        #expect(try w.tally("sync").status == 1)
        let failed = w.list("data/failed")
        #expect(failed.count == 2, "\(failed)")
        let kept = failed.first { $0.hasSuffix(".csv") } ?? ""
        #expect(kept.hasPrefix("ccc") && failed.contains(kept + ".error.txt"))
        #expect(try w.read("data/failed/\(kept).error.txt").contains("no email column"))
        #expect(try w.xp() == ["ada@example.org": 20, "bob@example.org": 20])
    }

    @Test("a header row over max_fields refuses the file saying so, not that it has no email column")
    func headerOverLimit() throws {
        let w = try Workspace()
        try w.write("tally.toml", "[limits]\nmax_fields = 10\n")
        let header = "Email,Name,Course," + (0..<20).map { "c\($0)" }.joined(separator: ",")
        try w.write("inbox/wide.csv", header + "\nada@example.org,Ada,AI\n")
        #expect(try w.tally("sync").status == 1)
        #expect(try w.read("data/failed/wide.csv.error.txt")
                == "wide.csv holds no table Tally can read: its header row was refused: the row has 23 fields, more than the limit of 10.\n")
    }

    @Test("a roster's public column shows a student only for a value that says so; any other hides them")
    func rosterPublicValues() throws {
        let w = try Workspace()
        let values = ["yes", "TRUE", " Shown ", "", "no", "off", "hide", "FALSE", "nee", "no."]
        let rows = values.enumerated().map { "S\($0.offset),s\($0.offset)@example.org,Student\($0.offset) Name,\($0.element)\n" }
        try w.write("inbox/roster.csv", "id,email,name,public\n" + rows.joined())
        try w.write("inbox/a.csv", "Email,Course,Date\n" + values.indices.map { "s\($0)@example.org,AI,2024-09-01\n" }.joined())
        #expect(try w.tally("sync").status == 0)
        let shown = try values.indices.map { try w.student("S\($0)")?["public"] as? Bool }
        #expect(shown == [true, true, true, true, false, false, false, false, false, false])
        let board = try w.read("site/index.html")
        #expect(board.contains("Student0 N.") && board.contains("Student3 N."))
        for hidden in 4..<values.count { #expect(!board.contains("Student\(hidden) N."), "\(values[hidden])") }
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
        // The audit line names the student the award went to.
        let awards = try w.ledger("audit").filter { $0["action"] as? String == "award" }
        #expect(awards.map { ($0["detail"] as? [String: Any])?["student"] as? String } == ["ada@example.org", "ada@example.org"])
    }

    @Test("a dropped roster that goes back to an earlier one is in force again; the roster in force dropped again is skipped")
    func droppedRosterGoesBack() throws {
        let w = try Workspace()
        let one = "id,email,name\nS1,ada@example.org,Ada Lovelace\n"
        let both = one + "S2,bob@example.org,Bob Brown\n"
        try w.write("inbox/a.csv", "Email,Course,Date\nada@example.org,AI,2024-09-01\nbob@example.org,AI,2024-09-01\n")
        try w.write("inbox/roster-1.csv", one)
        #expect(try w.tally("sync").status == 0)
        #expect(try w.xp() == ["S1": 20])
        try w.write("inbox/roster-2.csv", both)
        #expect(try w.tally("sync").status == 0)
        #expect(try w.xp() == ["S1": 20, "S2": 20])
        try w.write("inbox/roster-3.csv", one)
        let back = try w.tally("sync")
        #expect(back.status == 0)
        #expect(!back.stdout.contains("already processed"), "\(back.stdout)")
        #expect(try w.xp() == ["S1": 20])
        #expect(try w.read("data/roster.csv") == one)
        try w.write("inbox/roster-4.csv", one)
        let same = try w.tally("sync")
        #expect(same.stdout.contains("1 already processed"), "\(same.stdout)")
        #expect(try w.ledger("audit").last(where: { $0["action"] as? String == "file_skipped" })?["detail"] as? String
                == "the same roster is already in force")
        #expect(try w.xp() == ["S1": 20])
        #expect(try w.tally("verify").status == 0)
        // Back to the second roster's content: in force again (each run learns the roster in
        // force from the audit ledger).
        try w.write("inbox/roster-5.csv", both)
        #expect(try w.tally("sync").status == 0)
        #expect(try w.xp() == ["S1": 20, "S2": 20])
        #expect(try w.tally("verify").status == 0)
    }

    @Test("points past a billion either way are a rejected row, in a table, a JSON award or tally award: never a sum that overflows and stops every later run")
    func pointsOutOfRange() throws {
        let w = try Workspace()
        let huge = "9223372036854775807"
        try w.write("inbox/award.json", #"{"kind":"manual_award","email":"eve@example.com","points":\#(huge),"reason":"x"}"# + "\n")
        try w.write("inbox/bonus.csv", "Email,Points,Reason\nada@example.org,\(huge),big\nada@example.org,-1000000001,small\nada@example.org,1000000000,most\n")
        let first = try w.tally("sync")
        #expect(first.status == 1)
        let rejected = try w.ledger("rejected")
        #expect(rejected.map { $0["reason"] as? String } == [
            "points 9223372036854775807 are out of range: at most 1000000000 either way",
            "points 9223372036854775807 are out of range: at most 1000000000 either way",
            "points -1000000001 are out of range: at most 1000000000 either way"])
        #expect(try w.xp() == ["ada@example.org": 1_000_000_000])
        // The reasons are on stderr too, where cron mails them.
        #expect(first.stderr.contains("bonus.csv row 2 rejected: points 9223372036854775807 are out of range: at most 1000000000 either way"), "\(first.stderr)")
        #expect(first.stderr.contains("bonus.csv row 3 rejected: points -1000000001 are out of range"))
        let award = try w.tally("award", "eve@example.com", huge, "--reason", "x")
        #expect(award.status == 2)
        #expect(award.stderr.contains("out of range"))
        // The next drop still goes through.
        try w.write("inbox/export.csv", "Email,Name,Course\nada@example.org,Ada Lovelace,Intro\n")
        #expect(try w.tally("sync").status == 0)
        #expect(try w.xp() == ["ada@example.org": 1_000_000_020])
        try w.write("tally.toml", "[points]\ncourse_completed = \(huge)\n")
        let config = try w.tally("sync")
        #expect(config.status == 2)
        #expect(config.stderr.contains("points.course_completed must be 1000000000 or less, not 9223372036854775807"), "\(config.stderr)")
    }

    @Test("an empty file, whatever its name, goes to failed/ with the reason; never \"already processed\" after another empty one")
    func emptyFiles() throws {
        let w = try Workspace()
        for name in ["a.jsonl", "export.csv", "book.xlsx"] {
            try w.write("inbox/" + name, "")
            let run = try w.tally("sync")
            #expect(run.status == 1, "\(name)")
            #expect(run.stdout.contains("1 failed") && !run.stdout.contains("already processed"), "\(name): \(run.stdout)")
            #expect(try w.read("data/failed/\(name).error.txt") == "\(name) is empty (0 bytes): a copy or download cut short? Nothing was read.\n")
        }
        #expect(w.list("inbox").isEmpty)
        #expect(try w.tally("verify").status == 0)
    }

    @Test("a JSON document over max_file_bytes is refused naming the key that raises the limit")
    func jsonTooLarge() throws {
        let w = try Workspace()
        try w.write("tally.toml", "[limits]\nmax_file_bytes = 64\n")
        let body = #"[{"email":"ada@example.org","course":"AI"},{"email":"bob@example.org","course":"AI"}]"#
        try w.write("inbox/big.json", body)
        #expect(try w.tally("sync").status == 1)
        #expect(try w.read("data/failed/big.json.error.txt") == "big.json is \(body.utf8.count) bytes, over the limit of 64 bytes for a JSON document ([limits] max_file_bytes). Split it, or send it as JSON lines.\n")
    }

    @Test("a file with many rejected rows logs the first five reasons and how many more are in rejected.jsonl")
    func manyRejections() throws {
        let w = try Workspace()
        let rows = (1...8).map { "not-an-email-\($0),Course A,2024-09-01\n" }.joined()
        try w.write("inbox/a.csv", "Email,Course,Date\nada@example.org,Course A,2024-09-01\n" + rows)
        let run = try w.tally("sync")
        #expect(run.status == 1)
        let lines = run.stderr.split(separator: "\n").filter { $0.contains("rejected") }
        #expect(lines.filter { $0.contains("a.csv row ") }.count == 5, "\(run.stderr)")
        #expect(run.stderr.contains("a.csv row 3 rejected: "), "\(run.stderr)")
        #expect(run.stderr.contains("a.csv: 3 more rejected rows; every reason is in data/rejected.jsonl"), "\(run.stderr)")
        #expect(try w.ledger("rejected").count == 8)
    }

    @Test("an award a cap cuts says what was granted, not what was asked")
    func cappedAward() throws {
        let w = try Workspace()
        try w.write("tally.toml", "[[caps]]\nactivity = \"MANUAL\"\nmax = 15\n")
        let first = try w.tally("award", "ada@example.org", "10", "--reason", "Meetup")
        #expect(first.stdout == "tally: awarded 10 points to ada@example.org\n", "\(first.stderr)")
        let second = try w.tally("award", "ada@example.org", "10", "--reason", "Second meetup")
        #expect(second.status == 0)
        #expect(second.stdout == "tally: awarded 5 points to ada@example.org (10 asked; a cap cut it)\n")
        #expect(try w.xp() == ["ada@example.org": 15])
    }

    @Test("[site] publish runs after every command that renders the site: sync, render, award, link, rebuild")
    func publishAfterEachRender() throws {
        let w = try Workspace()
        try w.write("tally.toml", "[site]\npublish = \"echo published >> publish.log\"\n")
        func published() throws -> Int { w.exists("publish.log") ? try w.read("publish.log").split(separator: "\n").count : 0 }
        try w.write("inbox/a.csv", "Email,Course,Date\nada@example.org,Course A,2024-09-01\n")
        #expect(try w.tally("sync").status == 0)
        #expect(try published() == 1)
        #expect(try w.tally("render").status == 0)
        #expect(try published() == 2)
        #expect(try w.tally("award", "ada@example.org", "5", "--reason", "Meetup").status == 0)
        #expect(try published() == 3)
        #expect(try w.tally("link", "ada.l@example.org", "ada@example.org").status == 0)
        #expect(try published() == 4)
        #expect(try w.tally("rebuild").status == 0)
        #expect(try published() == 5)
        // Commands that only read never publish.
        #expect(try w.tally("verify").status == 0)
        #expect(try w.tally("stats").status == 0)
        #expect(try published() == 5)
        // An empty inbox renders nothing, so nothing is published.
        #expect(try w.tally("sync").status == 0)
        #expect(try published() == 5)
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
