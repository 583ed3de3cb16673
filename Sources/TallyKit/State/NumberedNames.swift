/// Names the state has met, each kept once and numbered in the order first met: the course
/// names, which a student's completed courses (`CourseKeys`) and the tracked events' grants
/// hold by number, and the activities of those grants.
///
/// Found by their UTF-8 bytes through small open-addressed tables, so a row read as bytes
/// finds its course without making a `String`, and a `String` finds it the same way. Every
/// spelling met is kept as an alias of its number, so a spelling seen before costs one probe.
/// What makes two spellings one name:
/// - course names (`folding`) are one course when their `CourseName` folds agree (case,
///   runs of whitespace, invisible characters and canonical equivalence aside); a new
///   spelling is folded once (ASCII as bytes, on the stack) and found by its fold's bytes;
/// - other names (the activities) are one when `String` equality says so (a decomposed "é"
///   and a precomposed one), as they were when they were dictionary keys.
/// The name kept for a number is its first spelling. `index.bin` lists the names in this
/// order, so a state read back numbers them as it did.
struct NumberedNames: Sendable {
    /// Whether spellings are one name by `CourseName`'s fold (else by `String` equality).
    let folding: Bool
    /// The names, by number: each one's first spelling.
    private(set) var names: [String] = []
    /// Every spelling met, with the number it stands for.
    private var spellings = ByteTable()
    /// The folds of the names, by number (`folding` only).
    private var folds = ByteTable()
    /// The numbers by name, as `String` equality finds them (not `folding`): asked when the
    /// bytes miss.
    private var numbers: [String: Int32] = [:]

    init(folding: Bool = false) { self.folding = folding }

    /// Numbered in the order given (as `index.bin` lists them); nil when a name comes twice
    /// (for `folding`, when two fold alike).
    init?(_ names: [String], folding: Bool = false) {
        self.init(folding: folding)
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
        return name.withUTF8 { number(ofBytes: UnsafeRawBufferPointer($0)) } ?? (folding ? nil : numbers[name])
    }

    /// The number of the name spelled by `bytes`, or nil when the state never met it.
    func number(ofBytes bytes: UnsafeRawBufferPointer) -> Int32? {
        if let known = spellings.find(bytes) { return known }
        guard folding else { return nil }
        return CourseName.withKey(bytes) { folds.find($0) }
    }

    /// The number of `name`, given the next one when it is new.
    mutating func number(for name: String) -> Int32 {
        var utf8 = name
        return utf8.withUTF8 { number(forBytes: UnsafeRawBufferPointer($0), name: name) }
    }

    /// The number of the name spelled by `bytes`, given the next one when new. Bytes that
    /// are not UTF-8 name what `String(decoding:as:)` makes of them, as every reader does.
    mutating func number(forBytes bytes: UnsafeRawBufferPointer) -> Int32 {
        number(forBytes: bytes, name: nil)
    }

    /// `name`: the `String` of `bytes` when the caller has one.
    private mutating func number(forBytes bytes: UnsafeRawBufferPointer, name: String?) -> Int32 {
        if let known = spellings.find(bytes) { return known }
        let number: Int32
        if folding {
            number = CourseName.withKey(bytes) { key in
                if let known = folds.find(key) { return known }
                let number = add(name ?? String(decoding: bytes, as: UTF8.self))
                folds.add(key, number)
                return number
            }
        } else {
            let text = name ?? String(decoding: bytes, as: UTF8.self)
            if let known = numbers[text] {
                number = known
            } else {
                number = add(text)
                numbers[text] = number
            }
        }
        spellings.add(bytes, number)
        return number
    }

    private mutating func add(_ name: String) -> Int32 {
        precondition(names.count < Int(Int32.max) - 1, "too many names")
        names.append(name)
        return Int32(names.count - 1)
    }
}

/// Byte strings, each with a number, found by their bytes: kept side by side in one array,
/// not as strings, so a lookup compares them in place, with no reference to count.
private struct ByteTable: Sendable {
    /// Where each entry's bytes are in `bytes`, and its number.
    private var entries: [(start: Int32, count: Int32, number: Int32)] = []
    private var bytes: [UInt8] = []
    /// Each used slot holds the top half of an entry's hash and its index + 1 (0: free); at
    /// most half full. A probe compares the stored half first.
    private var slots: [UInt64] = []

    func find(_ key: UnsafeRawBufferPointer) -> Int32? {
        guard !slots.isEmpty else { return nil }
        let hash = TextInterner.hash(key)
        let tag = hash >> 32, mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        return bytes.withUnsafeBytes { stored in
            while true {
                let entry = slots[slot]
                if entry == 0 { return nil }
                if entry >> 32 == tag {
                    let found = entries[Int(entry & 0xFFFF_FFFF) - 1]
                    if Int(found.count) == key.count
                        && (key.isEmpty || memcmp(stored.baseAddress! + Int(found.start), key.baseAddress!, key.count) == 0) {
                        return found.number
                    }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    mutating func add(_ key: UnsafeRawBufferPointer, _ number: Int32) {
        precondition(bytes.count + key.count < Int(Int32.max), "names too long")
        entries.append((Int32(bytes.count), Int32(key.count), number))
        bytes.append(contentsOf: key)
        if entries.count * 2 > slots.count {
            var size = Swift.max(16, slots.count)
            while size < entries.count * 2 { size *= 2 }
            slots = [UInt64](repeating: 0, count: size)
            for index in entries.indices { place(index) }
        } else {
            place(entries.count - 1)
        }
    }

    private mutating func place(_ index: Int) {
        let entry = entries[index]
        let hash = bytes.withUnsafeBytes {
            TextInterner.hash(UnsafeRawBufferPointer(rebasing: $0[Int(entry.start)..<Int(entry.start + entry.count)]))
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
