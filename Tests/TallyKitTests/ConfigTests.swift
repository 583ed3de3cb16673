import Foundation
import Testing
@testable import TallyKit

/// Shared by the configuration tests.
enum ConfigFixture {
    /// Decodes `text` with no environment; the error's message, or nil when it decodes.
    static func error(_ text: String, environment: [String: String] = [:]) -> String? {
        do {
            _ = try TallyConfig.load(contentsOf: text, environment: environment)
            return nil
        } catch {
            return error.description
        }
    }
}

@Suite("tally.toml")
struct ConfigTests {
    @Test("the contract's example tally.toml decodes to exact values")
    func contractExample() throws {
        let config = try TallyConfig.load(contentsOf: ConfigFixture.contractExample, environment: [:])

        var expected = TallyConfig.defaults
        expected.roster.file = "school-roster.csv"
        expected.points.courses = ["Data Literacy 101": 30]
        expected.levels = [.init(name: "Explorer", xp: 0), .init(name: "Practitioner", xp: 100)]
        expected.badges = [.init(id: "first-course", name: "First course", completions: 1)]
        expected.unlocks = [.init(quiz: "Module 1 Quiz", step: "module-2")]
        expected.kajabi.secret = "..."
        expected.kajabi.tags = ["elevate-ai-1-completed": "AI Foundations 1"]
        expected.kajabi.forms = ["77": "Data Literacy"]
        expected.email.allowFrom = ["forms@school.example", "@school.example"]
        expected.sources = [
            SourceConfig(
                files: Glob("cohort-export-*"), course: "AI Foundations", dateOrder: .dayFirst,
                columns: [.email: "What is your school email?", .course: "Which course did you finish?",
                          .completedAt: "Finished on"]),
            SourceConfig(files: Glob("quiz-*.csv"), quiz: "Module 1 Quiz", pass: 0.7),
        ]
        #expect(config == expected)
        // What the example leaves at its defaults or writes as "" (not set):
        #expect(config.paths == TallyConfig.Paths())
        #expect(config.points.courseCompleted == 20 && config.points.quizPassed == 0)
        #expect(config.email.requireAuth == nil)
        #expect(config.receive.listen == nil && config.receive.tokens.isEmpty)
        #expect(config.site.publish == nil && config.site.names == .firstLastInitial && config.site.top == 100)
    }

    @Test("an empty file gives the defaults", arguments: ["", "\n\n", "# only a comment\n", "[points]\n[site]\n"])
    func emptyFile(text: String) throws {
        #expect(try TallyConfig.load(contentsOf: text, environment: [:]) == TallyConfig.defaults)
    }

    @Test("the defaults are the contract's")
    func defaults() {
        let config = TallyConfig.defaults
        #expect(config.paths.inbox == "inbox" && config.paths.data == "data")
        #expect(config.paths.site == "site" && config.paths.templates == "templates")
        #expect(config.roster.file == nil && config.roster.required == false)
        #expect(config.points.courseCompleted == 20)
        #expect(config.points.quizPassed == 0 && config.points.purchaseCreated == 0)
        #expect(config.levels.isEmpty && config.badges.isEmpty && config.unlocks.isEmpty)
        #expect(config.kajabi.secret == nil && config.kajabi.requireSignature == false)
        #expect(config.site.title == "Leaderboard" && config.site.names == .firstLastInitial)
        #expect(config.site.top == 100 && config.site.publish == nil)
        #expect(config.limits.maxRowBytes == 1_048_576 && config.limits.maxFields == 1024)
        #expect(config.limits.maxFileBytes == 64 * 1024 * 1024 && config.limits.maxJSONDepth == 64)
    }

