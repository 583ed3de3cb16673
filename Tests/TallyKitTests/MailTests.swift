import Foundation
import Testing
@testable import TallyKit

@Suite("email: headers, encodings, MIME structure, senders")
struct MailTests {
    @Test("header blocks unfold; RFC 2047 words decode in B and Q, adjacent words join, unknown ones stay")
    func headers() {
        let headers = MailHeaders(block: [
            "Subject: =?UTF-8?B?UsOpcG9uc2Vz?= =?ISO-8859-1?Q?_au_formulaire_=E9t=E9?=",
            "From: \"Forms (bot)\" <Forms@School.Example> (Google)",
            "Content-Type: text/csv;",
            "\tname=\"export.csv\"",
            "Message-ID: <abc@mail>",
            "not a header line",
        ])
        #expect(headers.fields.count == 4)
        #expect(MailHeaders.decodeWords(headers["subject"] ?? "") == "Réponses au formulaire été")
        #expect(MailHeaders.decodeWords("a =?x-unknown?Q?b?= c") == "a =?x-unknown?Q?b?= c")
        #expect(MailHeaders.decodeWords("plain =?utf-8?q?caf=C3=A9?=, then text") == "plain café, then text")
        #expect(headers.fromAddress == "forms@school.example")
        #expect(headers.messageID == "abc@mail")
        #expect(headers.contentType == MediaType(type: "text", subtype: "csv", parameters: ["name": "export.csv"]))
        #expect(MailHeaders.address("forms@school.example (Forms)") == "forms@school.example")
        #expect(MailHeaders.address("=?utf-8?q?F=C3=B6rms?= <f@x.example>") == "f@x.example")
        #expect(MailHeaders.address("undisclosed-recipients:;") == nil)
    }

