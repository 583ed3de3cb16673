/// A tracked event and what it granted: the entries of `State.tracked`.
extension State {
    /// What an award line granted that a move of its event takes back: points, or a course.
    /// (Badges and unlocks are sticky: a move never takes them back, so they are not kept.)
    /// Handed out by `grants(of:)`; a tracked entry keeps it by number, as `StoredGrant`.
    public struct Grant: Equatable, Sendable {
        public var at: Timestamp
        public var points: Int
        public var activity: String
        public var course: String?
    }

    /// A grant as a tracked entry keeps it: its activity and its course by number (in
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

    /// An event that is applied or waiting: who has it, where its line in force is, and what
    /// it granted. The event itself stays in `events.jsonl`; a move reads it back from there.
    ///
    /// Forty-eight bytes, where the plain fields took sixty-four: a big export tracks hundreds
    /// of thousands, the largest table of a sync. The first seq is kept as its distance
    /// behind `seq`, and the offset, the status and the first grant's activity share one
    /// word; a first grant whose points or activity do not fit its narrower fields is kept
    /// with the others, after it, at the cost of an array.
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
        /// The offset in the low 48 bits, the status's code in the next two, and the first
        /// grant's activity plus one in the top fourteen (0: no first grant).
        private var packed: UInt64 = 0
        /// The first grant, inline (one award per event is the rule): its time, points and course.
        private var firstAt: Int64 = 0
        private var more: [StoredGrant] = []
        /// The number of the account of the student who has it (see `student(of:)`); -1 for
        /// nobody. A number, not the id: no reference to count for millions of entries.
        /// (Stored fields are laid out in the order declared: the narrow ones go last.)
        public var account: Int32
        private var firstPoints: Int32 = 0
        private var firstCourse: Int32 = -1
        /// `seq - firstSeq`.
        private var behind: Int32 = 0

        private static let offsetMask: UInt64 = (1 << 48) - 1
        private static let offsetLimit = 1 << 47
        private static let activityLimit = (1 << 14) - 1

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

        private var firstActivity: Int32 { Int32(truncatingIfNeeded: packed >> 50) - 1 }

        private var first: StoredGrant? {
            guard firstActivity >= 0 else { return nil }
            return StoredGrant(at: firstAt, points: Int(firstPoints), activity: firstActivity, course: firstCourse)
        }

        private mutating func setFirst(_ grant: StoredGrant?) {
            packed &= (1 << 50) - 1
            guard let grant else { return }
            packed |= UInt64(grant.activity + 1) << 50
            (firstAt, firstPoints, firstCourse) = (grant.at, Int32(grant.points), grant.course)
        }

        /// Whether `grant` fits the inline fields.
        private static func fitsInline(_ grant: StoredGrant) -> Bool {
            Int32(exactly: grant.points) != nil && grant.activity < Int32(activityLimit)
        }

        /// The grants, in the order granted.
        var grants: [StoredGrant] {
            guard let first else { return more }
            return [first] + more
        }

        var hasGrants: Bool { firstActivity >= 0 || !more.isEmpty }

        /// Calls `body` with each grant, in order, without an array of them.
        func forEachGrant(_ body: (StoredGrant) throws -> Void) rethrows {
            if let first { try body(first) }
            for grant in more { try body(grant) }
        }

        var grantCount: Int { (firstActivity >= 0 ? 1 : 0) + more.count }

        mutating func add(_ new: StoredGrant) {
            precondition(new.activity >= 0, "a grant has an activity")
            // Inline only as the first of all: the order granted is the inline one, then `more`.
            if firstActivity < 0 && more.isEmpty && Self.fitsInline(new) { setFirst(new) } else { more.append(new) }
        }

        /// Removes the first grant that `matching` accepts, and returns it.
        @discardableResult
        mutating func take(_ matching: (StoredGrant) -> Bool) -> StoredGrant? {
            if let first, matching(first) {
                setFirst(nil)
                if let next = more.first, Self.fitsInline(next) { setFirst(more.removeFirst()) }
                return first
            } else if let index = more.firstIndex(where: matching) {
                return more.remove(at: index)
            }
            return nil
        }

        /// Equal fields and grants, however the grants are stored.
        public static func == (lhs: Tracked, rhs: Tracked) -> Bool {
            lhs.seq == rhs.seq && lhs.offset == rhs.offset && lhs.firstSeq == rhs.firstSeq && lhs.account == rhs.account
                && lhs.status == rhs.status && lhs.grants == rhs.grants
        }

        /// The same, with the other entry's grants named by its own state's numbers.
        func same(as other: Tracked, _ mine: Numbering, _ theirs: Numbering) -> Bool {
            guard seq == other.seq, offset == other.offset, firstSeq == other.firstSeq, account == other.account,
                  status == other.status, grantCount == other.grantCount else { return false }
            return zip(grants, other.grants).allSatisfy { mine.grant($0) == theirs.grant($1) }
        }
    }
}
