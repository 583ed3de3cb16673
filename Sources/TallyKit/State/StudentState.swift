/// What the snapshot knows of one student: the figures the leaderboard shows.
///
/// `name` is what the roster or the student's latest event called them; it is never an
/// email address (the normaliser drops a "name" that is one), so it is safe to publish
/// after the site's naming policy is applied.
public struct StudentState: Codable, Equatable, Sendable {
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

    public init(name: String? = nil, xp: Int = 0, level: String? = nil, badges: [String] = [],
                unlocks: [String] = [], courses: [String] = [], isPublic: Bool = true, reachedAt: Int = 0) {
        self.name = name
        self.xp = xp
        self.level = level
        self.badges = badges
        self.unlocks = unlocks
        self.courses = courses
        self.isPublic = isPublic
        self.reachedAt = reachedAt
    }

    enum CodingKeys: String, CodingKey {
        case name, xp, level, badges, unlocks, courses
        case isPublic = "public"
        case reachedAt = "reached_at"
    }
}
