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
    private var positions: [String: Int] = [:]
    private var last = -1

    var count: Int { list.count }

    /// The index of `id`'s account, or nil when the student has none.
    func index(of id: String) -> Int? {
        if last >= 0, ids[last] == id { return last }
        return positions[id]
    }

    /// The index of `id`'s account, or nil when the student has none; remembered, so the
    /// fold that usually follows (scoring asks, then applies) finds it without hashing again.
    mutating func find(_ id: String) -> Int? {
        if last >= 0, ids[last] == id { return last }
        guard let found = positions[id] else { return nil }
        last = found
        return found
    }

    /// The index of `id`'s account, made when missing.
    mutating func findOrAdd(_ id: String) -> Int {
        if last >= 0, ids[last] == id { return last }
        if let found = positions[id] {
            last = found
            return found
        }
        append(id, State.Account())
        return last
    }

    /// Adds an account for a student who has none (as an index is read back).
    mutating func append(_ id: String, _ account: State.Account) {
        ids.append(id)
        list.append(account)
        positions[id] = list.count - 1
        last = list.count - 1
    }

    subscript(id: String) -> State.Account? { index(of: id).map { list[$0] } }

    mutating func reserveCapacity(_ capacity: Int) {
        ids.reserveCapacity(capacity)
        list.reserveCapacity(capacity)
        positions.reserveCapacity(capacity)
    }

    /// Equal when the same students have the same accounts, whatever order they came in.
    static func == (lhs: AccountTable, rhs: AccountTable) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (id, account) in zip(lhs.ids, lhs.list) where rhs[id] != account { return false }
        return true
    }
}
