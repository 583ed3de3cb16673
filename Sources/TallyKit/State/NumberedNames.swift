/// Names the state has met, each kept once and numbered in the order first met: the course
/// names, which a student's completed courses (`CourseKeys`) and the tracked events' grants
/// hold by number, and the activities of those grants.
///
/// Found by their UTF-8 bytes through one small open-addressed table, so a row read as
/// bytes finds its course without making a `String`, and a `String` finds it the same way.
/// Spellings are one name when `String` equality says so (a decomposed "é" and a precomposed
/// one), as they were when the courses were dictionary keys: another spelling of a known
/// name is looked up as a `String` once, then kept as an alias of its number.
/// `index.bin` lists the names in this order, so a state read back numbers them as it did.
struct NumberedNames: Sendable {
    /// The names, by number: each one's first spelling.
    private(set) var names: [String] = []
    /// Every spelling met: where its bytes are in `spellingBytes`, and the number it stands
    /// for. Bytes side by side, not strings: a row's lookup compares them in place, with no
    /// reference to count.
    private var spellings: [(start: Int32, count: Int32, number: Int32)] = []
    private var spellingBytes: [UInt8] = []
    /// Each used slot holds the top half of a spelling's hash and its index + 1 (0: free);
    /// at most half full. A probe compares the stored half first.
    private var slots: [UInt64] = []
    /// The numbers by name, as `String` equality finds them: asked when the bytes miss.
    private var numbers: [String: Int32] = [:]

    init() {}

    /// Numbered in the order given (as `index.bin` lists them); nil when a name comes twice.
    init?(_ names: [String]) {
        for name in names {
            let before = self.names.count
            guard number(for: name) == Int32(before) else { return nil }
        }
    }

    var count: Int { names.count }

    subscript(number: Int32) -> String { names[Int(number)] }

    /// The number of `name`, or nil when the state never met it.
    func number(of name: String) -> Int32? {
        var name = name
        return name.withUTF8 { lookup(UnsafeRawBufferPointer($0)) } ?? numbers[name]
    }

    /// The number of `name`, given the next one when it is new.
    mutating func number(for name: String) -> Int32 {
        var name = name
        if let known = name.withUTF8({ lookup(UnsafeRawBufferPointer($0)) }) { return known }
        let number: Int32
        if let known = numbers[name] {
            number = known
        } else {
            precondition(names.count < Int(Int32.max) - 1, "too many names")
            number = Int32(names.count)
            names.append(name)
            numbers[name] = number
        }
        addSpelling(name, number)
        return number
    }

    /// The number of the name spelled by `bytes`, given the next one when new. Bytes that
    /// are not UTF-8 name what `String(decoding:as:)` makes of them, as every reader does.
    mutating func number(forBytes bytes: UnsafeRawBufferPointer) -> Int32 {
        if let known = lookup(bytes) { return known }
        return number(for: String(decoding: bytes, as: UTF8.self))
    }

    // MARK: The spellings' table

    private func lookup(_ bytes: UnsafeRawBufferPointer) -> Int32? {
        guard !slots.isEmpty else { return nil }
        let hash = TextInterner.hash(bytes)
        let tag = hash >> 32, mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        return spellingBytes.withUnsafeBytes { stored in
            while true {
                let entry = slots[slot]
                if entry == 0 { return nil }
                if entry >> 32 == tag {
                    let spelling = spellings[Int(entry & 0xFFFF_FFFF) - 1]
                    if Int(spelling.count) == bytes.count
                        && (bytes.isEmpty || memcmp(stored.baseAddress! + Int(spelling.start), bytes.baseAddress!, bytes.count) == 0) {
                        return spelling.number
                    }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    private mutating func addSpelling(_ text: String, _ number: Int32) {
        precondition(spellingBytes.count + text.utf8.count < Int(Int32.max), "names too long")
        spellings.append((Int32(spellingBytes.count), Int32(text.utf8.count), number))
        spellingBytes.append(contentsOf: text.utf8)
        if spellings.count * 2 > slots.count {
            var size = Swift.max(16, slots.count)
            while size < spellings.count * 2 { size *= 2 }
            slots = [UInt64](repeating: 0, count: size)
            for index in spellings.indices { place(index) }
        } else {
            place(spellings.count - 1)
        }
    }

    private mutating func place(_ index: Int) {
        let spelling = spellings[index]
        let hash = spellingBytes.withUnsafeBytes {
            TextInterner.hash(UnsafeRawBufferPointer(rebasing: $0[Int(spelling.start)..<Int(spelling.start + spelling.count)]))
        }
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = (hash >> 32) << 32 | UInt64(index + 1)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
