/// The records one decision produced, in the order they go into the ledgers.
public struct Outcome: Equatable, Sendable {
    public var events: [EventRecord] = []
    public var points: [PointsRecord] = []
    /// Copies of events that wait for a roster entry (or were released from waiting).
    public var unmatched: [EventRecord] = []
    public init() {}

    public var isEmpty: Bool { events.isEmpty && points.isEmpty && unmatched.isEmpty }

    /// Empties the outcome for the next event, keeping its storage.
    public mutating func removeAll() {
        events.removeAll(keepingCapacity: true)
        points.removeAll(keepingCapacity: true)
        unmatched.removeAll(keepingCapacity: true)
    }
}

/// Reads back the line in force of an event the index tracks: a move (a roster arriving, a
/// `tally link`) re-states the whole event, which the index does not keep in memory.
public protocol EventLines {
    func record(seq: Int, offset: Int) throws -> EventRecord
}

/// Lines only in the outcome being made: enough for a run that starts from an empty state
/// and keeps one outcome (as the unit tests do).
public struct NoEventLines: EventLines {
    public init() {}
    public func record(seq: Int, offset: Int) throws -> EventRecord {
        throw RecordError("events.jsonl line \(seq) is not available to read back")
    }
}

/// The pure scoring core: given the state, an event and the rules, decide what the event
/// does, as ledger records; fold each record into the state as it is made.
///
/// No I/O happens here, but for reading back earlier event lines through `EventLines` when
/// an email changes hands. The same inputs give the same records, byte for byte, which is
/// what makes the ledgers reproducible and lets `verify` and `rebuild` prove a snapshot.
public enum Scoring {
    /// Decides `event`: a duplicate, waiting for a roster entry, or applied with its awards.
    /// Roster entries, removals and links re-home the events of the emails they touch.
    public static func apply(_ event: Event, to state: inout State, rules: Rules, into outcome: inout Outcome,
                             lines: some EventLines = NoEventLines()) throws {
        if event.kind.isPersonal {
            let event = state.sameIDAnotherEmail(event).map(event.reidentified(under:)) ?? event
            let owner = state.owner(of: event, rules: rules)
            if state.hasSeen(event.key) {
                record(event, owner, .duplicate, &state, &outcome)
            } else if let owner {
                decide(event, for: owner, &state, rules, &outcome, lines: lines)
            } else {
                record(event, nil, .unmatched, &state, &outcome)
                outcome.unmatched.append(EventRecord(event: event, student: nil, status: .unmatched))
            }
            return
        }
        try applyBindings([event], to: &state, rules: rules, into: &outcome, lines: lines)
    }

    /// Applies roster entries, roster removals and links together, then re-homes the emails
    /// they touch — every known email when they put the roster in force — so a whole roster
    /// lands at once and no email is withdrawn only to be bound by the next line.
    public static func applyBindings(_ events: [Event], to state: inout State, rules: Rules, into outcome: inout Outcome,
                                     lines: some EventLines = NoEventLines()) throws {
        // Whether a roster was there before these lines: its first entries re-home every known
        // email, even when `[roster] required` already put roster mode in force (turned on
        // after open-mode events, it left what those emails earned applied).
        let before = !state.roster.isEmpty
        var touched: [Email] = []
        for event in events where !event.kind.isPersonal {
            guard let email = event.email else { continue }
            record(event, event.kind == .rosterRemoved ? state.bindings[email] : event.student, .applied, &state, &outcome)
            touched.append(email)
        }
        let emails = !before && !state.roster.isEmpty ? state.byEmail.ids.sorted().map(Email.init(normalised:)) : touched
        for email in emails { try rehome(email, &state, rules, &outcome, lines) }
    }

    /// Moves every event of `email` to its current owner: revokes what it granted the old
    /// student, then applies it afresh to the new one (or leaves it waiting, unmatched).
    public static func rehome(_ email: Email, _ state: inout State, _ rules: Rules, _ outcome: inout Outcome,
                              _ lines: some EventLines) throws {
        // Events are filed under the email they count under (a contact's first), so every
        // event here has this owner.
        let owner = state.owner(of: email, rules: rules)
        for key in state.eventKeys(of: email) {
            guard let number = state.tracked.index(forKey: key) else { continue }
            let entry = state.tracked[at: number]
            let holder = state.student(of: entry)
            if entry.status == .applied && holder == owner { continue }
            if entry.status != .applied && owner == nil { continue }
            let current = try line(seq: entry.seq, offset: entry.offset, outcome, lines)
            if entry.status == .applied, let old = holder {
                let why = owner.map { "moved to \($0)" } ?? "withdrawn: \(email.value) is not on the roster"
                for grant in state.grants(of: number) {
                    emit(PointsRecord(at: grant.at, student: old, points: -grant.points, activity: grant.activity,
                                      event: current.event.id, reason: why, change: .revoke, course: grant.course), of: current.event.key, &state, &outcome)
                }
            }
            if let owner {
                if entry.status == .unmatched {
                    outcome.unmatched.append(EventRecord(event: current.event, student: owner, status: .applied))
                }
                decide(current.event, for: owner, &state, rules, &outcome, rehomed: true, lines: lines)
            } else {
                record(current.event, nil, .unmatched, &state, &outcome, rehomed: true)
                outcome.unmatched.append(EventRecord(event: current.event, student: nil, status: .unmatched))
            }
        }
    }

