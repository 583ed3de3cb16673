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
        var perCourse: [String: Int] = [:]
        var perLevel: [String: Int] = [:]
        var perBadge: [String: Int] = [:]
        var completions = 0, xp = 0
        // Each student read where it is (a batch's listing: in place in its buffer), not
        // copied out with a retain and release of each of its strings and arrays.
        func count(_ student: borrowing StudentState) {
            completions += student.courses.count
            xp += student.xp
            for course in student.courses { perCourse[course, default: 0] += 1 }
            if let level = student.level { perLevel[level, default: 0] += 1 }
            for badge in student.badges { perBadge[badge, default: 0] += 1 }
        }
        let counted: Void? = students.withContiguousStorageIfAvailable { buffer in
            for index in buffer.indices { count(buffer[index]) }
        }
        if counted == nil {
            for student in students { count(student) }
        }
        self.completions = completions
        totalXP = xp
        courses = perCourse.map { Count(label: $0.key, count: $0.value) }
            .sorted { ($1.count, $0.label) < ($0.count, $1.label) }
        levels = rules.levels.map { Count(label: $0.name, count: perLevel[$0.name] ?? 0) }
        badges = rules.badges.map { Count(label: $0.name, count: perBadge[$0.id] ?? 0) }
        self.figures = figures
    }
}
