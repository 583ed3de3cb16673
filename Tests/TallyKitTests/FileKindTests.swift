import Testing
@testable import TallyKit

/// What a dropped file is: its content first, its name second.
struct FileKindTests {
    /// "Email,Nom\nrémi@x.fr,Rémi\n" in Latin-1: é is the lone byte 0xE9.
    static let latin1: [UInt8] = Array("Email,Nom\nr".utf8) + [0xE9] + Array("mi@x.fr,R".utf8) + [0xE9] + Array("mi\n".utf8)

    static let zipHead: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + Array("....[Content_Types].xml xl/workbook.xml".utf8)

    @Test("content decides the kind, whatever the name says", arguments: [
        (Array("Timestamp,Email\n1,2\n".utf8), "export.csv", FileKind.csv),
        (Array("{\"event_type\": \"form.submitted\"}".utf8), "delivery.txt", .json),
        (Array("[{\"email\": \"a@b.co\"}]".utf8), "list.csv", .json),
        (Array("{\"a\":1}\n{\"a\":2}\n".utf8), "stream.json", .jsonLines),
        (Array("{\n  \"a\": 1\n}\n".utf8), "pretty.json", .json),
        (zipHead, "sheet.csv", .xlsx),
        ([0x50, 0x4B, 0x03, 0x04] + Array("mimetypeapplication/vnd.oasis.opendocument.spreadsheet".utf8), "x.bin", .ods),
        ([0xFF, 0xFE, 0x41, 0x00], "unicode.txt", .utf16Text),
        ([0x00, 0x01, 0x02, 0x03, 0x89], "data.csv", .binary),
        (latin1, "latin1.csv", .otherEncoding),
        (Array("From: forms@school.example\nSubject: export\n\nhi".utf8), "message", .email),
        (Array("id,email,name\n".utf8), "roster-2026.csv", .roster),
        (Array("a\tb\n".utf8), "export.tsv", .tsv),
        ([0xEF, 0xBB, 0xBF] + Array("Email,Course\n".utf8), "bom.csv", .csv),
    ])
    func detect(head: [UInt8], name: String, kind: FileKind) {
        #expect(FileKind.detect(head: head, name: name) == kind)
    }

    @Test("UTF-16 text that is JSON or a roster is said to be so, with how to save it; a UTF-16 table is read")
    func utf16NotATable() {
        func utf16(_ text: String, littleEndian: Bool = true) -> [UInt8] {
            (littleEndian ? [0xFF, 0xFE] : [0xFE, 0xFF]) + text.utf16.flatMap { unit -> [UInt8] in
                littleEndian ? [UInt8(unit & 0xFF), UInt8(unit >> 8)] : [UInt8(unit >> 8), UInt8(unit & 0xFF)]
            }
        }
        #expect(FileKind.utf16Refusal(head: utf16("\n [{\"email\":\"a@b.co\"}]"), name: "export.json")?
            .hasPrefix("it is JSON saved as UTF-16 (what Windows PowerShell 5 writes") == true)
        #expect(FileKind.utf16Refusal(head: utf16("{\"email\":1}", littleEndian: false), name: "x.txt")?.hasPrefix("it is JSON") == true)
        #expect(FileKind.utf16Refusal(head: utf16("ID\tEmail\tName\r\n"), name: "Roster-Spring.txt")?
            .hasPrefix("it is a roster saved as UTF-16") == true)
        #expect(FileKind.utf16Refusal(head: utf16("Email\tCourse\r\n"), name: "export.txt") == nil)
    }

    @Test("a stray control character in a cell (Word's soft line break) is still text; control characters more than one in a hundred are not")
    func strayControlCharacters() {
        let softBreak: [UInt8] = Array("Email,Course,Notes\nada@example.com,AI 1,\"line1\u{0B}line2\"\n".utf8)
        let bell: [UInt8] = Array("Email,Course,Notes\nada@example.com,AI 1,\"bell\u{07}\"\n".utf8)
        let controls: [UInt8] = [0x01, 0x02, 0x41, 0x42, 0x43, 0x04, 0x05, 0x44, 0x45, 0x46, 0x47, 0x48]
        #expect(FileKind.detect(head: softBreak, name: "vt.csv") == .csv)
        #expect(FileKind.detect(head: bell, name: "bell.csv") == .csv)
        #expect(FileKind.detect(head: controls, name: "data.csv") == .binary)
    }
}

/// Captured webhook requests and their HMAC-SHA256 signatures.
struct CapturedRequestTests {
    static let body = #"{"event_id":"evt_1","event_type":"form.submitted"}"#

    @Test("the signature is the lowercase hex HMAC-SHA256 of the body bytes")
    func knownVector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        #expect(CapturedRequest.sign(body: "what do ya want for nothing?", secret: "Jefe")
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test("a capture signed with the secret verifies; any other secret or body does not")
    func verify() throws {
        let signature = CapturedRequest.sign(body: Self.body, secret: "s3cret")
        let capture = CapturedRequest(headers: [("x-kajabi-SIGNATURE", signature)], body: Self.body)
        #expect(capture.isSigned(by: "s3cret"))
        #expect(!capture.isSigned(by: "other"))
        #expect(!CapturedRequest(headers: [("X-Kajabi-Signature", signature)], body: Self.body + " ").isSigned(by: "s3cret"))
        #expect(CapturedRequest(headers: [("X-Kajabi-Signature", signature.uppercased())], body: Self.body).isSigned(by: "s3cret"))
        #expect(!CapturedRequest(headers: [("X-Kajabi-Signature", "zz")], body: Self.body).isSigned(by: "s3cret"))
        #expect(!CapturedRequest(headers: [], body: Self.body).isSigned(by: "s3cret"))
    }

    @Test("a capture reads back from the JSON it writes")
    func roundTrip() throws {
        let capture = CapturedRequest(headers: [("Content-Type", "application/json"), ("X-Kajabi-Signature", "ab")],
                                      body: Self.body, site: "site_1")
        let parsed = try JSONParser.parse(capture.encoded())
        #expect(CapturedRequest(json: parsed) == capture)
        #expect(CapturedRequest(json: try JSONParser.parse(#"{"headers": {}, "body": 5}"#)) == nil)
    }

    @Test("constant-time comparison still answers correctly")
    func constantTime() {
        #expect(Crypto.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!Crypto.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!Crypto.constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(Crypto.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
