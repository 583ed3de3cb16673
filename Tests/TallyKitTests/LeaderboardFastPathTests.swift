import Testing
@testable import TallyKit

/// The leaderboard ranks and files students by number; this is the simple way it did so
/// before (sorting and filing `(id, state)` pairs), kept to check the two agree.
private enum SimpleLeaderboard {
    static func make(_ students: [String: StudentState], _ settings: SiteSettings, _ at: Timestamp) -> Leaderboard {
        let listed = students.filter { $0.value.xp > 0 || !$0.value.courses.isEmpty }
        let ranked = ranks(ofSorted: listed.map { (id: $0.key, state: $0.value) }.sorted { a, b in
            if a.state.xp != b.state.xp { return a.state.xp > b.state.xp }
            if a.state.reachedAt != b.state.reachedAt { return a.state.reachedAt < b.state.reachedAt }
            return a.id < b.id
        }, limit: Int.max)
        let limit = settings.top > 0 ? settings.top : Int.max
        func entry(_ rank: Int, _ state: StudentState) -> Leaderboard.Entry {
            Leaderboard.Entry(
                rank: rank, name: PublicText.displayName(state.name, isPublic: state.isPublic, style: settings.names),
                xp: state.xp, level: state.level.map(PublicText.scrubbed).flatMap { $0.isEmpty ? nil : $0 },
                badges: state.badges.map(PublicText.scrubbed).filter { !$0.isEmpty },
                courses: Set(state.courses.map { CourseName.key(Leaderboard.courseName($0)) }).count)
        }
        // A board per course (spellings that fold alike are one), named by the least spelling.
        var byKey: [String: [(id: String, state: StudentState)]] = [:], nameOfKey: [String: String] = [:]
        for student in students.values {
            for raw in student.courses {
                let name = Leaderboard.courseName(raw), key = CourseName.key(name)
                nameOfKey[key] = min(nameOfKey[key] ?? name, name)
            }
        }
        for student in ranked {
            var seen: Set<String> = []
            for raw in student.state.courses {
                let key = CourseName.key(Leaderboard.courseName(raw))
                if seen.insert(key).inserted { byKey[key, default: []].append((student.id, student.state)) }
            }
        }
        var boards: [String: [(id: String, state: StudentState)]] = [:]
        for (key, members) in byKey { boards[nameOfKey[key]!] = members }
        let names = boards.keys.sorted { ($0.lowercased(), $0) < ($1.lowercased(), $1) }
        // This month: every student with points in it (listed overall or not), by those
        // points, then in board order.
        let month = Month(at)
        let earners = students.map { (id: $0.key, state: $0.value) }.filter { $0.state.points(in: month) > 0 }.sorted { a, b in
            let (pa, pb) = (a.state.points(in: month), b.state.points(in: month))
            if pa != pb { return pa > pb }
            if a.state.xp != b.state.xp { return a.state.xp > b.state.xp }
            if a.state.reachedAt != b.state.reachedAt { return a.state.reachedAt < b.state.reachedAt }
            return a.id < b.id
        }
        var monthEntries: [Leaderboard.Entry] = []
        for (index, student) in earners.prefix(limit).enumerated() {
            let points = student.state.points(in: month)
            let rank = index > 0 && earners[index - 1].state.points(in: month) == points ? monthEntries[index - 1].rank : index + 1
            var shown = entry(rank, student.state)
            shown.xp = points
            monthEntries.append(shown)
        }
        return Leaderboard(
            title: PublicText.scrubbed(settings.title), generatedAt: at.iso8601,
            students: ranked.prefix(limit).map { entry($0.rank, $0.state) },
            courses: zip(names, Slug.unique(for: names)).map { name, slug in
                Leaderboard.CourseBoard(course: name, slug: slug,
                                        students: ranks(ofSorted: boards[name] ?? [], limit: limit).map { entry($0.rank, $0.state) })
            },
            month: Leaderboard.MonthBoard(month: month.description, name: month.name, students: monthEntries))
    }

    static func ranks(ofSorted students: [(id: String, state: StudentState)], limit: Int) -> [(rank: Int, id: String, state: StudentState)] {
        var result: [(rank: Int, id: String, state: StudentState)] = []
        for (index, student) in students.prefix(limit).enumerated() {
            let rank = result.last.map { $0.state.xp == student.state.xp ? $0.rank : index + 1 } ?? 1
            result.append((rank, student.id, student.state))
        }
        return result
    }
}

struct LeaderboardFastPathTests {
    /// Many ties (few XP values, few `reachedAt` values), courses whose raw names tidy alike
    /// (case, an email inside, blanks), students with a course twice, and idle students.
    static func students(count: Int, seed: UInt64) -> [String: StudentState] {
        var generator = SeededGenerator(seed: seed)
        // Names over 15 bytes too (numbered by the address of their bytes), two of them alike
        // once tidied, and some taken as copies in storage of their own.
        let courses = ["AI 1", "ai 1", "Zoology", "zoology", "Contact bob@example.org", "  ", "Écoles", "B", "b", "Course 02",
                       "Course 04: Practical Skills for Teams", "Course 04: Practical  Skills for Teams",
                       "Course 05: Practical Skills for Teams"]
        var students: [String: StudentState] = [:]
        for index in 0..<count {
            let taken = (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                let name = courses.randomElement(using: &generator)!
                return Bool.random(using: &generator) ? String(decoding: Array(name.utf8), as: UTF8.self) : name
            }
            students["student\(index)@example.org"] = StudentState(
                name: index % 9 == 0 ? nil : "Student \(index) Lastname", xp: Int.random(in: -1...6, using: &generator) * 10,
                level: index % 5 == 0 ? "Level \(index % 3)" : nil, badges: index % 4 == 0 ? ["first-steps"] : [],
                courses: taken, isPublic: index % 11 != 0, reachedAt: Int.random(in: 0...3, using: &generator),
                // The board's month (September 2024), the one before, or none; few values, many ties.
                months: [Month(year: 2024, month: 8), Month(year: 2024, month: 9)].compactMap { month in
                    let points = Int.random(in: -1...3, using: &generator) * 20
                    return points == 0 ? nil : MonthPoints(month: month, points: points)
                })
        }
        return students
    }

    @Test("ranking and filing by number gives the board the simple way gives", arguments: [0, 1, 2, 3, 4, 5])
    func sameBoards(seed: UInt64) {
        let at = Timestamp(milliseconds: 1_725_278_400_000)
        let students = Self.students(count: 40 + Int(seed) * 37, seed: seed)
        for top in [0, 1, 3, 100] {
            let settings = SiteSettings(title: "Board", names: .firstLastInitial, top: top)
            let fast = Leaderboard(students: students, settings: settings, generatedAt: at)
            let simple = SimpleLeaderboard.make(students, settings, at)
            #expect(fast == simple, "seed \(seed), top \(top)")
        }
    }
}
