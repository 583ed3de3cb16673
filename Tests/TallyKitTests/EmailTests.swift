import Foundation
import Testing
import TallyKit

@Suite("Email")
struct EmailTests {
    @Test("addresses are trimmed, unwrapped and lowercased", arguments: [
        ("bob@example.com", "bob@example.com"),
        ("  Bob@Example.COM\t", "bob@example.com"),
        ("\u{00A0}bob@example.com\u{00A0}", "bob@example.com"),
        ("\u{FEFF}bob@example.com\u{200B}", "bob@example.com"),
        ("\r\nbob@example.com\n", "bob@example.com"),
        ("<bob@example.com>", "bob@example.com"),
        (" < Bob@Example.com > ", "bob@example.com"),
        ("Bob Smith <bob@example.com>", "bob@example.com"),
        ("mailto:bob@example.com", "bob@example.com"),
        ("MAILTO:Bob@Example.com", "bob@example.com"),
        ("<mailto:bob@example.com>", "bob@example.com"),
        ("bob@example.com.", "bob@example.com"),
        ("\u{00A0}Jos\u{00E9} <MAILTO:Jos\u{00C9}@Example.com>\u{00A0}", "jos\u{00E9}@example.com"),
        ("\u{00A0}B.o.b+x@GoogleMail.com", "bob@gmail.com"),
    ])
    func trimsAndLowercases(raw: String, expected: String) throws {
        #expect(try Email(normalising: raw).value == expected)
    }

    @Test("a decomposed é equals a precomposed one")
    func unicodeNFC() throws {
        let decomposed = try Email(normalising: "Jose\u{0301}@E\u{0301}xample.com")
        let precomposed = try Email(normalising: "JOS\u{00C9}@\u{00C9}XAMPLE.com")
        #expect(decomposed == precomposed)
        #expect(decomposed.value.unicodeScalars.elementsEqual("jos\u{00E9}@\u{00E9}xample.com".unicodeScalars))
    }

