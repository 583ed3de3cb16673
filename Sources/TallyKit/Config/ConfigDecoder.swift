import Foundation
import TOMLKit

/// Turns the text of `tally.toml` into a ``TallyConfig``, section by section.
///
/// Each section starts from its defaults and takes only what the file sets; every table
/// first rejects keys it does not know, then checks each value's type and range. The first
/// problem found is thrown; unknown keys are reported in file order.
struct ConfigDecoder {
    let text: String

    static let sections = [
        "paths", "roster", "points", "levels", "badges", "unlocks", "caps", "kajabi", "email", "receive",
        "sources", "site", "limits",
    ]

    func decode() throws(ConfigError) -> TallyConfig {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw .syntax(line: error.source.begin.line, column: error.source.begin.column,
                          message: error.description)
        } catch {
            throw .syntax(line: 1, column: 1, message: "\(error)")
        }
        let file = ConfigTable(table: root, path: .root, locator: KeyLocator(text))
        try file.allowOnly(ConfigDecoder.sections)

        var config = TallyConfig.defaults
        if let table = try file.table("paths") { config.paths = try .init(table) }
        if let table = try file.table("roster") { config.roster = try .init(table) }
        if let table = try file.table("points") { config.points = try .init(table) }
        if let tables = try file.tables("levels") { config.levels = try ConfigDecoder.levels(tables) }
        if let tables = try file.tables("badges") { config.badges = try ConfigDecoder.badges(tables) }
        if let tables = try file.tables("unlocks") {
            config.unlocks = try tables.map { (table) throws(ConfigError) in try TallyConfig.Unlock(table) }
        }
        if let tables = try file.tables("caps") {
            config.caps = try tables.map { (table) throws(ConfigError) in try TallyConfig.Cap(table) }
        }
        if let table = try file.table("kajabi") { config.kajabi = try .init(table) }
        if let table = try file.table("email") { config.email = try .init(table) }
        if let table = try file.table("receive") { config.receive = try .init(table) }
        if let tables = try file.tables("sources") {
            config.sources = try tables.map { (table) throws(ConfigError) in try SourceConfig(table) }
        }
        if let table = try file.table("site") { config.site = try .init(table) }
        if let table = try file.table("limits") { config.limits = try .init(table) }
        return config
    }

    /// Levels sorted by threshold; names and thresholds must be distinct.
    static func levels(_ tables: [ConfigTable]) throws(ConfigError) -> [TallyConfig.Level] {
        var levels: [TallyConfig.Level] = []
        for table in tables {
            try table.allowOnly(["name", "xp"])
            guard let name = try table.nonEmptyString("name") else { throw table.missing("name") }
            guard let xp = try table.int("xp", atLeast: 0) else { throw table.missing("xp") }
            if let other = levels.firstIndex(where: { $0.name == name }) {
                throw table.badValue("name", "is \(ConfigTable.quote(name)), already the name of levels[\(other + 1)]")
            }
            if let other = levels.firstIndex(where: { $0.xp == xp }) {
                throw table.badValue("xp", "is \(xp), already the threshold of levels[\(other + 1)]")
            }
            levels.append(TallyConfig.Level(name: name, xp: xp))
        }
        return levels.sorted { $0.xp < $1.xp }
    }

    /// Badges in file order (the order they are checked and shown); ids must be distinct.
    static func badges(_ tables: [ConfigTable]) throws(ConfigError) -> [TallyConfig.Badge] {
        var badges: [TallyConfig.Badge] = []
        for table in tables {
            let badge = try TallyConfig.Badge(table)
            if let other = badges.firstIndex(where: { $0.id == badge.id }) {
                throw table.badValue("id", "is \(ConfigTable.quote(badge.id)), already the id of badges[\(other + 1)]")
            }
            badges.append(badge)
        }
        return badges
    }
}

extension TallyConfig.Paths {
    init(_ table: ConfigTable) throws(ConfigError) {
        self.init()
        try table.allowOnly(["inbox", "data", "site", "templates"])
        if let value = try table.nonEmptyString("inbox") { inbox = value }
        if let value = try table.nonEmptyString("data") { data = value }
        if let value = try table.nonEmptyString("site") { site = value }
        if let value = try table.nonEmptyString("templates") { templates = value }
    }
}

extension TallyConfig.Roster {
    init(_ table: ConfigTable) throws(ConfigError) {
        self.init()
        try table.allowOnly(["file", "required"])
        if let value = try table.optionalString("file") { file = value }
        if let value = try table.bool("required") { required = value }
    }
}

