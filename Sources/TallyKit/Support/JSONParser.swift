/// A strict, bounded RFC 8259 parser from UTF-8 bytes to `JSONValue`.
///
/// Input is hostile: payloads and ledger lines come from outside, so every way a text can be
/// wrong is refused with a `JSONError` that says why and where, in time linear in the input and
/// memory proportional to it. Nesting is followed with an explicit stack, never recursion, so
/// 100,000 opening brackets are refused by the depth limit instead of overflowing the stack.
///
/// What is accepted is exactly RFC 8259 (JSONTestSuite's `y_` files, and none of its `n_`
/// files): one value, optionally surrounded by space, tab, CR and LF, and optionally preceded
/// by a UTF-8 byte-order mark, which is skipped. Decisions where the RFC leaves a choice:
/// - numbers are kept as their literal text (`JSONValue.number`), never rounded;
/// - a `\uXXXX` escape of a lone surrogate becomes U+FFFD, since a Swift `String` cannot hold it;
/// - invalid UTF-8 inside a string is refused with its byte offset, unless
///   `Limits.repairsInvalidUTF8` is set, in which case each bad sequence becomes U+FFFD;
/// - repeated object keys are all kept, in order; lookup finds the last (see `JSONObject`).
public struct JSONParser {
    /// Bounds on what a parse may cost. The defaults suit webhook payloads and ledger lines.
    public struct Limits: Sendable {
        /// The deepest nesting of arrays and objects accepted (`[[1]]` is 2 levels), at most
        /// `depthCeiling` however set: a value is released, compared and written by recursion,
        /// which far deeper nesting would overflow the stack with even after a stackless parse.
        public var maxDepth: Int
        /// The longest string or object key accepted, in bytes of input (escapes included).
        public var maxStringBytes: Int
        /// The longest number literal accepted, in characters.
        public var maxNumberBytes: Int
        /// Replace invalid UTF-8 in strings with U+FFFD instead of refusing the text.
        public var repairsInvalidUTF8: Bool

        /// The most `maxDepth` can allow.
        public static let depthCeiling = 1000

        public init(maxDepth: Int = 64, maxStringBytes: Int = 16 << 20, maxNumberBytes: Int = 1024,
                    repairsInvalidUTF8: Bool = false) {
            self.maxDepth = maxDepth
            self.maxStringBytes = maxStringBytes
            self.maxNumberBytes = maxNumberBytes
            self.repairsInvalidUTF8 = repairsInvalidUTF8
        }
    }

    /// Parses one JSON text; the bytes are only read during the call.
    public static func parse(_ bytes: UnsafeRawBufferPointer, limits: Limits = .init()) throws(JSONError) -> JSONValue {
        var scanner = JSONScanner(bytes, limits: limits)
        return try scanner.document()
    }

    public static func parse(_ bytes: [UInt8], limits: Limits = .init()) throws(JSONError) -> JSONValue {
        try bytes.withUnsafeBytes { raw in result(raw, limits) }.get()
    }

    public static func parse(_ text: String, limits: Limits = .init()) throws(JSONError) -> JSONValue {
        if let result = text.utf8.withContiguousStorageIfAvailable({ result(UnsafeRawBufferPointer($0), limits) }) {
            return try result.get()
        }
        return try parse(Array(text.utf8), limits: limits)
    }

    /// Parses without throwing; `stacks` may be reused from parse to parse (JSON lines).
    static func result(_ bytes: UnsafeRawBufferPointer, _ limits: Limits,
                       stacks: JSONParseStacks = JSONParseStacks()) -> Result<JSONValue, JSONError> {
        var scanner = JSONScanner(bytes, limits: limits, stacks: stacks)
        do throws(JSONError) { return .success(try scanner.document()) } catch { return .failure(error) }
    }
}

