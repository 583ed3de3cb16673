import Testing
@testable import TallyKit

/// `StringNumbering` looks long strings up by the address of their bytes first; it must
/// number every string exactly as a dictionary by value does.
struct StringNumberingTests {
    @Test("strings are numbered by value, whether they share storage or not", arguments: [true, false])
    func byValue(byAddress: Bool) {
        // Over a hundred long names (the table grows), short ones, and copies of each in new storage.
        let names = (0..<150).map { "Course \($0): Practical Skills for Teams" } + ["AI 1", "", "Écoles", "B"]
        var generator = SystemRandomNumberGenerator()
        var picked: [String] = []
        for _ in 0..<3000 {
            let name = names.randomElement(using: &generator)!
            picked.append(Bool.random() ? String(decoding: Array(name.utf8), as: UTF8.self) : name)
        }
        var numbering = StringNumbering(byAddress: byAddress)
        var simple: [String: Int] = [:], order: [String] = []
        for text in picked {
            let expected = simple[text] ?? {
                simple[text] = order.count
                order.append(text)
                return order.count - 1
            }()
            #expect(numbering.number(of: text) == expected, "\(text)")
        }
        #expect(numbering.strings == order)
        #expect(numbering.count == order.count)
    }

    @Test("the stats page counts what the simple count by dictionary counts")
    func siteStats() {
        var rules = Rules()
        rules.levels = [.init(name: "Starter", xp: 0), .init(name: "Pro", xp: 40)]
        rules.badges = [.init(id: "first", name: "First", completions: 1)]
        let long = (0..<40).map { "Course \($0 % 20): Practical Skills for Teams" }
        var students: [StudentState] = []
        for index in 0..<500 {
            let courses = (0..<(index % 6)).map { long[(index * 7 + $0 * 3) % long.count] }
            students.append(StudentState(name: "S\(index)", xp: index % 9 * 20, level: index % 4 == 0 ? nil : index % 2 == 0 ? "Pro" : "Starter",
                                         badges: index % 3 == 0 ? ["first"] : [], courses: courses.map {
                                             index % 2 == 0 ? String(decoding: Array($0.utf8), as: UTF8.self) : $0 }))
        }
        var perCourse: [String: Int] = [:]
        for student in students { for course in student.courses { perCourse[course, default: 0] += 1 } }
        let expected = perCourse.map { SiteStats.Count(label: $0.key, count: $0.value) }
            .sorted { ($1.count, $0.label) < ($0.count, $1.label) }
        let figures = LedgerStats()
        let fromArray = SiteStats(students: students, figures: figures, rules: rules)
        let fromLazy = SiteStats(students: students.lazy.map { $0 }, figures: figures, rules: rules)
        #expect(fromArray.courses == expected)
        #expect(fromArray == fromLazy)
        #expect(fromArray.completions == students.reduce(0) { $0 + $1.courses.count })
        #expect(fromArray.levels.map(\.count) == [students.filter { $0.level == "Starter" }.count, students.filter { $0.level == "Pro" }.count])
        #expect(fromArray.badges.map(\.count) == [students.filter { !$0.badges.isEmpty }.count])
    }
}
