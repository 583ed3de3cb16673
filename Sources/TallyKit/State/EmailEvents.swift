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

    init() {}

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

    // MARK: Reading an index back

    /// The emails of an index read back, and what they file, made apart: a big start reads a
    /// million addresses and files millions of events, and `Snapshot.decodeIndex` has one
    /// thread make the addresses (`Addresses`) while the other files the events (`Filing`),
    /// each reading the same section of the file. The table is whole once both are done.
    /// Throws when they do not count the same emails.
    init(_ addresses: consuming Addresses, _ filing: consuming Filing) throws {
        guard addresses.table.count == filing.list.count else {
            throw RecordError("index.bin's emails and their events do not match")
        }
        chains = addresses.table
        chains.list = filing.list
        next = filing.next
    }

    /// An index's emails, in order, each added without looking for it; `finish()` then
    /// places them all at once.
    struct Addresses: Sendable {
        fileprivate var table: StringTable<Chain>
        private var hashes: [UInt64] = []

        init(count: Int) {
            table = StringTable(loading: count)
            hashes.reserveCapacity(count)
        }

        /// Adds `email`, whose hash (`StringTable.hash`) is `hash` when it is known already.
        mutating func append(_ email: String, hash: UInt64? = nil) {
            hashes.append(hash ?? StringTable<Chain>.hash(email))
            table.appendLoaded(email, Chain(first: -1, last: -1))
        }

        /// False when an email came twice.
        mutating func finish() -> Bool {
            defer { hashes = [] }
            return table.finishLoading(hashes: hashes)
        }
    }

    /// The events an index files under its emails, an email at a time, in the same order as
    /// `Addresses`.
    struct Filing: Sendable {
        fileprivate var list: [Chain] = []
        fileprivate var next: [Int32]
        /// A bit per event filed so far: how a damaged file that files one twice is caught.
        /// (Marked in `next` itself, each check read it at random, a cache miss per event.)
        private var filed: [UInt64]

        /// Room for `emails` emails filing `events` tracked events.
        init(emails: Int, events: Int) {
            list.reserveCapacity(emails)
            next = [Int32](repeating: -1, count: events)
            filed = [UInt64](repeating: 0, count: (events + 63) / 64)
        }

        /// Files `events`, in order, as the next email's. Throws when an event is filed twice,
        /// out of order or beyond the count given to `init` (a damaged file: its chain
        /// could loop).
        ///
        /// An email's events lie at random among millions, and so do their bits in `filed`
        /// and their places in `next`: those lines are all asked for first (`HeapHint`), so
        /// that their misses overlap, where filing one event at a time waited for each in
        /// turn (most of the time a big start spent on its emails).
        mutating func append(_ events: UnsafeBufferPointer<Int32>) throws {
            var last: Int32 = -1
            try filed.withUnsafeMutableBufferPointer { filed in
                try next.withUnsafeMutableBufferPointer { next in
                    for event in events where event >= 0 && Int(event) < next.count {
                        HeapHint.prefetch(filed.baseAddress! + Int(event) >> 6)
                        HeapHint.prefetch(next.baseAddress! + Int(event))
                    }
                    for event in events {
                        let word = Int(event) >> 6, bit = UInt64(1) << UInt64(event & 63)
                        guard event > last, Int(event) < next.count, filed[word] & bit == 0 else {
                            throw RecordError("index.bin files tracked event \(event) twice, out of order or out of range")
                        }
                        filed[word] |= bit
                        if last >= 0 { next[Int(last)] = event }
                        last = event
                    }
                }
            }
            list.append(Chain(first: events.first ?? -1, last: last))
        }
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
