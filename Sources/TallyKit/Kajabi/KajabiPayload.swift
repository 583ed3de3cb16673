/// Kajabi webhook payloads (and Tally's own flat event objects) into events.
///
/// Each shape is recognised by its keys, never by the file name. A payload of no known
/// shape is an error naming the shapes Tally knows, so its file is kept in `data/failed/`.
public enum KajabiPayload {
    public static let knownShapes = """
        Tally reads: Kajabi form payloads {"event_type", "event_id", "created_at", "data": {"form", "submission": {"id", "fields"}}}; \
        outbound webhooks {"id", "event": "purchase.created" | "payment.succeeded" | "purchase.refunded", "payload": {...}}; \
        API webhooks {"id", "event": "form_submission" | "tag_added" | "tag_removed" | "purchase" | "payment_succeeded", \
        "payload": [resources]}; contact tags {"event_id", "created_at", "contact": {"id", "email"}, "tag": {"name"}}; \
        captured requests {"headers", "body"}; and flat events {"email", "course", "name", "at"} (or "kind" and "points" for awards).
        """

    /// How to read payloads: course names for Kajabi form ids and for contact tags.
    public struct Settings: Sendable {
        public var forms: [String: String]
        /// Tag (trimmed, lowercased) → course, as `[kajabi.tags]` stores them.
        public var tags: [String: String]
        /// How a date such as 05/01/2024 in a form's field or a flat event is read: the file's
        /// `[[sources]] date_order`, month first by default (ISO dates are read either way).
        public var dateOrder: DateOrder
        public init(forms: [String: String] = [:], tags: [String: String] = [:], dateOrder: DateOrder = .monthFirst) {
            self.forms = forms
            self.tags = tags
            self.dateOrder = dateOrder
        }
    }

    /// The id of the event a purchase becomes: a refund names it to take back what it awarded.
    public static func purchaseEventID(_ purchase: String) -> String { "purchase-" + purchase }

