/// Everything Tally knows, as a fold of its ledgers: the students the site shows, and the
/// index the scoring core decides with (which ids were seen, who owns which email, which
/// events are applied to whom and what they granted).
///
/// The state changes only through `apply(_:)` of ledger records. The live path folds each
/// record as it stages it, and `tally rebuild` folds the same records read back from disk,
/// so the snapshot and a rebuild agree by construction, and a test can prove it.
public struct State: Equatable, Sendable {
    /// The format of `state.json`.
    public static let format = 1
    /// The format of `index.bin`.
    public static let indexFormat = 9

    /// A student as the roster lists them.
    public struct RosterStudent: Equatable, Sendable {
        public var name: String?
        public var isPublic: Bool
        public var emails: [Email]
    }

    /// What a state's numbers stand for: its course names and its tracked events' ids. Two
    /// states that are equal may number them differently (the order things were first met).
    struct Numbering {
        let courses: NumberedNames
        let activities: NumberedNames
        let tracked: TrackedTable
        func key(_ event: Int32) -> EventKey { tracked.key(at: Int(event)) }
        /// A stored grant with its names.
        func grant(_ stored: StoredGrant) -> Grant {
            Grant(at: Timestamp(milliseconds: stored.at), points: stored.points, activity: activities[stored.activity],
                  course: stored.course < 0 ? nil : courses[stored.course])
        }
    }

    var numbering: Numbering { Numbering(courses: courses, activities: activities, tracked: tracked) }

    var accounts = AccountTable()
    /// The ids seen that `tracked` does not hold (duplicates, roster lines, links): every
    /// id seen is in one of the two, and most are only in `tracked` — a big export's index
    /// keeps each of its millions of ids once. Ask `hasSeen(_:)`.
    public internal(set) var seen = EventSet()
    /// SHA-256 of every file fully processed: a re-dropped file is archived unread.
    public internal(set) var files: Set<String> = []
    /// The events applied or waiting.
    public internal(set) var tracked = TrackedTable()
    /// Events per email, in ledger order: what is re-homed when the email changes hands.
    var byEmail = EmailEvents()
    public internal(set) var roster: [String: RosterStudent] = [:]
    /// Email → student, from roster entries and links.
    public internal(set) var bindings: [Email: String] = [:]
    /// Kajabi contact id → the email it first came with: later events of that contact
    /// count as that email's, whatever address they bring, so they belong to its owner and
    /// move with it (a roster, a link). Folded from the event lines (which keep `contact`),
    /// so a rebuild finds it again.
    public internal(set) var contacts: [String: Email] = [:]
    public internal(set) var positions = Positions()
    /// The awards the caps count, built when a cap is first checked (see `CapLedger`).
    var capLedger: CapLedger?
    /// Course names, kept once and numbered: every student's list shares these strings, and
    /// the completed courses and the grants keep them by number. Spellings that fold alike
    /// (`CourseName`) are one course, named by the first spelling met.
    var courses = NumberedNames(folding: true)
    /// The activities of the grants, by number.
    var activities = NumberedNames()

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

    public static func == (lhs: State, rhs: State) -> Bool {
        // Courses and tracked events by name and id: two equal states may number them apart.
        let (mine, theirs) = (lhs.numbering, rhs.numbering)
        return lhs.accounts.same(as: rhs.accounts, mine, theirs) && lhs.seen == rhs.seen && lhs.files == rhs.files
            && lhs.tracked.same(as: rhs.tracked, mine, theirs)
            && lhs.byEmail.same(as: rhs.byEmail, mine, theirs) && lhs.roster == rhs.roster
            && lhs.bindings == rhs.bindings && lhs.contacts == rhs.contacts && lhs.positions == rhs.positions
    }

    // MARK: - Queries

    /// The students as the snapshot and the site see them, with levels from `rules`.
    /// Listed: roster students, and anyone with an applied event.
    public func students(rules: Rules) -> [String: StudentState] {
        listed(rules: rules).dictionary
    }

