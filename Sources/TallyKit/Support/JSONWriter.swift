/// Appends compact JSON to a byte buffer, in exactly the order it is told.
///
/// Ledger lines are hash-chained, so the same record must always give the same bytes, with its
/// keys in a fixed order (`seq` first); and a busy sync writes a million lines a second. So
/// there is no `Encoder`, no dictionary and no per-character work: the caller states each key
/// and value, strings are copied in runs between the few bytes that need escaping, and commas
/// are placed by the writer. It does not check that calls nest correctly (a key outside an
/// object, an unclosed array); the tests of each record's encoding do.
///
/// Strings escape `"`, `\`, the control characters (as `\n`, `\r`, `\t`, `\b`, `\f`, else
/// `\u00XX`) and U+2028 and U+2029 (which break JavaScript that embeds the JSON); everything
/// else, `<`, `>`, `&` and all non-ASCII text included, is written as its UTF-8 so ledgers stay
/// readable. The output is valid UTF-8 JSON that `JSONParser` reads back to the same value.
public struct JSONWriter: Sendable {
    /// The JSON written so far.
    public var bytes: [UInt8]
    /// Whether the next key or value follows a sibling and needs a comma first.
    private var needsComma = false

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Writes after the bytes of `buffer`, which the writer takes over (no copy).
    public init(adopting buffer: consuming [UInt8]) {
        bytes = buffer
    }

    /// Hands the buffer back, leaving the writer empty (no copy).
    public mutating func takeBytes() -> [UInt8] {
        var taken: [UInt8] = []
        swap(&taken, &bytes)
        needsComma = false
        return taken
    }