    @Test("every section decodes, with per-course points and out-of-order levels sorted")
    func everySection() throws {
        let config = try TallyConfig.load(contentsOf: """
            [paths]
            inbox = "/srv/tally/inbox"
            templates = "my-templates"
            [roster]
            required = true
            [points]
            course_completed = 25
            quiz_passed = 5
            purchase_created = 1
            courses = { "Data Literacy 101" = 30, Ethics = 0 }
            [[levels]]
            name = "Expert"
            xp = 500
            [[levels]]
            name = "Novice"
            xp = 0
            [[badges]]
            id = "ai-track"
            course = "AI 1"
            courses = ["AI 2"]
            completions = 2
            [[caps]]
            activity = "LEARN"
            max = 200
            [[caps]]
            activity = "learn"
            max = 40
            days = 7
            [kajabi]
            secret = "main-secret"
            require_signature = true
            sites = { site_123 = "s3cret" }
            [email]
            require_auth = "mx.school.example"
            allow_from = ["  Forms@School.Example "]
            [receive]
            listen = "127.0.0.1:8080"
            max_body_bytes = 65536
            max_header_bytes = 4096
            max_requests = 8
            max_connections = 32
            request_timeout = 5
            trusted_proxies = ["127.0.0.1", " ::1 "]
            tokens = { default = "tok-1-0123456789abcdef", site_123 = "tok_2-0123456789abcdef", unused = "" }
            [[sources]]
            files = "*.xlsx"
            sheet = "Responses"
            id_column = "Submission ID"
            pass = 1
            quiz = "Final"
            date_order = "MDY"
            [site]
            title = "Hall of Fame"
            names = "initials"
            top = 10
            publish = "rsync -a site/ web:/var/www/"
            [limits]
            max_row_bytes = 4096
            max_fields = 50
            max_file_bytes = 1000000
            max_json_depth = 16
            """, environment: [:])
        #expect(config.paths.inbox == "/srv/tally/inbox" && config.paths.data == "data")
        #expect(config.paths.templates == "my-templates")
        #expect(config.roster.required)
        #expect(config.points.courseCompleted == 25 && config.points.quizPassed == 5)
        #expect(config.points.purchaseCreated == 1)
        #expect(config.points.forCourse("Data Literacy 101") == 30 && config.points.forCourse("Ethics") == 0)
        #expect(config.points.forCourse("Anything else") == 25)
        #expect(config.levels == [.init(name: "Novice", xp: 0), .init(name: "Expert", xp: 500)])
        #expect(config.badges == [.init(id: "ai-track", name: "ai-track", completions: 2, courses: ["AI 1", "AI 2"])])
        #expect(config.caps == [.init(activity: "LEARN", max: 200), .init(activity: "LEARN", max: 40, days: 7)])
        #expect(EngineSettings(config: config).rules.caps == ["LEARN": config.caps])
        #expect(config.kajabi.requireSignature && config.kajabi.sites == ["site_123": "s3cret"])
        #expect(config.kajabi.secret == "main-secret")
        #expect(config.email.allowFrom == ["forms@school.example"])
        #expect(config.email.requireAuth == "mx.school.example")
        #expect(config.receive.listen == "127.0.0.1:8080")
        #expect(config.receive.tokens == ["default": "tok-1-0123456789abcdef", "site_123": "tok_2-0123456789abcdef"])
        #expect(config.receive.site(forToken: "tok_2-0123456789abcdef") == "site_123")
        #expect(config.receive.site(forToken: "tok-1-0123456789abcdef") == "default")
        #expect(config.receive.site(forToken: "tok_2-0123456789abcde") == nil)
        #expect(config.receive.site(forToken: "nope") == nil)
        #expect(config.receive.maxBodyBytes == 65536 && config.receive.maxHeaderBytes == 4096)
        #expect(config.receive.maxRequests == 8 && config.receive.maxConnections == 32 && config.receive.requestTimeout == 5)
        #expect(config.receive.trustedProxies == ["127.0.0.1", "::1"])
        #expect(config.sources == [SourceConfig(files: Glob("*.xlsx"), quiz: "Final", pass: 1, dateOrder: .monthFirst,
                                                sheet: "Responses", idColumn: "Submission ID")])
        #expect(config.site.title == "Hall of Fame" && config.site.names == .initials && config.site.top == 10)
        #expect(config.site.publish == "rsync -a site/ web:/var/www/")
        #expect(config.limits.maxRowBytes == 4096 && config.limits.maxFields == 50)
        #expect(config.limits.maxFileBytes == 1_000_000 && config.limits.maxJSONDepth == 16)
    }

    @Test("an empty string means not set", arguments: [
        "[roster]\nfile = \"\"", "[email]\nrequire_auth = \"\"", "[receive]\nlisten = \"\"",
        "[receive.tokens]\ndefault = \"\"", "[site]\npublish = \"\"", "[kajabi]\nsecret = \"\"",
    ])
    func emptyMeansUnset(text: String) throws {
        #expect(try TallyConfig.load(contentsOf: text, environment: [:]) == TallyConfig.defaults)
    }

    @Test("kajabi.tags keys are trimmed and lowercased, as tags in payloads are")
    func tagsNormalised() throws {
        let config = try TallyConfig.load(contentsOf: """
            [kajabi.tags]
            "  Elevate-AI-1-Completed " = "AI Foundations 1"
            """, environment: [:])
        #expect(config.kajabi.tags == ["elevate-ai-1-completed": "AI Foundations 1"])
        #expect(config.kajabi.course(forTag: "ELEVATE-AI-1-COMPLETED ") == "AI Foundations 1")
        #expect(config.kajabi.course(forTag: "other") == nil)
    }
}

