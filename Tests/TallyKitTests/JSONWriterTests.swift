import Testing
@testable import TallyKit

@Suite("JSONWriter")
struct JSONWriterTests {
    private func text(_ writer: JSONWriter) -> String { String(decoding: writer.bytes, as: UTF8.self) }

    @Test("an object with every kind of value is written byte for byte, keys in the order given")
    func exactBytes() {
        var w = JSONWriter()
        w.beginObject()
        w.field("seq", 7)
        w.field("id", "evt_1")
        w.field("student", nil as String?)
        w.field("public", true)
        w.field("points", -20)
        w.key("amount")
        w.number("-0.5e10")
        w.key("ratio")
        w.double(0.25)
        w.field("big", JSONValue.number("12345678901234567890"))
        w.key("tricky")
        w.string("quote \" backslash \\ slash / tab \t nl \n cr \r bell \u{7} nul \u{0} <b>&amp; é 😀 \u{2028}\u{2029}")
        w.key("empty")
        w.beginArray()
        w.endArray()
        w.key("list")
        w.beginArray()
        w.int(1)
        w.beginObject()
        w.endObject()
        w.beginArray()
        w.bool(false)
        w.null()
        w.endArray()
        w.rawLiteral(Array(#"{"raw":1}"#.utf8))
        w.endArray()
        w.field("nested", JSONValue.object(["b": .null, "a": .array([.string("x")])]))
        w.endObject()
        let expected = #"{"seq":7,"id":"evt_1","student":null,"public":true,"points":-20,"amount":-0.5e10,"ratio":0.25,"#
            + #""big":12345678901234567890,"#
            + #""tricky":"quote \" backslash \\ slash / tab \t nl \n cr \r bell \u0007 nul \u0000 <b>&amp; é 😀 \u2028\u2029","#
            + #""empty":[],"list":[1,{},[false,null],{"raw":1}],"nested":{"b":null,"a":["x"]}}"#
        #expect(text(w) == expected)
    }

    @Test("control characters are escaped, the short forms where JSON has them")
    func controlCharacters() {
        var w = JSONWriter()
        w.string(String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self))
        let expected = #""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f"#
            + #"\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f""#
        #expect(text(w) == expected)
    }

    /// The escaping as a reference, one character at a time.
    private static func slowlyEscaped(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{8}": out += "\\b"
            case "\u{C}": out += "\\f"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    @Test("a character that needs escaping is escaped at any position in a long string",
          arguments: ["\"", "\\", "\n", "\u{1}", "\u{1F}", "\u{2028}", "\u{2029}", "’", "é", "<", "😀"])
    func escapingAtEveryPosition(special: String) throws {
        for position in 0..<20 {
            for length in [position + 1, position + 9, position + 30] {
                var text = String(repeating: "a", count: position) + special
                text += String(repeating: "b", count: length - position)
                var w = JSONWriter()
                w.string(text)
                #expect(String(decoding: w.bytes, as: UTF8.self) == Self.slowlyEscaped(text))
                #expect(try JSONParser.parse(w.bytes) == .string(text))
            }
        }
    }

    @Test("integers are written exactly, the extremes included", arguments: [0, 7, -1, 10, 1_000_000, Int.max, Int.min])
    func integers(value: Int) {
        var w = JSONWriter()
        w.int(value)
        #expect(text(w) == String(value))
    }

    @Test("text that is not a number literal is written as a string, so the output stays JSON",
          arguments: ["abc", "01", "1.", "+1", "NaN", "", "1e", "- 1"])
    func invalidNumberLiteral(literal: String) throws {
        let bytes = JSONValue.number(literal).serialized()
        #expect(try JSONParser.parse(bytes) == .string(literal))
    }

    @Test("NaN and infinities are written as null")
    func nonFiniteDoubles() {
        var w = JSONWriter()
        w.beginArray()
        w.double(.nan)
        w.double(.infinity)
        w.double(1e300)
        w.endArray()
        #expect(text(w) == "[null,null,1e+300]")
    }

    @Test("reset starts a new document with the same buffer")
    func reset() {
        var w = JSONWriter()
        w.beginArray()
        w.int(1)
        w.reset()
        w.int(2)
        #expect(text(w) == "2")
    }

    static let roundTrips: [JSONValue] = [
        .null, .bool(true), .bool(false), .number("0"), .number("-0.5e10"), .number("12345678901234567890"),
        .string(""), .string("plain"), .string("\"\\/\u{0}\u{1F}\u{7F}"), .string("é 日本 😀 \u{2028} \u{FFFD}"),
        .array([]), .array([.null, .array([.array([])]), .object(JSONObject())]),
        .object(["seq": .number("1"), "b": .string("x"), "a": .array([.bool(true)])]),
        .object(JSONObject([("dup", .number("1")), ("dup", .number("2"))])),
        .object(JSONObject((0..<30).map { ("key\($0)", .number("\($0)")) })),
    ]

    @Test("parsing what was serialized gives back the same value", arguments: roundTrips)
    func roundTrip(value: JSONValue) throws {
        let bytes = value.serialized()
        #expect(try JSONParser.parse(bytes) == value)
        #expect(value.serialized() == bytes)
    }

    @Test("serializing what was parsed gives back compact input", arguments: [
        #"{"seq":1,"z":[1,2.50,-0.0E+3],"a":{"":null}}"#, #"["\u00e9",true]"#,
    ])
    func compactRoundTrip(text: String) throws {
        let value = try JSONParser.parse(text)
        let again = try JSONParser.parse(value.serialized())
        #expect(again == value)
        #expect(value.description.utf8.count <= text.utf8.count)
    }
}
