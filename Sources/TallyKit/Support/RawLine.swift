/// Writes the bytes of a ledger line at a pointer, for `JSONWriter.appendValue`: the caller
/// has made room for all of it and checked that no string needs escaping, so each part is a
/// plain copy.
struct RawLine {
    private let start: UnsafeMutablePointer<UInt8>
    private(set) var count = 0

    init(_ start: UnsafeMutablePointer<UInt8>) { self.start = start }

    // Both copy in a loop, which the compiler makes the same `memcpy` or moves, rather than
    // by `update(from:count:)`: that is a call the reference counting cannot see through, so
    // a string or array borrowed around it (`Snapshot.appendPlain(id:_:courseNames:to:)`
    // reads a hundred thousand students' strings where they are) was retained and released.

    @inline(__always) mutating func ascii(_ text: StaticString) {
        let from = text.utf8Start, to = start + count
        for index in 0..<text.utf8CodeUnitCount { to[index] = from[index] }
        count += text.utf8CodeUnitCount
    }

    @inline(__always) mutating func bytes(_ text: UnsafeRawBufferPointer) {
        let to = start + count
        for index in 0..<text.count { to[index] = text[index] }
        count += text.count
    }

    /// `"text"`, or `null` for nil.
    @inline(__always) mutating func quoted(_ text: UnsafeRawBufferPointer?) {
        guard let text else { return ascii("null") }
        start[count] = UInt8(ascii: "\"")
        count += 1
        bytes(text)
        start[count] = UInt8(ascii: "\"")
        count += 1
    }

    @inline(__always) mutating func decimal(_ value: Int) {
        count += JSONWriter.writeDecimal(value, to: start + count)
    }

    /// A time as its quoted ISO 8601 text (`JSONWriter.member(_:_: Timestamp)`).
    mutating func time(_ time: Timestamp) {
        time.withISO8601 { quoted(UnsafeRawBufferPointer($0)) }
    }

    /// A content id as its quoted text (`JSONWriter.member(_:_: EventKey)`).
    mutating func id(_ key: EventKey) {
        key.withDigestText { quoted(UnsafeRawBufferPointer($0)) }
    }
}