@Suite("the Kajabi secret")
struct SecretTests {
    @Test("KAJABI_WEBHOOK_SECRET overrides the file's secret")
    func environmentWins() throws {
        let config = try TallyConfig.load(contentsOf: "[kajabi]\nsecret = \"from-file\"",
                                          environment: ["KAJABI_WEBHOOK_SECRET": "from-env"])
        #expect(config.kajabi.secret == "from-env")
    }

    @Test("KAJABI_WEBHOOK_SECRET fills the secret when the file has none")
    func environmentFills() throws {
        let config = try TallyConfig.load(contentsOf: "", environment: ["KAJABI_WEBHOOK_SECRET": "from-env"])
        #expect(config.kajabi.secret == "from-env")
    }

    @Test("an empty KAJABI_WEBHOOK_SECRET is ignored")
    func emptyEnvironment() throws {
        let config = try TallyConfig.load(contentsOf: "[kajabi]\nsecret = \"from-file\"",
                                          environment: ["KAJABI_WEBHOOK_SECRET": ""])
        #expect(config.kajabi.secret == "from-file")
    }

    @Test("a site's own secret is used, else the main one")
    func perSite() throws {
        let config = try TallyConfig.load(contentsOf: """
            [kajabi]
            secret = "main"
            [kajabi.sites]
            site_123 = "site-secret"
            """, environment: [:])
        #expect(config.secret(forSite: "site_123") == "site-secret")
        #expect(config.secret(forSite: "site_999") == "main")
        #expect(config.secret(forSite: nil) == "main")
        #expect(TallyConfig.defaults.secret(forSite: "site_123") == nil)
    }

    @Test("require_signature without any secret is an error, unless the environment has one")
    func signatureNeedsSecret() throws {
        let text = "[kajabi]\nrequire_signature = true"
        #expect(ConfigFixture.error(text) == "kajabi.require_signature is true, but no secret is set: "
            + "set kajabi.secret or KAJABI_WEBHOOK_SECRET (tally.toml, line 2)")
        let config = try TallyConfig.load(contentsOf: text, environment: ["KAJABI_WEBHOOK_SECRET": "s"])
        #expect(config.kajabi.requireSignature && config.kajabi.secret == "s")
        #expect(ConfigFixture.error(text + "\n[kajabi.sites]\nsite_1 = \"s\"") == nil)
    }
}

@Suite("loading tally.toml from disk")
final class ConfigFileTests {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "tally-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    @Test("a file on disk decodes like its text")
    func readsFile() throws {
        let path = directory + "/tally.toml"
        try "[points]\ncourse_completed = 30\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try TallyConfig.load(path: path, environment: [:]).points.courseCompleted == 30)
    }

    @Test("a missing file is notFound, for the caller to decide")
    func missing() {
        let path = directory + "/tally.toml"
        #expect(throws: ConfigError.notFound(path: path)) { try TallyConfig.load(path: path, environment: [:]) }
        #expect(ConfigError.notFound(path: path).description == "no configuration file at \(path)")
    }

    @Test("[site] top = 0 shows every student, as the README's example says")
    func topZero() throws {
        #expect(try TallyConfig.load(contentsOf: "[site]\ntop = 0\n", environment: [:]).site.top == 0)
    }

    @Test("errors of a file chosen with --config name that file")
    func namedFile() throws {
        let path = directory + "/school.toml"
        try "[site]\ntop = -1\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.inFile(path: path, error: .badValue(key: "site.top", line: 2,
                                                                          reason: "must be 0 or more, not -1"))) {
            try TallyConfig.load(path: path, environment: [:])
        }
        do {
            _ = try TallyConfig.load(path: path, environment: [:])
        } catch {
            #expect(error.description == "site.top must be 0 or more, not -1 (\(path), line 2)")
        }
    }

    @Test("a directory or a binary file is unreadable, with the reason")
    func unreadable() throws {
        #expect(throws: ConfigError.unreadable(path: directory, reason: "Is a directory")) {
            try TallyConfig.load(path: directory, environment: [:])
        }
        let path = directory + "/tally.toml"
        try Data([0x66, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: path))
        #expect(throws: ConfigError.unreadable(path: path, reason: "not UTF-8 text")) {
            try TallyConfig.load(path: path, environment: [:])
        }
    }
}

