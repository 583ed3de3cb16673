import Testing
@testable import TallyKit

/// Each board keeps only the rows it shows (`TopRows`), reading the students once in the
/// listing's order; it must show what sorting every student showed (`ReferenceBoard`).
struct TopRowsTests {
    @Test("the rows kept are the first of a sort of all, for every limit and arrival order")
    func firstOfSort() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<200 {
            let values = (0..<Int.random(in: 0...60, using: &generator)).map { ($0, Int.random(in: 0...9, using: &generator)) }
            // By value, ties by position: a strict total order, as the boards' (ties by id).
            let before = { (a: (Int, Int), b: (Int, Int)) in a.1 != b.1 ? a.1 > b.1 : a.0 < b.0 }
            let limit = [0, 1, 2, 3, 7, 59, 60, 61, 1000][round % 9]
            var rows = TopRows<(Int, Int)>(limit: limit)
            for value in values.shuffled(using: &generator) { rows.offer(value, before: before) }
            let expected = Array(values.sorted(by: before).prefix(limit))
            #expect(rows.sorted(by: before).map(\.0) == expected.map(\.0), "limit \(limit), \(values)")
        }
    }

    /// Raw course names of which several tidy to one board, one that tidies to nothing and
    /// one that hides an email.
    static let courses = ["Course A", "Course  A", "Course B", " Course B ", "Course C", "", "Intro for ada@example.org",
                          "Course D", "course a"]

    static func randomStudents(_ count: Int, using generator: inout some RandomNumberGenerator) -> [String: StudentState] {
        var students: [String: StudentState] = [:]
        for number in 0..<count {
            var student = StudentState(name: "Student \(number)", xp: 20 * Int.random(in: -1...5, using: &generator),
                                       courses: (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                                           courses.randomElement(using: &generator)!
                                       },
                                       reachedAt: Int.random(in: 0...6, using: &generator))
            if Bool.random(using: &generator) {
                student.months = [MonthPoints(month: Month(year: 2024, month: 9), points: Int.random(in: -20...60, using: &generator))]
            }
            student.isPublic = number % 7 != 0
            students["s\(Int.random(in: 0...999_999, using: &generator))@example.org"] = student
        }
        return students
    }

    @Test("a listing's board equals the board of the sorted reference, for students made whole", arguments: [1, 2, 3, 5, 100, 0])
    func wholeStudents(top: Int) {
        var generator = SystemRandomNumberGenerator()
        let at = Timestamp(milliseconds: 1_725_278_400_000)   // 2024-09-02
        for _ in 0..<30 {
            let students = Self.randomStudents(Int.random(in: 0...80, using: &generator), using: &generator)
            let listing = StudentListing(ids: Array(students.keys), states: Array(students.values))
            let settings = SiteSettings(top: top)
            #expect(Leaderboard(listing, settings: settings, generatedAt: at) == ReferenceBoard.make(listing, settings: settings, generatedAt: at))
        }
    }

    @Test("a state's listing (courses by number) gives the reference's board", arguments: [1, 2, 4, 100])
    func stateStudents(top: Int) {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10 {
            let events = (0..<Int.random(in: 1...150, using: &generator)).map { minute in
                ScoringTests.completion("s\(Int.random(in: 0..<25, using: &generator))@example.org",
                                        Self.courses.filter { !$0.isEmpty }.randomElement(using: &generator)!, minutes: minute)
            }
            let state = ScoringTests.run(events).0
            let at = events.last!.at
            let settings = SiteSettings(top: top)
            for listing in [state.listed(rules: Rules()), state.listing(rules: Rules())] {
                #expect(listing.numberedCourseNames != nil)
                #expect(Leaderboard(listing, settings: settings, generatedAt: at)
                    == ReferenceBoard.make(listing, settings: settings, generatedAt: at))
            }
        }
    }
}
