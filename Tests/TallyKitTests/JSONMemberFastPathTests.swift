import Testing
@testable import TallyKit

/// `member(_:_:)` builds a whole member on the stack and appends it once; `field(_:_:)` writes
/// it piece by piece through the general escaping path. They must write the same bytes.
struct JSONMemberFastPathTests {
    /// Every length from 0 to 40 (the eight-byte scan and its tail), each byte that needs
    /// escaping at each place, 0xE2 that is and is not U+2028/U+2029, and values past the
    /// stack limit.
    static let strings: [String?] = {
        var values: [String?] = [nil]
        for length in 0...40 { values.append(String(repeating: "a", count: length)) }
        for special in ["\"", "\\", "\n", "\u{1}", "\u{7F}", "€", "\u{2028}", "\u{2029}", "é", "😀"] {
            for at in [0, 3, 7, 8, 9, 16] {
                values.append(String(repeating: "x", count: at) + special + "tail")
            }
        }
        values.append(String(repeating: "long ", count: 103))   // 515 bytes: past the stack limit
        values.append(String(repeating: "€", count: 200))
        return values
    }()

    @Test("a string member equals the same field, for every awkward string")
    func strings() {
        for value in Self.strings {
            for leading in [false, true] {
                var fast = JSONWriter(), simple = JSONWriter()
                fast.beginObject()
                simple.beginObject()
                if leading {
                    fast.member("n", 1)
                    simple.field("n", 1)
                }
                fast.member("value", value)
                simple.field("value", value)
                fast.endObject()
                simple.endObject()
                #expect(fast.bytes == simple.bytes, "\(String(describing: value))")
            }
        }
    }

    @Test("a string is plain only when no byte of it needs escaping, whatever its length and the byte's place")
    func plainness() {
        func isPlain(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { JSONWriter.isPlain($0) } }
        for length in 0...40 {
            let plain = [UInt8](repeating: UInt8(ascii: "a"), count: length)
            #expect(isPlain(plain), "\(length) plain bytes")
            // Each byte that needs escaping (or starts U+2028/U+2029) at every place, the
            // last ones included: the tail is read as an overlapping word.
            for special: UInt8 in [0x00, 0x0A, 0x1F, 0x22, 0x5C, 0xE2] {
                for place in 0..<length {
                    var bytes = plain
                    bytes[place] = special
                    #expect(!isPlain(bytes), "\(special) at \(place) of \(length)")
                }
            }
            // Bytes next to those that need escaping do not.
            for neighbour: UInt8 in [0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0xE1, 0xE3] {
                #expect(isPlain([UInt8](repeating: neighbour, count: length)), "\(neighbour) × \(length)")
            }
        }
    }

    @Test("a number member equals the same field, at every number of digits and both signs")
    func numbers() {
        var values = [0, 1, -1, Int.max, Int.min, Int.max - 1, Int.min + 1]
        var power = 1
        for _ in 0..<18 {
            power *= 10
            values += [power - 1, power, power + 1, -(power - 1), -power, -(power + 1)]
        }
        for value in values {
            var fast = JSONWriter(), simple = JSONWriter()
            fast.beginObject()
            simple.beginObject()
            fast.member("a", value)
            simple.field("a", value)
            fast.member("b", value)
            simple.field("b", value)
            fast.endObject()
            simple.endObject()
            #expect(fast.bytes == simple.bytes, "\(value)")
            #expect(String(decoding: fast.bytes, as: UTF8.self) == "{\"a\":\(value),\"b\":\(value)}")
        }
    }

    @Test("an id written from its key equals the id written as a string", arguments: [
        "h-0123456789abcdef0123456789abcdef", "h-00000000000000000000000000000000", "h-ffffffffffffffffffffffffffffffff",
        "kajabi-42", "H-0123456789ABCDEF0123456789ABCDEF", "with \"quote\"",
    ])
    func keys(id: String) {
        var fast = JSONWriter(), simple = JSONWriter()
        fast.beginObject()
        simple.beginObject()
        fast.member("seq", 1)
        simple.field("seq", 1)
        fast.member("id", EventKey(id))
        simple.field("id", id)
        fast.endObject()
        simple.endObject()
        #expect(fast.bytes == simple.bytes)
        #expect(EventKey(id).id == id)
    }
}
