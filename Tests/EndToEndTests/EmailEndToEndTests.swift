import Foundation
import Testing

/// Email messages as mail pipelines deliver them, built by Python's `email` package.
@Suite("email messages, end to end")
struct EmailEndToEndTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TallyKitTests/Fixtures/spreadsheets")

    /// Runs Python with `email` helpers defined: `message(...)`, `write(path, msg)`.
    func python(_ w: Workspace, _ script: String) throws {
        let prelude = """
            import base64, sys
            from email.message import EmailMessage
            from email.mime.base import MIMEBase
            from email.mime.multipart import MIMEMultipart
            from email.mime.text import MIMEText
            from email.mime.message import MIMEMessage
            from email import encoders, policy

            CSV = "Timestamp,Email Address,Name,Course\\r\\n9/2/2024 10:30:00,ada@example.org,Ada Lovelace,Données 101\\r\\n9/3/2024 11:00:00,grace@example.org,Grace Hopper,AI Foundations\\r\\n"

            def message(sender="Google Forms <forms-receipts-noreply@school.example>", mid="<m1@mail.school.example>", extra=()):
                m = EmailMessage()
                for name, value in extra:
                    m[name] = value
                m["From"] = sender
                m["To"] = "tally@school.example"
                m["Subject"] = "Réponses au formulaire"
                m["Date"] = "Thu, 21 Nov 2026 11:05:42 +0000"
                m["Message-ID"] = mid
                return m

            def write(path, msg):
                with open(path, "wb") as f:
                    f.write(msg.as_bytes(policy=policy.SMTP))

            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", prelude + script]
        process.currentDirectoryURL = w.root
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    static let allowed = "[email]\nallow_from = [\"@school.example\", \"relay@kajabi-relay.example\"]\n"

    /// "email course row message part" per event line.
    static func events(_ w: Workspace) throws -> [String] {
        try w.ledger("events").map { event in
            let source = event["source"] as? [String: Any] ?? [:]
            return "\(event["email"] as? String ?? "") \(event["course"] as? String ?? "") \(source["row"] as? Int ?? 0) "
                + "\(source["file"] as? String ?? "") \(source["message"] as? String ?? "-") \(source["part"] as? String ?? "-")"
        }
    }

    @Test("attachments in every MIME form: base64 CSV with an RFC 2231 name, an XLSX with an RFC 2047 name, a forwarded message's quoted-printable Latin-1 CSV, a JSON body")
    func attachments() throws {
        let w = try Workspace()
        try w.write("tally.toml", Self.allowed)
        let xlsx = Self.fixtures.appendingPathComponent("openpyxl-form.xlsx").path
        try python(w, """
            # 1. multipart/mixed: an alternative text+HTML body, a base64 CSV named in RFC 2231, an image.
            m = message(mid="<csv@mail.school.example>")
            m.set_content("Nouvelles réponses.")
            m.add_alternative("<p>Nouvelles réponses.</p>", subtype="html")
            m.add_attachment(CSV.encode("utf-8"), maintype="text", subtype="csv", filename="Réponses – cours.csv")
            m.add_attachment(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(200), maintype="image", subtype="png", filename="logo.png")
            write("inbox/1-csv.eml", m)

            # 2. an XLSX whose name is an RFC 2047 encoded word, as Outlook writes it.
            m = MIMEMultipart()
            for k, v in message(mid="<xlsx@mail.school.example>").items(): m[k] = v
            m.attach(MIMEText("Export attached.", "plain", "utf-8"))
            part = MIMEBase("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            part.set_payload(open("\(xlsx)", "rb").read())
            encoders.encode_base64(part)
            part.add_header("Content-Disposition", 'attachment; filename="=?utf-8?B?' + base64.b64encode("Complétions.xlsx".encode()).decode() + '?="')
            m.attach(part)
            write("inbox/2-xlsx.eml", m)

            # 3. a forwarded message (message/rfc822) holding a quoted-printable Latin-1 CSV.
            inner = MIMEMultipart()
            for k, v in message(sender="someone@elsewhere.example", mid="<inner@elsewhere.example>").items(): inner[k] = v
            inner.attach(MIMEText("voir pièce jointe", "plain", "utf-8"))
            # Python writes a Latin-1 text part as quoted-printable: Donn=E9es.
            latin = MIMEText("Email,Course,Completed at\\r\\nzoe@example.org,Données 101,2024-09-04T09:00:00Z\\r\\n", "csv", "iso-8859-1")
            assert latin["Content-Transfer-Encoding"] == "quoted-printable"
            latin.add_header("Content-Disposition", "attachment", filename="export.csv")
            inner.attach(latin)
            outer = MIMEMultipart()
            for k, v in message(mid="<fwd@mail.school.example>").items(): outer[k] = v
            outer.attach(MIMEText("FYI, forwarded.", "plain", "utf-8"))
            outer.attach(MIMEMessage(inner))
            write("inbox/3-forwarded.eml", outer)

            # 4. a relayed webhook: the message body is the Kajabi payload itself.
            m = message(sender="relay@kajabi-relay.example", mid="<json@relay.example>")
            m.set_content('{"event_type": "form.submitted", "event_id": "evt_mail_1", "created_at": "2026-11-21T11:05:42Z", '
                          '"data": {"form": {"id": "77"}, "submission": {"id": "sub_1", "fields": {"email": "kat@example.org", '
                          '"course_name": "Prompt Design"}}}}'.encode(), maintype="application", subtype="json", cte="7bit")
            write("inbox/4-json.eml", m)
            """)
        for (index, name) in ["1-csv.eml", "2-xlsx.eml", "3-forwarded.eml", "4-json.eml"].enumerated() {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_700_000_000 + Double(index))],
                                                  ofItemAtPath: w.root.appendingPathComponent("inbox/" + name).path)
        }
        let run = try w.tally("sync")
        #expect(run.status == 0, "\(run.stderr)")
        let events = try Self.events(w)
        #expect(events == [
            "ada@example.org Données 101 2 1-csv.eml csv@mail.school.example 2",
            "grace@example.org AI Foundations 3 1-csv.eml csv@mail.school.example 2",
            "ada@example.org AI Foundations 2 2-xlsx.eml xlsx@mail.school.example 2",
            "grace@example.org Data Literacy 3 2-xlsx.eml xlsx@mail.school.example 2",
            "zoe@example.org Données 101 2 3-forwarded.eml fwd@mail.school.example 2.2",
            "kat@example.org Prompt Design 1 4-json.eml json@relay.example 1",
        ], "\(events)")
        #expect(try w.xp() == ["ada@example.org": 40, "grace@example.org": 40, "zoe@example.org": 20, "kat@example.org": 20])
        #expect(w.list("data/archive") == ["1-csv.eml", "2-xlsx.eml", "3-forwarded.eml", "4-json.eml"])
        #expect(w.list("data/tmp").isEmpty)
        #expect(try w.tally("verify").status == 0)
    }

    @Test("allow_from and require_auth: only the trusted server's topmost Authentication-Results counts, for the From domain")
    func senders() throws {
        let w = try Workspace()
        try w.write("tally.toml", Self.allowed + "require_auth = \"mx.school.example\"\n")
        try python(w, """
            def send(name, sender, results, student):
                m = message(sender=sender, mid="<" + name + "@mail>", extra=[("Authentication-Results", r) for r in results])
                m.set_content("see attachment")
                m.add_attachment(("Email,Course\\n" + student + ",AI Foundations\\n").encode(), maintype="text", subtype="csv", filename=name + ".csv")
                write("inbox/" + name + ".eml", m)

            send("dkim", "forms@school.example", ["mx.school.example; dkim=pass (good signature) header.d=school.example header.s=sel; spf=neutral"], "dkim@example.org")
            send("spf", "Forms <forms@school.example>", ["mx.school.example; spf=pass smtp.mailfrom=bounce@school.example (sender ok)"], "spf@example.org")
            send("dmarc", "forms@school.example", ["mx.school.example 1; dmarc=pass header.from=school.example"], "dmarc@example.org")
            send("stranger", "forms@elsewhere.example", ["mx.school.example; dmarc=pass header.from=elsewhere.example"], "stranger@example.org")
            send("otherhost", "forms@school.example", ["mx.evil.example; dmarc=pass header.from=school.example"], "otherhost@example.org")
            send("otherdomain", "forms@school.example", ["mx.school.example; dkim=pass header.d=evil.example; spf=fail smtp.mailfrom=school.example"], "otherdomain@example.org")
            # The sender's own header claims a pass; the server's, on top, does not.
            send("forged", "forms@school.example", ["mx.school.example; dkim=none; spf=softfail smtp.mailfrom=school.example",
                                                     "mx.school.example; dmarc=pass header.from=school.example"], "forged@example.org")
            """)
        let run = try w.tally("sync")
        #expect(run.status == 1)
        #expect(try w.xp() == ["dkim@example.org": 20, "spf@example.org": 20, "dmarc@example.org": 20])
        #expect(w.list("data/archive") == ["dkim.eml", "dmarc.eml", "spf.eml"])
        func reason(_ name: String) throws -> String { try w.read("data/failed/\(name).eml.error.txt") }
        #expect(try reason("stranger") == "stranger.eml was refused: the sender forms@elsewhere.example is not in [email] allow_from; nothing in it was read.\n")
        #expect(try reason("otherhost").contains("no Authentication-Results header from mx.school.example"))
        #expect(try reason("otherdomain").contains("does not show dmarc=pass, or dkim=pass or spf=pass for school.example"))
        #expect(try reason("forged").contains("does not show dmarc=pass"))
    }

    @Test("with allow_from empty no message is read; a message with nothing readable is refused naming what it passed over")
    func refusedWhole() throws {
        let w = try Workspace()
        try python(w, """
            m = message()
            m.set_content("hello")
            m.add_attachment(CSV.encode(), maintype="text", subtype="csv", filename="export.csv")
            write("inbox/export.eml", m)
            """)
        #expect(try w.tally("sync").status == 1)
        #expect(try w.read("data/failed/export.eml.error.txt").contains("allow_from is empty, so no message is read"))
        #expect(try w.ledger("events").isEmpty)

        try w.write("tally.toml", Self.allowed)
        try python(w, """
            m = message(mid="<nothing@mail>")
            m.set_content("Just a note, no export today.")
            m.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="report.pdf")
            write("inbox/note.eml", m)
            """)
        #expect(try w.tally("sync").status == 1)
        #expect(try w.read("data/failed/note.eml.error.txt") ==
                "note.eml holds no table Tally can read: the message has no attachment Tally reads: CSV, TSV, XLSX, ODS, JSON or JSON lines (passed over: 2 (application/pdf report.pdf)).\n")
    }

    @Test("the same message delivered twice (other Received lines, other bytes) counts once, also after a rebuild")
    func messageIDOnce() throws {
        let w = try Workspace()
        try w.write("tally.toml", Self.allowed)
        func copy(_ n: Int) -> String {
            """
            m = message(mid="<once@mail.school.example>", extra=[("Received", "from mx\(n).school.example by tally; Thu, 21 Nov 2026 11:05:4\(n) +0000")])
            m.set_content("export")
            m.add_attachment(CSV.encode(), maintype="text", subtype="csv", filename="export.csv")
            write("inbox/copy-\(n).eml", m)

            """
        }
        try python(w, copy(1) + copy(2))
        #expect(try w.tally("sync").status == 0)
        #expect(try w.xp() == ["ada@example.org": 20, "grace@example.org": 20])
        #expect(try w.ledger("events").count == 2)
        let skipped = try w.ledger("audit").filter { $0["action"] as? String == "file_skipped" }
        #expect(skipped.count == 1 && (skipped.first?["detail"] as? String)?.contains("<once@mail.school.example>") == true)

        #expect(try w.tally("verify").status == 0)
        #expect(try w.tally("rebuild").stdout.contains("it matched the previous state.json byte for byte"))
        try python(w, copy(3))
        #expect(try w.tally("sync").status == 0)
        #expect(try w.ledger("events").count == 2)
        #expect(w.list("data/archive") == ["copy-1.eml", "copy-2.eml", "copy-3.eml"])

        // A sender reusing a Message-ID for another export: other attachments, another message.
        try python(w, """
            m = message(mid="<once@mail.school.example>")
            m.set_content("next week's export")
            m.add_attachment("Email,Course\\nkat@example.org,Prompt Design\\n".encode(), maintype="text", subtype="csv", filename="export.csv")
            write("inbox/reused.eml", m)
            """)
        #expect(try w.tally("sync").status == 0)
        #expect(try w.xp() == ["ada@example.org": 20, "grace@example.org": 20, "kat@example.org": 20])
        #expect(try w.tally("verify").status == 0)
    }

    @Test("a Maildir inbox under tally watch: deliveries renamed from tmp/ into new/ are read and moved out; tmp/ is left alone")
    func maildir() throws {
        let w = try Workspace()
        try w.write("tally.toml", Self.allowed)
        for folder in ["tmp", "new", "cur"] {
            try FileManager.default.createDirectory(at: w.root.appendingPathComponent("inbox/" + folder), withIntermediateDirectories: true)
        }
        try w.write("inbox/tmp/1700000000.M1P1.host", "From: forms@school.example\r\nSubject: half-written")
        let daemon = try Daemon(w)
        defer { daemon.kill9() }
        #expect(eventually { daemon.log.contains("watching") })
        try python(w, """
            m = message(mid="<maildir@mail.school.example>")
            m.set_content("export")
            m.add_attachment(CSV.encode(), maintype="text", subtype="csv", filename="export.csv")
            write("inbox/tmp/1700000001.M2P2.host", m)
            import os
            os.rename("inbox/tmp/1700000001.M2P2.host", "inbox/new/1700000001.M2P2.host,S=1234")
            """)
        #expect(eventually(seconds: 30) { (try? w.xp()) == ["ada@example.org": 20, "grace@example.org": 20] })
        #expect(eventually { w.list("inbox/new").isEmpty })
        #expect(w.list("data/archive") == ["1700000001.M2P2.host,S=1234"])
        #expect(w.list("inbox/tmp") == ["1700000000.M1P1.host"])
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit(seconds: 15)?.status == 0)
    }

    @Test("a message with many KiB of trace and signature headers before its From, in a file not named .eml, is read as a message")
    func longHeaderBlock() throws {
        let w = try Workspace()
        try w.write("tally.toml", Self.allowed)
        try python(w, """
            def deliver(name, mid, size):
                m = message(mid=mid)
                m.set_content("export")
                m.add_attachment(CSV.encode(), maintype="text", subtype="csv", filename="export.csv")
                trace = b"Delivered-To: tally@school.example\\r\\n"
                while len(trace) < size:
                    trace += (b"Received: from relay%d.school.example (relay.school.example [10.0.0.1])\\r\\n"
                              b"\\tby mx.school.example with ESMTPS id x%d; Fri, 20 Nov 2026 10:00:00 +0000\\r\\n" % (len(trace), len(trace)))
                    trace += b"ARC-Seal: i=1; a=rsa-sha256; t=1700000000; cv=none; d=google.com; s=arc-20240605;\\r\\n        b=" + b"A" * 300 + b"\\r\\n"
                with open("inbox/" + name, "wb") as f:
                    f.write(trace + m.as_bytes(policy=policy.SMTP))
            deliver("1795931001.M1P1.host", "<six@mail.school.example>", 6000)
            deliver("1795931002.M2P2.host", "<forty@mail.school.example>", 40000)
            """)
        let sync = try w.tally("sync")
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(w.list("data/failed").isEmpty)
        #expect(w.list("data/archive") == ["1795931001.M1P1.host", "1795931002.M2P2.host"])
        #expect(try w.xp() == ["ada@example.org": 20, "grace@example.org": 20])
        let messages = Set(try w.ledger("events").compactMap { ($0["source"] as? [String: Any])?["message"] as? String })
        #expect(messages == ["six@mail.school.example", "forty@mail.school.example"])
    }

    @Test("an mbox (mutt's save, formail, Takeout): one message in it is read; several are refused with what to do, nothing lost in silence")
    func mbox() throws {
        let w = try Workspace()
        try w.write("tally.toml", Self.allowed)
        try python(w, """
            def export(mid, email):
                m = message(mid=mid)
                m.set_content("export")
                m.add_attachment(("Email,Course\\n%s,AI 1\\n" % email).encode(), maintype="text", subtype="csv", filename="export.csv")
                return b"From forms@school.example Fri Nov 20 10:00:00 2026\\n" + m.as_bytes() + b"\\n"
            open("inbox/two.eml", "wb").write(export("<e1@mail.school.example>", "e1@example.org") + export("<e2@mail.school.example>", "e2@example.org"))
            open("inbox/takeout.mbox", "wb").write(b"".join(export("<t%d@mail.school.example>" % n, "t%d@example.org" % n) for n in range(3)))
            open("inbox/1700000009.M9P9.host", "wb").write(export("<one@mail.school.example>", "one@example.org"))
            """)
        let sync = try w.tally("sync")
        #expect(sync.status == 1)
        #expect(try w.xp() == ["one@example.org": 20])
        #expect(w.list("data/archive") == ["1700000009.M9P9.host"])
        let two = try w.read("data/failed/two.eml.error.txt"), takeout = try w.read("data/failed/takeout.mbox.error.txt")
        #expect(two.contains("it is an mbox of 2 messages") && two.contains("split it, one message per file"), "\(two)")
        #expect(takeout.contains("it is an mbox of 3 messages") && takeout.contains("split it, one message per file"), "\(takeout)")
    }

    @Test("a Maildir delivery linked from tmp/ into new/, as procmail, maildrop and getmail place it, is read under tally watch without a rescan")
    func maildirLinked() throws {
        let w = try Workspace()
        try w.write("tally.toml", Self.allowed)
        for folder in ["tmp", "new", "cur"] {
            try FileManager.default.createDirectory(at: w.root.appendingPathComponent("inbox/" + folder), withIntermediateDirectories: true)
        }
        let daemon = try Daemon(w)
        defer { daemon.kill9() }
        #expect(eventually { daemon.log.contains("watching") })
        try python(w, """
            m = message(mid="<linked@mail.school.example>")
            m.set_content("export")
            m.add_attachment(CSV.encode(), maintype="text", subtype="csv", filename="export.csv")
            write("inbox/tmp/1700000003.M4P4.host", m)
            import os
            os.link("inbox/tmp/1700000003.M4P4.host", "inbox/new/1700000003.M4P4.host")
            os.unlink("inbox/tmp/1700000003.M4P4.host")
            """)
        #expect(eventually(seconds: 10) { (try? w.xp()) == ["ada@example.org": 20, "grace@example.org": 20] })
        #expect(eventually { w.list("inbox/new").isEmpty })
        #expect(w.list("data/archive") == ["1700000003.M4P4.host"])
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit(seconds: 15)?.status == 0)
    }

    @Test("an inbox that becomes a Maildir while tally watch runs (procmail makes the folders at its first delivery)")
    func maildirLater() throws {
        let w = try Workspace()
        try w.write("tally.toml", Self.allowed)
        let daemon = try Daemon(w)
        defer { daemon.kill9() }
        #expect(eventually { daemon.log.contains("watching") })
        try python(w, """
            import os
            for folder in ("tmp", "new", "cur"):
                os.mkdir("inbox/" + folder)
            m = message(mid="<later@mail.school.example>")
            m.set_content("export")
            m.add_attachment(CSV.encode(), maintype="text", subtype="csv", filename="export.csv")
            write("inbox/tmp/1700000002.M3P3.host", m)
            os.rename("inbox/tmp/1700000002.M3P3.host", "inbox/new/1700000002.M3P3.host")
            """)
        #expect(eventually(seconds: 30) { (try? w.xp()) == ["ada@example.org": 20, "grace@example.org": 20] })
        #expect(eventually { w.list("inbox/new").isEmpty })
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit(seconds: 15)?.status == 0)
    }
}
