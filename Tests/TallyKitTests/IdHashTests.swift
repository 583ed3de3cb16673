import Testing
@testable import TallyKit

/// `IdHash` and the accounts' lookup by bytes against `String` equality and hashing.
struct IdHashTests {
    /// Ids that `String ==` calls equal, spelled apart: a decomposed and a precomposed "é",
    /// and the three characters outside ASCII that equal an ASCII one.
    static let equalSpellings: [(String, String)] = [
        ("Jos\u{E9}@example.org", "Jose\u{301}@example.org"),
        ("\u{212A}evin@example.org", "Kevin@example.org"),
        ("a\u{37E}b@example.org", "a;b@example.org"),
        ("\u{1FEF}q@example.org", "`q@example.org"),
    ]

    @Test("ids that String equality calls equal hash alike", arguments: equalSpellings)
    func equalIdsHashAlike(pair: (String, String)) {
        #expect(pair.0 == pair.1)
        #expect(IdHash.hash(pair.0) == IdHash.hash(pair.1))
    }

    @Test("an ASCII id hashes as its bytes do; other bytes are left to the String")
    func bytesAndString() {
        for id in ["", "a", "abcdefg", "abcdefgh", "abcdefghi", "student000042@school.example.org", "K"] {
            var copy = id
            let bytes = copy.withUTF8 { IdHash.hash(ascii: UnsafeRawBufferPointer($0)) }
            #expect(bytes == IdHash.hash(id), "\(id)")
        }
        var accented = "caf\u{E9}@example.org"
        #expect(accented.withUTF8 { IdHash.hash(ascii: UnsafeRawBufferPointer($0)) } == nil)
        // A high byte in the last partial word, and in a whole word.
        for bytes: [UInt8] in [[0x61, 0x62, 0xC3], [0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0xFF, 0x61]] {
            #expect(bytes.withUnsafeBytes { IdHash.hash(ascii: $0) } == nil)
        }
    }

    @Test("only KELVIN SIGN, GREEK QUESTION MARK and GREEK VARIA outside ASCII equal ASCII text")
    func everyScalar() {
        // Every one- and two-character ASCII text, by String's own hash (canonical, as `==`).
        var ascii: [Int: [String]] = [:]
        for a in 0..<128 {
            let one = String(Unicode.Scalar(UInt8(a)))
            ascii[one.hashValue, default: []].append(one)
            for b in 0..<128 {
                let two = one + String(Unicode.Scalar(UInt8(b)))
                ascii[two.hashValue, default: []].append(two)
            }
        }
        var found: [UInt32: UInt8] = [:]
        for value in UInt32(0x80)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let text = String(scalar)
            guard let candidates = ascii[text.hashValue] else { continue }
            for candidate in candidates where candidate == text {
                #expect(candidate.utf8.count == 1, "U+\(String(value, radix: 16)) is \(candidate)")
                found[value] = candidate.utf8.first
            }
        }
        #expect(found == IdHash.asciiSingletons)
    }

    @Test("finding by bytes gives the index finding by String gives, and adds the same ids")
    func bytesAgainstString() {
        var byBytes = AccountTable(), byString = AccountTable()
        var ids = (0..<3000).map { "student\($0 % 1700)@school.example.org" }
        ids += ["", "K", "Kevin@example.org", "\u{212A}evin@example.org", "Jos\u{E9}@example.org",
                "Jose\u{301}@example.org", "a;b@example.org", "a\u{37E}b@example.org", "z"]
        // Stored first as a String that is not ASCII: its ASCII equal, as bytes, finds it.
        _ = byBytes.findOrAdd("\u{1FEF}q@example.org")
        _ = byString.findOrAdd("\u{1FEF}q@example.org")
        ids.append("`q@example.org")
        for (n, id) in ids.enumerated() {
            var copy = id
            let found = copy.withUTF8 { byBytes.findOrAdd(bytes: UnsafeRawBufferPointer($0), orAdd: State.Account()) }
            #expect(found == byString.findOrAdd(id), "\(id)")
            // An earlier id again, by String in the table filled by bytes.
            let earlier = ids[n / 2]
            #expect(byBytes.find(earlier) == byString.find(earlier), "\(earlier)")
        }
        #expect(byBytes.ids == byString.ids)
        #expect(byBytes.count == byString.count)
        #expect(byBytes.index(of: "kevin@example.org") == nil)
    }
}
