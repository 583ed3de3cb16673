import Foundation
import Testing
@testable import TallyKit

/// The files of JSONTestSuite's `test_parsing`, found from this file: up to the repository root
/// (the directory holding Package.swift), then `../shared/corpus/json-test-suite/test_parsing/`.
enum JSONTestSuiteCorpus {
    static let directory: URL? = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory.appendingPathComponent("../shared/corpus/json-test-suite/test_parsing").standardized
            }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }()

    static let names: [String] = {
        guard let directory, let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }()

    static func files(_ prefix: String) -> [String] { names.filter { $0.hasPrefix(prefix) } }

    static func bytes(_ name: String) throws -> [UInt8] {
        guard let directory else { throw CocoaError(.fileNoSuchFile) }
        return [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }
}

@Suite("JSONParser")
struct JSONParserTests {
    // MARK: - JSONTestSuite

    @Test("the JSONTestSuiteCorpus corpus is found next to the repository")
    func corpusIsFound() {
        #expect(JSONTestSuiteCorpus.files("y_").count == 95)
        #expect(JSONTestSuiteCorpus.files("n_").count == 188)
        #expect(JSONTestSuiteCorpus.files("i_").count == 35)
    }

    @Test("every y_ file of JSONTestSuiteCorpus parses", arguments: JSONTestSuiteCorpus.files("y_"))
    func acceptsValid(name: String) throws {
        let bytes = try JSONTestSuiteCorpus.bytes(name)
        #expect(throws: Never.self) { try JSONParser.parse(bytes) }
    }

    @Test("every n_ file of JSONTestSuiteCorpus is refused with a reason", arguments: JSONTestSuiteCorpus.files("n_"))
    func refusesInvalid(name: String) throws {
        let bytes = try JSONTestSuiteCorpus.bytes(name)
        do {
            let value = try JSONParser.parse(bytes)
            Issue.record("accepted \(name) as \(value)")
        } catch {
            #expect(!error.description.isEmpty)
            #expect(!error.message.isEmpty)
            #expect(error.offset >= 0 && error.offset <= bytes.count)
            #expect(error.line >= 1 && error.column >= 1)
        }
    }

    @Test("every i_ file of JSONTestSuiteCorpus is either parsed or refused, never a crash", arguments: JSONTestSuiteCorpus.files("i_"))
    func decidesImplementationDefined(name: String) throws {
        let bytes = try JSONTestSuiteCorpus.bytes(name)
        switch Result(catching: { () throws(JSONError) in try JSONParser.parse(bytes) }) {
        case .success(let value): #expect(try JSONParser.parse(value.serialized()) == value)
        case .failure(let error): #expect(!error.description.isEmpty)
        }
    }

    @Test("deep nesting is refused by the depth limit", arguments: [
        "n_structure_100000_opening_arrays.json", "n_structure_open_array_object.json", "i_structure_500_nested_arrays.json",
    ])
    func refusesDeepNesting(name: String) throws {
        let bytes = try JSONTestSuiteCorpus.bytes(name)
        #expect(throws: JSONError.self) { try JSONParser.parse(bytes) }
        do { _ = try JSONParser.parse(bytes) } catch { #expect(error.message == "nesting deeper than 64 levels") }
    }

    @Test("64 levels of nesting parse and 65 are refused; the limit can be raised to 1,000")
    func depthLimit() throws {
        let deep64 = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        let deep65 = "[" + deep64 + "]"
        #expect(throws: Never.self) { try JSONParser.parse(deep64) }
        #expect(throws: JSONError(message: "nesting deeper than 64 levels", offset: 64, line: 1, column: 65)) {
            try JSONParser.parse(deep65)
        }
        let objects = String(repeating: "{\"a\":", count: 65) + "1" + String(repeating: "}", count: 65)
        #expect(throws: JSONError.self) { try JSONParser.parse(objects) }
        #expect(throws: Never.self) { try JSONParser.parse(objects, limits: .init(maxDepth: 100)) }
        let deepest = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
        #expect(throws: Never.self) { try JSONParser.parse(deepest, limits: .init(maxDepth: 1000)) }
        let huge = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        do { _ = try JSONParser.parse(huge, limits: .init(maxDepth: 200_000)) } catch {
            #expect(error.message == "nesting deeper than 1000 levels")
        }
    }

    // MARK: - Values

