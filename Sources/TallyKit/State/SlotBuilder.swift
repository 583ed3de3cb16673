/// Builds the slot array of an open-addressing table (`EventTable`, `AccountTable`) for
/// entries loaded all at once, as `index.bin` is read back.
///
/// Adding millions of entries one by one sends each to a random slot of a table of tens of
/// megabytes: a cache miss per entry, and most of a start's time. Here the entries are first
/// sorted by the region of the table their home slot falls in (a counting sort, reading and
/// writing sequentially), then placed region after region, so that each placement probes
/// memory that is already in cache. Linear probing finds an entry whatever order the entries
/// were placed in, so the table answers as one built entry by entry does.
///
/// A slot holds the top half of the entry's hash and its number + 1 (0: free), as both tables
/// keep them.
enum SlotBuilder {
    /// Slots a region holds: 2,048 slots are 16 KB, well inside a core's L2 cache.
    private static let regionShift = 11

    /// The slots of `size` (a power of two, larger than `hashes.count`) for entries whose
    /// hashes are `hashes`, in entry order; nil when `same` says that two entries whose stored
    /// halves meet in a probe are equal (a table never holds a key twice).
    static func slots(size: Int, hashes: UnsafeBufferPointer<UInt64>, same: (_ a: Int, _ b: Int) -> Bool) -> [UInt64]? {
        precondition(size & (size - 1) == 0 && size > hashes.count, "a table keeps a free slot")
        let count = hashes.count
        let mask = size - 1
        let shift = Swift.min(regionShift, size.trailingZeroBitCount)
        let regions = size >> shift
        // Where each region's entries start in `order`.
        var starts = [Int](repeating: 0, count: regions + 1)
        for hash in hashes { starts[(Int(truncatingIfNeeded: hash) & mask) >> shift + 1] += 1 }
        for region in 0..<regions { starts[region + 1] += starts[region] }
        // The entries' numbers and hashes, region by region: placing them then reads both in
        // order, never a random entry's hash.
        var order = [UInt32](repeating: 0, count: count)
        var sorted = [UInt64](repeating: 0, count: count)
        order.withUnsafeMutableBufferPointer { order in
            sorted.withUnsafeMutableBufferPointer { sorted in
                for (index, hash) in hashes.enumerated() {
                    let region = (Int(truncatingIfNeeded: hash) & mask) >> shift
                    order[starts[region]] = UInt32(truncatingIfNeeded: index)
                    sorted[starts[region]] = hash
                    starts[region] += 1
                }
            }
        }
        var slots = [UInt64](repeating: 0, count: size)
        let unique = slots.withUnsafeMutableBufferPointer { slots in
            for (entry, hash) in zip(order, sorted) {
                let index = Int(entry)
                let tag = hash >> 32
                var slot = Int(truncatingIfNeeded: hash) & mask
                while slots[slot] != 0 {
                    if slots[slot] >> 32 == tag, same(Int(slots[slot] & 0xFFFF_FFFF) - 1, index) { return false }
                    slot = (slot + 1) & mask
                }
                slots[slot] = tag << 32 | UInt64(index + 1)
            }
            return true
        }
        return unique ? slots : nil
    }
}
