/// The most points one award, one setting or one cap may name, either way. Sums of such
/// awards (a student's XP, a month, a ledger's total) then stay far inside a 64-bit integer;
/// a larger value, which a typo or a hostile payload can carry, would overflow them and stop
/// every later run on the same ledger line.
public enum PointsLimit {
    public static let most = 1_000_000_000

    /// Why `points` is refused (nil when it is within ``most``), for a rejected row.
    public static func problem(_ points: Int) -> String? {
        points.magnitude <= UInt(most) ? nil : "points \(points) are out of range: at most \(most) either way"
    }
}

/// The kinds of event Tally records. The raw values are what `events.jsonl` says.
public enum EventKind: String, Sendable, Codable, CaseIterable {
    case courseCompleted = "course_completed"
    case quizPassed = "quiz_passed"
    case quizFailed = "quiz_failed"
    case formSubmitted = "form_submitted"
    case manualAward = "manual_award"
    case rosterEntry = "roster_entry"
    case rosterRemoved = "roster_removed"
    case link
    /// A Kajabi contact tag that names no course (`[kajabi.tags]`): recorded, worth nothing.
    case tagAdded = "tag_added"
    /// A contact tag removed: recorded; it takes nothing back.
    case tagRemoved = "tag_removed"
    case purchaseCreated = "purchase_created"
    case paymentSucceeded = "payment_succeeded"
    /// Takes back what its purchase awarded.
    case purchaseRefunded = "purchase_refunded"

    /// Kinds that belong to a person and are applied to a student (or wait, unmatched).
    var isPersonal: Bool {
        switch self {
        case .courseCompleted, .quizPassed, .quizFailed, .formSubmitted, .manualAward, .tagAdded, .tagRemoved,
             .purchaseCreated, .paymentSucceeded, .purchaseRefunded: return true
        case .rosterEntry, .rosterRemoved, .link: return false
        }
    }
}

/// Where an event came from: the dropped file, its content hash, and the row (1-based
/// record number for tables, line for JSON lines, item index for arrays; 0 for a command).
/// For an attachment of an email message, `file` and `sha256` are the message's, and
/// `message` and `part` say which message and which of its MIME parts.
public struct EventSource: Equatable, Sendable {
    public var file: String
    public var sha256: String
    public var row: Int
    /// The message's `Message-ID`, for an event read from an email attachment.
    public var message: String?
    /// The MIME part number of the attachment (`2`, `2.1`).
    public var part: String?

    public init(file: String, sha256: String, row: Int, message: String? = nil, part: String? = nil) {
        self.file = file
        self.sha256 = sha256
        self.row = row
        self.message = message
        self.part = part
    }
}

/// One normalised event, as the intake produces it and before scoring decides its fate.
///
/// Everything Tally needs later is here, so a student can be re-homed (a roster arriving, a
/// `tally link`) by re-applying the stored event instead of re-reading the original file.
public struct Event: Equatable, Sendable {
    /// The id as the ledgers spell it, made from `key` when asked for: most events of a big
    /// export are only written (straight from the key) and never need it as a `String`.
    public var id: String {
        get { key.id }
        set { key = EventKey(newValue) }
    }
    /// The id as the index keys it, made once.
    public private(set) var key: EventKey
    public var kind: EventKind
    public var email: Email?
    public var name: String?
    public var course: String?
    public var at: Timestamp
    public var source: EventSource
    /// Points of a manual or bulk award.
    public var points: Int?
    public var reason: String?
    /// The student id an event names outright (roster entries, links).
    public var student: String?
    public var certificate: String?
    /// Roster entries: false hides the student's name on the site.
    public var isPublic: Bool?
    public var quiz: String?
    public var score: String?
    /// Kajabi's contact (member, customer) id, when the payload names one.
    public var contact: String?
    /// A purchase's id; a refund's names the purchase it undoes.
    public var purchase: String?
    /// The offer bought: its title, else its id.
    public var offer: String?
    /// A contact tag, trimmed and lowercased.
    public var tag: String?