/// The parser's state: a cursor over the input, and explicit stacks for the open containers
/// and their members so far.
struct JSONScanner {
    /// An open array or object: where its elements (and keys) start on the shared stacks.
    private struct Frame {
        var isObject: Bool
        var valueStart: Int
        var keyStart: Int
    }

    let input: UnsafeRawBufferPointer
    let base: UnsafePointer<UInt8>
    let count: Int
    let limits: JSONParser.Limits
    var i = 0
    private var frames: [Frame] = []
    private let stacks: JSONParseStacks
    private let values: ParseStack<JSONValue>
    private let keys: ParseStack<String>
    /// Decoded bytes of the string being read, when it has escapes.
    var scratch: [UInt8] = []

    /// A stand-in for "past the end" so that look-ahead needs no separate bounds test; a real
    /// NUL byte is never valid where `byte(at:)` is used, and `found(at:)` tells the two apart.
    private static let end: UInt8 = 0

    init(_ input: UnsafeRawBufferPointer, limits: JSONParser.Limits, stacks: JSONParseStacks = JSONParseStacks()) {
        self.input = input
        // A static empty buffer stands in for an empty input's missing address.
        self.base = input.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) } ?? JSONScanner.emptyBase
        self.count = input.count
        self.limits = limits
        self.stacks = stacks
        self.values = stacks.values
        self.keys = stacks.keys
    }

    nonisolated(unsafe) private static let emptyBase: UnsafePointer<UInt8> = {
        let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        pointer.initialize(to: 0)
        return UnsafePointer(pointer)
    }()

    @inline(__always) func byte(at position: Int) -> UInt8 {
        position < count ? base[position] : Self.end
    }

    @inline(__always) private mutating func skipWhitespace() {
        while i < count {
            let b = base[i]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            i += 1
        }
    }

    mutating func document() throws(JSONError) -> JSONValue {
        defer { stacks.removeAll() }
        if count >= 3, base[0] == 0xEF, base[1] == 0xBB, base[2] == 0xBF { i = 3 }
        skipWhitespace()
        let value = try value()
        skipWhitespace()
        if i < count { throw error("unexpected \(found(at: i)) after the JSON value; only whitespace may follow it", at: i) }
        return value
    }

    /// Parses a value at the cursor, containers included, without recursion.
    private mutating func value() throws(JSONError) -> JSONValue {
        parsing: while true {
            var value: JSONValue
            switch byte(at: i) {
            case UInt8(ascii: "{"):
                try checkDepth()
                i += 1
                skipWhitespace()
                if byte(at: i) == UInt8(ascii: "}") {
                    i += 1
                    value = .object(JSONObject())
                } else {
                    frames.append(Frame(isObject: true, valueStart: values.count, keyStart: keys.count))
                    try memberKey()
                    continue
                }
            case UInt8(ascii: "["):
                try checkDepth()
                i += 1
                skipWhitespace()
                if byte(at: i) == UInt8(ascii: "]") {
                    i += 1
                    value = .array([])
                } else {
                    frames.append(Frame(isObject: false, valueStart: values.count, keyStart: keys.count))
                    continue
                }
            case UInt8(ascii: "\""): value = .string(try string())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): value = .number(try number())
            case UInt8(ascii: "t"): try literal("true"); value = .bool(true)
            case UInt8(ascii: "f"): try literal("false"); value = .bool(false)
            case UInt8(ascii: "n"): try literal("null"); value = .null
            default: throw error("expected a value, found \(found(at: i))", at: i)
            }
            // A value is complete: it ends the document or joins the innermost open container,
            // which may then be complete in turn.
            while let frame = frames.last {
                values.push(consume value)
                skipWhitespace()
                let next = byte(at: i)
                if next == UInt8(ascii: ",") {
                    i += 1
                    skipWhitespace()
                    if frame.isObject { try memberKey() }
                    continue parsing
                }
                if frame.isObject {
                    guard next == UInt8(ascii: "}") else {
                        throw error("expected ',' or '}' after an object member, found \(found(at: i))", at: i)
                    }
                    value = .object(JSONObject(keys: keys.popArray(from: frame.keyStart), values: values.popArray(from: frame.valueStart)))
                } else {
                    guard next == UInt8(ascii: "]") else {
                        throw error("expected ',' or ']' after an array element, found \(found(at: i))", at: i)
                    }
                    value = .array(values.popArray(from: frame.valueStart))
                }
                i += 1
                frames.removeLast()
            }
            return value
        }
    }

    private func checkDepth() throws(JSONError) {
        let maxDepth = min(limits.maxDepth, JSONParser.Limits.depthCeiling)
        if frames.count >= maxDepth { throw error("nesting deeper than \(maxDepth) levels", at: i) }
    }

    /// Reads `"key"` and the `:` after it, leaving the cursor at the member's value.
    private mutating func memberKey() throws(JSONError) {
        guard byte(at: i) == UInt8(ascii: "\"") else {
            throw error("expected an object key in double quotes, found \(found(at: i))", at: i)
        }
        let key = try string()  // before touching `keys`, which string() could otherwise pin
        keys.push(key)
        skipWhitespace()
        guard byte(at: i) == UInt8(ascii: ":") else {
            throw error("expected ':' after an object key, found \(found(at: i))", at: i)
        }
        i += 1
        skipWhitespace()
    }

    private mutating func literal(_ word: StaticString) throws(JSONError) {
        let length = word.utf8CodeUnitCount
        let pointer = word.utf8Start
        var matched = 0
        while matched < length, byte(at: i + matched) == pointer[matched] { matched += 1 }
        guard matched == length else { throw error("invalid literal; expected \(word)", at: i) }
        i += length
    }

    // MARK: - Errors

    func error(_ message: String, at offset: Int) -> JSONError {
        JSONError(message, at: offset, in: input)
    }

    /// How the byte at `j` reads in a message: `'x'`, `byte 0x0A`, or the end of the input.
    func found(at j: Int) -> String {
        guard j < count else { return "the end of the input" }
        let b = base[j]
        guard b > 0x20 && b < 0x7F else { return "byte 0x\(hex(b))" }
        return "'\(String(UnicodeScalar(b)))'"
    }

    func hex(_ b: UInt8) -> String {
        let digits = String(b, radix: 16, uppercase: true)
        return b < 0x10 ? "0" + digits : digits
    }
}

