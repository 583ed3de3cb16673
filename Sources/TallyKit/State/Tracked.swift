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
    public struct Tracked: Equatable, Sendable {
        /// The seq of the line in force, and its byte offset in `events.jsonl` (-1 until the
        /// ledger has placed a line staged in this run: see `place(_:at:)`).
        public var seq: Int
        public var offset: Int
        /// The seq of the event's first line: the order in which an email's events are re-homed.
        public var firstSeq: Int
        /// The number of the account of the student who has it (see `student(of:)`); -1 for
        /// nobody. A number, not the id: no reference to count for millions of entries.
        public var account: Int32
        public var status: EventStatus
        /// The grants, first inline (one award per event is the rule; `activity` -1 when
        /// there is none, which costs less room than an optional), the rest after it.
        private var first = StoredGrant(at: 0, points: 0, activity: -1, course: -1)
        private var more: [StoredGrant] = []

        init(status: EventStatus, account: Int32, seq: Int, offset: Int, firstSeq: Int) {
            self.status = status
            self.account = account
            self.seq = seq
            self.offset = offset
            self.firstSeq = firstSeq
        }

        /// The grants, in the order granted.
        var grants: [StoredGrant] { first.activity < 0 ? [] : [first] + more }

        var hasGrants: Bool { first.activity >= 0 }

        /// Calls `body` with each grant, in order, without an array of them.
        func forEachGrant(_ body: (StoredGrant) throws -> Void) rethrows {
            guard first.activity >= 0 else { return }
            try body(first)
            for grant in more { try body(grant) }
        }

        var grantCount: Int { first.activity < 0 ? 0 : 1 + more.count }

        mutating func add(_ new: StoredGrant) {
            precondition(new.activity >= 0, "a grant has an activity")
            if first.activity < 0 { first = new } else { more.append(new) }
        }

        /// Removes the first grant that `matching` accepts, and returns it.
        @discardableResult
        mutating func take(_ matching: (StoredGrant) -> Bool) -> StoredGrant? {
            if first.activity >= 0, matching(first) {
                let taken = first
                first = more.isEmpty ? StoredGrant(at: 0, points: 0, activity: -1, course: -1) : more.removeFirst()
                return taken
            } else if let index = more.firstIndex(where: matching) {
                return more.remove(at: index)
            }
            return nil
        }

        /// The same, with the other entry's grants named by its own state's numbers.
        func same(as other: Tracked, _ mine: Numbering, _ theirs: Numbering) -> Bool {
            guard seq == other.seq, offset == other.offset, firstSeq == other.firstSeq, account == other.account,
                  status == other.status, grantCount == other.grantCount else { return false }
            return zip(grants, other.grants).allSatisfy { mine.grant($0) == theirs.grant($1) }
        }
    }
}
