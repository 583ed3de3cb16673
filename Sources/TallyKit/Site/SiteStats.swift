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
        self.students = students.count
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
        self.completions = completions
        totalXP = xp
        courses = zip(courseNumbers.strings, perCourse).map { Count(label: $0, count: $1) }
            .sorted { ($1.count, $0.label) < ($0.count, $1.label) }
        levels = rules.levels.map { Count(label: $0.name, count: perLevel[$0.name] ?? 0) }
        badges = rules.badges.map { Count(label: $0.name, count: perBadge[$0.id] ?? 0) }
        self.figures = figures
    }
}
