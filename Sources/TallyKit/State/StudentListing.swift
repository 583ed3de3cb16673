/// The students a snapshot lists, as two parallel arrays in no particular order (see
/// `State.listed(rules:)`): `ids[i]` is the id of `states[i]`.
struct StudentListing: Sendable {
    var ids: [String] = []
    var states: [StudentState] = []

    var count: Int { ids.count }

    /// The positions in order of student id (`String`'s `<`), as `state.json` lists them.
    ///
    /// Sorting a hundred thousand ids as strings was a third of writing `state.json`. An id
    /// that is all ASCII is NFC, so `<` orders it by its bytes; its first sixteen, as two
    /// big-endian integers, order it against another such id wherever the two differ there.
    /// Ids that tie on them, or hold other text, are compared as strings.
    func byID() -> [Int] {
        ids.withUnsafeBufferPointer { ids in
            var keys: [(high: UInt64, low: UInt64, ascii: Bool, index: Int)] = []
            keys.reserveCapacity(ids.count)
            for index in ids.indices {
                let (high, low, ascii) = Self.prefix(of: ids[index])
                keys.append((high, low, ascii, index))
            }
            keys.sort { a, b in
                if a.ascii && b.ascii {
                    if a.high != b.high { return a.high < b.high }
                    if a.low != b.low { return a.low < b.low }
                }
                return ids[a.index] < ids[b.index]
            }
            return keys.map(\.index)
        }
    }

    /// The first sixteen UTF-8 bytes of `id` as two big-endian integers (zeros past its end),
    /// and whether all of it is ASCII.
    static func prefix(of id: String) -> (high: UInt64, low: UInt64, ascii: Bool) {
        var id = id
        return id.withUTF8 { bytes in
            var high: UInt64 = 0, low: UInt64 = 0, any: UInt8 = 0
            for index in bytes.indices {
                let byte = bytes[index]
                any |= byte
                if index < 8 {
                    high |= UInt64(byte) << (56 - 8 * UInt64(index))
                } else if index < 16 {
                    low |= UInt64(byte) << (56 - 8 * UInt64(index - 8))
                }
            }
            return (high, low, any < 0x80)
        }
    }

    /// The same students as a dictionary keyed by id.
    var dictionary: [String: StudentState] { Dictionary(uniqueKeysWithValues: zip(ids, states)) }
}
