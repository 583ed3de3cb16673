/// The scoring rules, taken from `tally.toml` once and handed to the pure scoring core.
public struct Rules: Equatable, Sendable {
    /// A level: reached at `xp` points (`[[levels]]`).
    public typealias Level = TallyConfig.Level
    /// A badge earned by a number of completions, by completing every listed course, or
    /// both (`[[badges]]`).
    public typealias Badge = TallyConfig.Badge
    /// A limit on the points of one activity, ever or per rolling window (`[[caps]]`).
    public typealias Cap = TallyConfig.Cap

    public var courseCompleted: Int = 20
    public var quizPassed: Int = 0
    /// Points for a purchase (`[points] purchase_created`); a refund takes them back.
    public var purchaseCreated: Int = 0
    /// `[points.courses]`: course name → its LEARN points, matched to a completion's course
    /// by their `CourseName` folds (the configuration refuses two names that fold alike).
    public var perCourse: [String: Int] = [:] {
        didSet { perCourseByKey = Dictionary(perCourse.map { (CourseName.key($0.key), $0.value) }, uniquingKeysWith: max) }
    }
    /// `perCourse` by folded name.
    private var perCourseByKey: [String: Int] = [:]
    /// Levels sorted by threshold.
    public var levels: [Level] = []
    public var badges: [Badge] = []
    /// Quiz name → the steps passing it unlocks.
    public var unlocks: [String: [String]] = [:]
    /// Activity → its caps, in file order.
    public var caps: [String: [Cap]] = [:] {
        didSet { cappedActivities = Set(caps.keys) }
    }
    /// The activities `caps` names (what the cap ledger keeps).
    public private(set) var cappedActivities: Set<String> = []
    /// With a roster required, nobody is a student before the roster lists them.
    public var rosterRequired = false

    public init() {}

    /// LEARN points for completing `course`.
    public func points(forCourse course: String) -> Int {
        perCourse.isEmpty ? courseCompleted : perCourse[course] ?? perCourseByKey[CourseName.key(course)] ?? courseCompleted
    }

    /// The name of the highest level whose threshold `xp` reaches.
    public func level(forXP xp: Int) -> String? {
        levels.last(where: { $0.xp <= xp })?.name
    }
}

/// The activity names written in `points.jsonl`.
public enum Activity {
    public static let learn = "LEARN"
    public static let quiz = "QUIZ"
    public static let manual = "MANUAL"
    public static let badge = "BADGE"
    public static let unlock = "UNLOCK"
    public static let purchase = "PURCHASE"
}