extension TallyConfig.Points {
    init(_ table: ConfigTable) throws(ConfigError) {
        self.init()
        try table.allowOnly(["course_completed", "quiz_passed", "purchase_created", "courses"])
        let most = PointsLimit.most
        if let value = try table.int("course_completed", atLeast: 0, atMost: most) { courseCompleted = value }
        if let value = try table.int("quiz_passed", atLeast: 0, atMost: most) { quizPassed = value }
        if let value = try table.int("purchase_created", atLeast: 0, atMost: most) { purchaseCreated = value }
        if let value = try table.intMap("courses", atLeast: 0, atMost: most) { courses = value }
        // One course, one figure: names that fold alike (see `CourseName`) are one course.
        if courses.count > 1, let map = try table.table("courses") {
            var seen: [String: String] = [:]
            for name in map.keys {
                let key = CourseName.key(name)
                if let first = seen[key] {
                    let line = map.line(of: first).map { " (line \($0))" } ?? ""
                    throw map.badValue(name, "is the course \(ConfigTable.quote(first))\(line) spelled another way (course names are compared without case, extra spaces or invisible characters); keep one of the two")
                }
                seen[key] = name
            }
        }
    }
}

extension TallyConfig.Badge {
    init(_ table: ConfigTable) throws(ConfigError) {
        try table.allowOnly(["id", "name", "completions", "courses", "course"])
        guard let id = try table.nonEmptyString("id") else { throw table.missing("id") }
        var courses = try table.strings("courses") ?? []
        if let index = courses.firstIndex(where: { $0.isEmpty }) {
            throw table.badValue("courses", "has an empty course name at position \(index + 1)")
        }
        if let course = try table.nonEmptyString("course"), !courses.contains(course) {
            courses.insert(course, at: 0)
        }
        let completions = try table.int("completions", atLeast: 1)
        guard completions != nil || !courses.isEmpty else {
            throw table.invalid("must say how it is earned: completions, course or courses")
        }
        self.init(id: id, name: try table.nonEmptyString("name") ?? id, completions: completions, courses: courses)
    }
}

extension TallyConfig.Cap {
    init(_ table: ConfigTable) throws(ConfigError) {
        try table.allowOnly(["activity", "max", "days"])
        guard let written = try table.nonEmptyString("activity") else { throw table.missing("activity") }
        // As points.jsonl spells it, whatever case the file uses.
        let activity = written.uppercased()
        guard TallyConfig.Cap.activities.contains(activity) else {
            throw table.badValue("activity", "is \(ConfigTable.quote(written)); a cap names one of "
                + TallyConfig.Cap.activities.map(ConfigTable.quote).joined(separator: ", "))
        }
        guard let max = try table.int("max", atLeast: 0, atMost: PointsLimit.most) else { throw table.missing("max") }
        let days = try table.int("days", atLeast: 1)
        if let days, days > 36_500 { throw table.badValue("days", "is \(days); a window is at most 36500 days (use no days for a cap on every award ever)") }
        self.init(activity: activity, max: max, days: days)
    }
}

extension TallyConfig.Unlock {
    init(_ table: ConfigTable) throws(ConfigError) {
        try table.allowOnly(["quiz", "step"])
        guard let quiz = try table.nonEmptyString("quiz") else { throw table.missing("quiz") }
        guard let step = try table.nonEmptyString("step") else { throw table.missing("step") }
        self.init(quiz: quiz, step: step)
    }
}

extension TallyConfig.Kajabi {
    init(_ table: ConfigTable) throws(ConfigError) {
        self.init()
        try table.allowOnly(["secret", "require_signature", "sites", "tags", "forms"])
        if let value = try table.optionalString("secret") { secret = value }
        if let value = try table.bool("require_signature") { requireSignature = value }
        if let value = try table.stringMap("sites") { sites = value }
        if let value = try table.stringMap("forms") { forms = value }
        if let map = try table.table("tags") {
            // Tags are compared trimmed and lowercased; two keys that become one are a mistake.
            for key in map.keys {
                guard let course = try map.nonEmptyString(key) else { continue }
                let tag = KajabiPayload.normaliseTag(key)
                guard !tag.isEmpty else { throw map.badValue(key, "is an empty tag name") }
                if tags[tag] != nil {
                    throw map.badValue(key, "is the same tag as another key once trimmed and lowercased")
                }
                tags[tag] = course
            }
        }
    }
}

extension TallyConfig.Mail {
    init(_ table: ConfigTable) throws(ConfigError) {
        self.init()
        try table.allowOnly(["allow_from", "require_auth"])
        if let list = try table.strings("allow_from") {
            allowFrom = try list.enumerated().map { (offset, raw) throws(ConfigError) in
                let entry = raw.trimmingCharacters(in: .whitespaces).lowercased()
                let domain = entry.split(separator: "@", omittingEmptySubsequences: false).last ?? ""
                guard entry.contains("@"), !domain.isEmpty, !entry.contains(" ") else {
                    let path = table.path.appending("allow_from").appending(index: offset + 1)
                    throw .badValue(
                        key: path.display, line: table.locator.line(of: path),
                        reason: "must be an address (\"forms@school.example\") or a domain "
                            + "(\"@school.example\"), not \(ConfigTable.quote(raw))")
                }
                return entry
            }
        }
        if let value = try table.optionalString("require_auth") { requireAuth = value }
    }
}

