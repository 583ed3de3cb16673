/// The students a snapshot lists, as two parallel arrays in no particular order (see
/// `State.listed(rules:)`): `ids[i]` is the id of `states[i]`.
struct StudentListing: Sendable {
    var ids: [String] = []
    var states: [StudentState] = []

    var count: Int { ids.count }

    /// The positions in order of student id, as `state.json` lists them.
    func byID() -> [Int] {
        // Compared in place: `ids[$0]` retained and released both strings at every comparison.
        ids.withUnsafeBufferPointer { ids in Array(ids.indices).sorted { ids[$0] < ids[$1] } }
    }

    /// The same students as a dictionary keyed by id.
    var dictionary: [String: StudentState] { Dictionary(uniqueKeysWithValues: zip(ids, states)) }
}