    @Test("numbers keep their literal text", arguments: [
        "12345678901234567890", "-0.5e10", "0", "-0", "1.0", "1E400", "2.5E-3", "-123456789012345678901234567890.000",
    ])
    func numberLiterals(literal: String) throws {
        #expect(try JSONParser.parse(literal) == .number(literal))
        #expect(try JSONParser.parse("[\(literal)]") == .array([.number(literal)]))
        #expect(try JSONParser.parse("{\"id\": \(literal)}")["id"]?.text == literal)
    }

    @Test("malformed numbers are refused", arguments: ["01", "-", "1.", ".5", "+1", "1e", "1e+", "0x10", "-01", "NaN", "Infinity", "1 2"])
    func malformedNumbers(text: String) {
        #expect(throws: JSONError.self) { try JSONParser.parse(text) }
    }

    @Test("number accessors: whole values as Int, doubles only when finite")
    func numberAccessors() throws {
        #expect(JSONValue.number("20").int == 20)
        #expect(JSONValue.number("20.0").int == 20)
        #expect(JSONValue.number("-2e1").int == -20)
        #expect(JSONValue.number("1.5").int == nil)
        #expect(JSONValue.number("12345678901234567890").int == nil)
        #expect(JSONValue.number("9223372036854775807").int == Int.max)
        #expect(JSONValue.number("-0.5e10").double == -5e9)
        #expect(JSONValue.number("1e400").double == nil)
        #expect(JSONValue.string("20").int == nil)
        #expect(JSONValue.string("20").text == "20")
        #expect(JSONValue.bool(true).text == "true")
        #expect(JSONValue.null.text == nil)
        #expect(JSONValue(42) == .number("42"))
        #expect(JSONValue(0.1) == .number("0.1"))
        #expect(JSONValue(Double.nan) == .null)
    }

