/// An event id as the index keeps it: the 16 bytes of one of Tally's own content ids
/// (`h-` and 32 lowercase hex digits, most ids of a big export), or the id's text otherwise
/// (a Kajabi id, an award's id).
///
/// A digest is two machine words: hashing and comparing it touches no heap memory, and a
/// million of them take 17 MB where a million `String` ids took over 100.
public enum EventKey: Hashable, Sendable, Comparable {
    case digest(UInt64, UInt64)
    case text(String)

    public init(_ id: String) {
        var id = id
        self = id.withUTF8 { EventKey(utf8: $0) } ?? .text(id)
    }

    /// The digest form of `h-` + 32 lowercase hex digits; nil for any other id.
    init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count == 34, bytes[0] == UInt8(ascii: "h"), bytes[1] == UInt8(ascii: "-") else { return nil }
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 0..<32 {
            let c = bytes[2 + i]
            let nibble: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = c &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = c &- UInt8(ascii: "a") &+ 10
            default: return nil
            }
            if i < 16 { high = high << 4 | UInt64(nibble) } else { low = low << 4 | UInt64(nibble) }
        }
        self = .digest(high, low)
    }

    /// The id as the ledgers spell it.
    public var id: String {
        switch self {
        case .text(let text): return text
        case .digest: return withDigestText { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// Hands `body` the text of a digest id (`h-` and 32 hex digits), built on the stack;
    /// an empty buffer for a text id.
    func withDigestText<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        guard case let .digest(high, low) = self else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 34) { buffer in
            let p = UnsafeMutableRawPointer(buffer.baseAddress!)
            p.storeBytes(of: UInt8(ascii: "h"), as: UInt8.self)
            p.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 1, as: UInt8.self)
            p.storeBytes(of: Self.hexDigits(UInt32(truncatingIfNeeded: high >> 32)), toByteOffset: 2, as: UInt64.self)
            p.storeBytes(of: Self.hexDigits(UInt32(truncatingIfNeeded: high)), toByteOffset: 10, as: UInt64.self)
            p.storeBytes(of: Self.hexDigits(UInt32(truncatingIfNeeded: low >> 32)), toByteOffset: 18, as: UInt64.self)
            p.storeBytes(of: Self.hexDigits(UInt32(truncatingIfNeeded: low)), toByteOffset: 26, as: UInt64.self)
            return body(UnsafeBufferPointer(buffer))
        }
    }

    /// The eight lowercase hex digits of `value`, most significant first, as a word whose
    /// bytes in memory are the digits in order: every line of a big sync writes an id or two, and digit by
    /// digit, with a branch per nibble, they were a twentieth of the encoder's threads.
    /// Each nibble is spread to a byte of its own, then `0`–`9` and `a`–`f` are made at once
    /// (a nibble of 10 or more carries into bit 4 when 6 is added: that byte gets 39 more).
    @inline(__always)
    static func hexDigits(_ value: UInt32) -> UInt64 {
        var n = UInt64(value)
        n = (n | n << 16) & 0x0000_FFFF_0000_FFFF
        n = (n | n << 8) & 0x00FF_00FF_00FF_00FF
        n = (n | n << 4) & 0x0F0F_0F0F_0F0F_0F0F
        let letters = ((n &+ 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101
        let ascii = n &+ 0x3030_3030_3030_3030 &+ letters &* 39
        return ascii.bigEndian   // the most significant nibble's byte first in memory
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case let .digest(high, low):
            hasher.combine(high)
            hasher.combine(low)
        case .text(let text):
            hasher.combine(text)
        }
    }

    /// The hash the index's tables use. A digest's bits are SHA-256 output already, so one
    /// multiply folds them with the table's seed (a per-table value the file cannot know)
    /// where a full SipHash cost more than the lookup itself, several times per row. Text ids
    /// take the standard hash.
    public func _rawHashValue(seed: Int) -> Int {
        guard case let .digest(high, low) = self else {
            var hasher = Hasher()
            hasher.combine(seed)
            hash(into: &hasher)
            return hasher.finalize()
        }
        let mixed = (high ^ UInt64(truncatingIfNeeded: seed)).multipliedFullWidth(by: low | 1)
        return Int(truncatingIfNeeded: mixed.high ^ mixed.low)
    }

    /// Ids in text order, as they sort in a snapshot.
    public static func < (lhs: EventKey, rhs: EventKey) -> Bool {
        switch (lhs, rhs) {
        case let (.digest(a, b), .digest(c, d)): return (a, b) < (c, d)
        default: return lhs.id < rhs.id
        }
    }
}