    /// The students of `students(rules:)` as two arrays in no particular order: what a
    /// batch's snapshot and render go through, with no table of a hundred thousand
    /// students to build (and hold next to the state) only to be read in order.
    func listed(rules: Rules) -> StudentListing {
        var ids: [String] = [], listed: [StudentListing.Listed] = []
        ids.reserveCapacity(accounts.count + roster.count)
        listed.reserveCapacity(accounts.count + roster.count)
        let hasRoster = !roster.isEmpty
        accounts.list.withUnsafeBufferPointer { list in
            for (index, id) in accounts.ids.enumerated() where list[index].applied > 0 || (hasRoster && roster[id] != nil) {
                let entry = hasRoster ? roster[id] : nil
                ids.append(id)
                // With a roster in force, a student not on it (removed from it, but still holding
                // an email by `tally link`) is not shown by a name the roster never gave.
                listed.append(StudentListing.Listed(account: Int32(index), isPublic: entry?.isPublic ?? !hasRoster,
                                                    name: entry?.name ?? list[index].latestName,
                                                    level: rules.level(forXP: list[index].xp)))
            }
        }
        // Roster students with no account yet (one with an account is listed above).
        for (id, entry) in roster where accounts.index(of: id) == nil {
            ids.append(id)
            listed.append(StudentListing.Listed(account: -1, isPublic: entry.isPublic, name: entry.name,
                                                level: rules.level(forXP: 0)))
        }
        return StudentListing(ids: ids, listed: listed, accounts: accounts.list, courseNames: courses.names)
    }

    /// The roster is in force: from the first roster entry on, or from the start when required.
    public func isRosterMode(_ rules: Rules) -> Bool { rules.rosterRequired || !roster.isEmpty }

    /// Who an email belongs to now: its binding, else itself in open mode, else nobody.
    public func owner(of email: Email, rules: Rules) -> String? {
        if !bindings.isEmpty, let bound = bindings[email] { return bound }
        return isRosterMode(rules) ? nil : email.value
    }

    /// The email an event counts under: its contact's first email, else its own.
    public func anchor(of event: Event) -> Email? {
        if !contacts.isEmpty, let contact = event.contact, let first = contacts[contact] { return first }
        return event.email
    }

    /// Who an event belongs to: the owner of the email it counts under.
    public func owner(of event: Event, rules: Rules) -> String? {
        anchor(of: event).flatMap { owner(of: $0, rules: rules) }
    }

    /// What the tracked event numbered `entry` granted, with its names.
    func grants(of entry: Int) -> [Grant] { tracked.grants(of: entry).map(numbering.grant) }

    /// The student who has a tracked event, if anyone.
    func student(of entry: Tracked) -> String? { entry.account >= 0 ? accounts.ids[Int(entry.account)] : nil }

    /// Whether an event with this id was seen before, whatever became of it.
    func hasSeen(_ key: EventKey) -> Bool { tracked.index(forKey: key) != nil || seen.contains(key) }

    /// The email `event` counts under when its id already names a tracked event of another
    /// email, else nil. Then the id is not the response's (an export's `Submission ID`
    /// numbered per form, an `id_column` that repeats), and the row is not a duplicate of that
    /// event. Never for a content id (it hashes the email), nor for purchases (a refund finds
    /// its purchase by id).
    func sameIDAnotherEmail(_ event: Event) -> Email? {
        switch event.kind {
        case .purchaseCreated, .paymentSucceeded, .purchaseRefunded: return nil
        default: break
        }
        guard let entry = tracked.index(forKey: event.key), let email = anchor(of: event),
              !(byEmail[email.value]?.contains(Int32(entry)) ?? false) else { return nil }
        return email
    }

    // Through the account's index, so no copy of the whole account is made to ask one question.
    // Mutating only to remember the account found, for the fold of the line that follows.
    mutating func hasCompleted(_ student: String, course: String) -> Bool {
        guard let number = courses.number(of: course), let index = accounts.find(student) else { return false }
        return accounts.list.withUnsafeBufferPointer { $0[index].courses.contains(number) }
    }

    func hasPassed(_ student: String, quiz: String) -> Bool {
        guard let index = accounts.index(of: student) else { return false }
        return accounts.list[index].passed[quiz] != nil
    }

    func student(_ id: String) -> StudentState? { accounts.index(of: id).map { accounts.list[$0].figures(courses) } }