extension TallyConfig.Receive {
    init(_ table: ConfigTable) throws(ConfigError) {
        self.init()
        try table.allowOnly(["listen", "tokens", "max_body_bytes", "max_header_bytes", "max_requests",
                             "max_connections", "request_timeout", "trusted_proxies"])
        if let value = try table.optionalString("listen") {
            if let address = value, ListenAddress(address) == nil {
                throw table.badValue(
                    "listen", "must be HOST:PORT, such as \"127.0.0.1:8080\", not \(ConfigTable.quote(address))")
            }
            listen = value
        }
        if let value = try table.int("max_body_bytes", atLeast: 1) { maxBodyBytes = value }
        if let value = try table.int("max_header_bytes", atLeast: 1024) { maxHeaderBytes = value }
        if let value = try table.int("max_requests", atLeast: 1) { maxRequests = value }
        if let value = try table.int("max_connections", atLeast: 1) { maxConnections = value }
        if let value = try table.int("request_timeout", atLeast: 1) { requestTimeout = value }
        if let list = try table.strings("trusted_proxies") {
            trustedProxies = try list.enumerated().map { (offset, raw) throws(ConfigError) in
                let address = raw.trimmingCharacters(in: .whitespaces)
                guard IPAddress(address) != nil else {
                    let path = table.path.appending("trusted_proxies").appending(index: offset + 1)
                    throw .badValue(key: path.display, line: table.locator.line(of: path),
                                    reason: "must be an IP address, such as \"127.0.0.1\" or \"::1\", not \(ConfigTable.quote(raw))")
                }
                return address
            }
        }
        if let map = try table.table("tokens") {
            for site in map.keys {
                guard let token = try map.string(site), !token.isEmpty else { continue }
                guard token.unicodeScalars.allSatisfy(Self.isTokenCharacter) else {
                    throw map.badValue(
                        site, "must use only letters, digits, \"-\", \"_\", \".\" and \"~\": it is part of a URL")
                }
                guard token.count >= Self.minimumTokenLength else {
                    throw map.badValue(
                        site, "must be at least \(Self.minimumTokenLength) characters long, or it can be guessed "
                            + "(`tally receive --new-token` prints a random one)")
                }
                if let other = tokens.first(where: { $0.value == token })?.key {
                    throw map.badValue(site, "is the same token as receive.tokens.\(ConfigKeyPath.quoted(other))")
                }
                tokens[site] = token
            }
        }
    }

    private static func isTokenCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "-", "_", ".", "~": return true
        default: return false
        }
    }
}

extension SourceConfig {
    init(_ table: ConfigTable) throws(ConfigError) {
        try table.allowOnly(["files", "course", "quiz", "pass", "date_order", "sheet", "id_column", "columns"])
        guard let files = try table.nonEmptyString("files") else { throw table.missing("files") }
        self.init(files: Glob(files))
        course = try table.nonEmptyString("course")
        quiz = try table.nonEmptyString("quiz")
        if course != nil && quiz != nil {
            throw table.invalid(
                "sets both course and quiz: a file holds either completions of a course or quiz results")
        }
        pass = try table.fraction("pass", in: 0...1)
        if pass != nil && quiz == nil {
            throw table.badValue("pass", "is set, but quiz is not: a pass mark needs the quiz it is for")
        }
        dateOrder = try table.choice("date_order", as: DateOrder.self)
        sheet = try table.nonEmptyString("sheet")
        idColumn = try table.nonEmptyString("id_column")
        if let map = try table.table("columns") {
            try map.allowOnly(Field.allCases.map(\.rawValue))
            for key in map.keys {
                if let field = Field(rawValue: key), let header = try map.nonEmptyString(key) {
                    columns[field] = header
                }
            }
        }
    }
}

extension TallyConfig.Site {
    init(_ table: ConfigTable) throws(ConfigError) {
        self.init()
        try table.allowOnly(["title", "names", "top", "publish"])
        if let value = try table.nonEmptyString("title") { title = value }
        if let value = try table.choice("names", as: TallyConfig.NameStyle.self) { names = value }
        if let value = try table.int("top", atLeast: 0) { top = value }   // 0: everyone
        if let value = try table.optionalString("publish") { publish = value }
    }
}

extension TallyConfig.Limits {
    init(_ table: ConfigTable) throws(ConfigError) {
        self.init()
        try table.allowOnly(["max_row_bytes", "max_fields", "max_file_bytes", "max_json_depth",
                             "max_entry_bytes", "max_total_bytes", "max_compression_ratio"])
        if let value = try table.int("max_row_bytes", atLeast: 1) { maxRowBytes = value }
        if let value = try table.int("max_fields", atLeast: 1) { maxFields = value }
        if let value = try table.int("max_file_bytes", atLeast: 1) { maxFileBytes = value }
        if let value = try table.int("max_json_depth", atLeast: 1) { maxJSONDepth = value }
        if let value = try table.int("max_entry_bytes", atLeast: 1) { maxEntryBytes = value }
        if let value = try table.int("max_total_bytes", atLeast: 1) { maxTotalBytes = value }
        if let value = try table.int("max_compression_ratio", atLeast: 1) { maxCompressionRatio = value }
    }
}
