/// The byte lane's part of the fold: a plain completion row decided and folded from its
/// bytes (see `Engine.decidePlain`), as `apply(_:)` folds the lines it makes.
extension State {
    /// What the byte lane makes of a plain completion row (see `Engine.decidePlain`).
    enum PlainDecision {
        /// Not the lane's: an email is bound to a roster id, or a new row in roster mode.
        case ordinary
        /// An id seen before: a `duplicate` line, owned by the row's email in open mode.
        case seen(openMode: Bool)
        /// A new row, in open mode, of a course its student has: a `duplicate` line.
        case completed
        /// A new row, in open mode, to apply to the student of account `account`, for the
        /// course numbered `course`. (Numbers only: the student's id and the course's name are
        /// fetched where rules ask for them, not retained and released for every row.)
        case new(account: Int, course: Int32)
    }

    /// Decides a plain completion row from its bytes — its id, its student's email
    /// (normalised) and its course — as far as the state decides it; the account of a new
    /// row's student is made when missing. One mutating call, so the engine asks it of its
    /// state in place: a query of a class's stored struct copied the whole state, per row.
    mutating func plainDecision(key: EventKey, email: UnsafeRawBufferPointer, emailHash: UInt64? = nil,
                                course: UnsafeRawBufferPointer, rules: Rules) -> PlainDecision {
        guard bindings.isEmpty else { return .ordinary }
        let openMode = !isRosterMode(rules)
        if hasSeen(key) { return .seen(openMode: openMode) }
        guard openMode else { return .ordinary }
        let number = courses.number(forBytes: course)
        let index = accounts.findOrAdd(bytes: email, hash: emailHash, orAdd: Account())
        if accounts.list.withUnsafeBufferPointer({ $0[index].courses.contains(number) }) { return .completed }
        return .new(account: index, course: number)
    }

    /// Asks for the cache lines that `plainDecision` and `applyPlainCompletion` will read
    /// for the rows of `hints`, a step further for each (see `LaneHints`): the slots of the
    /// events tracked, the ids seen and the accounts; then the tracked key, the account and
    /// its id those slots name; then the bytes of that id and of the account's latest name,
    /// courses and months.
    /// Hints only: nothing changes, and a wrong guess (another id with the same tag) costs a
    /// line read for nothing.
    @inline(__always)
    func prefetch(_ hints: LaneHints) {
        if let far = hints.far {
            tracked.prefetch(high: far.high, low: far.low, entry: false)
            seen.prefetch(high: far.high, low: far.low, entry: false)
            accounts.prefetch(hash: far.emailHash, entry: false)
        }
        if let middle = hints.middle {
            tracked.prefetch(high: middle.high, low: middle.low, entry: true)
            accounts.prefetch(hash: middle.emailHash, entry: true)
        }
        if let near = hints.near { accounts.prefetchBytes(hash: near.emailHash) }
    }

    /// Folds the two lines of a plain course completion applied to the student of account
    /// `index` (see `Engine.decidePlain`): its event line `seq` at byte `offset` of
    /// `events.jsonl` and its award line `pointsSeq` of `points` — what `apply(_: EventRecord)`
    /// and `apply(_:eventKey:)` fold for those two lines, without the records. Only for an
    /// id never seen, of an event with no contact, in open mode, for the account and course
    /// `plainDecision` gave (the row is filed under the account's own email): the tests hold
    /// the two folds together.
    /// `learn` is `activities.number(for: Activity.learn)`, found once per file by the lane.
    mutating func applyPlainCompletion(key: EventKey, account index: Int, name: UnsafeRawBufferPointer?,
                                       course number: Int32, learn: Int32, at: Timestamp, seq: Int, offset: Int,
                                       pointsSeq: Int, points: Int) {
        positions.events.seq = max(positions.events.seq, seq)
        positions.points.seq = max(positions.points.seq, pointsSeq)
        let entryNumber = tracked.count
        precondition(entryNumber < Int(Int32.max), "too many tracked events")
        // Filed under the student's own email (the lane's rows have no contact), found
        // through the account once it was found by hashing.
        let cached = accounts.list.withUnsafeBufferPointer { $0[index].emailEntry }
        if cached >= 0 {
            byEmail.file(Int32(entryNumber), at: Int(cached))
        } else {
            accounts.list[index].emailEntry = Int32(byEmail.file(Int32(entryNumber), under: accounts.ids[index]))
        }
        tracked.append(Tracked(status: .applied, account: Int32(index), seq: seq, offset: offset, firstSeq: seq), for: key,
                       granting: StoredGrant(at: at.milliseconds, points: points,
                                             activity: learn, course: number))
        // Optional chaining skips the arguments too: no course name is fetched without caps.
        capLedger?.add(Grant(at: at, points: points, activity: Activity.learn, course: courses[number]),
                       account: Int32(index))
        accounts.list.withUnsafeMutableBufferPointer { accounts in
            accounts[index].applied += 1
            if let name, !name.isEmpty, !accounts[index].hasLatestName(name) {
                accounts[index].latestName = String(decoding: name, as: UTF8.self)
            }
            accounts[index].courses[number] = Int32(entryNumber)
            accounts[index].xp += points
            if points != 0 { accounts[index].reachedAt = pointsSeq }
            accounts[index].courses.list(number)
            accounts[index].addToMonth(points, at: at)
        }
    }

    /// Whether the student of account `index` earns one of the rules' badges now (see
    /// `Scoring.earns`), asked in place: no copy of the student's figures.
    func earnsBadge(account index: Int, rules: Rules) -> Bool {
        accounts.list.withUnsafeBufferPointer { accounts in
            rules.badges.contains { accounts[index].earns($0, courses) }
        }
    }

    /// Folds the `duplicate` line of an id never seen (a course the student has), once its
    /// seq is the state's: the id is remembered as seen.
    mutating func applyPlainDuplicate(key: EventKey) { seen.insert(key) }

    /// The student id of account `index` and the name of course `number`, for what rules
    /// ask of a row's student or course (a cap, points per course, a badge).
    func plainNames(account index: Int, course number: Int32) -> (student: String, course: String) {
        (accounts.ids[index], courses[number])
    }
}