    @Test("file names: RFC 2231 (charset, continuations), RFC 2047 inside quotes, Content-Type name as a fallback")
    func fileNames() {
        func name(_ lines: [String]) -> String? { MailHeaders(block: lines).fileName }
        #expect(name(["Content-Disposition: attachment; filename*=utf-8''R%C3%A9ponses%20%E2%80%93%20cours.csv"]) == "Réponses – cours.csv")
        #expect(name(["Content-Disposition: attachment;", " filename*0*=iso-8859-1''Donn%E9es;", " filename*1=\" 2024.csv\""])
                == "Données 2024.csv")
        #expect(name(["Content-Disposition: attachment; filename=\"=?utf-8?B?Q29tcGzDqXRpb25zLnhsc3g=?=\""]) == "Complétions.xlsx")
        #expect(name(["Content-Type: text/csv; name=\"a \\\"b\\\".csv\""]) == "a \"b\".csv")
        #expect(name(["Content-Type: text/csv; name=x.csv", "Content-Disposition: attachment; filename=y.csv"]) == "y.csv")
        #expect(name(["Content-Type: text/plain"]) == nil)
    }

    @Test("base64 and quoted-printable decode a piece at a time; Latin-1 becomes UTF-8, a character cut in two is joined")
    func transferEncodings() {
        var decoder = Base64Decoder()
        var out: [UInt8] = []
        for piece in ["SGVs", "bG8s\r\n", " IHfDtnJs", "ZCE="] { decoder.decode(Array(piece.utf8), into: &out) }
        decoder.finish(into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "Hello, wörld!")
        #expect(Base64Decoder.decode(Array("YWI".utf8)) == Array("ab".utf8))
        // Two encoded pieces pasted together, the first padded.
        #expect(Base64Decoder.decode(Array("YQ==\r\nYmM=".utf8)) == Array("abc".utf8))

        var text: [UInt8] = []
        #expect(QuotedPrintable.decodeLine(Array("Donn=E9es=20101 =".utf8)[...], into: &text) == false)
        #expect(QuotedPrintable.decodeLine(Array("a=3Db=  \t".utf8)[...], into: &text) == false)
        #expect(QuotedPrintable.decodeLine(Array("x=zz".utf8)[...], into: &text) == true)
        #expect(text == [0x44, 0x6F, 0x6E, 0x6E, 0xE9, 0x65, 0x73, 0x20, 0x31, 0x30, 0x31, 0x20] + Array("a=bx=zz".utf8))
        #expect(Charset.decode([0x44, 0x6F, 0x6E, 0x6E, 0xE9, 0x65, 0x73], charset: "ISO-8859-1") == "Données")
        #expect(Charset.decode([0x80], charset: "windows-1252") == "€")
        #expect(Charset.decode([0x41], charset: "no-such-charset") == nil)

        let transcoder = Charset.Transcoder(from: "UTF-16LE")!
        var utf8: [UInt8] = []
        #expect(transcoder.convert([0x41, 0x00, 0xE9][...], into: &utf8, final: false))
        #expect(transcoder.convert([0x00][...], into: &utf8, final: true))
        #expect(String(decoding: utf8, as: UTF8.self) == "Aé")
    }

    /// Writes `text` (LF line breaks turned into CRLF) and reads it as a message.
    func parse(_ text: String, limits: MailLimits = MailLimits(), crlf: Bool = true) throws -> (ParsedMessage, [String: [UInt8]]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tally-mail-\(UUID().uuidString)").path
        try FileSystem.createDirectory(dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bytes = crlf ? text.replacingOccurrences(of: "\n", with: "\r\n") : text
        try FileSystem.writeAtomically(Array(bytes.utf8), to: dir + "/m.eml", durable: false)
        try FileSystem.createDirectory(dir + "/parts")
        let message = try MIMEReader(path: dir + "/m.eml", directory: dir + "/parts", limits: limits).read()
        var contents: [String: [UInt8]] = [:]
        for attachment in message.attachments { contents[attachment.number] = try FileSystem.readFile(attachment.path) }
        return (message, contents)
    }

    static let nested = """
        From: a@school.example
        Message-ID: <n@x>
        Content-Type: multipart/mixed; boundary="outer"

        preamble, ignored
        --outer
        Content-Type: multipart/alternative; boundary="outer-inner"

        --outer-inner
        Content-Type: text/plain

        Hello
        --outer-inner
        Content-Type: text/html

        <p>Hello</p>
        --outer-inner--
        --outer  \t
        Content-Type: text/csv; charset=iso-8859-1
        Content-Transfer-Encoding: quoted-printable
        Content-Disposition: attachment; filename="a.csv"

        Email,Course
        x@y.example,Donn=E9es=
         101
        --outer
        Content-Type: message/rfc822

        From: b@elsewhere.example
        Content-Type: multipart/mixed; boundary=in

        --in
        Content-Type: application/json

        {"a": 1}
        --in--
        --outer
        Content-Type: image/png; name=logo.png
        Content-Transfer-Encoding: base64

        iVBORw0KGgo=
        --outer--
        epilogue
        """

    @Test("nested multipart, a forwarded message and delimiters with padding: parts numbered as IMAP does, bodies exact")
    func structure() throws {
        let (message, contents) = try parse(Self.nested)
        #expect(message.headers.messageID == "n@x")
        #expect(message.attachments.map(\.number) == ["1.1", "2", "3.1"])
        #expect(message.attachments.map(\.name) == [nil, "a.csv", nil])
        #expect(message.skipped == ["1.2 (text/html)", "4 (image/png logo.png)"])
        #expect(String(decoding: contents["1.1"] ?? [], as: UTF8.self) == "Hello")
        // Latin-1 decoded from quoted-printable and turned into UTF-8; the soft break joins the line.
        #expect(String(decoding: contents["2"] ?? [], as: UTF8.self) == "Email,Course\r\nx@y.example,Données 101")
        #expect(String(decoding: contents["3.1"] ?? [], as: UTF8.self) == "{\"a\": 1}")
    }

    @Test("LF-only mail reads the same as CRLF mail, the line breaks inside parts kept as sent")
    func bareLineFeeds() throws {
        let (message, contents) = try parse(Self.nested, crlf: false)
        #expect(message.attachments.map(\.number) == ["1.1", "2", "3.1"])
        #expect(String(decoding: contents["2"] ?? [], as: UTF8.self) == "Email,Course\nx@y.example,Données 101")
    }

    @Test("a forwarded message in base64, a nameless CSV, a body in a wrong charset beside an export")
    func awkwardParts() throws {
        let inner = "From: b@elsewhere.example\r\nContent-Type: text/csv; name=in.csv\r\n\r\nEmail,Course\r\nz@y.example,C\r\n"
        let text = """
            From: a@school.example
            Content-Type: multipart/mixed; boundary=b

            --b
            Content-Type: text/plain; charset=gb2312
            Content-Transfer-Encoding: base64

            \(Data([0x81, 0x30, 0x81, 0x30]).base64EncodedString())
            --b
            Content-Type: text/csv

            Email,Course
            x@y.example,C
            --b
            Content-Type: message/rfc822
            Content-Transfer-Encoding: base64

            \(Data(inner.utf8).base64EncodedString())
            --b--
            """
        let (message, contents) = try parse(text)
        #expect(message.attachments.map(\.number) == ["1", "2", "3"])
        #expect(message.attachments.map(\.name) == [nil, nil, "in.csv"])
        #expect(MIMEReader.defaultName(for: message.attachments[1]) == "part-2.csv")
        #expect(contents["1"] == [0x81, 0x30, 0x81, 0x30])   // a body is kept as sent, not converted
        #expect(String(decoding: contents["3"] ?? [], as: UTF8.self) == "Email,Course\r\nz@y.example,C\r\n")
    }

    @Test("a file is a message by its headers, whatever its charset; a table or JSON is not")
    func kinds() {
        func kind(_ text: [UInt8], _ name: String = "1700000000.M1P1.host") -> FileKind { FileKind.detect(head: text, name: name) }
        #expect(kind(Array("From: a@b.example\r\nSubject: Donn".utf8) + [0xE9, 0x65, 0x73] + Array("\r\n\r\nbody".utf8)) == .email)
        #expect(kind(Array("Authentication-Results: mx; dkim=pass\r\nFrom: a@b.example\r\nDate: x\r\n\r\n".utf8) + [0x1B, 0x24, 0x42]) == .email)
        #expect(kind(Array("Email,Course\nFrom: a@b.example,Date: x\n".utf8), "x.csv") == .csv)
        #expect(kind(Array("{\"from\": \"a\", \"date\": 1}\n".utf8), "x.json") == .json)
        #expect(kind(Array("From: a@b.example\n\nno other header".utf8), "x.txt") == .csv)
    }

    @Test("a message is known by its whole header block, however far down its From is; a table whose first row reads like a field is not")
    func longHeaderBlock() {
        var trace = "Delivered-To: tally@school.example\r\n"
        while trace.utf8.count < 20_000 {
            trace += "Received: from relay\(trace.utf8.count).school.example (relay.school.example [10.0.0.1])\r\n"
                + "\tby mx.school.example with ESMTPS; Fri, 20 Nov 2026 10:00:00 +0000\r\n"
                + "ARC-Seal: i=1; a=rsa-sha256; t=1700000000; cv=none; d=google.com; s=arc-20240605;\r\n b=abcdefghijklmnopqrstuvwxyz0123456789\r\n"
        }
        let message = Array((trace + "From: forms@school.example\r\nSubject: Export\r\n\r\nEmail,Course\r\n").utf8)
        // The file, as the daemon reads it: an 8 KiB head, then 64 KiB at a time.
        func kind(_ bytes: [UInt8], _ name: String = "1700000000.M1P1.host") -> FileKind {
            var offset = min(8192, bytes.count)
            return FileKind.detect(head: Array(bytes[..<offset]), name: name, readMore: {
                let end = min(offset + 65536, bytes.count)
                defer { offset = end }
                return Array(bytes[offset..<end])
            })
        }
        #expect(kind(message) == .email)
        let cut = message.indices.first { $0 > 4000 && message[$0 - 1] == 0x09 }!   // at "by mx…", inside a folded value
        #expect(kind(Array(message[cut...])) == .csv)   // a header block's tail is not one
        // A CSV whose header reads like a field: its rows are not fields.
        #expect(kind(Array("Subject: x,Email,Course\nSubject: y,ada@example.org,AI 1\n".utf8), "export") == .csv)
        #expect(kind(Array("Subject: x\nada@example.org\n".utf8), "export") == .csv)
        #expect(kind(Array("Date: 2026-11-20\nFrom: school\n9/2/2024 10:30:00,ada@example.org\n".utf8), "export") == .csv)
        // Past the mail reader's bound, a block of fields is still a message (the reader says it is too long).
        #expect(FileKind.headerBlockLimit == MailLimits().maxHeaderBytes)
        let endless = Array(("From: a@b.example\nDate: x\n" + String(repeating: "X-Filler: 0123456789abcdef\n", count: 12_000)).utf8)
        #expect(kind(endless) == .email)
        // An mbox: an envelope line first, or the name.
        #expect(kind(Array("From forms@school.example Fri Nov 20 10:00:00 2026\nFrom: forms@school.example\nDate: x\n\nbody\n".utf8)) == .email)
        #expect(kind(Array("From the team,Email\nx,a@b.example\n".utf8), "export") == .csv)
        #expect(kind(Array("anything".utf8), "takeout.mbox") == .email)
    }

    @Test("an mbox of one message is that message; an mbox of several is refused with their count, not read in part")
    func mbox() throws {
        func one(_ id: String, body: String = "Email,Course\nx@y.example,C\n") -> String {
            "From: forms@school.example\nMessage-ID: <\(id)@x>\nContent-Type: text/csv\n\n" + body
        }
        let envelope = "From forms@school.example Fri Nov 20 10:00:00 2026\n"
        let (single, contents) = try parse(envelope + one("a"))
        #expect(single.headers.fromAddress == "forms@school.example" && single.headers.messageID == "a@x")
        #expect(String(decoding: contents["1"] ?? [], as: UTF8.self) == "Email,Course\r\nx@y.example,C\r\n")
        // A body line that begins "From " after an empty line, not escaped, and no header after it: still one message.
        let (prose, _) = try parse(envelope + one("p", body: "Hello\n\nFrom the team\nthanks\n"))
        #expect(prose.headers.messageID == "p@x")
        let three = envelope + one("a") + "\n" + envelope + one("b") + "\n" + envelope + one("c") + "\n"
        #expect(throws: MailError.mailbox(messages: 3)) { try parse(three) }
        #expect(throws: MailError.mailbox(messages: 2)) { try parse(envelope + one("a") + "\n" + envelope + one("b"), crlf: false) }
        #expect(MailError.mailbox(messages: 2).description.contains("split it, one message per file"))
        // Without an envelope line first, a message is read as one, whatever its body holds.
        let (plain, _) = try parse(one("q", body: "x\n\n") + envelope + one("r"))
        #expect(plain.headers.messageID == "q@x")
    }

    @Test("a truncated message keeps what it had; limits on depth, parts and decoded size refuse a hostile one")
    func limits() throws {
        let (truncated, contents) = try parse(String(Self.nested[..<Self.nested.range(of: " 101")!.upperBound]))
        #expect(truncated.attachments.map(\.number) == ["1.1", "2"])
        #expect(String(decoding: contents["2"] ?? [], as: UTF8.self) == "Email,Course\r\nx@y.example,Données 101")

        var deep = "From: a@b.example\nContent-Type: multipart/mixed; boundary=b0\n\n"
        for level in 1...12 { deep += "--b\(level - 1)\nContent-Type: multipart/mixed; boundary=b\(level)\n\n" }
        #expect(throws: MailError.tooDeep(10)) { try parse(deep) }

        var many = "From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n"
        for _ in 0..<20 { many += "--b\nContent-Type: text/plain\n\nx\n" }
        var few = MailLimits()
        few.maxParts = 10
        #expect(throws: MailError.tooManyParts(10)) { try parse(many, limits: few) }

        var small = MailLimits()
        small.maxPartBytes = 1000
        let big = "From: a@b.example\nContent-Type: text/csv\nContent-Transfer-Encoding: base64\n\n"
            + String(repeating: "QUFBQUFBQUFB\n", count: 200)
        #expect(throws: MailError.partTooLarge(part: "1", limit: 1000)) { try parse(big, limits: small) }
    }

    static func headers(from: String, results: [String]) -> MailHeaders {
        MailHeaders(block: results.map { "Authentication-Results: " + $0 } + ["From: " + from])
    }

    @Test("allow_from: addresses and whole domains only; require_auth: the named server's topmost results, for the From domain")
    func policy() {
        let open = MailPolicy(allowFrom: ["forms@school.example", "@partner.example"])
        #expect(open.refusal(for: Self.headers(from: "Forms@School.example", results: [])) == nil)
        #expect(open.refusal(for: Self.headers(from: "x@partner.example", results: [])) == nil)
        #expect(open.refusal(for: Self.headers(from: "x@sub.partner.example", results: []))
                == "the sender x@sub.partner.example is not in [email] allow_from")
        #expect(open.refusal(for: Self.headers(from: "other@school.example", results: [])) != nil)
        #expect(MailPolicy().refusal(for: Self.headers(from: "forms@school.example", results: []))?.contains("allow_from is empty") == true)
        #expect(open.refusal(for: MailHeaders(block: ["Subject: x"])) == "the message has no single From address")
        #expect(open.refusal(for: MailHeaders(block: ["From: forms@school.example", "From: x@evil.example"]))
                == "the message has 2 From headers")
        #expect(open.refusal(for: MailHeaders(block: ["From: forms@school.example, x@evil.example"])) != nil)
        // Quoted text is not an address: the mailbox is what is outside the quotes.
        #expect(MailHeaders.address("\"<forms@school.example>\" <x@evil.example>") == "x@evil.example")
        #expect(MailHeaders.address("\"<forms@school.example>\"@evil.example") == nil)

        let strict = MailPolicy(allowFrom: ["@school.example"], requireAuth: "mx.school.example")
        func accepts(_ results: [String]) -> Bool { strict.refusal(for: Self.headers(from: "f@school.example", results: results)) == nil }
        #expect(accepts(["MX.School.Example; dmarc=pass (p=reject) header.from=school.example"]))
        // A result only vouches for the domain it names; quotes and comments hide nothing.
        #expect(!accepts(["mx.school.example; dmarc=pass"]))
        #expect(!accepts(["mx.school.example; spf=pass smtp.mailfrom=\"x; dmarc=pass header.from=school.example y\"@evil.example; dmarc=fail header.from=school.example"]))
        #expect(!accepts(["mx.school.example; dkim=fail (dmarc=pass header.from=school.example)"]))
        #expect(accepts(["mx.school.example; dkim=pass header.i=@school.example"]))
        #expect(accepts(["mx.school.example 1; spf=pass smtp.mailfrom=school.example"]))
        #expect(!accepts(["mx.school.example; dmarc=fail header.from=school.example"]))
        #expect(!accepts(["mx.school.example; dmarc=pass header.from=other.example"]))
        #expect(!accepts(["mx.school.example; dkim=pass header.d=mailer.example"]))
        #expect(!accepts(["mx.school.example; spf=pass smtp.mailfrom=bounce@mailer.example"]))
        #expect(!accepts(["mx.school.example; none"]))
        #expect(!accepts(["relay.example; dmarc=pass header.from=school.example"]))
        // Only the topmost header of the trusted server counts.
        #expect(!accepts(["mx.school.example; dkim=fail", "mx.school.example; dmarc=pass header.from=school.example"]))
        #expect(accepts(["relay.example; dkim=fail", "mx.school.example; dkim=pass header.d=school.example"]))
    }
}

