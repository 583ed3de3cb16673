import Foundation
import Testing
@testable import TallyKit

/// `leaderboard.json` is written without `JSONEncoder`, byte for byte as it writes it.
struct LeaderboardJSONTests {
    /// What the file was before: the encoder's pretty, sorted output and a newline.
    static func encoded(_ board: Leaderboard) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(board)) + [UInt8(ascii: "\n")]
    }

    /// Every ASCII character (controls, quote, backslash, slash among them) and some that
    /// are not: accented, CJK, an emoji, the line and paragraph separators, a no-break
    /// space and a byte-order mark.
    static let alphabet: [String] = (0..<128).map { String(UnicodeScalar(UInt8($0))) }
        + ["é", "漢", "😀", "\u{2028}", "\u{2029}", "\u{00A0}", "\u{FEFF}", "\r\n"]

    static func text(_ generator: inout SeededGenerator, upTo length: Int = 12) -> String {
        (0..<Int.random(in: 0...length, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }.joined()
    }

    static func entries(_ generator: inout SeededGenerator) -> [Leaderboard.Entry] {
        (0..<Int.random(in: 0...4, using: &generator)).map { n in
            Leaderboard.Entry(rank: n + 1, name: text(&generator), xp: Int.random(in: -500...Int(Int32.max), using: &generator),
                              level: Bool.random(using: &generator) ? text(&generator) : nil,
                              badges: (0..<Int.random(in: 0...3, using: &generator)).map { _ in text(&generator) },
                              courses: Int.random(in: 0...40, using: &generator))
        }
    }

    static func board(_ generator: inout SeededGenerator) -> Leaderboard {
        Leaderboard(title: text(&generator, upTo: 30), generatedAt: "2026-11-28T23:59:59Z", students: entries(&generator),
                    courses: (0..<Int.random(in: 0...3, using: &generator)).map { _ in
                        Leaderboard.CourseBoard(course: text(&generator), slug: text(&generator), students: entries(&generator))
                    },
                    month: Leaderboard.MonthBoard(month: "2026-11", name: text(&generator), students: entries(&generator)))
    }

    @Test("random boards, with every ASCII character and others in their strings, are written as JSONEncoder writes them")
    func randomBoards() throws {
        var generator = SeededGenerator(seed: 2026_11_28)
        for n in 0..<400 {
            let board = Self.board(&generator)
            let mine = LeaderboardJSON.encode(board)
            let theirs = try Self.encoded(board)
            if mine != theirs {
                Issue.record("board \(n) written as\n\(String(decoding: mine, as: UTF8.self))\nJSONEncoder:\n\(String(decoding: theirs, as: UTF8.self))")
                break
            }
        }
    }

    @Test("an empty board, and a board of a site's usual shape, are written as JSONEncoder writes them")
    func shapes() throws {
        let empty = Leaderboard(title: "", generatedAt: "", students: [], courses: [],
                                month: Leaderboard.MonthBoard(month: "", name: "", students: []))
        #expect(LeaderboardJSON.encode(empty) == (try Self.encoded(empty)))

        var students: [String: StudentState] = [:]
        for n in 0..<250 {
            var student = StudentState(name: "Student \(n) O'Neil \"Jr\" <b>", xp: (n % 17) * 20)
            student.courses = ["Data Literacy 101", "Course / Part \(n % 3)", "Ünïcode ✓"].prefix(n % 4).map { $0 }
            student.badges = n % 5 == 0 ? ["first-steps", "A \\ B"] : []
            students["s\(n)@example.org"] = student
        }
        let settings = SiteSettings(title: "Tally – leaderboard / \"2026\"", names: .full)
        let board = Leaderboard(students: students, settings: settings, generatedAt: Timestamp(milliseconds: 1_790_000_000_000))
        #expect(!board.students.isEmpty && !board.courses.isEmpty)
        let mine = LeaderboardJSON.encode(board)
        #expect(mine == (try Self.encoded(board)))
        // And it reads back as the same board (the renderer's readers parse it).
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(mine)) as? [String: Any])
        #expect((parsed["students"] as? [Any])?.count == board.students.count)
    }
}