    @Test("internationalised domains and local parts are accepted", arguments: [
        ("anna@müller.de", "anna@müller.de"),
        ("Ωmega@ΠΑΡΆΔΕΙΓΜΑ.gr", "ωmega@παράδειγμα.gr"),
        ("user@xn--mller-kva.de", "user@xn--mller-kva.de"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("a_b-c.d@sub.example.co.uk", "a_b-c.d@sub.example.co.uk"),
    ])
    func internationalised(raw: String, expected: String) throws {
        #expect(try Email(normalising: raw).value == expected)
    }

    @Test("Gmail ignores dots and +tags, and googlemail.com is gmail.com", arguments: [
        ("bob.smith@gmail.com", "bobsmith@gmail.com"),
        ("B.o.B.Smith+news@Gmail.com", "bobsmith@gmail.com"),
        ("bobsmith+a+b@gmail.com", "bobsmith@gmail.com"),
        ("bob.smith@googlemail.com", "bobsmith@gmail.com"),
        ("bobsmith+tally@GoogleMail.com", "bobsmith@gmail.com"),
    ])
    func gmailFolding(raw: String, expected: String) throws {
        #expect(try Email(normalising: raw).value == expected)
    }

    @Test("other domains keep their dots and +tags", arguments: [
        ("bob.smith@example.com", "bob.smith@example.com"),
        ("bob+news@example.com", "bob+news@example.com"),
        ("bob.smith+news@outlook.com", "bob.smith+news@outlook.com"),
        ("bob.smith@mail.gmail.com", "bob.smith@mail.gmail.com"),
        ("bob.smith@gmail.co", "bob.smith@gmail.co"),
    ])
    func otherDomainsKeepEverything(raw: String, expected: String) throws {
        #expect(try Email(normalising: raw).value == expected)
    }

    @Test("an empty cell is a missing address", arguments: ["", "   ", "\u{00A0}\t", "<>", "mailto:", "< >"])
    func missing(raw: String) {
        #expect(throws: EmailError.missing) { try Email(normalising: raw) }
        #expect(EmailError.missing.description == "no email address")
    }

    @Test("an invalid address is refused with its text", arguments: [
        ("bob at example", #""bob at example" is not a valid email address"#),
        (" bob@example ", #""bob@example" is not a valid email address"#),
        ("bob@@example.com", #""bob@@example.com" is not a valid email address"#),
        ("bob@a@example.com", #""bob@a@example.com" is not a valid email address"#),
        ("@example.com", #""@example.com" is not a valid email address"#),
        ("bob@", #""bob@" is not a valid email address"#),
        ("bob smith@example.com", #""bob smith@example.com" is not a valid email address"#),
        ("bob@exa mple.com", #""bob@exa mple.com" is not a valid email address"#),
        ("bob@example..com", #""bob@example..com" is not a valid email address"#),
        ("bob@.example.com", #""bob@.example.com" is not a valid email address"#),
        ("bob@-example.com", #""bob@-example.com" is not a valid email address"#),
        ("bob@example-.com", #""bob@example-.com" is not a valid email address"#),
        ("bob@exam_ple.com", #""bob@exam_ple.com" is not a valid email address"#),
        ("bob,alice@example.com", #""bob,alice@example.com" is not a valid email address"#),
        ("bob@example.com; alice@example.com", #""bob@example.com; alice@example.com" is not a valid email address"#),
        ("+news@gmail.com", #""+news@gmail.com" is not a valid email address"#),
        ("...@gmail.com", #""...@gmail.com" is not a valid email address"#),
        ("Bob <bob>", #""Bob <bob>" is not a valid email address"#),
        ("\u{00A0}bob at example\u{00A0}", #""bob at example" is not a valid email address"#),
        ("bob\u{2003}smith@example.com", "\"bob\u{2003}smith@example.com\" is not a valid email address"),
        ("bob\u{200B}smith@example.com", "\"bob\u{200B}smith@example.com\" is not a valid email address"),
        ("bob@exa\u{00A0}mple.com", "\"bob@exa\u{00A0}mple.com\" is not a valid email address"),
        ("bob@ex\u{1F600}ample.com", "\"bob@ex\u{1F600}ample.com\" is not a valid email address"),
        ("jos\u{00E9}@", "\"jos\u{00E9}@\" is not a valid email address"),
    ])
    func invalid(raw: String, message: String) {
        #expect {
            try Email(normalising: raw)
        } throws: { error in
            (error as? EmailError)?.description == message
        }
    }

    @Test("length limits: 64 bytes of local part, 254 in all")
    func lengthLimits() throws {
        let local64 = String(repeating: "a", count: 64)
        #expect(try Email(normalising: local64 + "@example.com").value == local64 + "@example.com")
        #expect(throws: EmailError.invalid(local64 + "a@example.com")) {
            try Email(normalising: local64 + "a@example.com")
        }
        let label = String(repeating: "d", count: 60)
        let domain249 = [label, label, label, label].joined(separator: ".") + ".com" // 247 bytes
        #expect(try Email(normalising: "bob@" + domain249).value.utf8.count == 251)
        #expect(throws: EmailError.self) { try Email(normalising: "bobby@" + domain249 + "x.a") }
        #expect(throws: EmailError.self) { try Email(normalising: "bob@" + String(repeating: "d", count: 64) + ".com") }
    }

    @Test("normalising is idempotent", arguments: ["B.o.b+x@googlemail.com", "Jose\u{0301}@example.com", "<MAILTO:a@b.co>"])
    func idempotent(raw: String) throws {
        let once = try Email(normalising: raw)
        #expect(try Email(normalising: once.value) == once)
    }

    @Test("an email encodes as a single string and decodes by normalising")
    func codable() throws {
        let email = try Email(normalising: "Bob.Smith@GoogleMail.com")
        let data = try JSONEncoder().encode([email])
        #expect(String(decoding: data, as: UTF8.self) == #"["bobsmith@gmail.com"]"#)
        #expect(try JSONDecoder().decode([Email].self, from: Data(#"["Bob.Smith+x@gmail.com"]"#.utf8)) == [email])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Email].self, from: Data(#"["nope"]"#.utf8)) }
    }

    @Test("emails sort and print by their value")
    func ordering() throws {
        let list = try ["carol@example.com", "Alice@example.com", "bob@example.com"].map { try Email(normalising: $0) }
        #expect(list.sorted().map(\.description) == ["alice@example.com", "bob@example.com", "carol@example.com"])
        #expect("\(list[1])" == "alice@example.com")
    }

    @Test("a name that holds an address looks like an email", arguments: [
        ("bob@example.com", true),
        ("Bob Smith (bob@example.com)", true),
        ("bob@localhost", false),
        ("Bob Smith", false),
        ("B. Smith", false),
        ("@bob.smith", true),
        ("", false),
    ])
    func looksLikeEmail(text: String, expected: Bool) {
        #expect(Email.looksLikeEmail(text) == expected)
        #expect(Email.looksLikeEmail(text[...]) == expected)
    }
}