@Suite("email: streaming")
struct MailStreamingTests {
    @Test("a message with a 40 MB base64 attachment (30 MB decoded) is decoded through fixed buffers")
    func largeAttachmentMemoryBound() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tally-mail-big-\(UUID().uuidString)").path
        try FileSystem.createDirectory(directory + "/parts")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/big.eml"
        guard let file = fopen(path, "w") else { throw MailError.unreadable("cannot write the test message") }
        fputs("From: forms@school.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
              + "Content-Type: text/csv\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=big.csv\r\n\r\n",
              file)
        // 57 bytes a line, as base64 encoders wrap them (76 characters).
        let line = Data("student0@example.org,Course 1,2024-09-02T10:30:00Z,notes\n".utf8).base64EncodedString() + "\r\n"
        let block = String(repeating: line, count: 10_000)
        let blocks = 53
        for _ in 0..<blocks { fputs(block, file) }
        fputs("--b--\r\n", file)
        fclose(file)

        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        let before = try Self.peak()
        let message = try MIMEReader(path: path, directory: directory + "/parts").read()
        let after = try Self.peak()
        #expect(message.attachments.map(\.bytes) == [57 * 10_000 * blocks])
        // The peak is the whole test process's, and other suites run meanwhile: one pushed it
        // 2.3 MiB past a 16 MiB bound once. Decoded whole, the attachment alone is 30 MB.
        #expect(after - before < 24 << 20, "peak grew by \((after - before) >> 20) MiB")
    }

    static func peak() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
}
