/// Events found by id: a flat open-addressing table over entries kept in insertion order.
/// The index's events in force (`State.tracked`, through `TrackedTable`) and the ids it has
/// only seen (`State.seen`, through `EventSet`) are kept in these.
///
/// A big export tracks hundreds of thousands of events. As a `Dictionary` they took a
/// power-of-two table of 112-byte buckets at most three-quarters full, and every time it
/// grew the old and the new table were both in memory: the peak of a sync. Here the entries
/// sit in fixed-size pages that never move once written, and the table that finds them
/// holds 8-byte slots, so growing it copies little. Entries are never removed
/// (an event, once tracked, stays tracked), which keeps the table simple.
///
/// A key is kept as its digest's two words, 16 bytes: an `EventKey` takes 24, for the
/// text ids (a Kajabi id, an award's) that are rare. Those are kept apart, by entry number.
///
/// Iteration is in insertion order, so two runs over the same ledgers write the same
/// `index.bin`, whatever the hash seed.
public struct EventTable<Value: Equatable & Sendable>: Sequence, Sendable {
    public typealias Element = (key: EventKey, value: Value)

    fileprivate static var pageShift: Int { 14 }
    fileprivate static var pageSize: Int { 1 << pageShift }
    private static var pageMask: Int { pageSize - 1 }

    fileprivate var keyPages: [[StoredKey]] = []
    fileprivate var valuePages: [[Value]] = []
    /// The text ids, by entry number; their `StoredKey` is zero.
    fileprivate var texts: [Int: String] = [:]
    /// For each used slot, the top half of the key's hash and its entry number + 1 (0: free);
    /// a power of two long, at most three-quarters full. A probe compares the stored half
    /// first, so a search for an id that is not there (most rows' first question) reads only
    /// slots, never the keys it passes.
    fileprivate var slots: [UInt64] = []
    public fileprivate(set) var count = 0
    /// Mixed into every hash: a file cannot choose ids that collide in a table it cannot know.
    private let seed = UInt64.random(in: .min ... .max)

    public init() {}

    // MARK: Finding

    /// The number of the entry for `key` (for `subscript(at:)`), or nil when it is not tracked.
    public func index(forKey key: EventKey) -> Int? {
        guard !slots.isEmpty else { return nil }
        switch key {
        case let .digest(high, low):
            let wanted = StoredKey(high: high, low: low)
            return find(hash: hash(key)) { index in
                keyPages[index >> Self.pageShift][index & Self.pageMask] == wanted && (texts.isEmpty || texts[index] == nil)
            }
        case .text(let text):
            guard !texts.isEmpty else { return nil }
            return find(hash: hash(key)) { texts[$0] == text }
        }
    }

    /// Asks for the cache line of the slot where a search for `key` (a digest) starts, and,
    /// when that slot is already at hand and holds `key`'s tag, for the line of the key it
    /// names: a hint for a row a few rows ahead (see `LaneHint`), which changes nothing.
    @inline(__always)
    func prefetch(high: UInt64, low: UInt64, entry: Bool) {
        guard !slots.isEmpty else { return }
        let hash = hash(.digest(high, low))
        let slot = Int(truncatingIfNeeded: hash) & (slots.count - 1)
        slots.withUnsafeBufferPointer { slots in
            guard entry else { return HeapHint.prefetch(slots.baseAddress! + slot) }
            let stored = slots[slot]
            guard stored != 0, stored >> 32 == hash >> 32 else { return }
            let index = Int(stored & 0xFFFF_FFFF) - 1
            keyPages[index >> Self.pageShift].withUnsafeBufferPointer {
                HeapHint.prefetch($0.baseAddress! + (index & Self.pageMask))
            }
        }
    }

