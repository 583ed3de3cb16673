import Foundation

extension TallyConfig {
    /// `[paths]`: where the inbox, the ledgers, the site and template overrides live.
    ///
    /// Kept as written; relative paths are resolved against the working directory by the
    /// caller, after `--inbox`, `--data` and `--site` have had their say.
    public struct Paths: Sendable, Equatable {
        public var inbox = "inbox"
        public var data = "data"
        public var site = "site"
        public var templates = "templates"
        public init() {}
    }

    /// `[roster]`: where the list of known students comes from, and whether one is required.
    public struct Roster: Sendable, Equatable {
        /// A roster CSV to read; nil: the last `roster*.csv` dropped into the inbox.
        public var file: String?
        /// True: no student without a roster entry, even before the first roster arrives.
        public var required = false
        public init() {}
    }

    /// `[points]`: points per kind of event, and per-course overrides of the LEARN award.
    public struct Points: Sendable, Equatable {

        public var courseCompleted = 20
        public var quizPassed = 0
        public var purchaseCreated = 0
        /// `[points.courses]`: course name → points for completing it, instead of
        /// ``courseCompleted``.
        public var courses: [String: Int] = [:]
        public init() {}

        /// The LEARN points for completing `course`.
        public func forCourse(_ course: String) -> Int { courses[course] ?? courseCompleted }
    }

    /// One `[[levels]]` entry: reached at `xp` points.
    public struct Level: Sendable, Equatable {
        public var name: String
        public var xp: Int
        public init(name: String, xp: Int) {
            self.name = name
            self.xp = xp
        }
    }

    /// One `[[badges]]` entry: earned at `completions` completed courses, by completing every
    /// course in `courses`, or, when both are set, by both.
    ///
    /// The file may say `course = "X"` for a single course; it is folded into `courses`, so
    /// that scoring has one list to check. `name` defaults to `id`.
    public struct Badge: Sendable, Equatable {
        public var id: String
        public var name: String
        public var completions: Int?
        public var courses: [String]
        public init(id: String, name: String, completions: Int? = nil, courses: [String] = []) {
            self.id = id
            self.name = name
            self.completions = completions
            self.courses = courses
        }
    }

    /// One `[[caps]]` entry: a student earns at most `max` points of `activity` (a name of
    /// `points.jsonl`, such as `LEARN`) — ever, or with `days`, within any `days` days of
    /// event time (a rolling window). An award over a cap is cut to what is left, down to 0.
    public struct Cap: Sendable, Equatable {
        /// The activities a cap can name: those whose awards carry points.
        public static let activities = ["LEARN", "QUIZ", "PURCHASE", "MANUAL"]

        public var activity: String
        public var max: Int
        /// The length of the rolling window; nil: the cap counts every award ever made.
        public var days: Int?
        public init(activity: String, max: Int, days: Int? = nil) {
            self.activity = activity
            self.max = max
            self.days = days
        }
    }

    /// One `[[unlocks]]` entry: passing `quiz` unlocks `step`.
    public struct Unlock: Sendable, Equatable {
        public var quiz: String
        public var step: String
        public init(quiz: String, step: String) {
            self.quiz = quiz
            self.step = step
        }
    }

    /// `[kajabi]`: webhook secrets and the maps from Kajabi's names to courses.
    public struct Kajabi: Sendable, Equatable {
        /// The main webhook secret; `KAJABI_WEBHOOK_SECRET` overrides it.
        public var secret: String?
        /// True: payloads without a valid signature are refused.
        public var requireSignature = false
        /// `[kajabi.sites]`: site name → that site's secret.
        public var sites: [String: String] = [:]
        /// `[kajabi.tags]`: contact tag → course. Keys are trimmed and lowercased, as tag
        /// names from payloads are before they are looked up.
        public var tags: [String: String] = [:]
        /// `[kajabi.forms]`: Kajabi form id → course.
        public var forms: [String: String] = [:]
        public init() {}

        /// The per-site secret of `site`, else the main ``secret``.
        public func secret(forSite site: String?) -> String? {
            site.flatMap { sites[$0] } ?? secret
        }

        /// The course a contact tag stands for, matching as `[kajabi.tags]` keys were stored.
        public func course(forTag tag: String) -> String? {
            tags[KajabiPayload.normaliseTag(tag)]
        }
    }

