/// One `String` per distinct value of a column whose values repeat, such as the course.
///
/// A million rows naming twenty courses made a million course strings, each allocated,
/// checked as UTF-8, hashed and compared byte by byte in every table it reached. Interned,
/// they are twenty: a repeat costs a hash of its bytes and one comparison, and the scoring
/// index then compares a course with the one it stored by identity.
///
/// Bounded: after `limit` distinct values (a column that does not repeat) new values are
/// made as usual and no longer kept.
struct TextInterner {
    private var strings: [UInt64: String] = [:]
    let limit: Int

    init(limit: Int = 4096) { self.limit = limit }

    /// `bytes` decoded as UTF-8 (invalid bytes become U+FFFD), as `String(decoding:as:)` does.
    mutating func string(_ bytes: UnsafeRawBufferPointer) -> String {
        let hash = Self.hash(bytes)
        if let known = strings[hash], Self.equal(known, bytes) { return known }
        let made = String(decoding: bytes, as: UTF8.self)
        if strings.count < limit, strings[hash] == nil { strings[hash] = made }
        return made
    }

    /// The same, keeping (and returning) what `store` makes of a string it decodes: how the
    /// state hands out its own stored copy of a course name, found from bytes.
    mutating func string(_ bytes: UnsafeRawBufferPointer, store: (String) -> String) -> String {
        let hash = Self.hash(bytes)
        if let known = strings[hash], Self.equal(known, bytes) { return known }
        let made = store(String(decoding: bytes, as: UTF8.self))
        if strings.count < limit, strings[hash] == nil { strings[hash] = made }
        return made
    }

    private static func equal(_ text: String, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let utf8 = text.utf8
        guard utf8.count == bytes.count else { return false }
        return utf8.withContiguousStorageIfAvailable { stored in
            guard let base = stored.baseAddress, let other = bytes.baseAddress else { return stored.isEmpty }
            return memcmp(base, other, stored.count) == 0
        } ?? utf8.elementsEqual(bytes)
    }

    /// A quick 64-bit hash of the bytes, eight at a time (a candidate is always compared whole).
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        guard let base = bytes.baseAddress else { return hash }
        var i = 0
        while i + 8 <= bytes.count {
            hash = (hash ^ base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            hash ^= hash >> 29
            i += 8
        }
        while i < bytes.count {
            hash = (hash ^ UInt64(base.load(fromByteOffset: i, as: UInt8.self))) &* 0x0100_0000_01B3
            i += 1
        }
        return hash
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