    /// The points of `activity` that `student` already has in force and that a cap of `days`
    /// days (nil: ever) counts against an award at `time` (see `CapLedger.used`). `capped` is
    /// every activity the rules cap: the ledger is built for them on the first call.
    mutating func capUsed(by student: String, activity: String, at time: Timestamp, days: Int?,
                          capped: Set<String>) -> Int {
        if capLedger?.activities != capped { capLedger = CapLedger(activities: capped, numbering: numbering) }
        guard let index = accounts.index(of: student), let ledger = capLedger else { return 0 }
        return ledger.used(by: Int32(index), activity: activity, at: time.milliseconds, days: days)
    }
    public func eventKeys(of email: Email) -> [EventKey] {
        (byEmail[email.value] ?? []).map { tracked.key(at: Int($0)) }
    }

    /// Files the tracked event numbered `event` under the email it counts under.
    private mutating func file(_ event: Int, under email: Email) { byEmail.file(Int32(event), under: email.value) }

    /// The account of `student`, made when missing.
    private mutating func accountIndex(_ student: String) -> Int { accounts.findOrAdd(student) }

    // MARK: - The fold

    /// Folds one line of `events.jsonl`, which starts at byte `offset` (-1: not yet placed).
    public mutating func apply(_ record: EventRecord, offset: Int = -1) {
        // `record.event` throughout, not a local copy of it: copying an event retains each of
        // its strings, and this runs for every row of every file.
        let key = record.event.key
        positions.events.seq = max(positions.events.seq, record.seq)
        switch record.event.kind {
        case .rosterEntry:
            seen.insert(key)
            guard let student = record.student, let email = record.event.email else { return }
            if let previous = bindings[email], previous != student {
                roster[previous]?.emails.removeAll { $0 == email }
                if roster[previous]?.emails.isEmpty == true { roster[previous] = nil }
            }
            var entry = roster[student] ?? RosterStudent(name: nil, isPublic: true, emails: [])
            if let name = record.event.name { entry.name = name }
            entry.isPublic = record.event.isPublic ?? entry.isPublic
            if !entry.emails.contains(email) { entry.emails.append(email) }
            roster[student] = entry
            bindings[email] = student
            return
        case .rosterRemoved:
            seen.insert(key)
            guard let email = record.event.email, let student = bindings.removeValue(forKey: email) else { return }
            roster[student]?.emails.removeAll { $0 == email }
            if roster[student]?.emails.isEmpty == true { roster[student] = nil }
            return
        case .link:
            seen.insert(key)
            guard let email = record.event.email, let student = record.student else { return }
            bindings[email] = student
            return
        default:
            break
        }
        // A contact is bound to the email of the first line that names it.
        if let contact = record.event.contact, let email = record.event.email, contacts[contact] == nil {
            contacts[contact] = email
        }
        // Found once: the entry is then changed, or added, without a second search.
        let found = tracked.index(forKey: key)
        let previous = found.map { tracked[at: $0] }
        // A new row that repeats a known event (or a course already completed) is remembered
        // by its id alone; only a re-homing line changes what an earlier line decided.
        if record.status == .duplicate && !(record.rehomed && previous != nil) {
            if previous == nil { seen.insert(key) }
            return
        }
        if let old = previous, old.status == .applied, old.account >= 0 {
            let index = Int(old.account)
            accounts.list[index].applied -= 1
            if record.event.kind == .courseCompleted, let course = record.event.course, let number = courses.number(of: course),
               accounts.list[index].courses[number] == found.map(Int32.init) {
                accounts.list[index].courses[number] = nil
            }
            if record.event.kind == .quizPassed, let quiz = record.event.quiz, accounts.list[index].passed[quiz] == key {
                accounts.list[index].passed[quiz] = nil
            }
        }
        // Filed under the email it counts under, so a move of that email moves it too.
        // The entry's number: the one it has, else the next (it is added below, on every path).
        let entryNumber = found ?? tracked.count
        precondition(entryNumber < Int(Int32.max), "too many tracked events")
        if previous == nil, let email = anchor(of: record.event) { file(entryNumber, under: email) }
        // The grants and the first seq stay; the rest is this line's.
        var entry = previous ?? Tracked(status: record.status, account: -1, seq: record.seq, offset: offset,
                                        firstSeq: record.seq)
        (entry.status, entry.account, entry.seq, entry.offset) = (record.status, -1, record.seq, offset)
        guard record.status == .applied, let student = record.student else {
            if let student = record.student { entry.account = Int32(accountIndex(student)) }
            tracked.set(entry, for: key, at: found)
            return
        }
        let index = accountIndex(student)
        entry.account = Int32(index)
        accounts.list[index].applied += 1
        if let name = record.event.name, !name.isEmpty { accounts.list[index].latestName = name }
        if record.event.kind == .courseCompleted, let course = record.event.course {
            // The first completion stays the course's: a second applied line of one course
            // comes only from a ledger written before course names were folded (two
            // spellings, each applied), whose awards stand.
            let number = courses.number(for: course)
            if !accounts.list[index].courses.contains(number) { accounts.list[index].courses[number] = Int32(entryNumber) }
        }
        if record.event.kind == .quizPassed, let quiz = record.event.quiz { accounts.list[index].passed[quiz] = key }
        tracked.set(entry, for: key, at: found)
    }