@Suite("[[sources]] lookup")
struct SourceLookupTests {
    let config: TallyConfig

    init() throws {
        config = try TallyConfig.load(contentsOf: """
            [[sources]]
            files = "quiz-final-*.csv"
            quiz = "Final"
            [[sources]]
            files = "quiz-*.csv"
            quiz = "Module 1 Quiz"
            [[sources]]
            files = "*.csv"
            [sources.columns]
            email = "Your email"
            """, environment: [:])
    }

    @Test("the first matching entry applies", arguments: [
        ("quiz-final-2024.csv", "Final"), ("quiz-1.csv", "Module 1 Quiz"), ("Quiz-2.CSV", "Module 1 Quiz"),
    ])
    func firstMatch(name: String, quiz: String) {
        #expect(config.source(for: name)?.quiz == quiz)
    }

    @Test("a general pattern catches the rest; no match is nil")
    func fallThrough() {
        #expect(config.source(for: "export.csv")?.columns == [.email: "Your email"])
        #expect(config.source(for: "export.xlsx") == nil)
        #expect(TallyConfig.defaults.source(for: "export.csv") == nil)
    }

    @Test("a path is matched by its file name")
    func pathUsesName() {
        #expect(config.source(for: "inbox/quiz-final-1.csv")?.quiz == "Final")
    }
}

extension ConfigFixture {
    /// The contract's example `tally.toml`, verbatim from PRODUCT.md ("Configuration").
    static let contractExample = #"""
[paths]
inbox = "inbox"
data = "data"
site = "site"

[roster]
file = "school-roster.csv"      # else the last dropped roster*.csv
required = false                # true: no student without a roster entry, even before one arrives

[points]
course_completed = 20           # the LEARN award
quiz_passed = 0
[points.courses]
"Data Literacy 101" = 30        # per-course override

[[levels]]
name = "Explorer"
xp = 0
[[levels]]
name = "Practitioner"
xp = 100

[[badges]]
id = "first-course"
name = "First course"
completions = 1

[[unlocks]]
quiz = "Module 1 Quiz"          # passing it unlocks the gated step
step = "module-2"

[kajabi]
secret = "..."                  # or KAJABI_WEBHOOK_SECRET; per-site: [kajabi.sites] site_123 = "..."
require_signature = false       # true: unsigned payloads are refused
[kajabi.tags]                   # contact tag -> course
"elevate-ai-1-completed" = "AI Foundations 1"
[kajabi.forms]                  # Kajabi form id -> course
"77" = "Data Literacy"

[email]
allow_from = ["forms@school.example", "@school.example"]  # whose messages are read
require_auth = ""               # e.g. "mx.school.example": read only mail whose topmost
                                # Authentication-Results from that server says dmarc=pass, or
                                # dkim=pass / spf=pass for the From address's own domain

[receive]                       # the webhook front door: tally receive, tally watch --listen
listen = ""                     # e.g. "127.0.0.1:8080"
[receive.tokens]                # for senders that cannot sign: POST /kajabi/t/TOKEN
default = ""                    # signed on arrival with [kajabi] secret (a site name: its secret)

[[sources]]                     # per-file mapping for headers the aliases do not know
files = "cohort-export-*"       # glob on the dropped file's name
course = "AI Foundations"       # optional constant course for every row
date_order = "DMY"              # for dates like 02/09/2024
[sources.columns]
email = "What is your school email?"
course = "Which course did you finish?"
completed_at = "Finished on"

[[sources]]                     # a Google Forms quiz export: rows scoring >= pass are quiz_passed
files = "quiz-*.csv"
quiz = "Module 1 Quiz"
pass = 0.7                      # of the "Score" column, e.g. "8 / 10"

[site]
title = "Leaderboard"
names = "first-last-initial"    # or "full", "initials", "anonymous"
top = 100
publish = ""                    # command run after each render, e.g. an rsync
"""#
}
