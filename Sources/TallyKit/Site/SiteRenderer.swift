import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a `Leaderboard` out as the static site: `index.html`, `courses/<slug>.html`,
/// `month.html` (the "this month" board), `leaderboard.json`, `style.css`, and with stats
/// `stats.html`.
///
/// Every file is replaced atomically, so a web server publishing the directory never serves
/// half a page. Pages are written before the index that links to them, and course pages of
/// courses no longer on the board are removed last, so a link on the live index always
/// resolves. The templates escape every value from the board (`{{ }}`): a name such as
/// `<script>` is shown, never run.
///
/// The templates see, on every page: `title`, `pageTitle`, `generatedAt` (ISO 8601),
/// `updated` ("2 Sep 2024, 10:30 UTC"), `root` ("" or "../", the way to the site's top),
/// `rows`, `hasRows`, `caption` (what the board ranks by), `courses` (each with `course`,
/// `slug`, `href`), `hasCourses`, `month` ("2024-09") and `monthName` ("September 2024");
/// a course page adds `course`. On `month.html` a row's `xp` is the month's points. A row has `rank`, `name`, `xp` ("1,250"), `xpValue`, `badges`,
/// `hasBadges`, `courses` (a count), and when they apply `level`, `coursesText` ("2 courses")
/// and `podium` (a class for ranks 1 to 3).
public struct SiteRenderer: Sendable {
    /// A directory whose `.mustache` files and `style.css` replace the built-in ones of the
    /// same name; nil, or a directory that does not exist, means the built-in templates.
    public var templatesOverride: String?

    public init(templatesOverride: String?) {
        self.templatesOverride = templatesOverride
    }

    /// What the last render wrote, so the next one can skip the course pages whose board,
    /// navigation and templates have not changed (a drop usually changes one course).
    /// Such a page keeps its "Last updated" time: the time its board last changed.
    public struct Cache: Sendable {
        var board: Leaderboard
        var templates: Int
        var directory: String
        var hasStats: Bool
    }

    /// Renders `board` into `siteDirectory`, creating it (and `courses/`) when missing.
    public func render(_ board: Leaderboard, to siteDirectory: String) throws {
        var cache: Cache?
        try render(board, to: siteDirectory, cache: &cache)
    }

    /// Renders `board` (and with `stats`, `stats.html`), re-rendering only the course pages
    /// that differ from `cache`'s, and leaves the cache describing this render.
    public func render(_ board: Leaderboard, stats: SiteStats? = nil, to siteDirectory: String, cache: inout Cache?) throws {
        let templates = try SiteTemplates.load(overrideDirectory: templatesOverride)
        let coursesDirectory = siteDirectory + "/courses"
        try FileSystem.createDirectory(coursesDirectory)
        let previous = cache.flatMap { cached -> [String: Leaderboard.CourseBoard]? in
            guard cached.templates == templates.fingerprint, cached.directory == siteDirectory, cached.board.title == board.title,
                  cached.hasStats == (stats != nil),
                  cached.board.courses.map({ [$0.course, $0.slug] }) == board.courses.map({ [$0.course, $0.slug] })
            else { return nil }
            return Dictionary(cached.board.courses.map { ($0.slug, $0) }, uniquingKeysWith: { first, _ in first })
        }

        try write(templates.stylesheet, to: siteDirectory + "/style.css")
        let withStats = stats != nil
        for course in board.courses {
            let path = coursesDirectory + "/" + course.slug + ".html"
            if previous?[course.slug] == course && FileSystem.exists(path) { continue }
            let html = try templates.render("course", Self.coursePage(course, of: board, withStats: withStats))
            try write(html, to: path)
        }
        if let stats {
            try write(try templates.render("stats", Self.statsPage(stats, of: board)), to: siteDirectory + "/stats.html")
        }
        try write(try templates.render("month", Self.monthPage(board, withStats: withStats)), to: siteDirectory + "/month.html")
        try FileSystem.writeAtomically(Self.json(board), to: siteDirectory + "/leaderboard.json", durable: false)
        try write(try templates.render("index", Self.indexPage(board, withStats: withStats)), to: siteDirectory + "/index.html")

        let current = Set(board.courses.map { $0.slug + ".html" })
        try Self.removeStale(in: coursesDirectory) { $0.hasSuffix(".html") && !current.contains($0) }
        try Self.removeStale(in: siteDirectory) { !withStats && $0 == "stats.html" }
        cache = Cache(board: board, templates: templates.fingerprint, directory: siteDirectory, hasStats: withStats)
    }

    /// `leaderboard.json`: the board with sorted keys, so that an unchanged board gives
    /// byte-identical output (and a publish step that compares files uploads nothing).
    /// Written as `JSONEncoder` would write it (see `LeaderboardJSON`).
    static func json(_ board: Leaderboard) -> [UInt8] {
        LeaderboardJSON.encode(board)
    }

    private func write(_ text: String, to path: String) throws {
        try FileSystem.writeAtomically(Array(text.utf8), to: path, durable: false)
    }

    // MARK: - Template contexts

