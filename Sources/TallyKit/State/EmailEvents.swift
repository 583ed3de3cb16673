/// The events filed under each email (its normalised address), in ledger order, by their
/// number in `State.tracked`: what is re-homed when the email changes hands.
///
/// One chain per email through a shared table of next numbers, where each email held its own
/// `[Int32]`: a hundred thousand students' small arrays, each a heap block with a header
/// and room to grow, were a sixth of a big sync's state, and an append checked the array's
/// uniqueness and capacity per row. An event is filed once, when it is first tracked, and
/// never moves or leaves, so a chain only grows at its end, and its order (ascending event
/// numbers) is the ledger order.
struct EmailEvents: Sendable {
    /// The first and last event of an email's chain.
    struct Chain: Equatable, Sendable {
        var first: Int32
        var last: Int32
    }

    /// The emails, each with its chain.
    private var chains = StringTable<Chain>()
    /// For each tracked event number: the next event filed under the same email; -1 at the
    /// end of a chain, and for an event filed under no email.
    private var next: [Int32] = []
    /// While an index is read back, a bit per event filed so far: how a damaged file that
    /// files one twice is caught. (Marked in `next` itself, each check read it at random, a
    /// cache miss per event: most of loading a big index's emails.)
    private var loaded: [UInt64] = []

    init() {}

    /// An empty table with room for `emails` emails filing `events` tracked events, to be
    /// filled by `appendLoaded` and finished by `finishLoading()`.
    init(loading emails: Int, events: Int) {
        chains = StringTable(loading: emails)
        next = [Int32](repeating: -1, count: events)
        loaded = [UInt64](repeating: 0, count: (events + 63) / 64)
    }

    var count: Int { chains.count }

    /// The emails, in the order first filed.
    var ids: [String] { chains.ids }

    /// The events filed under `email`, in ledger order; nil when none is.
    subscript(email: String) -> [Int32]? { chains.index(of: email).map(events(at:)) }

    /// The events of the email numbered `entry` (its place in `ids`), in ledger order.
    func events(at entry: Int) -> [Int32] {
        var events: [Int32] = []
        var event = chains.list[entry].first
        while event >= 0 {
            events.append(event)
            event = next[Int(event)]
        }
        return events
    }

    /// Files the tracked event `event` (numbered above every event filed so far) under
    /// `email`, and returns the number of the email's entry (for `file(_:at:)`).
    @discardableResult
    mutating func file(_ event: Int32, under email: String) -> Int {
        let entry = chains.findOrAdd(email, orAdd: Chain(first: -1, last: -1))
        file(event, at: entry)
        return entry
    }

    /// Files `event` under the email of entry `entry`, as `file(_:under:)` gave it.
    mutating func file(_ event: Int32, at entry: Int) {
        precondition(Int(event) >= next.count, "events are filed in the order they are tracked")
        while next.count <= Int(event) { next.append(-1) }
        chains.list.withUnsafeMutableBufferPointer { chains in
            let last = chains[entry].last
            if last >= 0 { next[Int(last)] = event } else { chains[entry].first = event }
            chains[entry].last = event
        }
    }

    /// Adds an email without looking for it, as an index is read back (its events follow,
    /// by `appendLoaded(event:)`); `finishLoading()` places the emails all at once.
    mutating func appendLoaded(_ email: String) { chains.appendLoaded(email, Chain(first: -1, last: -1)) }

    /// Files `events`, in order, under the email added last by `appendLoaded`, after its events
    /// so far. Throws when an event is filed twice, out of order or beyond the count given to
    /// `init(loading:events:)` (a damaged file: its chain could loop).
    ///
    /// An email's events lie at random among millions, and so do their bits in `loaded` and
    /// their places in `next`: those lines are all asked for first (`HeapHint`), so that
    /// their misses overlap, where filing one event at a time waited for each in turn (most
    /// of the time a big start spent on its emails).
    mutating func appendLoaded(events: UnsafeBufferPointer<Int32>) throws {
        guard !events.isEmpty else { return }
        let entry = chains.count - 1
        let first = chains.list[entry].first
        var last = chains.list[entry].last
        try loaded.withUnsafeMutableBufferPointer { loaded in
            try next.withUnsafeMutableBufferPointer { next in
                for event in events where event >= 0 && Int(event) < next.count {
                    HeapHint.prefetch(loaded.baseAddress! + Int(event) >> 6)
                    HeapHint.prefetch(next.baseAddress! + Int(event))
                }
                for event in events {
                    let word = Int(event) >> 6, bit = UInt64(1) << UInt64(event & 63)
                    guard event > last, Int(event) < next.count, loaded[word] & bit == 0 else {
                        throw RecordError("index.bin files tracked event \(event) twice, out of order or out of range")
                    }
                    loaded[word] |= bit
                    if last >= 0 { next[Int(last)] = event }
                    last = event
                }
            }
        }
        chains.list[entry] = Chain(first: first >= 0 ? first : events[0], last: last)
    }

    /// Places the emails added by `appendLoaded`; false when an email came twice.
    mutating func finishLoading() -> Bool {
        loaded = []
        return chains.finishLoading()
    }

    /// Equal as `==` would be on lists of events by id, each side's events named by their
    /// ids (each numbered by its own state).
    func same(as other: EmailEvents, _ mine: State.Numbering, _ theirs: State.Numbering) -> Bool {
        guard count == other.count else { return false }
        for (entry, email) in ids.enumerated() {
            guard let index = other.chains.index(of: email) else { return false }
            let events = self.events(at: entry), others = other.events(at: index)
            guard events.count == others.count, zip(events, others).allSatisfy({ mine.key($0) == theirs.key($1) })
            else { return false }
        }
        return true
    }
}