    /// The event line with `seq`: from the outcome being made, else read back from the ledger.
    static func line(seq: Int, offset: Int, _ outcome: Outcome, _ lines: some EventLines) throws -> EventRecord {
        var low = 0, high = outcome.events.count
        while low < high {
            let middle = (low + high) / 2
            if outcome.events[middle].seq < seq { low = middle + 1 } else { high = middle }
        }
        if low < outcome.events.count, outcome.events[low].seq == seq { return outcome.events[low] }
        return try lines.record(seq: seq, offset: offset)
    }

    /// Applies a personal event to `student`, or records it as a duplicate of what they have.
    static func decide(_ event: Event, for student: String, _ state: inout State, _ rules: Rules,
                       _ outcome: inout Outcome, rehomed: Bool = false, lines: some EventLines = NoEventLines()) {
        func record(_ event: Event, _ student: String?, _ status: EventStatus, _ state: inout State, _ outcome: inout Outcome) {
            Scoring.record(event, student, status, &state, &outcome, rehomed: rehomed)
        }
        switch event.kind {
        case .courseCompleted:
            guard let course = event.course, !state.hasCompleted(student, course: course) else {
                return record(event, student, .duplicate, &state, &outcome)
            }
            record(event, student, .applied, &state, &outcome)
            let award = capped(rules.points(forCourse: course), Activity.learn, for: student, at: event.at, &state, rules)
            emit(PointsRecord(at: event.at, student: student, points: award.points,
                              activity: Activity.learn, event: event.id, reason: "completed \(course)" + award.note, course: course),
                 of: event.key, &state, &outcome)
            awardBadges(to: student, at: event.at, event: event.id, key: event.key, &state, rules, &outcome)
        case .quizPassed:
            guard let quiz = event.quiz, !state.hasPassed(student, quiz: quiz) else {
                return record(event, student, .duplicate, &state, &outcome)
            }
            record(event, student, .applied, &state, &outcome)
            let award = capped(rules.quizPassed, Activity.quiz, for: student, at: event.at, &state, rules)
            emit(PointsRecord(at: event.at, student: student, points: award.points, activity: Activity.quiz,
                              event: event.id, reason: "passed \(quiz)" + award.note), of: event.key, &state, &outcome)
            for step in rules.unlocks[quiz] ?? [] where !(state.student(student)?.unlocks.contains(step) ?? false) {
                emit(PointsRecord(at: event.at, student: student, points: 0, activity: Activity.unlock, event: event.id,
                                  reason: "unlocked by \(quiz)", unlock: step), of: event.key, &state, &outcome)
            }
        case .manualAward:
            record(event, student, .applied, &state, &outcome)
            let award = capped(event.points ?? 0, Activity.manual, for: student, at: event.at, &state, rules)
            emit(PointsRecord(at: event.at, student: student, points: award.points, activity: Activity.manual,
                              event: event.id, reason: (event.reason ?? "manual award") + award.note), of: event.key, &state, &outcome)
        case .purchaseCreated:
            record(event, student, .applied, &state, &outcome)
            if rules.purchaseCreated != 0 {
                let award = capped(rules.purchaseCreated, Activity.purchase, for: student, at: event.at, &state, rules)
                emit(PointsRecord(at: event.at, student: student, points: award.points, activity: Activity.purchase,
                                  event: event.id, reason: "purchased \(event.offer ?? "an offer")" + award.note),
                     of: event.key, &state, &outcome)
            }
        case .purchaseRefunded:
            record(event, student, .applied, &state, &outcome)
            refund(event, &state, &outcome, lines)
        case .quizFailed, .formSubmitted, .rosterEntry, .rosterRemoved, .link, .tagAdded, .tagRemoved, .paymentSucceeded:
            record(event, student, .applied, &state, &outcome)
        }
    }

