extension Engine {
    /// Decides a completion row read as bytes (see `CompletionRow`) where that is plain, and
    /// says whether it did; any other row is made an `Event` and scored by `Scoring.apply`,
    /// which stays the definition of what a row does.
    ///
    /// - A row whose id was seen makes its `duplicate` line and moves the sequence: all that
    ///   `Scoring.apply` does for an id it has seen. (A third of a cumulative export.)
    /// - In open mode a new row is decided here too: a `duplicate` when its student has the
    ///   course, else `applied` with its award line (cut by any LEARN cap) and any badge it
    ///   earns. These are the lines, and the fold, that `Scoring.decide` makes of the row's
    ///   `Event`, with no `Event`, record or outcome made for the common row: most of a big
    ///   export's cost was making those and taking them apart again.
    ///
    /// Nothing is decided here once an email is bound to a roster id: whose a row is then
    /// takes the ordinary path. The tests hold both lanes to the ordinary one, byte for byte.
    /// The lines go to the ledger's encoder (`Ledger.stagePlain`); `lane.counts` gathers what
    /// the stats and the file's report count, once per file.
    func decidePlain(_ row: borrowing CompletionRow, lane: inout PlainLane) throws -> Bool {
        // One access to the engine's state for the whole row, not one per use of it: a
        // class's stored property is checked for exclusive access at run time, each time.
        let ledger = self.ledger
        switch try Self.decidePlain(row, lane: &lane, state: &state, ledger: ledger) {
        case .ordinary:
            return false
        case .decided:
            return true
        case let .earnsBadge(student):
            // Badges, as `Scoring.decide` awards them after the completion's own line.
            placeLines()
            var badges = Outcome()
            Scoring.awardBadges(to: student, at: row.at, event: row.key.id, key: row.key, &state, lane.rules, &badges)
            try ledger.append(badges)
            stats.count(badges)
            return true
        }
    }

    /// What `decidePlain` made of a row.
    enum PlainOutcome {
        /// Not the lane's: the row takes the ordinary path.
        case ordinary
        /// Decided, its lines staged and folded.
        case decided
        /// Applied, and its student now earns a badge, which the caller awards.
        case earnsBadge(student: String)
    }

    /// `decidePlain` on the state and ledger given, so that a row takes no run-time
    /// exclusivity check beyond the caller's one.
    private static func decidePlain(_ row: borrowing CompletionRow, lane: inout PlainLane, state: inout State,
                                    ledger: Ledger) throws -> PlainOutcome {
        let (index, number): (Int, Int32)
        state.prefetch(row.ahead)
        switch state.plainDecision(key: row.key, email: row.email, emailHash: row.emailHash, course: row.course,
                                   rules: lane.rules) {
        case .ordinary:
            return .ordinary
        case .seen(let openMode):
            try FaultPoint.check()
            try stageDuplicate(row, owned: openMode, lane: &lane, state: &state, ledger: ledger)
            return .decided
        case .completed:
            try FaultPoint.check()
            try stageDuplicate(row, owned: true, lane: &lane, state: &state, ledger: ledger)
            state.applyPlainDuplicate(key: row.key)
            return .decided
        case let .new(account, course):
            try FaultPoint.check()
            (index, number) = (account, course)
        }
        let seq = state.positions.events.seq + 1
        // Without caps or points per course, `Scoring.capped` gives the course's points
        // whole: the student's id and the course's name are fetched only otherwise.
        let award: (points: Int, note: String)
        if lane.rules.caps.isEmpty && lane.rules.perCourse.isEmpty {
            award = (lane.rules.courseCompleted, "")
        } else {
            let (student, course) = state.plainNames(account: index, course: number)
            // Found by the course's number once a file: by its name, it is folded each time.
            let points: Int
            if let known = lane.coursePoints[number] {
                points = known
            } else {
                points = lane.rules.points(forCourse: course)
                lane.coursePoints[number] = points
            }
            award = Scoring.capped(points, Activity.learn, for: student, at: row.at, &state, lane.rules)
        }
        let pointsSeq = state.positions.points.seq + 1
        // The event line's place is not known until the encoder has written it: the entry
        // gets it through `placeLines`, before anything reads it.
        let entry = Int32(state.tracked.count)
        let learn = lane.learn ?? state.activities.number(for: Activity.learn)
        lane.learn = learn
        state.applyPlainCompletion(key: row.key, account: index, name: row.name, course: number, learn: learn, at: row.at,
                                   seq: seq, offset: -1, pointsSeq: pointsSeq, points: award.points)
        let placesWait = try ledger.stagePlain(row, seq: seq, status: .applied, ownedByEmail: true, entry: entry,
                                               award: (pointsSeq, award.points, award.note), file: lane.file,
                                               sha256: lane.sha256)
        if placesWait { placeLines(in: &state, ledger: ledger) }
        lane.counts.applied += 1
        lane.counts.points += award.points
        // Badges are asked in place first, so the common row (no badge due) makes no record.
        if !lane.rules.badges.isEmpty && state.earnsBadge(account: index, rules: lane.rules) {
            return .earnsBadge(student: state.plainNames(account: index, course: number).student)
        }
        return .decided
    }

    /// Stages the `duplicate` line of `row` (owned by its email, or by nobody) and moves
    /// the sequence past it.
    private static func stageDuplicate(_ row: borrowing CompletionRow, owned: Bool, lane: inout PlainLane,
                                       state: inout State, ledger: Ledger) throws {
        let seq = state.positions.events.seq + 1
        try ledger.stagePlain(row, seq: seq, status: .duplicate, ownedByEmail: owned, entry: -1, award: nil,
                              file: lane.file, sha256: lane.sha256)
        state.positions.events.seq = seq
        lane.counts.duplicate += 1
    }

    /// Gives the tracked entries of applied rows the places of their event lines, as the
    /// ledger's encoder found them (see `LineEncoder`); `settling` first waits for every line
    /// staged. Called before anything reads a place: the ordinary path's scoring (a move or
    /// revoke reads the line back), a commit, a snapshot.
    func placeLines(settling: Bool = true) {
        if settling { ledger.settle() }
        Self.placeLines(in: &state, ledger: ledger)
    }

    /// Gives the tracked entries of `state` the places the encoder has found so far.
    private static func placeLines(in state: inout State, ledger: Ledger) {
        ledger.takePlaced { entry, offset in state.tracked[at: Int(entry)].offset = offset }
    }
}

/// What the byte lane needs of the file it decides rows of, and what it counts there (added
/// to the file's report and the stats once, when the file is read).
struct PlainLane {
    let file: String
    let sha256: String
    let rules: Rules
    var counts = PlainCounts()
    /// The state's number for `Activity.learn`, once a row of the file has asked for it
    /// (looking the name up for every row took a tenth of a microsecond).
    var learn: Int32?
    /// The LEARN points of each course met in the file, by the state's number.
    var coursePoints: [Int32: Int] = [:]
}

extension FileReport {
    /// Adds the rows the byte lane decided in the file (each an event line).
    mutating func add(_ counts: PlainCounts) {
        events += counts.applied + counts.duplicate
        applied += counts.applied
        duplicates += counts.duplicate
        points += counts.points
    }
}