    /// The entry of the first slot with `hash`'s tag whose entry `matches`.
    @inline(__always)
    private func find(hash: UInt64, matches: (Int) -> Bool) -> Int? {
        let mask = slots.count - 1
        let tag = hash >> 32
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let stored = slots[slot]
            if stored == 0 { return nil }
            if stored >> 32 == tag {
                let index = Int(stored & 0xFFFF_FFFF) - 1
                if matches(index) { return index }
            }
            slot = (slot + 1) & mask
        }
    }

    /// The entry numbered `index`, read or changed in place.
    public subscript(at index: Int) -> Value {
        get { valuePages[index >> Self.pageShift][index & Self.pageMask] }
        _modify { yield &valuePages[index >> Self.pageShift][index & Self.pageMask] }
    }

    public func key(at index: Int) -> EventKey {
        if !texts.isEmpty, let text = texts[index] { return .text(text) }
        let stored = keyPages[index >> Self.pageShift][index & Self.pageMask]
        return .digest(stored.high, stored.low)
    }

    /// The entry for `key`; setting one adds it when missing. (Nothing is ever removed.)
    public subscript(key: EventKey) -> Value? {
        get { index(forKey: key).map { self[at: $0] } }
        set {
            guard let newValue else { preconditionFailure("events are never removed from the index") }
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
    mutating func set(_ value: Value, for key: EventKey, at index: Int?) {
        if let index { self[at: index] = value } else { append(key, value) }
    }

    private mutating func append(_ key: EventKey, _ value: Value) {
        precondition(count < Int(UInt32.max) - 1, "too many events for one index")
        if (count + 1) * 4 > slots.count * 3 { grow(toHold: count + 1) }
        let index = count
        if index & Self.pageMask == 0 {
            var keys: [StoredKey] = [], values: [Value] = []
            keys.reserveCapacity(Self.pageSize)
            values.reserveCapacity(Self.pageSize)
            keyPages.append(keys)
            valuePages.append(values)
        }
        keyPages[index >> Self.pageShift].append(StoredKey(key, texts: &texts, at: index))
        valuePages[index >> Self.pageShift].append(value)
        count += 1
        place(index, hash: hash(key))
    }

    /// Makes room for `capacity` entries without growing the slot table again.
    public mutating func reserveCapacity(_ capacity: Int) {
        if capacity * 4 > slots.count * 3 { grow(toHold: capacity) }
    }

    private mutating func grow(toHold capacity: Int) {
        let size = Self.slotCount(toHold: capacity, atLeast: slots.count)
        slots = [UInt64](repeating: 0, count: size)
        for index in 0..<count { place(index, hash: hash(key(at: index))) }
    }

    /// A power of two at least three-quarters larger than `capacity`.
    fileprivate static func slotCount(toHold capacity: Int, atLeast minimum: Int = 0) -> Int {
        var size = Swift.max(minimum, 16)
        while size * 3 < capacity * 4 { size *= 2 }
        return size
    }

    private mutating func place(_ index: Int, hash: UInt64) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = (hash >> 32) << 32 | UInt64(index + 1)
    }

    /// A digest's bits are SHA-256 output already: one multiply folds them with the seed.
    fileprivate func hash(_ key: EventKey) -> UInt64 {
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
        fileprivate let table: EventTable
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

extension EventTable: Equatable {
    /// The same keys with the same entries, in any order.
    public static func == (lhs: EventTable, rhs: EventTable) -> Bool {
        lhs.same(as: rhs, by: ==)
    }

    /// The same keys, with entries that `equal` holds to be the same, in any order.
    func same(as other: EventTable, by equal: (Value, Value) -> Bool) -> Bool {
        guard count == other.count else { return false }
        for index in 0..<count {
            guard let theirs = other.index(forKey: key(at: index)), equal(self[at: index], other[at: theirs]) else { return false }
        }
        return true
    }
}

/// Fills an `EventTable` with entries whose keys are known to be distinct (an index read
/// back), in the order given: no key is looked for as it is added, and the slots are built
/// in one pass at the end (see `SlotBuilder`), where a damaged file's repeated key shows.
struct EventTableLoader<Value: Equatable & Sendable> {
    private var table = EventTable<Value>()
    private var keys: [StoredKey] = []
    private var values: [Value] = []
    private var count = 0

    init(capacity: Int) {
        let pages = (capacity + EventTable<Value>.pageSize - 1) >> EventTable<Value>.pageShift
        table.keyPages.reserveCapacity(pages)
        table.valuePages.reserveCapacity(pages)
        startPage()
    }

    private mutating func startPage() {
        keys = []
        values = []
        keys.reserveCapacity(EventTable<Value>.pageSize)
        values.reserveCapacity(EventTable<Value>.pageSize)
    }

    mutating func append(_ key: EventKey, _ value: consuming Value) {
        keys.append(StoredKey(key, texts: &table.texts, at: count))
        values.append(value)
        count += 1
        if keys.count == EventTable<Value>.pageSize {
            table.keyPages.append(keys)
            table.valuePages.append(values)
            startPage()
        }
    }

    /// The table; nil when a key came twice.
    consuming func finish() -> EventTable<Value>? {
        if !keys.isEmpty {
            table.keyPages.append(keys)
            table.valuePages.append(values)
        }
        keys = []
        values = []
        precondition(count < Int(UInt32.max) - 1, "too many events for one index")
        table.count = count
        let hashes = [UInt64](unsafeUninitializedCapacity: count) { hashes, initialized in
            for index in 0..<count {
                hashes[index] = table.hash(table.key(at: index))
                initialized += 1
            }
        }
        let built = hashes.withUnsafeBufferPointer { hashes in
            SlotBuilder.slots(size: EventTable<Value>.slotCount(toHold: count), hashes: hashes) { [table] a, b in
                table.key(at: a) == table.key(at: b)
            }
        }
        guard let slots = built else { return nil }
        table.slots = slots
        return table
    }
}

extension EventSet {
    /// Fills an `EventSet` with ids known to be distinct, as `EventTableLoader` does.
    struct Loader {
        private var entries: EventTableLoader<Present>

        init(capacity: Int) { entries = EventTableLoader(capacity: capacity) }

        mutating func insert(_ key: EventKey) { entries.append(key, Present()) }

        /// The set; nil when an id came twice.
        consuming func finish() -> EventSet? {
            guard let table = entries.finish() else { return nil }
            var set = EventSet()
            set.table = table
            return set
        }
    }
}

/// A set of event ids in an `EventTable`: how `State.seen` keeps the ids of duplicates,
/// roster lines and links (hundreds of thousands in a big export) without a `Set`'s
/// doubling table.
public struct EventSet: Sequence, Equatable, Sendable {
    /// Nothing to keep per id.
    struct Present: Equatable, Sendable {}

    fileprivate var table = EventTable<Present>()

    public init() {}

    public var count: Int { table.count }
    public func contains(_ key: EventKey) -> Bool { table.index(forKey: key) != nil }

    /// See `EventTable.prefetch`.
    @inline(__always)
    func prefetch(high: UInt64, low: UInt64, entry: Bool) { table.prefetch(high: high, low: low, entry: entry) }

    /// Adds `key`; false when it was there already.
    @discardableResult
    public mutating func insert(_ key: EventKey) -> Bool {
        guard table.index(forKey: key) == nil else { return false }
        table.set(Present(), for: key, at: nil)
        return true
    }

    public mutating func reserveCapacity(_ capacity: Int) { table.reserveCapacity(capacity) }

    public struct Iterator: IteratorProtocol {
        fileprivate var entries: EventTable<Present>.Iterator
        public mutating func next() -> EventKey? { entries.next()?.key }
    }

    public func makeIterator() -> Iterator { Iterator(entries: table.makeIterator()) }
    public var underestimatedCount: Int { count }
}

/// A key as an `EventTable` page keeps it: a digest's two words; zero for a text id, whose
/// text the table keeps apart.
struct StoredKey: Equatable, Sendable {
    var high: UInt64
    var low: UInt64

    /// `key` stored as entry `index`, its text (if it is a text id) filed in `texts`.
    init(_ key: EventKey, texts: inout [Int: String], at index: Int) {
        switch key {
        case let .digest(high, low): (self.high, self.low) = (high, low)
        case .text(let text):
            (high, low) = (0, 0)
            texts[index] = text
        }
    }

    init(high: UInt64, low: UInt64) { (self.high, self.low) = (high, low) }
}
