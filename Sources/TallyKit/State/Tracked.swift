/// A tracked event and what it granted: the entries of `State.tracked`, and their table.
extension State {
    /// What an award line granted that a move of its event takes back: points, or a course.
    /// (Badges and unlocks are sticky: a move never takes them back, so they are not kept.)
    /// Handed out by `grants(of:)`; the tracked table keeps it by number, as `StoredGrant`.
    public struct Grant: Equatable, Sendable {
        public var at: Timestamp
        public var points: Int
        public var activity: String
        public var course: String?
    }

    /// A grant as the tracked table keeps it: its activity and its course by number (in
    /// `activities` and `courses`). Twenty-four bytes and no reference: a big index holds
    /// millions, and a grant that held its names as strings took twice the room and a
    /// reference count on each, to copy and to read back at every start.
    struct StoredGrant: Equatable, Sendable {
        var at: Int64
        var points: Int
        var activity: Int32
        /// -1 for none.
        var course: Int32
    }

    /// An event that is applied or waiting: who has it, where its line in force is, and
    /// whether it granted anything. The event itself stays in `events.jsonl`; a move reads it
    /// back from there. What it granted, its table says (`TrackedTable.grants(of:)`).
    ///
    /// Forty bytes and no reference, where the plain fields took sixty-four: a big export
    /// tracks hundreds of thousands, the largest table of a sync, and an entry with no
    /// reference is copied without a reference count. The first seq is kept as its distance
    /// behind `seq`, and the offset, the status and a code for the grants share one word.
    /// One award per event is the rule: that grant is kept here, inline, when its points and
    /// activity fit the narrower fields. An entry with more grants, or with one that does not
    /// fit, is marked, and its table keeps all of its grants apart (an array here took eight
    /// bytes of every entry, for the few that use it).
    public struct Tracked: Equatable, Sendable {
        /// The seq of the line in force (see `offset`).
        public var seq: Int {
            get { storedSeq }
            set {
                let first = firstSeq
                storedSeq = newValue
                firstSeq = first
            }
        }
        /// The byte offset of the line in force in `events.jsonl` (-1 until the ledger has
        /// placed a line staged in this run: see `place(_:at:)`).
        public var offset: Int {
            get { Int(Int64(bitPattern: packed << 16) >> 16) }
            set {
                precondition(newValue >= -Self.offsetLimit && newValue < Self.offsetLimit, "an offset past 128 TiB")
                packed = packed & ~Self.offsetMask | UInt64(bitPattern: Int64(newValue)) & Self.offsetMask
            }
        }
        /// The seq of the event's first line: the order in which an email's events are re-homed.
        public var firstSeq: Int {
            get { storedSeq - Int(behind) }
            set {
                guard let distance = Int32(exactly: storedSeq - newValue) else {
                    preconditionFailure("an event's lines more than two billion apart")
                }
                behind = distance
            }
        }
        public var status: EventStatus {
            get { EventStatus(code: UInt8(truncatingIfNeeded: packed >> 48) & 3) ?? .applied }
            set { packed = packed & ~(3 << 48) | UInt64(newValue.code) << 48 }
        }

        private var storedSeq: Int
        /// The offset in the low 48 bits, the status's code in the next two, and the grants'
        /// code in the top fourteen: 0 for none, the inline grant's activity plus one, or
        /// `keptApart` when the table keeps them.
        private var packed: UInt64 = 0
        /// The inline grant's time, points and course; 0, 0 and -1 without one, so that two
        /// entries with the same grants are equal field for field.
        private var inlineAt: Int64 = 0
        /// The number of the account of the student who has it (see `student(of:)`); -1 for
        /// nobody. A number, not the id: no reference to count for millions of entries.
        /// (Stored fields are laid out in the order declared: the narrow ones go last.)
        public var account: Int32
        private var inlinePoints: Int32 = 0
        private var inlineCourse: Int32 = -1
        /// `seq - firstSeq`.
        private var behind: Int32 = 0