    /// A tag as Kajabi tag names are compared (in payloads and in `[kajabi.tags]`): trimmed
    /// and lowercased.
    static func normaliseTag(_ tag: String) -> String {
        tag.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// The events in one payload. `row` is the payload's place in its file (1 for a lone payload).
    public static func events(in json: JSONValue, source: EventSource, settings: Settings,
                              fallbackTime: Timestamp) throws(RowRejection) -> [Event] {
        guard let object = json.object else {
            throw RowRejection("a payload must be a JSON object, not \(json.kindName)")
        }
        if object["event_type"] != nil || (object["data"]?["submission"] != nil) {
            return [try formSubmission(json, source: source, settings: settings, fallbackTime: fallbackTime)]
        }
        if let name = object["event"]?.string, let payload = object["payload"] {
            if payload.array != nil {
                return try apiWebhook(json, event: name, source: source, settings: settings, fallbackTime: fallbackTime)
            }
            if payload.object != nil {
                return [try outboundWebhook(json, event: name, source: source, fallbackTime: fallbackTime)]
            }
        }
        if object["contact"]?.object != nil, object["tag"]?.object != nil {
            return [try contactTag(json, source: source, settings: settings, fallbackTime: fallbackTime)]
        }
        if object["email"] != nil {
            return [try flatEvent(json, source: source, fallbackTime: fallbackTime, order: settings.dateOrder)]
        }
        let keys = object.keys.prefix(8).map { "\"\($0)\"" }.joined(separator: ", ")
        throw RowRejection("unknown payload shape with keys \(keys)")
    }

    /// The documented form shape: a completion when its fields name a course.
    static func formSubmission(_ json: JSONValue, source: EventSource, settings: Settings,
                               fallbackTime: Timestamp) throws(RowRejection) -> Event {
        let data = json["data"]
        let submission = data?["submission"]
        guard let fields = submission?["fields"]?.object else {
            throw RowRejection("form payload without data.submission.fields")
        }
        let headers = fields.keys
        let map = HeaderMap(headers: headers)
        func field(_ column: Column) -> String? {
            map.index(of: column).flatMap { fields[headers[$0]]?.text }.flatMap(nonEmpty)
        }
        guard let rawEmail = field(.email) else { throw RowRejection("no email address in the form's fields") }
        let email: Email
        do { email = try Email(normalising: rawEmail) } catch { throw RowRejection(error.description) }
        let formID = data?["form"]?["id"]?.text
        let course = field(.course) ?? formID.flatMap { settings.forms[$0] }
        // The form's own date field, else the delivery's time: a date a student typed that
        // cannot be read (31/02/2024, "last Tuesday") falls back to when the form was sent.
        var at = fallbackTime
        var explicit: Timestamp?
        let dates = [field(.completedAt), json["created_at"]?.text].compactMap { $0 }
        for text in dates {
            guard let parsed = DateParser.parse(text, order: settings.dateOrder) else { continue }
            at = parsed
            explicit = parsed
            break
        }
        if explicit == nil, let text = dates.first { throw RowRejection("unreadable date \"\(text)\"") }
        let kind: EventKind = course == nil ? .formSubmitted : .courseCompleted
        let id = json["event_id"]?.text.flatMap(nonEmpty) ?? submission?["id"]?.text.flatMap { "submission-" + $0 }
            ?? Event.contentID(kind: kind, email: email, course: course, points: nil, at: explicit)
        var name = field(.name)
        if name == nil {
            let parts = [field(.firstName), field(.lastName)].compactMap { $0 }
            name = parts.isEmpty ? nil : parts.joined(separator: " ")
        }
        if let candidate = name, Email.looksLikeEmail(candidate) { name = nil }
        return Event(id: id, kind: kind, email: email, name: name, course: course, at: at, source: source,
                     certificate: field(.certificateURL))
    }

    /// Tally's own flat event: `{"email", "course", "name", "at"}`, or a manual award with
    /// `"kind": "manual_award"`, `"points"` and `"reason"`.
    static func flatEvent(_ json: JSONValue, source: EventSource, fallbackTime: Timestamp,
                          order: DateOrder = .monthFirst) throws(RowRejection) -> Event {
        guard let rawEmail = json["email"]?.text.flatMap(nonEmpty) else { throw RowRejection("no email address") }
        let email: Email
        do { email = try Email(normalising: rawEmail) } catch { throw RowRejection(error.description) }
        var kind = EventKind.courseCompleted
        if let text = json["kind"]?.string {
            guard let known = EventKind(rawValue: text), known.isPersonal else {
                throw RowRejection("unknown event kind \"\(text)\"")
            }
            kind = known
        }
        var at = fallbackTime
        var explicit: Timestamp?
        if let text = (json["at"] ?? json["completed_at"] ?? json["created_at"])?.text {
            guard let parsed = DateParser.parse(text, order: order) else { throw RowRejection("unreadable date \"\(text)\"") }
            at = parsed
            explicit = parsed
        }
        let course = json["course"]?.text.flatMap(nonEmpty)
        let points = json["points"]?.int
        if let points, let problem = PointsLimit.problem(points) { throw RowRejection(problem) }
        let reason = json["reason"]?.text
        switch kind {
        case .courseCompleted where course == nil: throw RowRejection("no course named")
        case .manualAward where points == nil: throw RowRejection("a manual award needs whole-number points")
        case .quizPassed, .quizFailed:
            if json["quiz"]?.text == nil { throw RowRejection("a quiz event needs \"quiz\"") }
        default: break
        }
        let id = json["id"]?.text.flatMap(nonEmpty)
            ?? Event.contentID(kind: kind, email: email, course: course ?? json["quiz"]?.text, points: points,
                               at: explicit, reason: reason)
        var name = json["name"]?.text.flatMap(nonEmpty)
        if let candidate = name, Email.looksLikeEmail(candidate) { name = nil }
        return Event(id: id, kind: kind, email: email, name: name, course: course, at: at, source: source,
                     points: points, reason: reason, quiz: json["quiz"]?.text)
    }
}

extension JSONValue {
    /// "an object", "a string", ...: for error messages.
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
