extension State {
    /// Per student: the figures the snapshot lists, plus what the index needs to decide the
    /// next event.
    ///
    /// The figures are `StudentState`'s, less what only a listing adds (the name, the level,
    /// the roster's public flag), and with the course names kept by number, with the
    /// completed courses (see `CourseKeys`): a hundred thousand accounts are held through a
    /// whole sync, and a `StudentState` in each, with its always-empty fields and an array
    /// of course names, nearly doubled them. `figures(_:)` makes the `StudentState`.
    struct Account: Equatable, Sendable {
        var xp = 0
        /// See `StudentState.reachedAt`.
        var reachedAt = 0
        var applied = 0
        var latestName: String?
        var badges: [String] = []
        var unlocks: [String] = []
        var months: [MonthPoints] = []
        /// The listed courses and the completed ones (course number → tracked event number).
        var courses = CourseKeys()
        var passed: [String: EventKey] = [:]     // quiz → event
        /// The entry of `byEmail` for the email that is this account's id, once the byte lane
        /// filed an event under it (-1: not yet): a cache, so that the lane finds it without
        /// hashing the email a second time. Not saved, not compared (`==` leaves it out).
        var emailEntry: Int32 = -1

        static func == (lhs: Account, rhs: Account) -> Bool {
            lhs.xp == rhs.xp && lhs.reachedAt == rhs.reachedAt && lhs.applied == rhs.applied && lhs.latestName == rhs.latestName
                && lhs.badges == rhs.badges && lhs.unlocks == rhs.unlocks && lhs.months == rhs.months
                && lhs.courses == rhs.courses && lhs.passed == rhs.passed
        }

        /// Equal, with the courses of each side named by its own state's numbers.
        func same(as other: Account, _ mine: Numbering, _ theirs: Numbering) -> Bool {
            xp == other.xp && reachedAt == other.reachedAt && applied == other.applied && latestName == other.latestName
                && badges == other.badges && unlocks == other.unlocks && months == other.months && passed == other.passed
                && courses.same(as: other.courses, mine, theirs)
        }

        /// The figures as a `StudentState` (no name or level: a listing adds them), the
        /// courses named by `names`.
        func figures(_ names: NumberedNames) -> StudentState {
            StudentState(xp: xp, badges: badges, unlocks: unlocks, courses: courses.listed.map { names[$0] },
                         reachedAt: reachedAt, months: months)
        }

        /// Whether these figures earn `badge` now: `Scoring.earns` asked of them in place, the
        /// badge's courses found by number in `names`.
        func earns(_ badge: Rules.Badge, _ names: NumberedNames) -> Bool {
            guard !badges.contains(badge.id) else { return false }
            let byCount = badge.completions.map { courses.listedCount >= $0 } ?? true
            let byCourses = badge.courses.allSatisfy { name in names.number(of: name).map(courses.lists) ?? false }
            return byCount && byCourses && (badge.completions != nil || !badge.courses.isEmpty)
        }
    }
}
