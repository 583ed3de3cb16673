/// The primitives `index.bin` is made of (see `IndexFile.swift` for its layout): LEB128
/// varints, zigzag for signed numbers, length-prefixed UTF-8 strings, and event ids as a tag
/// byte and 16 bytes or a string.

/// Appends varints, strings and event ids to a byte buffer.
struct BinaryWriter {
    var bytes: [UInt8]

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    /// Appends what `fill` lays out, at most `room` bytes, in one append: value by value,
    /// each append checked the array's uniqueness and capacity, and `index.bin` is written
    /// by the ten million values.
    @inline(__always)
    mutating func append(room: Int, _ fill: (inout RawBinary) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: room) { buffer in
            var raw = RawBinary(buffer.baseAddress!, room: room)
            fill(&raw)
            bytes.append(contentsOf: UnsafeBufferPointer(start: buffer.baseAddress!, count: raw.count))
        }
    }

    mutating func unsigned(_ value: UInt64) {
        guard value >= 0x80 else { return bytes.append(UInt8(value)) }
        append(room: RawBinary.longestNumber) { $0.unsigned(value) }
    }

    mutating func unsigned(_ value: Int) { unsigned(UInt64(value)) }

    /// Zigzag (`RawBinary.zigzag`): small negative numbers stay short.
    mutating func signed(_ value: Int) { unsigned(RawBinary.zigzag(value)) }

    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            unsigned(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func optional(_ value: String?) {
        if let value {
            bytes.append(1)
            string(value)
        } else {
            bytes.append(0)
        }
    }

    mutating func strings(_ values: [String]) {
        unsigned(values.count)
        for value in values { string(value) }
    }

    mutating func key(_ key: EventKey) {
        switch key {
        case let .digest(high, low):
            append(room: RawBinary.digestSize) { $0.digest(high, low) }
        case .text(let text):
            bytes.append(1)
            string(text)
        }
    }
}

/// Lays out varints and digest ids at a pointer, for `BinaryWriter.append(room:_:)`: the
/// caller has made room for all of it (`longestNumber` a number, `digestSize` an id), which
/// debug builds (the tests) check at every write.
struct RawBinary {
    /// The bytes of the longest varint (a 64-bit value, seven bits a byte).
    static let longestNumber = 10
    /// A digest id: its tag byte and 16 bytes.
    static let digestSize = 17

    private let start: UnsafeMutablePointer<UInt8>
    private let room: Int
    private(set) var count = 0

    init(_ start: UnsafeMutablePointer<UInt8>, room: Int) {
        self.start = start
        self.room = room
    }

    @inline(__always) mutating func byte(_ value: UInt8) {
        assert(count < room, "a layout stays within its room")
        start[count] = value
        count += 1
    }

    /// A LEB128 varint.
    @inline(__always) mutating func unsigned(_ value: UInt64) {
        assert(count + Self.longestNumber <= room, "a layout stays within its room")
        var value = value
        while value >= 0x80 {
            start[count] = UInt8(truncatingIfNeeded: value) | 0x80
            value >>= 7
            count += 1
        }
        start[count] = UInt8(value)
        count += 1
    }

    @inline(__always) mutating func unsigned(_ value: Int) { unsigned(UInt64(value)) }

    @inline(__always) mutating func signed(_ value: Int) { unsigned(Self.zigzag(value)) }

    /// Zigzag: 0, -1, 1, -2, … become 0, 1, 2, 3, …, so small negative numbers stay short.
    @inline(__always) static func zigzag(_ value: Int) -> UInt64 {
        let wide = Int64(value)
        return UInt64(bitPattern: (wide << 1) ^ (wide >> 63))
    }

    /// A digest id as `BinaryWriter.key` writes one: the tag 0, then its words big-endian.
    @inline(__always) mutating func digest(_ high: UInt64, _ low: UInt64) {
        assert(count + Self.digestSize <= room, "a layout stays within its room")
        start[count] = 0
        UnsafeMutableRawPointer(start + count + 1).storeBytes(of: high.bigEndian, as: UInt64.self)
        UnsafeMutableRawPointer(start + count + 9).storeBytes(of: low.bigEndian, as: UInt64.self)
        count += Self.digestSize
    }
}

/// Reads what `BinaryWriter` wrote; every read checks the bounds and throws on a short file.
struct BinaryReader {
    let buffer: UnsafeBufferPointer<UInt8>
    var position = 0

    init(_ buffer: UnsafeBufferPointer<UInt8>, at position: Int = 0) {
        self.buffer = buffer
        self.position = position
    }

    var remaining: Int { buffer.count - position }

    private static let truncated = RecordError("index.bin ends early")

    mutating func take(_ count: Int) -> UnsafeBufferPointer<UInt8> {
        let slice = UnsafeBufferPointer(rebasing: buffer[position..<(position + count)])
        position += count
        return slice
    }

    mutating func byte() throws -> UInt8 {
        guard position < buffer.count else { throw Self.truncated }
        defer { position += 1 }
        return buffer[position]
    }

    /// A LEB128 varint. Inlined, with the bytes read unchecked when ten (the longest) remain:
    /// a 10-million-line index is mostly these, read by the hundred million.
    @inline(__always)
    mutating func unsigned() throws -> UInt64 {
        guard position + 10 <= buffer.count, let base = buffer.baseAddress else { return try unsignedNearEnd() }
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var at = position
        while shift < 64 {
            let next = base[at]
            at += 1
            value |= UInt64(next & 0x7F) << shift
            if next < 0x80 {
                position = at
                return value
            }
            shift += 7
        }
        throw RecordError("index.bin has a malformed number")
    }

    /// `unsigned()` within ten bytes of the end, every byte checked.
    private mutating func unsignedNearEnd() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            guard shift < 64 else { throw RecordError("index.bin has a malformed number") }
            value |= UInt64(next & 0x7F) << shift
            if next < 0x80 { return value }
            shift += 7
        }
    }

    @inline(__always)
    mutating func signed() throws -> Int {
        let raw = try unsigned()
        return Int(Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1))))
    }

    /// A count of items that follow: each takes at least one byte, so more than remain is damage.
    mutating func count() throws -> Int {
        let value = try unsigned()
        guard value <= UInt64(remaining) else { throw Self.truncated }
        return Int(value)
    }

    mutating func bool() throws -> Bool { try byte() != 0 }

    mutating func string() throws -> String { String(decoding: try stringBytes(), as: UTF8.self) }

    /// A string's bytes, where they lie.
    mutating func stringBytes() throws -> UnsafeBufferPointer<UInt8> {
        let length = try count()
        return take(length)
    }

    /// Passes over a string without making it.
    mutating func skipString() throws { position += try count() }

    /// Passes over `count` numbers without reading their values.
    mutating func skipNumbers(_ count: Int) throws {
        for _ in 0..<count { _ = try unsigned() }
    }

    mutating func optional() throws -> String? { try byte() == 0 ? nil : try string() }

    mutating func strings() throws -> [String] {
        var values: [String] = []
        for _ in 0..<(try count()) { values.append(try string()) }
        return values
    }

    /// An address as Tally stored it, already normalised.
    mutating func email() throws -> Email { Email(normalised: try string()) }

    mutating func key() throws -> EventKey {
        if try byte() == 0 {
            guard remaining >= 16 else { throw Self.truncated }
            var high: UInt64 = 0, low: UInt64 = 0
            for byte in take(8) { high = high << 8 | UInt64(byte) }
            for byte in take(8) { low = low << 8 | UInt64(byte) }
            return .digest(high, low)
        }
        return .text(try string())
    }
}
