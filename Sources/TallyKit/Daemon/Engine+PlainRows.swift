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
    /// The lines go to the ledger's encoder (`Ledger.stagePlain`); `counts` gathers what the
    /// stats count, once per file.
    func decidePlain(_ row: borrowing CompletionRow, file: String, sha256: String, rules: Rules,
                     report: inout FileReport, counts: inout PlainCounts) throws -> Bool {
        let (index, student, number, course): (Int, String, Int32, String)
        switch state.plainDecision(key: row.key, email: row.email, course: row.course, rules: rules) {
        case .ordinary:
            return false
        case .seen(let openMode):
            try FaultPoint.check()
            try stageDuplicate(row, owned: openMode, file: file, sha256: sha256, report: &report, counts: &counts)
            return true
        case .completed:
            try FaultPoint.check()
            try stageDuplicate(row, owned: true, file: file, sha256: sha256, report: &report, counts: &counts)
            state.applyPlainDuplicate(key: row.key)
            return true
        case let .new(account, id, courseNumber, name):
            try FaultPoint.check()
            (index, student, number, course) = (account, id, courseNumber, name)
        }
        let seq = state.positions.events.seq + 1
        let award = Scoring.capped(rules.points(forCourse: course), Activity.learn, for: student, at: row.at, &state, rules)
        let pointsSeq = state.positions.points.seq + 1
        // The event line's place is not known until the encoder has written it: the entry
        // gets it through `placeLines`, before anything reads it.
        let entry = Int32(state.tracked.count)
        state.applyPlainCompletion(key: row.key, email: Email(normalised: student), account: index, name: row.name,
                                   course: number, named: course, at: row.at, seq: seq, offset: -1, pointsSeq: pointsSeq,
                                   points: award.points)
        try ledger.stagePlain(row, seq: seq, status: .applied, ownedByEmail: true, entry: entry,
                              award: (pointsSeq, award.points, award.note), file: file, sha256: sha256)
        if ledger.hasPlaced { placeLines(settling: false) }
        counts.applied += 1
        counts.points += award.points
        report.events += 1
        report.applied += 1
        report.points += award.points
        // Badges, as `Scoring.decide` awards them after the completion's own line: asked in
        // place first, so the common row (no badge due) makes no record.
        if !rules.badges.isEmpty && state.earnsBadge(account: index, rules: rules) {
            placeLines()
            var badges = Outcome()
            Scoring.awardBadges(to: student, at: row.at, event: row.key.id, key: row.key, &state, rules, &badges)
            try ledger.append(badges)
            stats.count(badges)
        }
        return true
    }

    /// Stages the `duplicate` line of `row` (owned by its email, or by nobody) and moves
    /// the sequence past it.
    private func stageDuplicate(_ row: borrowing CompletionRow, owned: Bool, file: String, sha256: String,
                                report: inout FileReport, counts: inout PlainCounts) throws {
        let seq = state.positions.events.seq + 1
        try ledger.stagePlain(row, seq: seq, status: .duplicate, ownedByEmail: owned, entry: -1, award: nil, file: file,
                              sha256: sha256)
        state.positions.events.seq = seq
        counts.duplicate += 1
        report.events += 1
        report.duplicates += 1
    }

    /// Gives the tracked entries of applied rows the places of their event lines, as the
    /// ledger's encoder found them (see `LineEncoder`); `settling` first waits for every line
    /// staged. Called before anything reads a place: the ordinary path's scoring (a move or
    /// revoke reads the line back), a commit, a snapshot.
    func placeLines(settling: Bool = true) {
        if settling { ledger.settle() }
        ledger.takePlaced { entry, offset in state.tracked[at: Int(entry)].offset = offset }
    }
}