/// The stacks of values and keys of the containers being read, kept between parses of many
/// small texts (JSON lines) so that each parse does not allocate them anew.
final class JSONParseStacks {
    let values = ParseStack<JSONValue>()
    let keys = ParseStack<String>()

    func removeAll() {
        values.removeAll()
        keys.removeAll()
    }
}

/// A stack of what the open containers hold so far, whose storage outlives a parse; the top
/// elements come off as one array when their container closes.
final class ParseStack<Element> {
    private var storage: UnsafeMutablePointer<Element>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 64) {
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    deinit {
        storage.deinitialize(count: count)
        storage.deallocate()
    }

    @inline(__always) func push(_ element: consuming Element) {
        if count == capacity { grow() }
        (storage + count).initialize(to: consume element)
        count += 1
    }

    /// Takes the elements from `start` to the top off as an array, leaving `start` elements.
    /// (Copying then destroying costs a retain and a release per element; moving them with
    /// `Array(unsafeUninitializedCapacity:)` costs more, as it looks up generic metadata each call.)
    func popArray(from start: Int) -> [Element] {
        let moved = count - start
        count = start
        let source = storage + start
        let array = Array(UnsafeBufferPointer(start: source, count: moved))
        source.deinitialize(count: moved)
        return array
    }

    func removeAll() {
        storage.deinitialize(count: count)
        count = 0
    }

    private func grow() {
        let larger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
        larger.moveInitialize(from: storage, count: count)
        storage.deallocate()
        storage = larger
        capacity *= 2
    }
}