        private static let offsetMask: UInt64 = (1 << 48) - 1
        private static let offsetLimit = 1 << 47
        private static let grantsShift: UInt64 = 50
        /// The grants' code of an entry whose grants the table keeps: the largest, so an
        /// inline activity is below it.
        private static let keptApart: UInt64 = (1 << 14) - 1

        init(status: EventStatus, account: Int32, seq: Int, offset: Int, firstSeq: Int) {
            self.account = account
            self.storedSeq = seq
            self.status = status
            self.offset = offset
            self.firstSeq = firstSeq
        }

        /// The entry as the index file lists it; nil when its first seq is too far behind
        /// (a damaged file).
        init?(checking status: EventStatus, account: Int32, seq: Int, offset: Int, firstSeq: Int) {
            guard Int32(exactly: seq - firstSeq) != nil, offset >= -Self.offsetLimit, offset < Self.offsetLimit else {
                return nil
            }
            self.init(status: status, account: account, seq: seq, offset: offset, firstSeq: firstSeq)
        }

        // MARK: The grants' fields (the table's to change)

        private var grantsCode: UInt64 { packed >> Self.grantsShift }

        /// Whether it granted nothing.
        fileprivate var hasNoGrants: Bool { grantsCode == 0 }

        /// Whether its table keeps its grants.
        fileprivate var grantsKeptApart: Bool { grantsCode == Self.keptApart }

        /// Its one grant, when it is kept inline.
        fileprivate var inlineGrant: StoredGrant? {
            let code = grantsCode
            guard code != 0, code != Self.keptApart else { return nil }
            return StoredGrant(at: inlineAt, points: Int(inlinePoints), activity: Int32(code - 1), course: inlineCourse)
        }

        /// Whether `grant` fits the inline fields.
        fileprivate static func fitsInline(_ grant: StoredGrant) -> Bool {
            Int32(exactly: grant.points) != nil && grant.activity >= 0 && UInt64(grant.activity) + 1 < keptApart
        }

        /// Keeps `grant` inline, as its only grant; it must fit (see `fitsInline`).
        fileprivate mutating func setInline(_ grant: StoredGrant) {
            packed = packed & ~(Self.keptApart << Self.grantsShift) | UInt64(grant.activity + 1) << Self.grantsShift
            (inlineAt, inlinePoints, inlineCourse) = (grant.at, Int32(grant.points), grant.course)
        }

        /// Marks it as granting nothing (`keptApart`: false), or as having its grants kept by
        /// the table.
        fileprivate mutating func clearInline(keptApart: Bool) {
            packed = packed & ~(Self.keptApart << Self.grantsShift) | (keptApart ? Self.keptApart << Self.grantsShift : 0)
            (inlineAt, inlinePoints, inlineCourse) = (0, 0, -1)
        }

        /// Sets its fields to `other`'s, all but the grants'.
        fileprivate mutating func setFields(to other: Tracked) {
            let mask = Self.keptApart << Self.grantsShift
            packed = packed & mask | other.packed & ~mask
            (storedSeq, behind, account) = (other.storedSeq, other.behind, other.account)
        }

        /// Equal but for the grants.
        fileprivate func sameFields(as other: Tracked) -> Bool {
            let mask = ~(Self.keptApart << Self.grantsShift)
            return storedSeq == other.storedSeq && packed & mask == other.packed & mask && behind == other.behind
                && account == other.account
        }
    }
}

/// The index's tracked events, by event id (an `EventTable` of `State.Tracked`), and what
/// each one granted.
///
/// An entry keeps its one grant itself. The grants of an entry with more (a bonus line on
/// the event, a move that took one back and granted another) or with one too wide for its
/// inline fields are kept here, by entry number: nothing, for nearly every export.
/// An entry's grants change only through `add(_:to:)` and `takeGrant(from:where:)`:
/// writing an entry changes its other fields, and a new entry starts with none.
public struct TrackedTable: Sequence, Equatable, Sendable {
    public typealias Element = (key: EventKey, value: State.Tracked)

