/// What the snapshot knows of one student: the figures the leaderboard shows.
///
/// `name` is what the roster or the student's latest event called them; it is never an
/// email address (the normaliser drops a "name" that is one), so it is safe to publish
/// after the site's naming policy is applied.
public struct StudentState: Equatable, Sendable {
    public var name: String?
    public var xp: Int
    /// The name of the highest level whose threshold `xp` reaches; nil without levels.
    public var level: String?
    /// Badge ids, in the order earned.
    public var badges: [String]
    /// Unlocked step ids, in the order unlocked.
    public var unlocks: [String]
    /// Course names completed, in the order completed.
    public var courses: [String]
    /// False when the roster marks the student non-public: the site shows them as anonymous.
    public var isPublic: Bool
    /// The `points.jsonl` sequence number of the last line that changed `xp`: of two students
    /// with equal XP the one with the smaller number reached it first and ranks first.
    public var reachedAt: Int
    /// Net points per calendar month (UTC) of the awards' event time, oldest first; months
    /// that net to nothing are left out. The "this month" board reads the current one.
    public var months: [MonthPoints]

    public init(name: String? = nil, xp: Int = 0, level: String? = nil, badges: [String] = [],
                unlocks: [String] = [], courses: [String] = [], isPublic: Bool = true, reachedAt: Int = 0,
                months: [MonthPoints] = []) {
        self.name = name
        self.xp = xp
        self.level = level
        self.badges = badges
        self.unlocks = unlocks
        self.courses = courses
        self.isPublic = isPublic
        self.reachedAt = reachedAt
        self.months = months
    }

    /// The net points of `month`.
    public func points(in month: Month) -> Int { months.points(in: month) }

    /// Adds `points` earned at `at` to its month's figure.
    mutating func add(_ points: Int, at: Timestamp) { months.add(points, at: at) }
}

extension [MonthPoints] {
    /// The net points of `month`.
    func points(in month: Month) -> Int {
        last(where: { $0.month == month })?.points ?? 0
    }

    /// Adds `points` earned at `at` to its month's figure; a month that nets to nothing is
    /// left out.
    mutating func add(_ points: Int, at: Timestamp) {
        guard points != 0 else { return }
        let month = Month(at)
        // Awards come mostly in time order: the month is the last one, or near it.
        guard let index = lastIndex(where: { $0.month <= month }) else {
            insert(MonthPoints(month: month, points: points), at: 0)
            return
        }
        if self[index].month != month {
            insert(MonthPoints(month: month, points: points), at: index + 1)
        } else if self[index].points + points == 0 {
            remove(at: index)
        } else {
            self[index].points += points
        }
    }
}

/// A calendar month in UTC, as a count of months since year 0 (so months compare and
/// step as integers).
public struct Month: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var number: Int32

    public init(year: Int, month: Int) { number = Int32(year * 12 + month - 1) }

    public init(number: Int32) { self.number = number }

    /// The month `time` falls in.
    public init(_ time: Timestamp) {
        let (year, month, _) = time.civilDate
        self.init(year: year, month: month)
    }

    /// "2026-11" → the month; nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let year = Int(parts[0]), let month = Int(parts[1]),
              year >= 1, (1...12).contains(month)
        else { return nil }
        self.init(year: year, month: month)
    }

    public var year: Int { Int(number) / 12 }
    public var month: Int { Int(number) % 12 + 1 }

    /// "2026-11", as `state.json` and `leaderboard.json` write it.
    public var description: String {
        let year = String(self.year), month = self.month
        return String(repeating: "0", count: max(0, 4 - year.count)) + year + (month < 10 ? "-0" : "-") + String(month)
    }

    /// "November 2026", as the site shows it.
    public var name: String {
        let names = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                     "November", "December"]
        return names[month - 1] + " " + String(year)
    }

    public static func < (a: Month, b: Month) -> Bool { a.number < b.number }
}

/// The net points of one month.
public struct MonthPoints: Equatable, Sendable {
    public var month: Month
    public var points: Int
    public init(month: Month, points: Int) {
        self.month = month
        self.points = points
    }
}
