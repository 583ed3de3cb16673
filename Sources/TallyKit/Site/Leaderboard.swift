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
    /// Badge id → the name `[[badges]]` gives it, shown on the boards (an id no longer
    /// configured shows as itself).
    public var badgeNames: [String: String]

    public init(title: String = "Leaderboard", names: NameStyle = .firstLastInitial, top: Int = 100,
                badgeNames: [String: String] = [:]) {
        self.title = title
        self.names = names
        self.top = top
        self.badgeNames = badgeNames
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

    /// The board of one calendar month (UTC): the students who earned points in it, ranked
    /// by those points (`xp` of each entry is the month's net points, not the overall XP).
    public struct MonthBoard: Sendable, Equatable, Encodable {
        /// "2026-11".
        public var month: String
        /// "November 2026".
        public var name: String
        public var students: [Entry]

        public init(month: String, name: String, students: [Entry]) {
            self.month = month
            self.name = name
            self.students = students
        }
    }

    public var title: String
    /// When the board was made, ISO 8601 UTC.
    public var generatedAt: String
    public var students: [Entry]
    /// One per course completed by a listed student, in order of course name.
    public var courses: [CourseBoard]
    /// The "this month" board: the month `generatedAt` falls in.
    public var month: MonthBoard

    enum CodingKeys: String, CodingKey {
        case title
        case generatedAt = "generated_at"
        case students, courses, month
    }

    public init(title: String, generatedAt: String, students: [Entry], courses: [CourseBoard], month: MonthBoard) {
        self.title = title
        self.generatedAt = generatedAt
        self.students = students
        self.courses = courses
        self.month = month
    }

    /// Ranks `students` (keyed by student id) and applies the naming policy.
    ///
    /// A student with no XP (or less) and no completed course is not listed: they have
    /// nothing to show, and listing every roster entry would bury the ones who do. Ranks
    /// count every listed student; `settings.top` only cuts the rows shown.
    ///
    /// The students are ranked and filed under their courses as numbers (positions in board
    /// order): with a hundred thousand students, moving `(id, state)` pairs through the sort
    /// and into every course board retained each of their strings at every step.
    public init(students: [String: StudentState], settings: SiteSettings, generatedAt: Timestamp) {
        self.init(StudentListing(ids: Array(students.keys), states: Array(students.values)), settings: settings,
                  generatedAt: generatedAt)
    }

    /// The board of a listing (the engine's batches: no dictionary to build).
    ///
    /// The students are named by their index in the listing and read there, each field
    /// as it is needed: a hundred thousand students copied out whole retained and released
    /// every string and array of each at every step. They are read once, in the listing's
    /// order (the state's), and each board keeps only the rows it shows (`TopRows`): sorting
    /// every student, and filing every one under each of their courses, took memory and
    /// time in proportion to the students where the site shows `top` rows a board.
    init(_ students: StudentListing, settings: SiteSettings, generatedAt: Timestamp) {
        let limit = settings.top > 0 ? settings.top : Int.max
        let ids = students.ids
        // Board order: XP descending, then the earlier to reach it (smaller `reachedAt`),
        // then student id, so that the order never depends on a dictionary's.
        func before(_ a: Ranked, _ b: Ranked) -> Bool {
            if a.xp != b.xp { return a.xp > b.xp }
            if a.reachedAt != b.reachedAt { return a.reachedAt < b.reachedAt }
            return ids[a.index] < ids[b.index]
        }
        // This month: every student who earned points in it (whatever their overall XP), by
        // those points, ties in the overall board's order.
        func earlier(_ a: Earned, _ b: Earned) -> Bool {
            a.points != b.points ? a.points > b.points : before(a.student, b.student)
        }

        // Course names are tidied once per raw name (see `Filing`), and two raw names that
        // tidy alike share a board. The loop over every student uses only locals that no
        // closure captures: a captured `var` is checked for exclusive access at run time at
        // every use (a sixth of building the boards, 100,000 students).
        var filing = Filing(limit: limit)

        // A student with no XP (or less) and no course is not listed; a listed student is
        // on the board of each of their courses once, even when two raw names share it.
        let month = Month(generatedAt)
        var overall = TopRows<Ranked>(limit: limit), earned = TopRows<Earned>(limit: limit)
        var boards: [Int] = []
        for index in 0..<students.count {
            let student = Ranked(xp: students.xp(index), reachedAt: students.reachedAt(index), index: index)
            let courses = students.courses(index)
            if student.xp > 0 || !courses.isEmpty {
                overall.offer(student, before: before)
                boards.removeAll(keepingCapacity: true)
                for course in courses.indices {
                    let board = filing.board(of: courses, at: course)
                    if !boards.contains(board) { boards.append(board) }
                }
                for board in boards { filing.members[board].offer(student, before: before) }
            }
            let points = students.points(index, in: month)
            if points > 0 { earned.offer(Earned(student: student, points: points), before: earlier) }
        }

        // A student shown on several boards is made public-safe once. Their course count is
        // of the boards their courses are filed under (every listed student's are filed, and
        // a student on the month board who is not listed has none), not of names tidied again.
        var filed = filing   // captured below, where `filing` is not
        let names = filed.names, members = filed.members
        func courseCount(_ courses: ListedCourses) -> Int {
            var boards: [Int] = []
            for index in courses.indices {
                let board = filed.board(of: courses, at: index)
                if !boards.contains(board) { boards.append(board) }
            }
            return boards.count
        }
        var made: [Int: Entry] = [:]
        func entry(_ rank: Int, of index: Int) -> Entry {
            if var known = made[index] {
                known.rank = rank
                return known
            }
            let state = students[index]
            let shown = Self.entry(state, rank: rank, settings: settings, courses: courseCount(state.courses))
            made[index] = shown
            return shown
        }
        func ranked(_ rows: [Ranked]) -> [Entry] {
            Self.competitionRanks(rows.indices, limit: limit, xp: { rows[$0].xp }).map { entry($0.rank, of: rows[$0.position].index) }
        }

        let sortedBoards = names.indices.sorted { (names[$0].lowercased(), names[$0]) < (names[$1].lowercased(), names[$1]) }
        let slugs = Slug.unique(for: sortedBoards.map { names[$0] })

        self.title = PublicText.scrubbed(settings.title)
        self.generatedAt = generatedAt.iso8601
        self.students = ranked(overall.sorted(by: before))
        self.courses = zip(sortedBoards, slugs).map { board, slug in
            CourseBoard(course: names[board], slug: slug, students: ranked(members[board].sorted(by: before)))
        }
        let monthRows = earned.sorted(by: earlier)
        let monthRanks = Self.competitionRanks(monthRows.indices, limit: limit, xp: { monthRows[$0].points })
        self.month = MonthBoard(month: month.description, name: month.name, students: monthRanks.map { ranked in
            let state = students[monthRows[ranked.position].student.index]
            var shown = Self.entry(state, rank: ranked.rank, settings: settings, courses: courseCount(state.courses))
            shown.xp = monthRows[ranked.position].points
            return shown
        })
    }

    /// The course boards as the students are filed under them: each raw course name is
    /// tidied once (numbered by `StringNumbering`: the listing's strings outlive it; a state's
    /// students name their courses by number), and names that tidy to one course (their
    /// `CourseName` folds agree) share a board.
    private struct Filing {
        let limit: Int
        var raws = StringNumbering(), boardOfRaw: [Int] = [], boardOfName: [String: Int] = [:], boardOfNumber: [Int] = []
        /// Each board's name and the rows it shows, by board number.
        var names: [String] = [], members: [TopRows<Ranked>] = []

        init(limit: Int) { self.limit = limit }

        mutating func board(of raw: String) -> Int {
            let number = raws.number(of: raw)
            if number < boardOfRaw.count { return boardOfRaw[number] }
            let name = Leaderboard.courseName(raw), key = CourseName.key(name)
            let board: Int
            if let existing = boardOfName[key] {
                board = existing
                // Two spellings of one course: a state names each course once, so only a
                // state.json of a Tally before course names were folded (`tally render`)
                // brings them. The board takes the least, whatever order they come in.
                if name < names[board] { names[board] = name }
            } else {
                board = names.count
                boardOfName[key] = board
                names.append(name)
                members.append(TopRows(limit: limit))
            }
            boardOfRaw.append(board)
            return board
        }

        mutating func board(of courses: ListedCourses, at index: Int) -> Int {
            guard let number = courses.number(at: index) else { return board(of: courses[index]) }
            if number >= boardOfNumber.count {
                boardOfNumber.append(contentsOf: repeatElement(-1, count: number + 1 - boardOfNumber.count))
            }
            if boardOfNumber[number] < 0 { boardOfNumber[number] = board(of: courses[index]) }
            return boardOfNumber[number]
        }
    }

    /// A listed student as boards order them: by `xp`, `reachedAt`, then id.
    private struct Ranked {
        var xp: Int
        var reachedAt: Int
        var index: Int
    }

    /// A student's points this month, for the month board.
    private struct Earned {
        var student: Ranked
        var points: Int
    }

    /// A student's row as the site may show it: the naming policy applied, emails hidden;
    /// `courses` is the number of boards the student's courses are filed under.
    static func entry(_ state: ListedStudent, rank: Int, settings: SiteSettings, courses: Int) -> Entry {
        Entry(
            rank: rank,
            name: PublicText.displayName(state.name, isPublic: state.isPublic, style: settings.names),
            xp: state.xp,
            level: state.level.map(PublicText.scrubbed).flatMap { $0.isEmpty ? nil : $0 },
            badges: state.badges.map { PublicText.scrubbed(settings.badgeNames[$0] ?? $0) }.filter { !$0.isEmpty },
            courses: courses
        )
    }

    /// Competition ranks for the first `limit` of `positions`, which are in board order:
    /// equal XP, equal rank, and the next rank skips (1, 2, 2, 4).
    static func competitionRanks(_ positions: some Collection<Int>, limit: Int, xp: (Int) -> Int) -> [(rank: Int, position: Int)] {
        var result: [(rank: Int, position: Int)] = []
        result.reserveCapacity(min(positions.count, limit))
        var previousXP = 0
        for (index, position) in positions.prefix(limit).enumerated() {
            let points = xp(position)
            let rank = index > 0 && points == previousXP ? result[index - 1].rank : index + 1
            result.append((rank, position))
            previousXP = points
        }
        return result
    }

    /// The name a course is shown and grouped under: tidied, emails hidden, never empty.
    static func courseName(_ raw: String) -> String {
        let name = PublicText.scrubbed(raw)
        return name.isEmpty ? "Untitled course" : name
    }
}