    fileprivate var entries = EventTable<State.Tracked>()
    /// Entry number → its grants, in the order granted, for the entries marked `grantsKeptApart`.
    fileprivate var keptApart: [Int32: [State.StoredGrant]] = [:]

    public init() {}

    public var count: Int { entries.count }

    /// The number of the entry for `key` (for `subscript(at:)`), or nil when it is not tracked.
    public func index(forKey key: EventKey) -> Int? { entries.index(forKey: key) }

    /// See `EventTable.prefetch`.
    @inline(__always)
    func prefetch(high: UInt64, low: UInt64, entry: Bool) { entries.prefetch(high: high, low: low, entry: entry) }

    public func key(at index: Int) -> EventKey { entries.key(at: index) }

    /// The entry numbered `index`; what is written changes its fields but not its grants.
    public subscript(at index: Int) -> State.Tracked {
        get { entries[at: index] }
        set { entries[at: index].setFields(to: newValue) }
    }

    /// The entry for `key`; setting one adds it (with no grants) when missing. (Nothing is
    /// ever removed.)
    public subscript(key: EventKey) -> State.Tracked? {
        get { entries[key] }
        set {
            guard let newValue else { preconditionFailure("events are never removed from the index") }
            set(newValue, for: key, at: index(forKey: key))
        }
    }

    /// Sets the entry for `key`, whose number `index(forKey:)` just gave (nil: not tracked,
    /// so it is added, with no grants, without searching again).
    mutating func set(_ entry: State.Tracked, for key: EventKey, at index: Int?) {
        if let index {
            self[at: index] = entry
        } else {
            var entry = entry
            entry.clearInline(keptApart: false)
            entries.set(entry, for: key, at: nil)
        }
    }

    /// Adds `entry` for `key`, which is not tracked, with `grant` as its first grant: one
    /// write of the entry, for the byte lane's completions.
    mutating func append(_ entry: State.Tracked, for key: EventKey, granting grant: State.StoredGrant) {
        guard State.Tracked.fitsInline(grant) else {
            set(entry, for: key, at: nil)
            return add(grant, to: count - 1)
        }
        var entry = entry
        entry.setInline(grant)
        entries.set(entry, for: key, at: nil)
    }

    /// Makes room for `capacity` entries without growing the slot table again.
    public mutating func reserveCapacity(_ capacity: Int) { entries.reserveCapacity(capacity) }

    // MARK: Grants

    /// The grants of the entry numbered `index`, in the order granted.
    func grants(of index: Int) -> [State.StoredGrant] {
        let entry = entries[at: index]
        if let grant = entry.inlineGrant { return [grant] }
        return entry.grantsKeptApart ? keptApart[Int32(index)] ?? [] : []
    }

    /// Calls `body` with each grant of the entry numbered `index`, in order, without an
    /// array of them.
    func forEachGrant(of index: Int, _ body: (State.StoredGrant) throws -> Void) rethrows {
        let entry = entries[at: index]
        if let grant = entry.inlineGrant {
            try body(grant)
        } else if entry.grantsKeptApart {
            for grant in keptApart[Int32(index)] ?? [] { try body(grant) }
        }
    }

    func grantCount(of index: Int) -> Int {
        let entry = entries[at: index]
        if entry.hasNoGrants { return 0 }
        return entry.grantsKeptApart ? keptApart[Int32(index)]?.count ?? 0 : 1
    }

    /// Adds `grant` after the other grants of the entry numbered `index`.
    mutating func add(_ grant: State.StoredGrant, to index: Int) {
        precondition(grant.activity >= 0, "a grant has an activity")
        let entry = entries[at: index]
        if entry.hasNoGrants && State.Tracked.fitsInline(grant) {
            entries[at: index].setInline(grant)
        } else if entry.grantsKeptApart {
            keptApart[Int32(index), default: []].append(grant)
        } else {
            keptApart[Int32(index)] = (entry.inlineGrant.map { [$0] } ?? []) + [grant]
            entries[at: index].clearInline(keptApart: true)
        }
    }

