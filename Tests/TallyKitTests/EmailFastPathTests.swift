import Testing
@testable import TallyKit

/// `Email` folds an address straight into its string's storage; this is the plain fold
/// (lowercase; for Gmail drop dots and the +tag and say gmail.com), on addresses that
/// `Email` accepts, to check the two agree.
struct EmailFastPathTests {
    static func simpleFold(_ address: String) -> String {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        var local = parts[0].lowercased(), domain = parts[1].lowercased()
        if domain.hasSuffix(".") { domain.removeLast() }
        if domain == "gmail.com" || domain == "googlemail.com" {
            local = String(local.prefix { $0 != "+" }.filter { $0 != "." })
            domain = "gmail.com"
        }
        return local + "@" + domain
    }

    @Test("the folded address equals the plain fold, for many spellings")
    func sameFold() throws {
        let locals = ["bob", "B.o.B", "bob+news", "Bob.Smith+a+b", "x", "a.b.c.d", "O'Neil", "user_1-2", "ÉLODIE", String(repeating: "a", count: 64)]
        let domains = ["gmail.com", "GMail.com", "googlemail.com", "GoogleMail.COM", "example.org", "Sub.Example.ORG", "gmail.com.",
                       "xn--caf-dma.fr", "café.fr", "gmail.co"]
        for local in locals {
            for domain in domains {
                let address = local + "@" + domain
                guard let email = try? Email(normalising: address) else { continue }
                #expect(email.value == Self.simpleFold(address).precomposedStringWithCanonicalMapping, "\(address)")
            }
        }
    }

    @Test("the 254-byte limit holds on the folded address, not the typed one")
    func lengthLimit() {
        func address(lastLabel: Int) -> String {
            let long = String(repeating: "d", count: 63)
            return "a@" + [long, long, long, String(repeating: "e", count: lastLabel), "org"].joined(separator: ".")
        }
        #expect(address(lastLabel: 56).utf8.count == 254)
        #expect((try? Email(normalising: address(lastLabel: 56)))?.value == address(lastLabel: 56))
        #expect((try? Email(normalising: address(lastLabel: 57))) == nil)
        let gmail = "a.b.c.d+" + String(repeating: "t", count: 50) + "@gmail.com"
        #expect((try? Email(normalising: gmail))?.value == "abcd@gmail.com")
        #expect((try? Email(normalising: "+only@gmail.com")) == nil)
    }
}

import Foundation