    static func indexPage(_ board: Leaderboard, withStats: Bool = false) -> [String: Any] {
        var page = common(board, root: "", withStats: withStats)
        page["pageTitle"] = board.title
        page["rows"] = board.students.map(row)
        page["hasRows"] = !board.students.isEmpty
        return page
    }

    static func coursePage(_ course: Leaderboard.CourseBoard, of board: Leaderboard, withStats: Bool = false) -> [String: Any] {
        var page = common(board, root: "../", withStats: withStats)
        page["pageTitle"] = course.course + " · " + board.title
        page["course"] = course.course
        page["rows"] = course.students.map(row)
        page["hasRows"] = !course.students.isEmpty
        return page
    }

    /// `month.html`: the "this month" board.
    static func monthPage(_ board: Leaderboard, withStats: Bool = false) -> [String: Any] {
        var page = common(board, root: "", withStats: withStats)
        page["pageTitle"] = "This month · " + board.title
        page["caption"] = "Students ranked by XP earned in " + board.month.name
        page["rows"] = board.month.students.map(row)
        page["hasRows"] = !board.month.students.isEmpty
        return page
    }

    /// `stats.html`: counts only; see `SiteStats`.
    static func statsPage(_ stats: SiteStats, of board: Leaderboard) -> [String: Any] {
        var page = common(board, root: "", withStats: true)
        func percent(_ rate: Double?) -> String { rate.map { String(Int(($0 * 100).rounded())) + " %" } ?? "–" }
        func counts(_ list: [SiteStats.Count]) -> [[String: Any]] { list.map { ["label": $0.label, "count": grouped($0.count)] } }
        let figures = stats.figures
        page["pageTitle"] = "Stats · " + board.title
        page["students"] = grouped(stats.students)
        page["completions"] = grouped(stats.completions)
        page["totalXP"] = grouped(stats.totalXP)
        page["matchedRate"] = percent(figures.matchedRate)
        page["duplicates"] = grouped(figures.personal.duplicate)
        page["duplicateRate"] = percent(figures.duplicateRate)
        page["rejectedRows"] = grouped(figures.rejectedRows)
        page["filesDone"] = grouped(figures.filesDone + figures.rosters)
        if figures.filesFailed > 0 { page["filesFailed"] = grouped(figures.filesFailed) }
        page["courseCounts"] = counts(stats.courses)
        page["hasCourseCounts"] = !stats.courses.isEmpty
        page["levelCounts"] = counts(stats.levels)
        page["hasLevelCounts"] = !stats.levels.isEmpty
        page["badgeCounts"] = counts(stats.badges)
        page["hasBadgeCounts"] = !stats.badges.isEmpty
        return page
    }

    private static func common(_ board: Leaderboard, root: String, withStats: Bool) -> [String: Any] {
        [
            "hasStats": withStats,
            "title": board.title,
            "generatedAt": board.generatedAt,
            "updated": humanTime(board.generatedAt),
            "root": root,
            "courses": board.courses.map { course -> [String: Any] in
                ["course": course.course, "slug": course.slug, "href": root + "courses/" + course.slug + ".html"]
            },
            "hasCourses": !board.courses.isEmpty,
            "caption": "Students ranked by XP",
            "month": board.month.month,
            "monthName": board.month.name,
        ]
    }

    private static func row(_ entry: Leaderboard.Entry) -> [String: Any] {
        var row: [String: Any] = [
            "rank": entry.rank,
            "name": entry.name,
            "xp": grouped(entry.xp),
            "xpValue": entry.xp,
            "badges": entry.badges,
            "hasBadges": !entry.badges.isEmpty,
            "courses": entry.courses,
        ]
        // Absent keys, not nil values: Mustache would render a stored nil as present.
        if let level = entry.level { row["level"] = level }
        if entry.courses > 0 { row["coursesText"] = entry.courses == 1 ? "1 course" : "\(entry.courses) courses" }
        if (1...3).contains(entry.rank) { row["podium"] = "podium podium-\(entry.rank)" }
        return row
    }

    /// `1250` → "1,250"; `-40` → "−40" (a true minus sign, which does not wrap apart).
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return value < 0 ? "\u{2212}" + out : out
    }

    /// "2024-09-02T10:30:00Z" → "2 Sep 2024, 10:30 UTC"; anything else is shown as it is.
    static func humanTime(_ iso: String) -> String {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let parts = iso.split(whereSeparator: { "-T:Z.".contains($0) })
        guard parts.count >= 5, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              months.indices.contains(month - 1)
        else { return iso }
        return "\(day) \(months[month - 1]) \(year), \(parts[3]):\(parts[4]) UTC"
    }

    // MARK: - Clean-up

    /// Removes the files of `directory` that `isStale` names, and the temporary files that
    /// an atomic write of a process no longer running left behind (`.NAME.tmp-PID`).
    private static func removeStale(in directory: String, where isStale: (String) -> Bool) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            let path = directory + "/" + name
            if isStale(name) || FileSystem.temporaryWriter(of: name).map(FileSystem.isGone) == true {
                guard unlink(path) == 0 || errno == ENOENT else { throw SystemError("unlink", path: path) }
            }
        }
    }
}
