/// Writes the bytes of a ledger line at a pointer, for `JSONWriter.appendValue`: the caller
/// has made room for all of it and checked that no string needs escaping, so each part is a
/// plain copy.
struct RawLine {
    private let start: UnsafeMutablePointer<UInt8>
    private(set) var count = 0

    init(_ start: UnsafeMutablePointer<UInt8>) { self.start = start }

    @inline(__always) mutating func ascii(_ text: StaticString) {
        (start + count).update(from: text.utf8Start, count: text.utf8CodeUnitCount)
        count += text.utf8CodeUnitCount
    }

    @inline(__always) mutating func bytes(_ text: UnsafeRawBufferPointer) {
        if let base = text.baseAddress { (start + count).update(from: base.assumingMemoryBound(to: UInt8.self), count: text.count) }
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
