/// The index's events in force (`State.tracked`), found by id: a flat open-addressing table
/// over entries kept in insertion order.
///
/// A big export tracks hundreds of thousands of events. As a `Dictionary` they took a
/// power-of-two table of 112-byte buckets at most three-quarters full, and every time it
/// grew the old and the new table were both in memory: the peak of a sync. Here the entries
/// sit in fixed-size pages that never move once written, and the table that finds them
/// holds 4-byte entry numbers, so growing it copies little. Entries are never removed
/// (an event, once tracked, stays tracked), which keeps the table simple.
///
/// Iteration is in insertion order, so two runs over the same ledgers write the same
/// `index.bin`, whatever the hash seed.
public struct TrackedTable: Sequence, Sendable {
    public typealias Element = (key: EventKey, value: State.Tracked)

    private static let pageShift = 14
    private static let pageSize = 1 << pageShift
    private static let pageMask = pageSize - 1

    private var keyPages: [[EventKey]] = []
    private var valuePages: [[State.Tracked]] = []
    /// Entry number + 1, or 0 for a free slot; a power of two long, at most half full.
    private var slots: [Int32] = []
    public private(set) var count = 0
    /// Mixed into every hash: a file cannot choose ids that collide in a table it cannot know.
    private let seed = UInt64.random(in: .min ... .max)

    public init() {}

    // MARK: Finding

    /// The number of the entry for `key` (for `subscript(at:)`), or nil when it is not tracked.
    public func index(forKey key: EventKey) -> Int? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash(key)) & mask
        while true {
            let stored = slots[slot]
            if stored == 0 { return nil }
            let index = Int(stored) - 1
            if keyPages[index >> Self.pageShift][index & Self.pageMask] == key { return index }
            slot = (slot + 1) & mask
        }
    }

    /// The entry numbered `index`, read or changed in place.
    public subscript(at index: Int) -> State.Tracked {
        get { valuePages[index >> Self.pageShift][index & Self.pageMask] }
        _modify { yield &valuePages[index >> Self.pageShift][index & Self.pageMask] }
    }

    public func key(at index: Int) -> EventKey { keyPages[index >> Self.pageShift][index & Self.pageMask] }

    /// The entry for `key`; setting one adds it when missing. (Nothing is ever removed.)
    public subscript(key: EventKey) -> State.Tracked? {
        get { index(forKey: key).map { self[at: $0] } }
        set {
            guard let newValue else { preconditionFailure("tracked events are never removed") }
            if let index = index(forKey: key) {
                self[at: index] = newValue
            } else {
                append(key, newValue)
            }
        }
    }

    // MARK: Adding

    /// Sets the entry for `key`, whose number `index(forKey:)` just gave (nil: not tracked,
    /// so it is added without searching again).
    mutating func set(_ value: State.Tracked, for key: EventKey, at index: Int?) {
        if let index { self[at: index] = value } else { append(key, value) }
    }

    private mutating func append(_ key: EventKey, _ value: State.Tracked) {
        precondition(count < Int(Int32.max), "too many tracked events for one index")
        if (count + 1) * 2 > slots.count { grow(toHold: count + 1) }
        let index = count
        if index & Self.pageMask == 0 {
            var keys: [EventKey] = [], values: [State.Tracked] = []
            keys.reserveCapacity(Self.pageSize)
            values.reserveCapacity(Self.pageSize)
            keyPages.append(keys)
            valuePages.append(values)
        }
        keyPages[index >> Self.pageShift].append(key)
        valuePages[index >> Self.pageShift].append(value)
        count += 1
        place(index, hash: hash(key))
    }

    /// Makes room for `capacity` entries without growing the slot table again.
    public mutating func reserveCapacity(_ capacity: Int) {
        if capacity * 2 > slots.count { grow(toHold: capacity) }
    }

    private mutating func grow(toHold capacity: Int) {
        var size = Swift.max(slots.count, 16)
        while size < capacity * 2 { size *= 2 }
        slots = [Int32](repeating: 0, count: size)
        for index in 0..<count { place(index, hash: hash(key(at: index))) }
    }

    private mutating func place(_ index: Int, hash: UInt64) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(index + 1)
    }

    /// A digest's bits are SHA-256 output already: one multiply folds them with the seed.
    private func hash(_ key: EventKey) -> UInt64 {
        switch key {
        case let .digest(high, low):
            let mixed = (high ^ seed).multipliedFullWidth(by: low | 1)
            return mixed.high ^ mixed.low
        case .text(let text):
            var hasher = Hasher()
            hasher.combine(seed)
            hasher.combine(text)
            return UInt64(bitPattern: Int64(hasher.finalize()))
        }
    }

    // MARK: Sequence

    public struct Iterator: IteratorProtocol {
        fileprivate let table: TrackedTable
        fileprivate var index = 0

        public mutating func next() -> Element? {
            guard index < table.count else { return nil }
            defer { index += 1 }
            return (table.key(at: index), table[at: index])
        }
    }

    public func makeIterator() -> Iterator { Iterator(table: self) }
    public var underestimatedCount: Int { count }
}

extension TrackedTable: Equatable {
    /// The same keys with the same entries, in any order.
    public static func == (lhs: TrackedTable, rhs: TrackedTable) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for index in 0..<lhs.count where rhs[lhs.key(at: index)] != lhs[at: index] { return false }
        return true
    }
}