    public init(id: String, kind: EventKind, email: Email? = nil, name: String? = nil, course: String? = nil,
                at: Timestamp, source: EventSource, points: Int? = nil, reason: String? = nil,
                student: String? = nil, certificate: String? = nil, isPublic: Bool? = nil,
                quiz: String? = nil, score: String? = nil) {
        self.init(key: EventKey(id), kind: kind, email: email, name: name, course: course, at: at, source: source,
                  points: points, reason: reason, student: student, certificate: certificate, isPublic: isPublic,
                  quiz: quiz, score: score)
    }

    /// An event whose id is `key` (a content id, made as a key: nothing to parse back).
    init(key: EventKey, kind: EventKind, email: Email? = nil, name: String? = nil, course: String? = nil,
         at: Timestamp, source: EventSource, points: Int? = nil, reason: String? = nil,
         certificate: String? = nil, quiz: String? = nil, score: String? = nil) {
        self.init(key: key, kind: kind, email: email, name: name, course: course, at: at, source: source,
                  points: points, reason: reason, student: nil, certificate: certificate, isPublic: nil,
                  quiz: quiz, score: score)
    }

    private init(key: EventKey, kind: EventKind, email: Email?, name: String?, course: String?,
                 at: Timestamp, source: EventSource, points: Int?, reason: String?, student: String?,
                 certificate: String?, isPublic: Bool?, quiz: String?, score: String?) {
        self.key = key
        self.kind = kind
        self.email = email
        self.name = name
        self.course = course
        self.at = at
        self.source = source
        self.points = points
        self.reason = reason
        self.student = student
        self.certificate = certificate
        self.isPublic = isPublic
        self.quiz = quiz
        self.score = score
    }
}

extension Event {
    /// This event under an id of its own when its id already names another email's event
    /// (see `State.sameIDAnotherEmail`): the id, `~`, and the first 16 hex digits of the
    /// SHA-256 of the email it counts under — the same row read again gets the same id.
    func reidentified(under email: Email) -> Event {
        var event = self
        event.id = id + "~" + Crypto.sha256Hex(Array(email.value.utf8)).prefix(16)
        return event
    }

    /// The id of an event that carries none of its own: a hash of what makes it this event
    /// and not another (kind, normalised email, course or reason, points, time), so the same
    /// row in tomorrow's cumulative export gets the same id and counts once.
    public static func contentID(kind: EventKind, email: Email?, course: String?, points: Int?,
                                 at: Timestamp?, reason: String? = nil) -> String {
        contentKey(kind: kind, email: email, course: course, points: points, at: at, reason: reason).id
    }

    /// The content id as the index keys it (its 16 bytes), with no text to parse back.
    static func contentKey(kind: EventKind, email: Email?, course: String?, points: Int?,
                           at: Timestamp?, reason: String? = nil) -> EventKey {
        var parts = (kind.rawValue, email?.value ?? "", course ?? reason ?? "",
                     points.map(String.init) ?? "", at.map { String($0.milliseconds) } ?? "")
        let total = parts.0.utf8.count + parts.1.utf8.count + parts.2.utf8.count + parts.3.utf8.count
            + parts.4.utf8.count + 5
        // The parts, each followed by 0x1F, hashed from one buffer on the stack.
        let digest = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: total) { buffer in
            var used = 0
            append(&parts.0, to: buffer, at: &used)
            append(&parts.1, to: buffer, at: &used)
            append(&parts.2, to: buffer, at: &used)
            append(&parts.3, to: buffer, at: &used)
            append(&parts.4, to: buffer, at: &used)
            return Crypto.sha256(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[..<used])))
        }
        let (high, low) = digest.prefix128
        return .digest(high, low)
    }

    /// Copies `text` and a 0x1F separator into `buffer` at `used`. (A function of its own, not
    /// a closure over `used`: a captured variable costs an exclusivity check per call.)
    private static func append(_ text: inout String, to buffer: UnsafeMutableBufferPointer<UInt8>, at used: inout Int) {
        text.withUTF8 { utf8 in
            if let base = utf8.baseAddress { (buffer.baseAddress! + used).update(from: base, count: utf8.count) }
            used += utf8.count
        }
        buffer[used] = 0x1F
        used += 1
    }
}
