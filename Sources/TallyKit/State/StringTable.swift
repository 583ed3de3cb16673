/// Values found by a string id through one hash table, kept in an array in the order their
/// ids first came: the students' accounts (`AccountTable`), and the events filed under each
/// email (`EmailEvents`).
///
/// An array, so that reading or changing one field of a value works in place and never
/// copies the whole value (a dictionary's values are copied out to be read); and the
/// value found last is remembered, because scoring one event asks for the same student
/// several times in a row — a comparison then replaces hashing the id again.
struct StringTable<Value: Sendable>: Sendable {
    private(set) var ids: [String] = []
    var list: [Value] = []
    /// Open addressing over the ids: each used slot holds the top half of the id's hash and
    /// its index + 1 (0: free). A probe compares the stored half first, so a lookup reads
    /// one id's bytes, not those of every id its probe passes (a `[String: Int]` compared
    /// each, and every comparison was a cache miss into another string). At most half full.
    private var slots: [UInt64] = []
    private var last = -1
    /// The first `idOrder.count` ids in the order of `String`'s `<` (as `state.json` lists
    /// the students), by index: kept by `sortIDs()`, and behind the ids between its calls.
    private(set) var idOrder: [UInt32] = []

    var count: Int { list.count }

    init() {}

    /// An empty table with room for `capacity` values to come by `appendLoaded`.
    init(loading capacity: Int) {
        ids.reserveCapacity(capacity)
        list.reserveCapacity(capacity)
    }

    /// The index of `id`'s value, or nil when it has none.
    func index(of id: String) -> Int? {
        if last >= 0, ids[last] == id { return last }
        return lookup(id, hash: Self.hash(id))
    }

    /// The index of `id`'s value, or nil when it has none; remembered, so the fold that
    /// usually follows (scoring asks, then applies) finds it without hashing again.
    mutating func find(_ id: String) -> Int? {
        if last >= 0, ids[last] == id { return last }
        guard let found = lookup(id, hash: Self.hash(id)) else { return nil }
        last = found
        return found
    }

    /// The index of the value of the id spelled by `bytes` (UTF-8), made by `make` when
    /// missing: the `String` is made only then, or when the bytes are not all ASCII (see
    /// `IdHash`). Bytes that are not UTF-8 spell what `String(decoding:as:)` makes of them.
    /// `hash`, when given, is `IdHash.hash(ascii:)` of the bytes, found before.
    mutating func findOrAdd(bytes: UnsafeRawBufferPointer, hash known: UInt64? = nil,
                            orAdd make: @autoclosure () -> Value) -> Int {
        if last >= 0, Self.sameBytes(ids[last], bytes) { return last }
        assert(known == nil || known == IdHash.hash(ascii: bytes), "a hash given for other bytes")
        guard let hash = known ?? IdHash.hash(ascii: bytes) else {
            return findOrAdd(String(decoding: bytes, as: UTF8.self), orAdd: make())
        }
        if let found = lookup(bytes: bytes, hash: hash) {
            last = found
            return found
        }
        add(String(decoding: bytes, as: UTF8.self), make(), hash: hash)
        return last
    }

    /// The index of `id`'s value, made by `make` when missing.
    mutating func findOrAdd(_ id: String, orAdd make: @autoclosure () -> Value) -> Int {
        if last >= 0, ids[last] == id { return last }
        let hash = Self.hash(id)
        if let found = lookup(id, hash: hash) {
            last = found
            return found
        }
        add(id, make(), hash: hash)
        return last
    }

    /// Adds a value for an id that has none.
    mutating func append(_ id: String, _ value: Value) { add(id, value, hash: Self.hash(id)) }

    /// Adds a value without looking for its id, as an index is read back (its ids are
    /// distinct unless the file is damaged): `finishLoading()` then places them all at once
    /// (see `SlotBuilder`), and no lookup may come before it.
    mutating func appendLoaded(_ id: consuming String, _ value: consuming Value) {
        ids.append(id)
        list.append(value)
    }

    /// `appendLoaded(id, value)`, then `fill` changes the value where it lies in the table:
    /// a value built beside the table was copied into it, a retain of each of its references
    /// and then a release (a million accounts at a big start). When `fill` throws (a damaged
    /// file), the entry stays half filled, and the table is to be thrown away.
    mutating func appendLoaded<Failure: Error>(_ id: consuming String, _ value: consuming Value,
                                               fill: (inout Value) throws(Failure) -> Void) throws(Failure) {
        appendLoaded(id, value)
        try fill(&list[list.count - 1])
    }