    @Test("escapes decode, surrogate pairs included", arguments: [
        (#""\u00e9\n\t\"\\\/""#, "é\n\t\"\\/"),
        (#""\uD83D\uDE00""#, "😀"),
        (#""\ud834\udd1e x""#, "𝄞 x"),
        (#""\u0000""#, "\u{0}"),
        (#""a\u2028b""#, "a\u{2028}b"),
        ("\"日本語\"", "日本語"),
    ])
    func escapes(json: String, expected: String) throws {
        #expect(try JSONParser.parse(json) == .string(expected))
    }

    @Test("a lone surrogate escape becomes U+FFFD", arguments: [
        (#""\uD800""#, "\u{FFFD}"),
        (#""\uDC00x""#, "\u{FFFD}x"),
        (#""\uD800\u0041""#, "\u{FFFD}A"),
        (#""\uD800\uD800\uDC00""#, "\u{FFFD}\u{10000}"),
    ])
    func loneSurrogates(json: String, expected: String) throws {
        #expect(try JSONParser.parse(json) == .string(expected))
    }

    @Test("invalid UTF-8 in a string is refused with its offset, or repaired when asked")
    func invalidUTF8() throws {
        let bytes: [UInt8] = Array("[\"ab".utf8) + [0xC3, 0x28] + Array("\"]".utf8)
        #expect(throws: JSONError(message: "invalid UTF-8 in a string (byte 0xC3)", offset: 4, line: 1, column: 5)) {
            try JSONParser.parse(bytes)
        }
        let repaired = try JSONParser.parse(bytes, limits: .init(repairsInvalidUTF8: true))
        #expect(repaired == .array([.string("ab\u{FFFD}(")]))
        for sequence: [UInt8] in [[0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xFF]] {
            #expect(throws: JSONError.self) { try JSONParser.parse([0x22] + sequence + [0x22]) }
        }
    }

    @Test("object members keep their input order")
    func memberOrder() throws {
        let object = try #require(try JSONParser.parse(#"{"seq": 1, "b": 2, "a": 3, "z": {"y": 1, "x": 2}}"#).object)
        #expect(object.keys == ["seq", "b", "a", "z"])
        #expect(object["z"]?.object?.keys == ["y", "x"])
        #expect(object.map(\.key) == ["seq", "b", "a", "z"])
    }

    @Test("a repeated key keeps every member, and lookup finds the last", arguments: [3, 40])
    func duplicateKeys(extra: Int) throws {
        let filler = (0..<extra).map { "\"k\($0)\": \($0)" }.joined(separator: ", ")
        let value = try JSONParser.parse("{\"a\": 1, \(filler), \"a\": 2}")
        #expect(value["a"] == .number("2"))
        #expect(value["k0"] == .number("0"))
        #expect(value["missing"] == nil)
        #expect(value.object?.count == extra + 2)
        #expect(value.object?.keys.filter { $0 == "a" }.count == 2)
    }

    @Test("a byte-order mark at the start is skipped; whitespace is only space, tab, CR and LF")
    func byteOrderMarkAndWhitespace() throws {
        #expect(try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array(" {} ".utf8)) == .object(JSONObject()))
        #expect(try JSONParser.parse(" \t\r\n[ 1 ,\n2 ]\r\n") == .array([.number("1"), .number("2")]))
        #expect(throws: JSONError.self) { try JSONParser.parse([0x0C] + Array("1".utf8)) }
        #expect(throws: JSONError.self) { try JSONParser.parse("\u{A0}1") }
        #expect(throws: JSONError.self) { try JSONParser.parse("") }
    }

    @Test("an error names the line and column of a known broken input")
    func errorPosition() {
        let text = "{\n  \"name\": \"Zoë\",\n  \"id\": 1 \"course\": \"x\"\n}"
        let expected = JSONError(message: "expected ',' or '}' after an object member, found '\"'", offset: 30, line: 3, column: 11)
        #expect(throws: expected) { try JSONParser.parse(text) }
        #expect(expected.description == "line 3, column 11: expected ',' or '}' after an object member, found '\"'")
    }

    @Test("refusals say why", arguments: [
        ("[1,]", "expected a value, found ']'"),
        ("{\"a\":1,}", "expected an object key in double quotes, found '}'"),
        ("{\"a\" 1}", "expected ':' after an object key, found '1'"),
        ("[1 2]", "expected ',' or ']' after an array element, found '2'"),
        ("\"abc", "unterminated string: no closing '\"' before the end of the input"),
        ("\"a\tb\"", "control character U+0009 in a string must be escaped"),
        (#""\x""#, "invalid escape '\\x' in a string"),
        ("\"\\\u{1}\"", "invalid escape '\\' followed by byte 0x01 in a string"),
        ("\"abc\\", "unterminated string: no closing '\"' before the end of the input"),
        (#""\u12g4""#, "invalid \\u escape: expected four hex digits"),
        ("tru", "invalid literal; expected true"),
        ("1 x", "unexpected 'x' after the JSON value; only whitespace may follow it"),
        ("[", "expected a value, found the end of the input"),
        ("/* c */ 1", "expected a value, found '/'"),
    ])
    func refusalReasons(text: String, message: String) {
        do {
            _ = try JSONParser.parse(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.message == message)
        }
    }

    @Test("strings and numbers over their limits are refused without reading past the limit")
    func lengthLimits() throws {
        let long = "\"" + String(repeating: "x", count: 100) + "\""
        #expect(throws: Never.self) { try JSONParser.parse(long, limits: .init(maxStringBytes: 100)) }
        #expect(throws: JSONError(message: "a string longer than 99 bytes", offset: 0, line: 1, column: 1)) {
            try JSONParser.parse(long, limits: .init(maxStringBytes: 99))
        }
        let unterminated = "[\"" + String(repeating: "x", count: 1000)
        do { _ = try JSONParser.parse(unterminated, limits: .init(maxStringBytes: 10)) } catch {
            #expect(error.message == "a string longer than 10 bytes")
        }
        #expect(throws: JSONError.self) { try JSONParser.parse(String(repeating: "9", count: 1025)) }
        #expect(throws: Never.self) { try JSONParser.parse(String(repeating: "9", count: 1024)) }
    }

    @Test("a Kajabi payload reads through its accessors")
    func kajabiPayload() throws {
        let payload = """
            {"id": 98765432109876543210, "event": "purchase.created",
             "payload": {"member_id": 123, "member_email": "Ann@Example.com", "offer": {"id": "o-1", "title": "Course"},
                         "amount": 49.5, "tags": ["a", "b"], "refunded": false, "coupon": null}}
            """
        let value = try JSONParser.parse(payload)
        #expect(value["id"]?.text == "98765432109876543210")
        #expect(value["payload"]?["member_id"]?.int == 123)
        #expect(value["payload"]?["member_id"]?.text == "123")
        #expect(value["payload"]?["offer"]?["title"]?.string == "Course")
        #expect(value["payload"]?["amount"]?.double == 49.5)
        #expect(value["payload"]?["tags"]?[1]?.string == "b")
        #expect(value["payload"]?["tags"]?[2] == nil)
        #expect(value["payload"]?["refunded"]?.bool == false)
        #expect(value["payload"]?["coupon"]?.isNull == true)
        #expect(value["event"]?["x"] == nil)
    }
}
