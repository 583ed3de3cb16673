/// Numbers strings by value (0, 1, 2, ... in order of first sight), quickly when the same
/// string comes again in the same storage.
///
/// A state keeps each course name once and every student's list shares it, so the site's
/// pass over a hundred thousand students meets a hundred names half a million times:
/// hashing each one's bytes for a dictionary was most of that pass. A string too long to be
/// stored inline (over 15 UTF-8 bytes) is looked up first by the address of its bytes, in a
/// small open-addressed table; any other string, and an address not seen yet, goes through
/// the dictionary by value, so two copies of one name in different storage get one number.
///
/// The addresses are only meaningful while the strings live: number only strings that
/// outlive the numbering (those of a listing it is made for), never temporaries.
struct StringNumbering {
    private var byValue: [String: Int] = [:]
    /// The strings by number.
    private(set) var strings: [String] = []
    /// Open addressing by address; a count of slots that is a power of two, at most half full.
    private var addresses: [UInt] = Array(repeating: 0, count: 64)
    private var numbers: [Int] = Array(repeating: 0, count: 64)
    private var filled = 0
    private let byAddress: Bool

    /// `byAddress: false` numbers every string by value (for strings that may not outlive it).
    init(byAddress: Bool = true) { self.byAddress = byAddress }

    var count: Int { strings.count }

    /// The number of `text`, given it (the next number) if it has none yet.
    mutating func number(of text: String) -> Int {
        guard byAddress, text.utf8.count > 15,
              let address = text.utf8.withContiguousStorageIfAvailable({ UInt(bitPattern: $0.baseAddress) }), address != 0
        else { return numberByValue(text) }
        let mask = addresses.count - 1
        var slot = Self.slot(of: address, mask: mask)
        while addresses[slot] != 0 {
            if addresses[slot] == address { return numbers[slot] }
            slot = (slot + 1) & mask
        }
        let number = numberByValue(text)
        addresses[slot] = address
        numbers[slot] = number
        filled += 1
        if filled * 2 > addresses.count { grow() }
        return number
    }

    private mutating func numberByValue(_ text: String) -> Int {
        if let known = byValue[text] { return known }
        let number = strings.count
        byValue[text] = number
        strings.append(text)
        return number
    }

    @inline(__always) private static func slot(of address: UInt, mask: Int) -> Int {
        // Storage is 16-byte aligned: the low bits say nothing; a multiplicative hash mixes the rest.
        Int(truncatingIfNeeded: ((address >> 4) &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }

    private mutating func grow() {
        let (oldAddresses, oldNumbers) = (addresses, numbers)
        addresses = Array(repeating: 0, count: oldAddresses.count * 2)
        numbers = Array(repeating: 0, count: oldAddresses.count * 2)
        let mask = addresses.count - 1
        for index in oldAddresses.indices where oldAddresses[index] != 0 {
            var slot = Self.slot(of: oldAddresses[index], mask: mask)
            while addresses[slot] != 0 { slot = (slot + 1) & mask }
            addresses[slot] = oldAddresses[index]
            numbers[slot] = oldNumbers[index]
        }
    }
}