    /// Empties the buffer, keeping its capacity, to write the next document.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
    }

    // MARK: - Containers

    public mutating func beginObject() { open(UInt8(ascii: "{")) }
    public mutating func endObject() { close(UInt8(ascii: "}")) }
    public mutating func beginArray() { open(UInt8(ascii: "[")) }
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    /// Writes an object key; the next call writes its value.
    public mutating func key(_ k: String) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        appendString(k)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    // MARK: - Values

    public mutating func string(_ s: String) {
        separate()
        appendString(s)
    }

    public mutating func int(_ i: Int) {
        separate()
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            let count = Self.writeDecimal(i, to: buffer.baseAddress!)
            bytes.append(contentsOf: UnsafeBufferPointer(start: buffer.baseAddress!, count: count))
        }
    }

    /// Writes a double in its shortest round-trip form; `null` for NaN and infinities.
    public mutating func double(_ d: Double) {
        guard d.isFinite else { return null() }
        separate()
        bytes.append(contentsOf: "\(d)".utf8)
    }

    /// Writes a number literal as it is (`12345678901234567890`, `-0.5e10`). Text that is not a
    /// JSON number is written as a string instead, so the output stays valid JSON.
    public mutating func number(_ literal: String) {
        guard Self.isNumberLiteral(literal) else { return string(literal) }
        separate()
        bytes.append(contentsOf: literal.utf8)
    }

    public mutating func bool(_ b: Bool) {
        separate()
        if b {
            appendASCII("true")
        } else {
            appendASCII("false")
        }
    }

    public mutating func null() {
        separate()
        appendASCII("null")
    }

    /// Writes a whole value, object members in their stored order.
    public mutating func value(_ v: JSONValue) {
        switch v {
        case .null: null()
        case .bool(let b): bool(b)
        case .number(let literal): number(literal)
        case .string(let s): string(s)
        case .array(let elements):
            beginArray()
            for element in elements { value(element) }
            endArray()
        case .object(let object):
            beginObject()
            for (name, member) in object {
                key(name)
                value(member)
            }
            endObject()
        }
    }

    /// Writes bytes that already are one JSON value (such as another record's `encoded()`),
    /// unchecked.
    public mutating func rawLiteral(_ literal: some Sequence<UInt8>) {
        separate()
        bytes.append(contentsOf: literal)
    }

    // MARK: - Members

    /// Writes a key known at compile time: plain ASCII needing no escapes, copied as it is
    /// (ledger lines have a dozen keys each, and scanning them for escapes showed).
    @inline(__always) public mutating func key(literal k: StaticString) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    // Each member below is made whole — comma, key, value — in a buffer on the stack and
    // appended to `bytes` in one call. A ledger line has a dozen members; byte by byte,
    // every one of its hundred-odd appends paid the array's uniqueness and capacity checks.

    public mutating func member(_ key: StaticString, _ value: String?) {
        guard let value else {
            self.key(literal: key)
            return null()
        }
        let done = value.utf8.withContiguousStorageIfAvailable { text -> Bool in
            guard text.count <= Self.memberLimit, !Self.mayNeedEscaping(text) else { return false }
            appendMember(key, room: text.count + 2) { p in
                p[0] = UInt8(ascii: "\"")
                if let base = text.baseAddress { (p + 1).update(from: base, count: text.count) }
                p[text.count + 1] = UInt8(ascii: "\"")
                return text.count + 2
            }
            return true
        }
        guard done != true else { return }
        self.key(literal: key)
        string(value)
    }

    /// A string member from UTF-8 bytes (`null` for nil), written as `member(_:_:)` writes the
    /// `String` of those bytes — for valid UTF-8; callers hand it ASCII cells of a table.
    mutating func member(_ key: StaticString, utf8 value: UnsafeRawBufferPointer?) {
        guard let value else {
            self.key(literal: key)
            return null()
        }
        let text = value.assumingMemoryBound(to: UInt8.self)
        if text.count <= Self.memberLimit, !Self.mayNeedEscaping(text) {
            appendMember(key, room: text.count + 2) { p in
                p[0] = UInt8(ascii: "\"")
                if let base = text.baseAddress { (p + 1).update(from: base, count: text.count) }
                p[text.count + 1] = UInt8(ascii: "\"")
                return text.count + 2
            }
            return
        }
        self.key(literal: key)
        separate()
        appendEscaped(text)
    }

    /// A time as its ISO 8601 string: plain ASCII, copied without an intermediate `String`.
    public mutating func member(_ key: StaticString, _ time: Timestamp) {
        time.withISO8601 { text in
            appendMember(key, room: text.count + 2) { p in
                p[0] = UInt8(ascii: "\"")
                (p + 1).update(from: text.baseAddress!, count: text.count)
                p[text.count + 1] = UInt8(ascii: "\"")
                return text.count + 2
            }
        }
    }

    /// An event id, written from its key: a content id's 34 bytes go straight into the buffer,
    /// with no `String` made for them.
    mutating func member(_ key: StaticString, _ id: EventKey) {
        guard case .digest = id else { return member(key, id.id) }
        id.withDigestText { text in
            appendMember(key, room: text.count + 2) { p in
                p[0] = UInt8(ascii: "\"")
                (p + 1).update(from: text.baseAddress!, count: text.count)
                p[text.count + 1] = UInt8(ascii: "\"")
                return text.count + 2
            }
        }
    }

    public mutating func member(_ key: StaticString, _ value: Int) {
        appendMember(key, room: 20) { Self.writeDecimal(value, to: $0) }
    }

    public mutating func member(_ key: StaticString, _ value: Bool) {
        self.key(literal: key)
        bool(value)
    }

    /// Values longer than this take the general path (a member is built on the stack).
    private static let memberLimit = 512

    /// Appends `,"key":` (the comma when needed) and what `fill` writes after it, at most
    /// `room` bytes, in one append; `fill` returns how many it wrote.
    @inline(__always)
    private mutating func appendMember(_ key: StaticString, room: Int, _ fill: (UnsafeMutablePointer<UInt8>) -> Int) {
        let keyCount = key.utf8CodeUnitCount
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: keyCount + 4 + room) { buffer in
            let p = buffer.baseAddress!
            var n = 0
            if needsComma {
                p[0] = UInt8(ascii: ",")
                n = 1
            }
            p[n] = UInt8(ascii: "\"")
            (p + n + 1).update(from: key.utf8Start, count: keyCount)
            n += keyCount + 1
            p[n] = UInt8(ascii: "\"")
            p[n + 1] = UInt8(ascii: ":")
            n += 2
            n += fill(p + n)
            bytes.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
        }
        needsComma = true
    }

    /// Writes `value` in decimal at `p` (at most 20 bytes), as `String(value)` spells it;
    /// returns the length.
    @inline(__always)
    static func writeDecimal(_ value: Int, to p: UnsafeMutablePointer<UInt8>) -> Int {
        var magnitude = value.magnitude
        var digits = 1
        var rest = magnitude / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        let sign = value < 0 ? 1 : 0
        if sign == 1 { p[0] = UInt8(ascii: "-") }
        var at = sign + digits
        repeat {
            at -= 1
            p[at] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        return sign + digits
    }

    /// Appends a whole value that `fill` writes at a pointer, at most `room` bytes, in one
    /// append (`fill` returns how many it wrote): for a ledger line whose every string was
    /// found plain (`isPlain`) and whose length is bounded, a dozen members cost one copy.
    mutating func appendValue(room: Int, _ fill: (UnsafeMutablePointer<UInt8>) -> Int) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: room) { buffer in
            let written = fill(buffer.baseAddress!)
            bytes.append(contentsOf: UnsafeBufferPointer(start: buffer.baseAddress!, count: written))
        }
        needsComma = true
    }

    /// Appends what `fill` writes at a pointer, at most `room` bytes, as `appendValue` does —
    /// or nothing at all when `fill` returns nil (it met a string that needs escaping), so
    /// that the caller can write the same value the general way. Returns whether it appended.
    /// For a member, `fill` writes the key too: either way a comma goes first when needed.
    mutating func appendPlainValue(room: Int, _ fill: (UnsafeMutablePointer<UInt8>) -> Int?) -> Bool {
        let appended = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: room + 1) { buffer -> Bool in
            let p = buffer.baseAddress!
            var n = 0
            if needsComma {
                p[0] = UInt8(ascii: ",")
                n = 1
            }
            guard let written = fill(p + n) else { return false }
            // Too late to undo, but a caller that reckoned its room short stops here rather
            // than going on past what it overwrote.
            precondition(written <= room, "a plain value overran the room reckoned for it")
            bytes.append(contentsOf: UnsafeBufferPointer(start: p, count: n + written))
            return true
        }
        if appended { needsComma = true }
        return appended
    }

    /// Whether `text` is written between quotes as it is: no byte of it needs escaping.
    static func isPlain(_ text: UnsafeRawBufferPointer) -> Bool {
        !mayNeedEscaping(text.assumingMemoryBound(to: UInt8.self))
    }

    /// Whether any byte of `text` may need escaping (see `mayNeedEscaping(_: UInt64)`).
    /// Eight bytes at a time; the last of eight or more are read as the word that ends with
    /// them (it overlaps the one before), not byte by byte: a ledger line's strings are a few
    /// dozen bytes, and their tails were most of the branches.
    private static func mayNeedEscaping(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = text.baseAddress else { return false }
        let count = text.count
        if count >= 8 {
            var i = 0
            while i + 8 < count {
                if mayNeedEscaping(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) { return true }
                i += 8
            }
            return mayNeedEscaping(UnsafeRawPointer(base + count - 8).loadUnaligned(as: UInt64.self))
        }
        var i = 0
        while i < count {
            let b = base[i]
            if b < 0x20 || b == 0x22 || b == 0x5C || b == 0xE2 { return true }
            i += 1
        }
        return false
    }

    /// Writes a member whose value is a string, or `null` for nil.
    public mutating func field(_ key: String, _ value: String?) {
        self.key(key)
        if let value { string(value) } else { null() }
    }

    public mutating func field(_ key: String, _ value: Int) {
        self.key(key)
        int(value)
    }

    public mutating func field(_ key: String, _ value: Bool) {
        self.key(key)
        bool(value)
    }

    public mutating func field(_ key: String, _ value: JSONValue) {
        self.key(key)
        self.value(value)
    }

    // MARK: - Internals

    @inline(__always) private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
    }

    private mutating func open(_ bracket: UInt8) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        bytes.append(bracket)
        needsComma = false
    }

    private mutating func close(_ bracket: UInt8) {
        bytes.append(bracket)
        needsComma = true
    }

    @inline(__always) private mutating func appendASCII(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private mutating func appendString(_ s: String) {
        if s.utf8.withContiguousStorageIfAvailable({ appendEscaped($0) }) == nil {
            var copy = s
            copy.withUTF8 { appendEscaped($0) }
        }
    }

    /// Appends `"text"`, copying runs of plain bytes whole and escaping the rest.
    private mutating func appendEscaped(_ text: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var run = 0
        var i = 0
        let count = text.count
        while i < count {
            // Plain text goes eight bytes at a time.
            if let base = text.baseAddress {
                while i + 8 <= count, !Self.mayNeedEscaping(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) {
                    i += 8
                }
                guard i < count else { break }
            }
            let b = text[i]
            if b >= 0x20 && b != 0x22 && b != 0x5C && b != 0xE2 {
                i += 1
                continue
            }
            if b == 0xE2 {
                // U+2028 and U+2029 are E2 80 A8 and E2 80 A9; other E2 sequences are plain.
                guard i + 2 < count, text[i + 1] == 0x80, text[i + 2] & 0xFE == 0xA8 else {
                    i += 1
                    continue
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[run..<i]))
                appendUnicodeEscape(text[i + 2] == 0xA8 ? 0x2028 : 0x2029)
                i += 3
                run = i
                continue
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[run..<i]))
            switch b {
            case 0x22: appendASCII(#"\""#)
            case 0x5C: appendASCII(#"\\"#)
            case 0x0A: appendASCII(#"\n"#)
            case 0x0D: appendASCII(#"\r"#)
            case 0x09: appendASCII(#"\t"#)
            case 0x08: appendASCII(#"\b"#)
            case 0x0C: appendASCII(#"\f"#)
            default: appendUnicodeEscape(UInt16(b))
            }
            i += 1
            run = i
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[run..<count]))
        bytes.append(UInt8(ascii: "\""))
    }

    /// Whether any of eight bytes is below 0x20, `"`, `\\` or 0xE2 (SWAR: a byte equal to `n`
    /// is a zero byte of `word ^ n`, and a zero or small byte borrows into its high bit).
    @inline(__always) private static func mayNeedEscaping(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func below(_ value: UInt64, _ n: UInt64) -> UInt64 { (value &- ones &* n) & ~value & highs }
        let control = below(word, 0x20)
        let quote = below(word ^ (ones &* 0x22), 1)
        let backslash = below(word ^ (ones &* 0x5C), 1)
        let separator = below(word ^ (ones &* 0xE2), 1)
        return control | quote | backslash | separator != 0
    }

    /// Appends `\uXXXX` with lowercase hex digits.
    private mutating func appendUnicodeEscape(_ unit: UInt16) {
        bytes.append(0x5C)
        bytes.append(UInt8(ascii: "u"))
        for shift in stride(from: 12, through: 0, by: -4) {
            let digit = UInt8(unit >> UInt16(shift) & 0xF)
            bytes.append(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
        }
    }

    /// Whether `literal` is a JSON number: `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    static func isNumberLiteral(_ literal: String) -> Bool {
        var characters = literal.utf8.makeIterator()
        var current = characters.next()
        func isDigit(_ b: UInt8?) -> Bool { b.map { $0 &- UInt8(ascii: "0") < 10 } ?? false }
        /// Consumes one or more digits; false when there is none.
        func digits() -> Bool {
            guard isDigit(current) else { return false }
            while isDigit(current) { current = characters.next() }
            return true
        }
        if current == UInt8(ascii: "-") { current = characters.next() }
        if current == UInt8(ascii: "0") {
            current = characters.next()
        } else if !digits() {
            return false
        }
        if current == UInt8(ascii: ".") {
            current = characters.next()
            guard digits() else { return false }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            current = characters.next()
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { current = characters.next() }
            guard digits() else { return false }
        }
        return current == nil
    }
}

extension JSONValue {
    /// The value as compact JSON, object members in their stored order.
    public func serialized() -> [UInt8] {
        var writer = JSONWriter(capacity: 64)
        writer.value(self)
        return writer.bytes
    }
}
