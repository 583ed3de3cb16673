/// The aggregate picture for the course creator (`site/stats.html`): how many students, how
/// many completed each course, who reached which level and badge — as counts only. No name,
/// email or id of anyone is here, so the page can be published beside the boards.
public struct SiteStats: Equatable, Sendable {
    public struct Count: Equatable, Sendable {
        public var label: String
        public var count: Int
    }

    public var students: Int
    public var completions: Int
    /// Students who completed each course, most first (then by name).
    public var courses: [Count]
    /// Students at each level, in the order of `[[levels]]`.
    public var levels: [Count]
    /// Students holding each badge, in the order of `[[badges]]`.
    public var badges: [Count]
    public var totalXP: Int
    public var figures: LedgerStats

    public init(students: some Collection<StudentState>, figures: LedgerStats, rules: Rules) {
        // Courses are counted by number (`StringNumbering`: the students' strings outlive
        // it), and each student read where it is (a batch's listing: in place in its
        // buffer), not copied out with a retain and release of each of its strings and arrays.
        var courseNumbers = StringNumbering(), perCourse: [Int] = []
        var perLevel: [String: Int] = [:]
        var perBadge: [String: Int] = [:]
        var completions = 0, xp = 0
        func count(courses: [String], xp points: Int, level: String?, badges: [String]) {
            completions += courses.count
            xp += points
            for index in courses.indices {
                let number = courseNumbers.number(of: courses[index])
                if number == perCourse.count { perCourse.append(0) }
                perCourse[number] += 1
            }
            if let level { perLevel[level, default: 0] += 1 }
            for badge in badges { perBadge[badge, default: 0] += 1 }
        }
        let counted: Void? = students.withContiguousStorageIfAvailable { buffer in
            for index in buffer.indices {
                count(courses: buffer[index].courses, xp: buffer[index].xp, level: buffer[index].level, badges: buffer[index].badges)
            }
        }
        if counted == nil {
            // A collection that is not an array may make its students as it goes: their
            // strings may not outlive the numbering.
            courseNumbers = StringNumbering(byAddress: false)
            for student in students { count(courses: student.courses, xp: student.xp, level: student.level, badges: student.badges) }
        }
        self.init(count: students.count, completions: completions, xp: xp,
                  courses: zip(courseNumbers.strings, perCourse).map { Count(label: $0, count: $1) },
                  perLevel: perLevel, perBadge: perBadge, figures: figures, rules: rules)
    }

    /// The same counts for a batch's listing, its courses counted by the state's numbers:
    /// making every student's `StudentState` to count its course names by string was a
    /// third of rendering a hundred thousand students.
    init(listing: StudentListing, figures: LedgerStats, rules: Rules) {
        guard let names = listing.numberedCourseNames else {
            self.init(students: listing.states, figures: figures, rules: rules)
            return
        }
        var perNumber = [Int](repeating: 0, count: names.count), byName: [String: Int] = [:]
        var perLevel: [String: Int] = [:], perBadge: [String: Int] = [:]
        var completions = 0, xp = 0
        // Read in place (see `StudentListing.InPlace`): each student's courses and XP where
        // its account keeps them, and its level by number among the rules', not a string
        // hashed; badges only where there are some.
        let inPlace: Bool = listing.withStudentsInPlace { inPlace in
            guard let inPlace else { return false }
            var perLevelNumber = [Int](repeating: 0, count: inPlace.levelCount)
            for index in 0..<listing.count {
                if let account = inPlace.account(index) {
                    xp += account.pointee.xp
                    account.pointee.courses.entries.withUnsafeBufferPointer { entries in
                        for entry in entries {
                            guard entry.isListed else { break }
                            perNumber[Int(entry.course)] += 1
                            completions += 1
                        }
                    }
                    if account.pointee.hasBadgesOrUnlocks {
                        for badge in listing.badges(index) { perBadge[badge, default: 0] += 1 }
                    }
                }
                if let number = inPlace.levelNumber(index) {
                    perLevelNumber[number] += 1
                } else if let level = listing.level(index) {
                    perLevel[level, default: 0] += 1
                }
            }
            for number in perLevelNumber.indices where perLevelNumber[number] > 0 {
                if let level = inPlace.levelName(number) { perLevel[level, default: 0] += perLevelNumber[number] }
            }
            return true
        }
        // Each figure read on its own: a whole `ListedStudent` a student (its name, months
        // and unlocks too) was a dozen retains and releases of what the snapshot's thread
        // was reading at the same time.
        for index in 0..<listing.count where !inPlace {
            let courses = listing.courses(index)
            completions += courses.count
            xp += listing.xp(index)
            for course in courses.indices {
                // A state's students name their courses by number; any other is counted by name.
                if let number = courses.number(at: course) {
                    perNumber[number] += 1
                } else {
                    byName[courses[course], default: 0] += 1
                }
            }
            if let level = listing.level(index) { perLevel[level, default: 0] += 1 }
            for badge in listing.badges(index) { perBadge[badge, default: 0] += 1 }
        }
        for number in names.indices where perNumber[number] > 0 { byName[names[number], default: 0] += perNumber[number] }
        self.init(count: listing.count, completions: completions, xp: xp,
                  courses: byName.map { Count(label: $0.key, count: $0.value) }, perLevel: perLevel, perBadge: perBadge,
                  figures: figures, rules: rules)
    }

    private init(count: Int, completions: Int, xp: Int, courses: [Count], perLevel: [String: Int], perBadge: [String: Int],
                 figures: LedgerStats, rules: Rules) {
        students = count
        self.completions = completions
        totalXP = xp
        // Courses under the names the boards show them by (`Leaderboard.courseName`: an email
        // in a course's name is hidden, and names that tidy to one course are one course,
        // the least of them shown, as the boards do; a state names each course once, and
        // only a state.json of a Tally before course names were folded spells one apart).
        var byKey: [String: Count] = [:]
        for course in courses {
            let name = Leaderboard.courseName(course.label)
            let key = CourseName.key(name)
            if let known = byKey[key] {
                byKey[key] = Count(label: min(known.label, name), count: known.count + course.count)
            } else {
                byKey[key] = Count(label: name, count: course.count)
            }
        }
        self.courses = byKey.values.sorted { ($1.count, $0.label) < ($0.count, $1.label) }
        levels = rules.levels.map { Count(label: PublicText.scrubbed($0.name), count: perLevel[$0.name] ?? 0) }
        badges = rules.badges.map { Count(label: PublicText.scrubbed($0.name), count: perBadge[$0.id] ?? 0) }
        self.figures = figures
    }
}
