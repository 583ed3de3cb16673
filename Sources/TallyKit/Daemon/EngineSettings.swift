/// Where Tally reads and writes.
public struct EnginePaths: Sendable, Equatable {
    public var inbox: String
    public var data: String
    public var site: String
    public var templates: String

    public init(inbox: String = "inbox", data: String = "data", site: String = "site", templates: String = "templates") {
        self.inbox = inbox
        self.data = data
        self.site = site
        self.templates = templates
    }

    public var archive: String { data + "/archive" }
    public var failed: String { data + "/failed" }
    public var state: String { data + "/state.json" }
    public var index: String { data + "/index.bin" }
    public var stats: String { data + "/stats.json" }
    public var metrics: String { data + "/metrics.prom" }
}

/// Everything the engine needs, taken from `tally.toml` and the flags in one place, so no
/// other part of TallyKit reads the configuration's shape.
public struct EngineSettings: Sendable {
    public var paths: EnginePaths
    public var rules: Rules
    public var site: SiteSettings
    public var limits: TableLimits
    public var workbookLimits: WorkbookLimits
    public var jsonIntake: JSONIntake
    public var rosterFile: String?
    /// Whose email messages are read (`[email]`).
    public var mailPolicy: MailPolicy
    /// Bounds on one message's structure and decoded parts (from `[limits]`).
    public var mailLimits: MailLimits
    public var config: TallyConfig

    public init(config: TallyConfig, inbox: String? = nil, data: String? = nil, site: String? = nil) {
        self.config = config
        paths = EnginePaths(inbox: inbox ?? config.paths.inbox, data: data ?? config.paths.data,
                            site: site ?? config.paths.site, templates: config.paths.templates)
        var rules = Rules()
        rules.courseCompleted = config.points.courseCompleted
        rules.quizPassed = config.points.quizPassed
        rules.purchaseCreated = config.points.purchaseCreated
        rules.perCourse = config.points.courses
        rules.levels = config.levels.sorted { $0.xp < $1.xp }
        rules.badges = config.badges
        for unlock in config.unlocks { rules.unlocks[unlock.quiz, default: []].append(unlock.step) }
        for cap in config.caps { rules.caps[cap.activity, default: []].append(cap) }
        rules.rosterRequired = config.roster.required
        self.rules = rules
        self.site = SiteSettings(title: config.site.title, names: config.site.names, top: config.site.top,
                                 badgeNames: Dictionary(config.badges.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first }))
        limits = TableLimits(maxRowBytes: config.limits.maxRowBytes, maxFields: config.limits.maxFields)
        workbookLimits = WorkbookLimits(maxEntryBytes: config.limits.maxEntryBytes, maxTotalBytes: config.limits.maxTotalBytes,
                                        maxCompressionRatio: config.limits.maxCompressionRatio,
                                        maxFields: config.limits.maxFields, maxRowBytes: config.limits.maxRowBytes)
        jsonIntake = JSONIntake(
            policy: .init(secret: config.kajabi.secret, siteSecrets: config.kajabi.sites, required: config.kajabi.requireSignature),
            payloads: .init(forms: config.kajabi.forms, tags: config.kajabi.tags),
            limits: .init(maxDepth: config.limits.maxJSONDepth),
            maxDocumentBytes: config.limits.maxFileBytes, maxLineBytes: config.limits.maxRowBytes)
        rosterFile = config.roster.file
        mailPolicy = MailPolicy(allowFrom: config.email.allowFrom, requireAuth: config.email.requireAuth)
        var mail = MailLimits()
        // An 8-bit JSON body is one long line; allow it what a JSON file dropped alone gets.
        mail.maxLineBytes = max(config.limits.maxRowBytes, config.limits.maxFileBytes)
        mail.maxPartBytes = config.limits.maxEntryBytes
        mail.maxTotalBytes = config.limits.maxTotalBytes
        mailLimits = mail
    }

    /// How to read the JSON file `name`: its `[[sources]]` entry's `date_order`, if one matches.
    public func jsonIntake(for name: String) -> JSONIntake {
        var intake = jsonIntake
        if let order = config.source(for: name)?.dateOrder { intake.payloads.dateOrder = order }
        return intake
    }

    /// How to read the table file `name`: its `[[sources]]` entry, if one matches.
    public func tableIntake(for name: String) -> TableIntake {
        var settings = TableIntake.Settings(limits: limits)
        if let source = config.source(for: name) {
            settings.mapper.course = source.course
            settings.mapper.quiz = source.quiz
            if let pass = source.pass { settings.mapper.pass = pass }
            if let order = source.dateOrder {
                settings.mapper.dateOrder = order
                settings.dateOrderConfigured = true
            }
            for (column, header) in source.columns { settings.overrides[column] = header }
            if let idColumn = source.idColumn { settings.overrides[.id] = idColumn }
        }
        return TableIntake(settings: settings)
    }
}
