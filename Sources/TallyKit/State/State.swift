/// Everything Tally knows, as a fold of its ledgers: the students the site shows, and the
/// index the scoring core decides with (which ids were seen, who owns which email, which
/// events are applied to whom and what they granted).
///
/// The state changes only through `apply(_:)` of ledger records. The live path folds each
/// record as it stages it, and `tally rebuild` folds the same records read back from disk,
/// so the snapshot and a rebuild agree by construction, and a test can prove it.
public struct State: Equatable, Sendable {
    public static let format = 1

    /// An event that is applied or waiting, with what its award lines granted.
    public struct Tracked: Equatable, Sendable {
        public var record: EventRecord
        public var awards: [PointsRecord]
        /// The seq of the event's first line: the order in which an email's events are re-homed.
        public var firstSeq: Int
    }

    /// A student as the roster lists them.
    public struct RosterStudent: Equatable, Sendable {
        public var name: String?
        public var isPublic: Bool
        public var emails: [Email]
    }

    /// Per student: the figures, plus what the index needs to decide the next event.
    struct Account: Equatable, Sendable {
        var state = StudentState()
        var latestName: String?
        var applied = 0
        var completed: [String: String] = [:]   // course → event id
        var passed: [String: String] = [:]      // quiz → event id
    }

    var accounts: [String: Account] = [:]
    public internal(set) var seen: Set<String> = []
    /// SHA-256 of every file fully processed: a re-dropped file is archived unread.
    public internal(set) var files: Set<String> = []
    public internal(set) var tracked: [String: Tracked] = [:]
    /// Event ids per email, in ledger order: what is re-homed when the email changes hands.
    var byEmail: [Email: [String]] = [:]
    public internal(set) var roster: [String: RosterStudent] = [:]
    /// Email → student, from roster entries and links.
    public internal(set) var bindings: [Email: String] = [:]
    public internal(set) var positions = Positions()

    public init() {}

    /// Where each ledger stood when this state was made.
    public struct Positions: Equatable, Sendable {
        public struct Mark: Equatable, Sendable {
            public var seq = 0
            public var bytes = 0
        }
        public var events = Mark()
        public var points = Mark()
        public var unmatched = Mark()
        public var rejected = Mark()
        public var audit = Mark()
    }

    // MARK: - Queries

    /// The students as the snapshot and the site see them, with levels from `rules`.
    /// Listed: roster students, and anyone with an applied event.
    public func students(rules: Rules) -> [String: StudentState] {
        var result: [String: StudentState] = [:]
        result.reserveCapacity(accounts.count + roster.count)
        for (id, account) in accounts where account.applied > 0 || roster[id] != nil {
            var student = account.state
            student.name = roster[id]?.name ?? account.latestName
            student.isPublic = roster[id]?.isPublic ?? true
            student.level = rules.level(forXP: student.xp)
            result[id] = student
        }
        for (id, entry) in roster where result[id] == nil {
            result[id] = StudentState(name: entry.name, level: rules.level(forXP: 0), isPublic: entry.isPublic)
        }
        return result
    }

    /// The roster is in force: from the first roster entry on, or from the start when required.
    public func isRosterMode(_ rules: Rules) -> Bool { rules.rosterRequired || !roster.isEmpty }

    /// Who an email belongs to now: its binding, else itself in open mode, else nobody.
    public func owner(of email: Email, rules: Rules) -> String? {
        if let bound = bindings[email] { return bound }
        return isRosterMode(rules) ? nil : email.value
    }

    func hasCompleted(_ student: String, course: String) -> Bool { accounts[student]?.completed[course] != nil }
    func hasPassed(_ student: String, quiz: String) -> Bool { accounts[student]?.passed[quiz] != nil }
    func student(_ id: String) -> StudentState? { accounts[id]?.state }
    public func eventIDs(of email: Email) -> [String] { byEmail[email] ?? [] }

    // MARK: - The fold