    /// Takes back what the refunded purchase still grants: found by its purchase id, else as
    /// the latest purchase of the same offer by the same email. A refund of a purchase Tally
    /// never saw changes nothing (its line records it).
    static func refund(_ refund: Event, _ state: inout State, _ outcome: inout Outcome, _ lines: some EventLines) {
        var target: (key: EventKey, id: String)?
        if let purchase = refund.purchase {
            let id = KajabiPayload.purchaseEventID(purchase)
            target = (EventKey(id), id)
        } else if let email = refund.email, let offer = refund.offer {
            for key in state.eventKeys(of: email).reversed() {
                guard let entry = state.tracked[key], entry.status == .applied,
                      let line = try? Scoring.line(seq: entry.seq, offset: entry.offset, outcome, lines),
                      line.event.kind == .purchaseCreated, line.event.offer == offer else { continue }
                target = (key, line.event.id)
                break
            }
        }
        guard let target, let number = state.tracked.index(forKey: target.key) else { return }
        let entry = state.tracked[at: number]
        guard entry.status == .applied, let holder = state.student(of: entry) else { return }
        for grant in state.grants(of: number) {
            emit(PointsRecord(at: refund.at, student: holder, points: -grant.points, activity: grant.activity,
                              event: target.id, reason: "refunded \(refund.offer ?? "a purchase")", change: .revoke,
                              course: grant.course), of: target.key, &state, &outcome)
        }
    }

    /// `points` of `activity` for `student` at `time`, cut to what the activity's caps still
    /// allow (never below 0; a negative award is not capped), with the reason's note when a
    /// cap cut it: " (capped: LEARN at most 40 in 7 days)". The line keeps its course,
    /// badge checks and unlocks whatever its points: a cap limits points, nothing else.
    static func capped(_ points: Int, _ activity: String, for student: String, at time: Timestamp,
                       _ state: inout State, _ rules: Rules) -> (points: Int, note: String) {
        guard points > 0, !rules.caps.isEmpty, let caps = rules.caps[activity] else { return (points, "") }
        var allowed = points
        var binding: Rules.Cap?
        for cap in caps {
            let used = state.capUsed(by: student, activity: activity, at: time, days: cap.days, capped: rules.cappedActivities)
            let left = max(0, cap.max - used)
            if left < allowed {
                allowed = left
                binding = cap
            }
        }
        guard let binding else { return (points, "") }
        let window = binding.days.map { $0 == 1 ? " in 1 day" : " in \($0) days" } ?? ""
        return (allowed, " (capped: \(activity) at most \(binding.max)\(window))")
    }

    /// Badges are sticky: checked after every award, never taken back.
    /// (The event is given by its time, id and key: a row decided from its bytes has no `Event`.)
    static func awardBadges(to student: String, at time: Timestamp, event id: String, key: EventKey, _ state: inout State,
                            _ rules: Rules, _ outcome: inout Outcome) {
        guard !rules.badges.isEmpty, let current = state.student(student) else { return }
        for badge in rules.badges where earns(badge, current) {
            emit(PointsRecord(at: time, student: student, points: 0, activity: Activity.badge, event: id,
                              reason: "earned \(badge.name)", badge: badge.id), of: key, &state, &outcome)
        }
    }

    /// Whether a student with `current` figures earns `badge` now (and does not have it yet).
    static func earns(_ badge: Rules.Badge, _ current: StudentState) -> Bool {
        guard !current.badges.contains(badge.id) else { return false }
        let byCount = badge.completions.map { current.courses.count >= $0 } ?? true
        let byCourses = badge.courses.allSatisfy { name in current.courses.contains { CourseName.same($0, name) } }
        return byCount && byCourses && (badge.completions != nil || !badge.courses.isEmpty)
    }

    private static func record(_ event: Event, _ student: String?, _ status: EventStatus, _ state: inout State,
                               _ outcome: inout Outcome, rehomed: Bool = false) {
        outcome.events.append(EventRecord(seq: state.positions.events.seq + 1, event: event, student: student,
                                          status: status, rehomed: rehomed))
        // Folded where it lies in the outcome: a local copy would retain every string of the event.
        outcome.events.withUnsafeBufferPointer { state.apply($0[$0.count - 1]) }
    }

    /// Folds and keeps an award line of the event whose key is `key` (`points.event`'s own).
    private static func emit(_ points: consuming PointsRecord, of key: EventKey, _ state: inout State, _ outcome: inout Outcome) {
        var line = points
        line.seq = state.positions.points.seq + 1
        outcome.points.append(line)
        outcome.points.withUnsafeBufferPointer { state.apply($0[$0.count - 1], eventKey: key) }
    }
}