    /// Places the values added by `appendLoaded`; false when an id came twice. `known`, when
    /// given, holds the ids' hashes (`loadedHashes()`), in order: the emails of an index are
    /// mostly the accounts' ids, hashed once for both tables.
    mutating func finishLoading(hashes known: [UInt64]? = nil) -> Bool {
        precondition(list.count < Int(UInt32.max) - 1, "too many entries for one index")
        precondition(known == nil || known?.count == ids.count, "a hash for every id")
        assert(known == nil || known == loadedHashes(), "the hashes known are the ids' own")
        var size = 16
        while size < list.count * 2 { size *= 2 }
        let hashes = known ?? loadedHashes()
        let built = hashes.withUnsafeBufferPointer { hashes in
            SlotBuilder.slots(size: size, hashes: hashes) { [ids] a, b in ids[a] == ids[b] }
        }
        guard let built else { return false }
        slots = built
        last = -1
        return true
    }

    /// The hashes of the ids, in order. Read through the array's storage: `map` copied each
    /// id to hash it, a retain and a release each (a million at a big start).
    func loadedHashes() -> [UInt64] {
        ids.withUnsafeBufferPointer { ids in
            [UInt64](unsafeUninitializedCapacity: ids.count) { hashes, count in
                for index in ids.indices { hashes[index] = Self.hash(ids[index]) }
                count = ids.count
            }
        }
    }

    subscript(id: String) -> Value? { index(of: id).map { list[$0] } }

    mutating func reserveCapacity(_ capacity: Int) {
        ids.reserveCapacity(capacity)
        list.reserveCapacity(capacity)
        if capacity * 2 > slots.count { rehash(toHold: capacity) }
    }

    // MARK: The table

    static func hash(_ id: String) -> UInt64 { IdHash.hash(id) }

    private func lookup(_ id: String, hash: UInt64) -> Int? { probe(hash) { ids[$0] == id } }

    /// `lookup` for an ASCII id's bytes, `hash` being `IdHash.hash(ascii:)` of them.
    private func lookup(bytes: UnsafeRawBufferPointer, hash: UInt64) -> Int? {
        probe(hash) { Self.equal(ids[$0], ascii: bytes) }
    }

    /// Asks for the cache lines a search for an id of `hash` will read: the slot where it
    /// starts or, when `entry` and that slot is at hand, the value and the id of the entry
    /// it names. A hint for a row a few rows ahead (see `LaneHints`), which changes nothing;
    /// the entry is the one the slot where the search starts names, when it holds the
    /// hash's tag (nothing is asked for further along).
    @inline(__always)
    func prefetch(hash: UInt64, entry: Bool) {
        guard !slots.isEmpty else { return }
        let slot = Int(truncatingIfNeeded: hash) & (slots.count - 1)
        slots.withUnsafeBufferPointer { slots in
            guard entry else { return HeapHint.prefetch(slots.baseAddress! + slot) }
            guard let index = Self.candidate(hash, in: slots, at: slot) else { return }
            list.withUnsafeBufferPointer { HeapHint.prefetch($0.baseAddress! + index) }
            ids.withUnsafeBufferPointer { HeapHint.prefetch($0.baseAddress! + index) }
        }
    }

    /// The entry that `slot` names when it holds `hash`'s tag.
    @inline(__always)
    private static func candidate(_ hash: UInt64, in slots: UnsafeBufferPointer<UInt64>, at slot: Int) -> Int? {
        let stored = slots[slot]
        guard stored != 0, stored >> 32 == hash >> 32 else { return nil }
        return Int(stored & 0xFFFF_FFFF) - 1
    }