    /// Records where the ledger put event lines that were folded before they were written.
    public mutating func place(_ records: [EventRecord], at offsets: [Int]) {
        // By index into the buffer, not `zip`: that would copy each record (and retain its strings).
        records.withUnsafeBufferPointer { records in
            for index in 0..<min(records.count, offsets.count) {
                guard records[index].status != .duplicate || records[index].rehomed else { continue }
                if let entry = tracked.index(forKey: records[index].event.key), tracked[at: entry].seq == records[index].seq {
                    tracked[at: entry].offset = offsets[index]
                }
            }
        }
    }

    /// Folds one line of `points.jsonl`.
    public mutating func apply(_ record: PointsRecord) { apply(record, eventKey: EventKey(record.event)) }

    /// Folds one line of `points.jsonl` whose event's key the caller has (scoring does):
    /// `record.event` is then not parsed back into one.
    mutating func apply(_ record: PointsRecord, eventKey: EventKey) {
        positions.points.seq = max(positions.points.seq, record.seq)
        let index = accountIndex(record.student)
        accounts.list[index].xp += record.points
        if record.points != 0 { accounts.list[index].reachedAt = record.seq }
        let courseNumber = record.course.map { courses.number(for: $0) }
        let course = courseNumber.map { courses[$0] }   // the one stored copy of its name
        switch record.change {
        case .award:
            if let courseNumber { accounts.list[index].courses.list(courseNumber) }
            if let badge = record.badge, !accounts.list[index].badges.contains(badge) { accounts.list[index].badges.append(badge) }
            if let unlock = record.unlock, !accounts.list[index].unlocks.contains(unlock) { accounts.list[index].unlocks.append(unlock) }
            // Kept for a move to take back: what is not sticky.
            if record.points != 0 || course != nil, let entry = tracked.index(forKey: eventKey) {
                tracked.add(StoredGrant(at: record.at.milliseconds, points: record.points,
                                        activity: activities.number(for: record.activity), course: courseNumber ?? -1),
                            to: entry)
                capLedger?.add(Grant(at: record.at, points: record.points, activity: record.activity, course: course),
                               account: Int32(index))
            }
            accounts.list[index].addToMonth(record.points, at: record.at)
        case .revoke:
            if let courseNumber { accounts.list[index].courses.unlist(courseNumber) }
            var taken: Grant?
            if let entry = tracked.index(forKey: eventKey), let activity = activities.number(of: record.activity) {
                let course = courseNumber ?? -1
                taken = tracked.takeGrant(from: entry) {
                    $0.activity == activity && $0.points == -record.points && $0.course == course
                }.map(numbering.grant)
            }
            if let taken { capLedger?.remove(taken, account: Int32(index)) }
            // Taken back from the month it was earned in (a refund's line is dated the refund).
            accounts.list[index].addToMonth(record.points, at: taken?.at ?? record.at)
        }
    }

    /// Marks a file as processed (from its `file_done` audit line).
    public mutating func markProcessed(sha256: String) { files.insert(sha256) }

    /// The entry of `files` that marks an email message as read: its `Message-ID` and the
    /// SHA-256 of what it carries, whatever its other bytes (the same message delivered twice
    /// differs in its `Received` lines). A reused `Message-ID` with other attachments is
    /// another message.
    public static func messageKey(messageID: String?, contentDigest: String) -> String {
        "message:" + (messageID ?? "") + ":" + contentDigest
    }
}