    /// Folds one line of `events.jsonl` (or its copy in `unmatched.jsonl`'s terms).
    public mutating func apply(_ record: EventRecord) {
        let event = record.event
        seen.insert(event.id)
        positions.events.seq = max(positions.events.seq, record.seq)
        switch event.kind {
        case .rosterEntry:
            guard let student = record.student, let email = event.email else { return }
            if let previous = bindings[email], previous != student {
                roster[previous]?.emails.removeAll { $0 == email }
                if roster[previous]?.emails.isEmpty == true { roster[previous] = nil }
            }
            var entry = roster[student] ?? RosterStudent(name: nil, isPublic: true, emails: [])
            if let name = event.name { entry.name = name }
            entry.isPublic = event.isPublic ?? entry.isPublic
            if !entry.emails.contains(email) { entry.emails.append(email) }
            roster[student] = entry
            bindings[email] = student
            return
        case .rosterRemoved:
            guard let email = event.email, let student = bindings.removeValue(forKey: email) else { return }
            roster[student]?.emails.removeAll { $0 == email }
            if roster[student]?.emails.isEmpty == true { roster[student] = nil }
            return
        case .link:
            guard let email = event.email, let student = record.student else { return }
            bindings[email] = student
            return
        default:
            break
        }
        let previous = tracked[event.id]
        // A new row that repeats a known event (or a course already completed) is remembered
        // by its id alone; only a re-homing line changes what an earlier line decided.
        if record.status == .duplicate && !(record.rehomed && previous != nil) { return }
        if let old = previous?.record, old.status == .applied, let student = old.student {
            accounts[student]?.applied -= 1
            if event.kind == .courseCompleted, let course = event.course, accounts[student]?.completed[course] == event.id {
                accounts[student]?.completed[course] = nil
            }
            if event.kind == .quizPassed, let quiz = event.quiz, accounts[student]?.passed[quiz] == event.id {
                accounts[student]?.passed[quiz] = nil
            }
        }
        if previous == nil, let email = event.email { byEmail[email, default: []].append(event.id) }
        tracked[event.id] = Tracked(record: record, awards: previous?.awards ?? [], firstSeq: previous?.firstSeq ?? record.seq)
        guard record.status == .applied, let student = record.student else { return }
        var account = accounts[student] ?? Account()
        account.applied += 1
        if let name = event.name, !name.isEmpty { account.latestName = name }
        if event.kind == .courseCompleted, let course = event.course { account.completed[course] = event.id }
        if event.kind == .quizPassed, let quiz = event.quiz { account.passed[quiz] = event.id }
        accounts[student] = account
    }

    /// Folds one line of `points.jsonl`.
    public mutating func apply(_ record: PointsRecord) {
        positions.points.seq = max(positions.points.seq, record.seq)
        var account = accounts[record.student] ?? Account()
        account.state.xp += record.points
        if record.points != 0 { account.state.reachedAt = record.seq }
        switch record.change {
        case .award:
            if let course = record.course, !account.state.courses.contains(course) { account.state.courses.append(course) }
            if let badge = record.badge, !account.state.badges.contains(badge) { account.state.badges.append(badge) }
            if let unlock = record.unlock, !account.state.unlocks.contains(unlock) { account.state.unlocks.append(unlock) }
            var award = record
            award.prev = ""   // the chain is the ledger's business; the index keeps what was granted
            tracked[record.event]?.awards.append(award)
        case .revoke:
            if let course = record.course { account.state.courses.removeAll { $0 == course } }
            if var entry = tracked[record.event],
               let index = entry.awards.firstIndex(where: { $0.student == record.student && $0.activity == record.activity
                   && $0.points == -record.points && $0.course == record.course }) {
                entry.awards.remove(at: index)
                tracked[record.event] = entry
            }
        }
        accounts[record.student] = account
    }

    /// Marks a file as processed (from its `file_done` audit line).
    public mutating func markProcessed(sha256: String) { files.insert(sha256) }
}
