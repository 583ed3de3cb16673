/// The students' accounts: an array in the order students first appeared, found by id
/// through one hash table.
///
/// An array, so that reading or changing one field of an account works in place and never
/// copies the whole account (a dictionary's values are copied out to be read); and the
/// account found last is remembered, because scoring one event asks for the same student
/// several times in a row — a comparison then replaces hashing the id again.
struct AccountTable: Equatable, Sendable {
    private(set) var ids: [String] = []
    var list: [State.Account] = []
    /// Open addressing over the ids: each used slot holds the top half of the id's hash and
    /// its index + 1 (0: free). A probe compares the stored half first, so a lookup reads
    /// one id's bytes, not those of every id its probe passes (a `[String: Int]` compared
    /// each, and every comparison was a cache miss into another string). At most half full.
    private var slots: [UInt64] = []
    private var last = -1

    var count: Int { list.count }

    init() {}

    /// An empty table with room for `capacity` accounts to come by `appendLoaded`.
    init(loading capacity: Int) {
        ids.reserveCapacity(capacity)
        list.reserveCapacity(capacity)
    }

    /// The index of `id`'s account, or nil when the student has none.
    func index(of id: String) -> Int? {
        if last >= 0, ids[last] == id { return last }
        return lookup(id, hash: Self.hash(id))
    }

    /// The index of `id`'s account, or nil when the student has none; remembered, so the
    /// fold that usually follows (scoring asks, then applies) finds it without hashing again.
    mutating func find(_ id: String) -> Int? {
        if last >= 0, ids[last] == id { return last }
        guard let found = lookup(id, hash: Self.hash(id)) else { return nil }
        last = found
        return found
    }

    /// The index of `id`'s account, made when missing.
    mutating func findOrAdd(_ id: String) -> Int {
        if last >= 0, ids[last] == id { return last }
        let hash = Self.hash(id)
        if let found = lookup(id, hash: hash) {
            last = found
            return found
        }
        add(id, State.Account(), hash: hash)
        return last
    }

    /// Adds an account for a student who has none (as an index is read back).
    mutating func append(_ id: String, _ account: State.Account) { add(id, account, hash: Self.hash(id)) }

    /// Adds an account without looking for its id, as an index is read back (its ids are
    /// distinct unless the file is damaged): `finishLoading()` then places them all at once
    /// (see `SlotBuilder`), and no lookup may come before it.
    mutating func appendLoaded(_ id: String, _ account: consuming State.Account) {
        ids.append(id)
        list.append(account)
    }

    /// Places the accounts added by `appendLoaded`; false when an id came twice.
    mutating func finishLoading() -> Bool {
        precondition(list.count < Int(UInt32.max) - 1, "too many students for one index")
        var size = 16
        while size < list.count * 2 { size *= 2 }
        let hashes = ids.map(Self.hash)
        let built = hashes.withUnsafeBufferPointer { hashes in
            SlotBuilder.slots(size: size, hashes: hashes) { [ids] a, b in ids[a] == ids[b] }
        }
        guard let built else { return false }
        slots = built
        last = -1
        return true
    }

    subscript(id: String) -> State.Account? { index(of: id).map { list[$0] } }

    mutating func reserveCapacity(_ capacity: Int) {
        ids.reserveCapacity(capacity)
        list.reserveCapacity(capacity)
        if capacity * 2 > slots.count { rehash(toHold: capacity) }
    }

    /// Equal when the same students have the same accounts, whatever order they came in
    /// (their courses numbered alike: see `same(as:names:otherNames:)`).
    static func == (lhs: AccountTable, rhs: AccountTable) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (id, account) in zip(lhs.ids, lhs.list) where rhs[id] != account { return false }
        return true
    }

    /// Equal as `==` is, each side's completed courses named by its own state's numbers.
    func same(as other: AccountTable, names: CourseNames, otherNames: CourseNames) -> Bool {
        guard count == other.count else { return false }
        for (id, account) in zip(ids, list) {
            guard let index = other.index(of: id), account.same(as: other.list[index], names: names, otherNames: otherNames)
            else { return false }
        }
        return true
    }

    // MARK: The table

    private static func hash(_ id: String) -> UInt64 { UInt64(bitPattern: Int64(id.hashValue)) }

    private func lookup(_ id: String, hash: UInt64) -> Int? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        let tag = hash >> 32
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let stored = slots[slot]
            if stored == 0 { return nil }
            if stored >> 32 == tag {
                let index = Int(stored & 0xFFFF_FFFF) - 1
                if ids[index] == id { return index }
            }
            slot = (slot + 1) & mask
        }
    }

    private mutating func add(_ id: String, _ account: State.Account, hash: UInt64) {
        precondition(list.count < Int(UInt32.max) - 1, "too many students for one index")
        if (list.count + 1) * 2 > slots.count { rehash(toHold: list.count + 1) }
        ids.append(id)
        list.append(account)
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
