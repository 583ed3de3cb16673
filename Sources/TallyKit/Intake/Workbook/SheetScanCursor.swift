import Foundation

/// Why `SheetDataScanner` does not read a row: its bytes are cut short, or are for libxml2 to read.
enum ScanStop: Error {
    case short, unusual
}

/// The attributes read, by their place in the element's `AttributeSet` (the first three).
struct ScannedValues {
    var first: UnsafeRawBufferPointer?, second: UnsafeRawBufferPointer?, third: UnsafeRawBufferPointer?
}

/// The attributes each element the scanner reads may have without a prefix: those read
/// first, then those passed over. An element with any other is libxml2's to read.
///
/// A switch on the name's bytes rather than a table of arrays: matching a name against a
/// table (a generic comparison per entry, and the table's lazy global) was a sixth of the scan.
enum AttributeSet {
    /// `r`, then the row's layout, passed over.
    case row
    /// `r`, `t`, `s`, then `cm`, `vm`, `ph`, passed over.
    case cell
    /// `xml:space` of a `<t>`.
    case text

    /// The place of `name` in the set, or nil.
    @inline(__always)
    func index(of name: UnsafeRawBufferPointer) -> Int? {
        switch self {
        case .cell:
            if name.count == 1 {
                switch name[0] {
                case UInt8(ascii: "r"): return 0
                case UInt8(ascii: "t"): return 1
                case UInt8(ascii: "s"): return 2
                default: return nil
                }
            }
            let names: [StaticString] = ["cm", "vm", "ph"]
            return Self.index(of: name, in: names, from: 3)
        case .row:
            if name.count == 1 && name[0] == UInt8(ascii: "r") { return 0 }
            return Self.index(of: name, in: Self.rowLayout, from: 1)
        case .text:
            return ScanCursor.equal(name, "xml:space") ? 0 : nil
        }
    }

    private static let rowLayout: [StaticString] = ["spans", "ht", "customHeight", "hidden", "s", "customFormat", "outlineLevel",
                                                    "collapsed", "thickBot", "thickTop", "ph"]

    @inline(__always)
    private static func index(of name: UnsafeRawBufferPointer, in names: [StaticString], from first: Int) -> Int? {
        for offset in names.indices where ScanCursor.equal(name, names[offset]) { return first + offset }
        return nil
    }
}

/// A position in the bytes handed to `SheetDataScanner`; reading past them throws `short`,
/// and anything the scanner does not read as libxml2 would throws `unusual`.
struct ScanCursor {
    let base: UnsafePointer<UInt8>
    let count: Int
    var at = 0
    /// The prefixes the root declares (`XMLEventHandler.rootPrefixes`): an attribute with one
    /// of them is in a namespace, which libxml2's reading passes over as well.
    let prefixes: [[UInt8]]

    init(base: UnsafePointer<UInt8>, count: Int, prefixes: [[UInt8]]) {
        self.base = base
        self.count = count
        self.prefixes = prefixes
    }

    @inline(__always)
    func peek() throws(ScanStop) -> UInt8 {
        guard at < count else { throw .short }
        return base[at]
    }

