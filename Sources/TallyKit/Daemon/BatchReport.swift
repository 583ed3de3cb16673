/// What one file came to.
public struct FileReport: Equatable, Sendable {
    public enum Outcome: Equatable, Sendable {
        case done
        /// Already processed (same content): archived without reading.
        case skipped
        case failed(reason: String)
    }

    public var name: String
    public var kind: String
    public var outcome: Outcome
    public var events = 0
    public var applied = 0
    public var duplicates = 0
    public var unmatched = 0
    public var rejected = 0
    /// The first rejected rows' numbers and reasons (at most `shownRejections`), for the log.
    public var firstRejections: [Rejection] = []
    public struct Rejection: Equatable, Sendable {
        public var row: Int
        public var reason: String
    }
    public static let shownRejections = 5
    public var points = 0
    public var milliseconds = 0
    /// For a roster: how many students it lists.
    public var students: Int?
    /// For an email message: its `Message-ID`.
    public var messageID: String?
    /// For an email message: what marks it read (its `Message-ID` and its attachments'
    /// digest), so the same message delivered again is read once.
    public var messageKey: String?

    public var rows: Int { events + rejected }
}

/// What one batch came to: a report per file, in the order taken.
public struct BatchReport: Equatable, Sendable {
    public var files: [FileReport] = []
    /// Why the site was not rendered after the batch was committed (a broken template, a
    /// `site` that cannot be written); nil when it was.
    public var siteError: String?

    public var failed: Int { files.filter { if case .failed = $0.outcome { return true } else { return false } }.count }
    public var rejected: Int { files.reduce(0) { $0 + $1.rejected } }
    public var events: Int { files.reduce(0) { $0 + $1.events } }
    /// True when some input failed or was rejected, or the site was not rendered: `tally
    /// sync` exits 1.
    public var hasProblems: Bool { failed > 0 || rejected > 0 || siteError != nil }
}
