import Testing
@testable import TallyKit

/// The board as it was made before it kept only each board's first rows: every listed
/// student sorted, and filed under each of their courses by name. The model the streaming
/// board is held to.
enum ReferenceBoard {
    static func make(_ students: StudentListing, settings: SiteSettings, generatedAt: Timestamp) -> Leaderboard {
        // Board order: the listed students' indices, by XP descending, then the earlier to
        // reach it (smaller `reachedAt`), then student id so that the order never depends
        // on a dictionary's.
        var keys: [(xp: Int, reachedAt: Int, index: Int)] = []
        for index in 0..<students.count where students.xp(index) > 0 || students.hasCourses(index) {
            keys.append((students.xp(index), students.reachedAt(index), index))
        }
        students.ids.withUnsafeBufferPointer { ids in
            keys.sort { a, b in
                if a.xp != b.xp { return a.xp > b.xp }
                if a.reachedAt != b.reachedAt { return a.reachedAt < b.reachedAt }
                return ids[a.index] < ids[b.index]
            }
        }
        let order = keys.map(\.index)
        keys = []
        let limit = settings.top > 0 ? settings.top : Int.max

        // One pass in board order files each student under their courses, so a board is in
        // board order already. Course names are tidied once per raw name (numbered by
        // `StringNumbering`: the listing's strings outlive it), and two raw names that tidy
        // alike share a board.
        var raws = StringNumbering(), boardOfRaw: [Int] = [], boardOfName: [String: Int] = [:]
        var names: [String] = [], members: [[Int]] = [], lastFiled: [Int] = []
        func board(of raw: String) -> Int {
            let number = raws.number(of: raw)
            if number < boardOfRaw.count { return boardOfRaw[number] }
            let name = Leaderboard.courseName(raw), key = CourseName.key(name)
            let board: Int
            if let existing = boardOfName[key] {
                board = existing
                if name < names[board] { names[board] = name }
            } else {
                board = names.count
                boardOfName[key] = board
                names.append(name)
                members.append([])
                lastFiled.append(-1)
            }
            boardOfRaw.append(board)
            return board
        }
        for position in order.indices {
            let courses = students.courses(order[position])
            for index in courses.indices {
                let board = board(of: courses[index])
                // A student who completed two raw names of one board is on it once. A board
                // shows its first `limit` members and ranks them among themselves, so no more
                // are kept: all of them were every student's courses again (5 MiB at the end
                // of a hundred-thousand-student sync, its peak).
                if lastFiled[board] != position {
                    lastFiled[board] = position
                    if members[board].count < limit { members[board].append(position) }
                }
            }
        }

        // A student shown on several boards is made public-safe once. Their course count is
        // of the boards their courses are filed under (every listed student's are filed, and
        // a student on the month board who is not listed has none), not of names tidied again.
        func courseCount(_ courses: ListedCourses) -> Int {
            var boards: [Int] = []
            for index in courses.indices {
                let board = board(of: courses[index])
                if !boards.contains(board) { boards.append(board) }
            }
            return boards.count
        }
        var made: [Int: Leaderboard.Entry] = [:]
        func entry(_ rank: Int, at position: Int) -> Leaderboard.Entry {
            if var known = made[position] {
                known.rank = rank
                return known
            }
            let state = students[order[position]]
            let shown = Leaderboard.entry(state, rank: rank, settings: settings, courses: courseCount(state.courses))
            made[position] = shown
            return shown
        }

        let sortedBoards = names.indices.sorted { (names[$0].lowercased(), names[$0]) < (names[$1].lowercased(), names[$1]) }
        let slugs = Slug.unique(for: sortedBoards.map { names[$0] })

        let title = PublicText.scrubbed(settings.title)
        
        let xp = { (position: Int) in students.xp(order[position]) }
        let shownStudents = Leaderboard.competitionRanks(order.indices, limit: limit, xp: xp).map { entry($0.rank, at: $0.position) }
        let courses = zip(sortedBoards, slugs).map { board, slug in
            let ranked = Leaderboard.competitionRanks(members[board], limit: limit, xp: xp)
            return Leaderboard.CourseBoard(course: names[board], slug: slug, students: ranked.map { entry($0.rank, at: $0.position) })
        }

        // This month: every student who earned points in it (whatever their overall XP), by
        // those points, ties in the overall board's order (XP, who reached it first, id).
        let month = Month(generatedAt)
        var earned: [(index: Int, points: Int)] = []
        for index in 0..<students.count {
            let points = students.points(index, in: month)
            if points > 0 { earned.append((index, points)) }
        }
        students.ids.withUnsafeBufferPointer { ids in
            earned.sort { a, b in
                if a.points != b.points { return a.points > b.points }
                let (xpA, xpB) = (students.xp(a.index), students.xp(b.index))
                if xpA != xpB { return xpA > xpB }
                let (reachedA, reachedB) = (students.reachedAt(a.index), students.reachedAt(b.index))
                if reachedA != reachedB { return reachedA < reachedB }
                return ids[a.index] < ids[b.index]
            }
        }
        let monthRanks = Leaderboard.competitionRanks(earned.indices, limit: limit, xp: { earned[$0].points })
        let monthBoard = Leaderboard.MonthBoard(month: month.description, name: month.name, students: monthRanks.map { ranked in
            let state = students[earned[ranked.position].index]
            var shown = Leaderboard.entry(state, rank: ranked.rank, settings: settings, courses: courseCount(state.courses))
            shown.xp = earned[ranked.position].points
            return shown
        })
        return Leaderboard(title: title, generatedAt: generatedAt.iso8601, students: shownStudents, courses: courses, month: monthBoard)
    }
}
