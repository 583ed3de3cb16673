/// The `[site]` settings the leaderboard depends on.
///
/// Kept apart from the configuration file's types so that the site can be built (and
/// tested) from a snapshot alone: `tally render` needs nothing else.
public struct SiteSettings: Sendable, Equatable {
    /// The heading of every page and the `title` of `leaderboard.json`.
    public var title: String
    /// How student names are shown.
    public var names: NameStyle
    /// The most rows on each board; zero or less shows every student.
    public var top: Int

    public init(title: String = "Leaderboard", names: NameStyle = .firstLastInitial, top: Int = 100) {
        self.title = title
        self.names = names
        self.top = top
    }
}

/// The data behind every page of the site and `leaderboard.json`: who ranks where, under
/// the name the site may show.
///
/// Everything the site publishes passes through here, so this is where the privacy rules
/// live: names follow `SiteSettings.names` and the anonymity rules, no student id (an email,
/// in open mode) is ever carried, and every other string has its email-like words hidden.
/// The renderer only formats what this holds.
public struct Leaderboard: Sendable, Equatable, Encodable {
    /// One row of a board.
    public struct Entry: Sendable, Equatable, Encodable {
        /// 1-based; students with equal XP share a rank (1, 2, 2, 4).
        public var rank: Int
        /// The name as the site shows it ("Ada L.", "Anonymous").
        public var name: String
        public var xp: Int
        /// The level reached; nil when no levels are configured.
        public var level: String?
        /// Badge ids, in the order earned.
        public var badges: [String]
        /// How many different courses the student completed.
        public var courses: Int

        public init(rank: Int, name: String, xp: Int, level: String? = nil, badges: [String] = [], courses: Int = 0) {
            self.rank = rank
            self.name = name
            self.xp = xp
            self.level = level
            self.badges = badges
            self.courses = courses
        }

        enum CodingKeys: String, CodingKey { case rank, name, xp, level, badges, courses }

        /// Writes `level` as `null` when there is none, rather than leaving the key out:
        /// the contract lists `level` as a field of every row.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(rank, forKey: .rank)
            try container.encode(name, forKey: .name)
            try container.encode(xp, forKey: .xp)
            try container.encode(level, forKey: .level)
            try container.encode(badges, forKey: .badges)
            try container.encode(courses, forKey: .courses)
        }
    }

    /// The board of one course: the students who completed it, ranked by overall XP.
    public struct CourseBoard: Sendable, Equatable, Encodable {
        public var course: String
        /// The page is `courses/<slug>.html`.
        public var slug: String
        public var students: [Entry]

        public init(course: String, slug: String, students: [Entry]) {
            self.course = course
            self.slug = slug
            self.students = students
        }
    }

    public var title: String
    /// When the board was made, ISO 8601 UTC.
    public var generatedAt: String
    public var students: [Entry]
    /// One per course completed by a listed student, in order of course name.
    public var courses: [CourseBoard]

    enum CodingKeys: String, CodingKey {
        case title
        case generatedAt = "generated_at"
        case students, courses
    }

    public init(title: String, generatedAt: String, students: [Entry], courses: [CourseBoard]) {
        self.title = title
        self.generatedAt = generatedAt
        self.students = students
        self.courses = courses
    }

    /// Ranks `students` (keyed by student id) and applies the naming policy.
    ///
    /// A student with no XP (or less) and no completed course is not listed: they have
    /// nothing to show, and listing every roster entry would bury the ones who do. Ranks
    /// count every listed student; `settings.top` only cuts the rows shown.
    public init(students: [String: StudentState], settings: SiteSettings, generatedAt: Timestamp) {
        let listed = students.filter { $0.value.xp > 0 || !$0.value.courses.isEmpty }
        let ranked = Self.ranked(listed.map { (id: $0.key, state: $0.value) })
        let limit = settings.top > 0 ? settings.top : Int.max

        // A student shown on several boards is made public-safe once.
        var made: [String: Entry] = [:]
        func entry(_ rank: Int, _ id: String, _ state: StudentState) -> Entry {
            if var known = made[id] {
                known.rank = rank
                return known
            }
            let level = state.level.map(PublicText.scrubbed).flatMap { $0.isEmpty ? nil : $0 }
            let shown = Entry(
                rank: rank,
                name: PublicText.displayName(state.name, isPublic: state.isPublic, style: settings.names),
                xp: state.xp,
                level: level,
                badges: state.badges.map(PublicText.scrubbed).filter { !$0.isEmpty },
                courses: Set(state.courses.map(Self.courseName)).count
            )
            made[id] = shown
            return shown
        }

        // One pass over the ranked students files each under its courses, already in board
        // order; a course board then only needs its own ranks. Course names are tidied once.
        var tidied: [String: String] = [:]
        var boards: [String: [(id: String, state: StudentState)]] = [:]
        for student in ranked {
            var seen: Set<String> = []
            for raw in student.state.courses {
                let name = tidied[raw] ?? Self.courseName(raw)
                tidied[raw] = name
                if seen.insert(name).inserted { boards[name, default: []].append((student.id, student.state)) }
            }
        }
        let names = boards.keys.sorted { ($0.lowercased(), $0) < ($1.lowercased(), $1) }
        let slugs = Slug.unique(for: names)

        self.title = PublicText.scrubbed(settings.title)
        self.generatedAt = generatedAt.iso8601
        self.students = ranked.prefix(limit).map { entry($0.rank, $0.id, $0.state) }
        self.courses = zip(names, slugs).map { name, slug in
            let board = Self.ranks(ofSorted: boards[name] ?? [], limit: limit)
            return CourseBoard(course: name, slug: slug, students: board.map { entry($0.rank, $0.id, $0.state) })
        }
    }

    /// Competition ranks for students already in board order, for the first `limit` of them.
    static func ranks(ofSorted students: [(id: String, state: StudentState)], limit: Int) -> [(rank: Int, id: String, state: StudentState)] {
        var result: [(rank: Int, id: String, state: StudentState)] = []
        for (index, student) in students.prefix(limit).enumerated() {
            let rank = result.last.map { $0.state.xp == student.state.xp ? $0.rank : index + 1 } ?? 1
            result.append((rank, student.id, student.state))
        }
        return result
    }

    /// Students in board order — XP descending, then the earlier to reach it (smaller
    /// `reachedAt`), then student id so that the order never depends on a dictionary's —
    /// each with its competition rank: equal XP, equal rank, and the next rank skips.
    static func ranked(_ students: [(id: String, state: StudentState)]) -> [(rank: Int, id: String, state: StudentState)] {
        let sorted = students.sorted { a, b in
            if a.state.xp != b.state.xp { return a.state.xp > b.state.xp }
            if a.state.reachedAt != b.state.reachedAt { return a.state.reachedAt < b.state.reachedAt }
            return a.id < b.id
        }
        var result: [(rank: Int, id: String, state: StudentState)] = []
        result.reserveCapacity(sorted.count)
        for (index, student) in sorted.enumerated() {
            let rank = result.last.map { $0.state.xp == student.state.xp ? $0.rank : index + 1 } ?? 1
            result.append((rank, student.id, student.state))
        }
        return result
    }

    /// The name a course is shown and grouped under: tidied, emails hidden, never empty.
    static func courseName(_ raw: String) -> String {
        let name = PublicText.scrubbed(raw)
        return name.isEmpty ? "Untitled course" : name
    }
}