    /// `[email]`: whose messages are read, and how their sender is trusted.
    public struct Mail: Sendable, Equatable {
        /// Addresses (`forms@school.example`) and domains (`@school.example`), trimmed and
        /// lowercased. Empty: no message is read.
        public var allowFrom: [String] = []
        /// The server whose topmost `Authentication-Results` must vouch for the sender.
        public var requireAuth: String?
        public init() {}
    }

    /// `[receive]`: the webhook front door (`tally receive`, `tally watch --listen`).
    public struct Receive: Sendable, Equatable {
        /// `HOST:PORT` to listen on, such as `127.0.0.1:8080`; port 0 takes any free port
        /// (the log says which).
        public var listen: String?
        /// `[receive.tokens]`: site name → path token for `POST /kajabi/t/TOKEN` (the site
        /// `default` signs with the main secret). Entries with an empty token are left out.
        public var tokens: [String: String] = [:]
        /// A request body larger than this gets 413, and the rest of it is not read.
        public var maxBodyBytes = 1 << 20
        /// All of a request's header lines together; more gets 400 and the connection closed.
        public var maxHeaderBytes = 16 << 10
        /// Requests handled at once; one more gets 503 at once instead of waiting in a queue.
        public var maxRequests = 64
        /// Open connections; beyond it new ones wait in the kernel's backlog, unaccepted.
        public var maxConnections = 256
        /// Seconds a client has to send a whole request, headers and body (and an idle
        /// keep-alive connection to send its next one); a slower client is disconnected.
        public var requestTimeout = 10
        /// Addresses of the reverse proxies whose `X-Forwarded-For` names the client.
        public var trustedProxies: [String] = []
        public init() {}

        /// The name (a site, or `default`) whose token `token` is, if any.
        ///
        /// Every configured token is compared, each in constant time, so the answer takes
        /// the same time whichever token (if any) matched and wherever they first differ.
        /// Tokens are compared by their SHA-256, so that not even a token's length shows.
        public func site(forToken token: String) -> String? {
            let given = Crypto.sha256Bytes(token.utf8)
            var found: String?
            for (site, candidate) in tokens.sorted(by: { $0.key < $1.key })
            where Crypto.constantTimeEquals(Crypto.sha256Bytes(candidate.utf8), given) {
                found = site
            }
            return found
        }

        /// The shortest token accepted: 16 characters from the 66 a URL path carries plainly
        /// are over 96 bits, out of reach of guessing over HTTP.
        public static let minimumTokenLength = 16

        /// The token name that signs with `[kajabi] secret` rather than a site's.
        public static let defaultSite = "default"

        /// The site a token name signs for: nil (the main secret) for `default`.
        public static func site(ofToken name: String) -> String? { name == defaultSite ? nil : name }
    }

    /// How the site shows a student's name: the site's own type (`first-last-initial`, ...).
    public typealias NameStyle = TallyKit.NameStyle

    /// `[site]`: the static leaderboard.
    public struct Site: Sendable, Equatable {
        public var title = "Leaderboard"
        public var names = NameStyle.firstLastInitial
        /// How many students a board lists.
        public var top = 100
        /// A shell command run after each render, such as an `rsync`.
        public var publish: String?
        public init() {}
    }

    /// `[limits]`: the bounds that keep hostile or broken input from exhausting the machine.
    public struct Limits: Sendable, Equatable {
        /// A table row longer than this is rejected on its own.
        public var maxRowBytes = 1 << 20
        /// A table row with more fields than this is rejected on its own.
        public var maxFields = 1024
        /// A JSON payload file larger than this is refused whole.
        public var maxFileBytes = 64 << 20
        /// JSON nested deeper than this is refused whole.
        public var maxJSONDepth = 64
        /// Inflated bytes of one zip entry of a workbook (a sheet, the shared strings).
        public var maxEntryBytes = WorkbookLimits().maxEntryBytes
        /// Inflated bytes of all the entries read from one workbook.
        public var maxTotalBytes = WorkbookLimits().maxTotalBytes
        /// Inflated bytes per compressed byte of a workbook's zip entry.
        public var maxCompressionRatio = WorkbookLimits().maxCompressionRatio
        public init() {}
    }
}