    @inline(__always)
    mutating func next() throws(ScanStop) -> UInt8 {
        guard at < count else { throw .short }
        defer { at += 1 }
        return base[at]
    }

    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D
    }

    /// Skips XML's white space; whether there was any.
    @inline(__always) @discardableResult
    mutating func skipSpace() throws(ScanStop) -> Bool {
        // Most calls meet none: a test of one byte, without the loop.
        if at < count && !Self.isSpace(base[at]) { return false }
        let start = at
        while try Self.isSpace(peek()) { at += 1 }
        return at > start
    }

    /// Reads `literal` when the bytes at the cursor are exactly it; else leaves them unread
    /// (also when they are too few to tell).
    @inline(__always)
    mutating func skip(_ literal: StaticString) -> Bool {
        let length = literal.utf8CodeUnitCount
        guard count - at >= length, memcmp(base + at, literal.utf8Start, length) == 0 else { return false }
        at += length
        return true
    }

    /// Passes over a run of text that needs nothing done: printable ASCII other than `<`, `&`
    /// and `>`, eight bytes at a time, as long as all eight are such. What stops it is read
    /// a byte at a time by the caller.
    @inline(__always)
    mutating func skipPlainText() {
        let high: UInt64 = 0x8080_8080_8080_8080, ones: UInt64 = 0x0101_0101_0101_0101
        while count - at >= 8 {
            let word = UnsafeRawPointer(base + at).loadUnaligned(as: UInt64.self)
            // Any byte from 0x80 up, or below 0x20 (with the high bit clear), or equal to one
            // of the three: the classic "has a byte less than / equal to" word tests.
            if word & high != 0 { return }
            if (word &- ones &* 0x20) & ~word & high != 0 { return }
            if Self.hasByte(word, UInt8(ascii: "<")) || Self.hasByte(word, UInt8(ascii: "&"))
                || Self.hasByte(word, UInt8(ascii: ">")) { return }
            at += 8
        }
    }

    @inline(__always)
    private static func hasByte(_ word: UInt64, _ byte: UInt8) -> Bool {
        let x = word ^ (0x0101_0101_0101_0101 &* UInt64(byte))
        return (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080 != 0
    }

    /// Whether the name at the cursor is `name` (then read), or another (then left unread).
    @inline(__always)
    mutating func name(is name: StaticString) throws(ScanStop) -> Bool {
        let length = name.utf8CodeUnitCount
        // A name ends at white space, `>`, `/` or `=`: the same bytes then an end is the name.
        if count - at > length {
            guard memcmp(base + at, name.utf8Start, length) == 0 else { return false }
            switch base[at + length] {
            case 0x20, 0x0A, 0x09, 0x0D, UInt8(ascii: ">"), UInt8(ascii: "/"), UInt8(ascii: "="):
                at += length
                return true
            default: return false
            }
        }
        var end = at
        while true {
            guard end < count else { throw .short }
            switch base[end] {
            case 0x20, 0x0A, 0x09, 0x0D, UInt8(ascii: ">"), UInt8(ascii: "/"), UInt8(ascii: "="): break
            default:
                end += 1
                continue
            }
            break
        }
        guard Self.equal(UnsafeRawBufferPointer(start: base + at, count: end - at), name) else { return false }
        at = end
        return true
    }

    /// The rest of an end tag after its `</`: the name, spaces, `>`.
    mutating func endTag(_ name: StaticString) throws(ScanStop) {
        let length = name.utf8CodeUnitCount
        guard at + length <= count else { throw .short }
        guard memcmp(base + at, name.utf8Start, length) == 0 else { throw .unusual }
        at += length
        try skipSpace()
        guard try next() == UInt8(ascii: ">") else { throw .unusual }
    }

    /// An end tag, whole.
    mutating func closing(_ name: StaticString) throws(ScanStop) {
        guard try next() == UInt8(ascii: "<"), try next() == UInt8(ascii: "/") else { throw .unusual }
        try endTag(name)
    }

    /// The end of a start tag with no attributes: whether it was empty (`/>`).
    mutating func noAttributes() throws(ScanStop) -> Bool {
        try skipSpace()
        switch try next() {
        case UInt8(ascii: ">"): return false
        case UInt8(ascii: "/"):
            guard try next() == UInt8(ascii: ">") else { throw .unusual }
            return true
        default: throw .unusual
        }
    }

    /// A start tag's attributes after its name, up to its end: each must be one of `set`,
    /// once, or (one at most) have a prefix the root declares; the values of the first three
    /// of `set` are kept in `values`. Whether it was empty (`/>`).
    mutating func attributes(_ set: AttributeSet, _ values: inout ScannedValues) throws(ScanStop) -> Bool {
        var seen: UInt32 = 0
        var prefixed = false
        while true {
            let spaced = try skipSpace()
            switch try peek() {
            case UInt8(ascii: ">"):
                at += 1
                return false
            case UInt8(ascii: "/"):
                at += 1
                guard try next() == UInt8(ascii: ">") else { throw .unusual }
                return true
            default: break
            }
            guard spaced else { throw .unusual }
            // The name and the value are read with a local index: the cursor is `inout`, and
            // its position stored back at every byte was a third of this loop.
            let nameStart = at
            var end = at, colon = -1
            while true {
                guard end < count else { throw .short }
                let byte = base[end]
                if Self.isSpace(byte) || byte == UInt8(ascii: "=") { break }
                guard byte > 0x20 && byte < 0x80 && byte != UInt8(ascii: ">") && byte != UInt8(ascii: "/")
                        && byte != UInt8(ascii: "<") && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "'") else { throw .unusual }
                if byte == UInt8(ascii: ":") && colon < 0 { colon = end }
                end += 1
            }
            at = end
            let name = UnsafeRawBufferPointer(start: base + nameStart, count: at - nameStart)
            let index: Int
            if let known = set.index(of: name) {
                guard seen & (1 << known) == 0 else { throw .unusual }   // twice: libxml2 refuses it
                seen |= 1 << known
                index = known
            } else {
                // In a namespace: libxml2 hands it on with its prefix, and the sheet's reading
                // asks only for attributes without one. One a tag, so that no two can name
                // the same attribute of the same namespace (which libxml2 refuses).
                guard !prefixed, colon > nameStart, isDeclared(prefix: nameStart..<colon),
                      Self.isLocalName(UnsafeRawBufferPointer(start: base + colon + 1, count: at - colon - 1)) else { throw .unusual }
                prefixed = true
                index = -1
            }
            try skipSpace()
            guard try next() == UInt8(ascii: "=") else { throw .unusual }
            try skipSpace()
            let quote = try next()
            guard quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else { throw .unusual }
            let valueStart = at
            end = at
            while true {
                guard end < count else { throw .short }
                let byte = base[end]
                if byte == quote { break }
                // Entities, and white space libxml2 would turn into spaces, are libxml2's.
                guard byte >= 0x20 && byte < 0x80 && byte != UInt8(ascii: "<") && byte != UInt8(ascii: "&") else { throw .unusual }
                end += 1
            }
            at = end + 1
            let value = UnsafeRawBufferPointer(start: base + valueStart, count: end - valueStart)
            switch index {
            case 0: values.first = value
            case 1: values.second = value
            case 2: values.third = value
            default: break
            }
        }
    }

    /// Whether the bytes at `range` are a prefix the root declares (never `xmlns`, which
    /// declares one, nor `xml`).
    private func isDeclared(prefix range: Range<Int>) -> Bool {
        let prefix = UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
        if Self.equal(prefix, "xml") || Self.equal(prefix, "xmlns") { return false }
        return prefixes.contains { $0.count == prefix.count && $0.withUnsafeBytes { $0.elementsEqual(prefix) } }
    }

    /// A local name as libxml2 takes it without complaint, narrowly: an ASCII letter or `_`,
    /// then letters, digits, `_`, `-`, `.`.
    private static func isLocalName(_ name: UnsafeRawBufferPointer) -> Bool {
        guard let first = name.first, isLetter(first) || first == UInt8(ascii: "_") else { return false }
        return name.allSatisfy { byte in
            isLetter(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    /// A predefined entity at the cursor (`&amp;` …), read; its byte.
    mutating func entity() throws(ScanStop) -> UInt8 {
        at += 1   // the `&`
        let start = at
        while try peek() != UInt8(ascii: ";") {
            at += 1
            if at - start > 4 { throw .unusual }
        }
        let name = UnsafeRawBufferPointer(start: base + start, count: at - start)
        at += 1
        if Self.equal(name, "amp") { return UInt8(ascii: "&") }
        if Self.equal(name, "lt") { return UInt8(ascii: "<") }
        if Self.equal(name, "gt") { return UInt8(ascii: ">") }
        if Self.equal(name, "quot") { return UInt8(ascii: "\"") }
        if Self.equal(name, "apos") { return UInt8(ascii: "'") }
        throw .unusual   // a character reference, or an entity of the document's: libxml2's
    }

    /// The length of the UTF-8 sequence at the cursor, whose first byte is not ASCII; a
    /// sequence that is not well-formed UTF-8 of an XML character is libxml2's to refuse.
    func utf8Length() throws(ScanStop) -> Int {
        let lead = base[at]
        let length: Int, low: UInt8, high: UInt8
        switch lead {
        case 0xC2...0xDF: (length, low, high) = (2, 0x80, 0xBF)
        case 0xE0: (length, low, high) = (3, 0xA0, 0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (length, low, high) = (3, 0x80, 0xBF)
        case 0xED: (length, low, high) = (3, 0x80, 0x9F)
        case 0xF0: (length, low, high) = (4, 0x90, 0xBF)
        case 0xF1...0xF3: (length, low, high) = (4, 0x80, 0xBF)
        case 0xF4: (length, low, high) = (4, 0x80, 0x8F)
        default: throw .unusual
        }
        guard at + length <= count else { throw .short }
        guard (low...high).contains(base[at + 1]) else { throw .unusual }
        for offset in 2..<length where !(0x80...0xBF).contains(base[at + offset]) { throw .unusual }
        // U+FFFE and U+FFFF are not XML characters.
        if lead == 0xEF && base[at + 1] == 0xBF && base[at + 2] >= 0xBE { throw .unusual }
        return length
    }

    @inline(__always)
    static func equal(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        return bytes.count == 0 || memcmp(bytes.baseAddress!, text.utf8Start, bytes.count) == 0
    }
}