    /// The index of the first slot with `hash`'s tag whose id `matches`, or nil.
    @inline(__always)
    private func probe(_ hash: UInt64, matches: (Int) -> Bool) -> Int? {
        guard !slots.isEmpty else { return nil }
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

    /// Whether `id` holds exactly the bytes `bytes`.
    static func sameBytes(_ id: String, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let same = id.utf8.withContiguousStorageIfAvailable { stored in
            stored.count == bytes.count && (stored.isEmpty || memcmp(stored.baseAddress!, bytes.baseAddress!, stored.count) == 0)
        }
        return same ?? id.utf8.elementsEqual(bytes)
    }

    /// Whether `id == String(decoding: bytes, as: UTF8.self)`, for ASCII `bytes`: their
    /// bytes are the same, or `id` is not ASCII and equals them canonically (KELVIN SIGN).
    private static func equal(_ id: String, ascii bytes: UnsafeRawBufferPointer) -> Bool {
        if sameBytes(id, bytes) { return true }
        guard !id.utf8.allSatisfy({ $0 < 0x80 }) else { return false }
        return id == String(decoding: bytes, as: UTF8.self)
    }

    private mutating func add(_ id: String, _ value: Value, hash: UInt64) {
        precondition(list.count < Int(UInt32.max) - 1, "too many entries for one index")
        if (list.count + 1) * 2 > slots.count { rehash(toHold: list.count + 1) }
        ids.append(id)
        list.append(value)
        last = list.count - 1
        place(last, hash: hash)
    }

    private mutating func rehash(toHold capacity: Int) {
        var size = Swift.max(slots.count, 16)
        while size < capacity * 2 { size *= 2 }
        slots = [UInt64](repeating: 0, count: size)
        for (index, id) in ids.enumerated() { place(index, hash: Self.hash(id)) }
    }

    private mutating func place(_ index: Int, hash: UInt64) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = (hash >> 32) << 32 | UInt64(index + 1)
    }
}

extension StringTable: Equatable where Value: Equatable {
    /// Equal when the same ids have equal values, whatever order they came in.
    static func == (lhs: StringTable, rhs: StringTable) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (id, value) in zip(lhs.ids, lhs.list) where rhs[id] != value { return false }
        return true
    }
}

/// The students' accounts, by student id.
typealias AccountTable = StringTable<State.Account>

extension StringTable {
    /// Brings `idOrder` up to date with the ids added since it last was: the new ones are
    /// sorted and merged in, or, when they are more than an eighth of all, every id is sorted
    /// again (`StudentListing.byID`). A drop to the daemon adds a student or two to a hundred
    /// thousand, and sorting them all again after every batch was a tenth of its work.
    mutating func sortIDs() {
        let known = idOrder.count
        guard known < ids.count else { return }
        ids.withUnsafeBufferPointer { ids in
            guard (ids.count - known) * 8 <= ids.count else {
                idOrder = StudentListing.byID(ids).map { UInt32($0) }
                return
            }
            // Each new id's place found by a binary search past the one before it; the
            // ids between are copied as they are (comparing every old id reached into the
            // bytes of half of them, every batch).
            let added = (known..<ids.count).sorted { ids[$0] < ids[$1] }
            var merged: [UInt32] = []
            merged.reserveCapacity(ids.count)
            idOrder.withUnsafeBufferPointer { order in
                var start = 0
                for id in added {
                    var low = start, high = order.count
                    while low < high {
                        let middle = (low + high) / 2
                        if ids[Int(order[middle])] < ids[id] { low = middle + 1 } else { high = middle }
                    }
                    merged.append(contentsOf: order[start..<low])
                    merged.append(UInt32(id))
                    start = low
                }
                merged.append(contentsOf: order[start...])
            }
            idOrder = merged
        }
    }
}

extension StringTable where Value == State.Account {
    /// The index of `id`'s account, made when missing.
    mutating func findOrAdd(_ id: String) -> Int { findOrAdd(id, orAdd: State.Account()) }

    /// Equal as `==` is (courses and events numbered alike), each side's completed courses
    /// named by its own state's numbers.
    func same(as other: AccountTable, _ mine: State.Numbering, _ theirs: State.Numbering) -> Bool {
        guard count == other.count else { return false }
        for (id, account) in zip(ids, list) {
            guard let index = other.index(of: id), account.same(as: other.list[index], mine, theirs) else { return false }
        }
        return true
    }

    /// The step after `prefetch(hash:entry: true)`: asks for the bytes of the id of the
    /// account an id of `hash` will be compared with, and of that account's latest name,
    /// courses and months (the account and its id being at hand).
    @inline(__always)
    func prefetchBytes(hash: UInt64) {
        guard !slots.isEmpty, let offsets = State.Account.heapOffsets else { return }
        let slot = Int(truncatingIfNeeded: hash) & (slots.count - 1)
        guard let index = slots.withUnsafeBufferPointer({ Self.candidate(hash, in: $0, at: slot) }) else { return }
        ids.withUnsafeBufferPointer { ids in HeapHint.prefetchString(at: UnsafeRawPointer(ids.baseAddress! + index)) }
        list.withUnsafeBufferPointer { list in
            let account = UnsafeRawPointer(list.baseAddress! + index)
            HeapHint.prefetchString(at: account + offsets.latestName)
            HeapHint.prefetchArray(at: account + offsets.courses, lines: 2)
            HeapHint.prefetchArray(at: account + offsets.months, lines: 1)
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