    /// Removes the first grant of the entry numbered `index` that `matching` accepts, and
    /// returns it. A single grant left that fits goes back inline: how an entry keeps its
    /// grants follows from what they are, never from how they came.
    @discardableResult
    mutating func takeGrant(from index: Int, where matching: (State.StoredGrant) -> Bool) -> State.StoredGrant? {
        let entry = entries[at: index]
        if let grant = entry.inlineGrant {
            guard matching(grant) else { return nil }
            entries[at: index].clearInline(keptApart: false)
            return grant
        }
        let number = Int32(index)
        guard entry.grantsKeptApart, var grants = keptApart[number], let found = grants.firstIndex(where: matching) else {
            return nil
        }
        let taken = grants.remove(at: found)
        if grants.count > 1 || grants.count == 1 && !State.Tracked.fitsInline(grants[0]) {
            keptApart[number] = grants
        } else {
            keptApart[number] = nil
            if let only = grants.first {
                entries[at: index].setInline(only)
            } else {
                entries[at: index].clearInline(keptApart: false)
            }
        }
        return taken
    }

    // MARK: Sequence

    public func makeIterator() -> EventTable<State.Tracked>.Iterator { entries.makeIterator() }
    public var underestimatedCount: Int { count }

    // MARK: Equality

    /// The same keys, with equal entries and grants, in any order.
    public static func == (lhs: TrackedTable, rhs: TrackedTable) -> Bool {
        lhs.same(as: rhs) { mine, theirs in
            let entry = lhs.entries[at: mine]
            return entry == rhs.entries[at: theirs]
                && (!entry.grantsKeptApart || lhs.keptApart[Int32(mine)] == rhs.keptApart[Int32(theirs)])
        }
    }

    /// The same keys, with equal entries and the same grants, each side's named by its own
    /// state's numbers.
    func same(as other: TrackedTable, _ mine: State.Numbering, _ theirs: State.Numbering) -> Bool {
        same(as: other) { index, theirIndex in
            let entry = entries[at: index], their = other.entries[at: theirIndex]
            guard entry.sameFields(as: their) else { return false }
            if let grant = entry.inlineGrant, let theirGrant = their.inlineGrant {
                return mine.grant(grant) == theirs.grant(theirGrant)
            }
            let grants = self.grants(of: index), theirGrants = other.grants(of: theirIndex)
            return grants.count == theirGrants.count && zip(grants, theirGrants).allSatisfy { mine.grant($0) == theirs.grant($1) }
        }
    }

    /// The same keys, the entries of each key numbered `index` here and `theirs` in `other`
    /// being ones that `equal` holds to be the same.
    private func same(as other: TrackedTable, byEntry equal: (_ index: Int, _ theirs: Int) -> Bool) -> Bool {
        guard count == other.count else { return false }
        for index in 0..<count {
            guard let theirs = other.index(forKey: key(at: index)), equal(index, theirs) else { return false }
        }
        return true
    }
}

extension TrackedTable {
    /// Fills a table with entries whose keys are known to be distinct (an index read back),
    /// each with its grants, as `EventTableLoader` does.
    struct Loader {
        private var entries: EventTableLoader<State.Tracked>
        private var keptApart: [Int32: [State.StoredGrant]] = [:]
        private var count: Int32 = 0

        init(capacity: Int) { entries = EventTableLoader(capacity: capacity) }

        /// Adds the next entry, with `grants` in the order granted.
        mutating func append(_ key: EventKey, _ entry: State.Tracked, grants: [State.StoredGrant]) {
            var entry = entry
            if grants.count == 1 && State.Tracked.fitsInline(grants[0]) {
                entry.setInline(grants[0])
            } else {
                entry.clearInline(keptApart: !grants.isEmpty)
                if !grants.isEmpty { keptApart[count] = grants }
            }
            entries.append(key, entry)
            count += 1
        }

        /// The table; nil when a key came twice.
        consuming func finish() -> TrackedTable? {
            guard let table = entries.finish() else { return nil }
            var tracked = TrackedTable()
            tracked.entries = table
            tracked.keptApart = keptApart
            return tracked
        }
    }
}
