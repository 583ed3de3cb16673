/// What became of an event: the `status` field of `events.jsonl`.
public enum EventStatus: String, Sendable, Codable {
    case applied, duplicate, unmatched
}

/// A line of `events.jsonl`: an event and what Tally decided about it.
///
/// The same event id can appear on more than one line: a later line re-states an event that
/// changed hands (applied to a roster student after waiting unmatched, or withdrawn when a
/// roster arrived without its email). The latest line for an id is the one in force.
public struct EventRecord: Equatable, Sendable {
    public var seq: Int
    public var event: Event
    public var student: String?
    public var status: EventStatus
    /// True on a line that re-states an earlier event after its email changed hands (a
    /// roster or a link), as opposed to a new row that repeats a known event.
    public var rehomed: Bool

    public init(seq: Int = 0, event: Event, student: String?, status: EventStatus, rehomed: Bool = false) {
        self.seq = seq
        self.event = event
        self.student = student
        self.status = status
        self.rehomed = rehomed
    }
}

/// A line of `points.jsonl`: one movement of points, or of a course, badge or unlock.
///
/// `change` says what the line does to the student: `award` grants (the points, and the
/// course when one is named), `revoke` takes back exactly what an earlier award of the same
/// event granted. Badges and unlocks ride on zero-point `award` lines.
public struct PointsRecord: Equatable, Sendable {
    public enum Change: String, Sendable { case award, revoke }

    public var seq: Int
    public var at: Timestamp
    public var student: String
    public var points: Int
    public var activity: String
    public var event: String
    public var reason: String
    public var change: Change
    public var course: String?
    public var badge: String?
    public var unlock: String?
    public var prev: String

    public init(seq: Int = 0, at: Timestamp, student: String, points: Int, activity: String, event: String,
                reason: String, change: Change = .award, course: String? = nil, badge: String? = nil,
                unlock: String? = nil, prev: String = "") {
        self.seq = seq
        self.at = at
        self.student = student
        self.points = points
        self.activity = activity
        self.event = event
        self.reason = reason
        self.change = change
        self.course = course
        self.badge = badge
        self.unlock = unlock
        self.prev = prev
    }
}

/// A line of `rejected.jsonl`: a row that could not become an event.
public struct RejectedRecord: Equatable, Sendable {
    public var seq: Int
    public var file: String
    public var row: Int
    public var reason: String
    public var raw: String

    public init(seq: Int = 0, file: String, row: Int, reason: String, raw: String) {
        self.seq = seq
        self.file = file
        self.row = row
        self.reason = reason
        self.raw = raw
    }
}

/// A line of `audit.jsonl`: something Tally did.
///
/// `action` is one of `file_taken`, `file_done`, `file_failed`, `file_skipped`, `award`,
/// `link`, `recovered`, and `commit` — the last line of every batch, which records how long
/// each ledger was when the batch became durable, and the chain head of `points.jsonl`
/// (see `Ledger`).
public struct AuditRecord: Equatable, Sendable {
    public var seq: Int
    public var at: Timestamp
    public var action: String
    public var file: String?
    public var sha256: String?
    public var detail: JSONValue?
    public var prev: String

    public init(seq: Int = 0, at: Timestamp, action: String, file: String? = nil, sha256: String? = nil,
                detail: JSONValue? = nil, prev: String = "") {
        self.seq = seq
        self.at = at
        self.action = action
        self.file = file
        self.sha256 = sha256
        self.detail = detail
        self.prev = prev
    }
}

/// A line of a ledger file that does not say what the format needs.
public struct RecordError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

// MARK: - Encoding (hand-written: ledger bytes are hashed, so they must be deterministic)

extension EventRecord {
    public func encoded() -> [UInt8] {
        var w = JSONWriter(capacity: 384)
        encode(into: &w)
        return w.bytes
    }

    /// Appends the line (without newline) to `w`.
    public func encode(into w: inout JSONWriter) {
        w.beginObject()
        w.member("seq", seq)
        w.member("id", event.key)
        w.member("kind", event.kind.rawValue)
        w.member("student", student)
        w.member("email", event.email?.value)
        w.member("name", event.name)
        w.member("course", event.course)
        w.member("at", event.at)
        w.key(literal: "source")
        w.beginObject()
        w.member("file", event.source.file)
        w.member("sha256", event.source.sha256)
        w.member("row", event.source.row)
        if let message = event.source.message { w.member("message", message) }
        if let part = event.source.part { w.member("part", part) }
        w.endObject()
        w.member("status", status.rawValue)
        if let points = event.points { w.member("points", points) }
        if let reason = event.reason { w.member("reason", reason) }
        if let certificate = event.certificate { w.member("certificate", certificate) }
        if let isPublic = event.isPublic { w.member("public", isPublic) }
        if let quiz = event.quiz { w.member("quiz", quiz) }
        if let score = event.score { w.member("score", score) }
        if let contact = event.contact { w.member("contact", contact) }
        if let purchase = event.purchase { w.member("purchase", purchase) }
        if let offer = event.offer { w.member("offer", offer) }
        if let tag = event.tag { w.member("tag", tag) }
        if let explicit = event.student, explicit != student { w.member("names_student", explicit) }
        if rehomed { w.member("rehomed", true) }
        w.endObject()
    }

    public init(json: JSONValue) throws(RecordError) {
        guard let kindText = json["kind"]?.string, let kind = EventKind(rawValue: kindText) else {
            throw RecordError("unknown or missing kind")
        }
        guard let statusText = json["status"]?.string, let status = EventStatus(rawValue: statusText) else {
            throw RecordError("unknown or missing status")
        }
        let source = json["source"]
        var email: Email?
        if let text = json["email"]?.string {
            do { email = try Email(normalising: text) } catch { throw RecordError("bad email \(text)") }
        }
        let student = json["student"]?.string
        let event = Event(
            id: try required(json, "id"), kind: kind, email: email, name: json["name"]?.string,
            course: json["course"]?.string, at: try timestamp(json, "at"),
            source: EventSource(file: source?["file"]?.string ?? "", sha256: source?["sha256"]?.string ?? "",
                                row: source?["row"]?.int ?? 0, message: source?["message"]?.string,
                                part: source?["part"]?.string),
            points: json["points"]?.int, reason: json["reason"]?.string,
            student: json["names_student"]?.string ?? (kind.isPersonal ? nil : student),
            certificate: json["certificate"]?.string, isPublic: json["public"]?.bool,
            quiz: json["quiz"]?.string, score: json["score"]?.string)
        var kajabi = event
        kajabi.contact = json["contact"]?.string
        kajabi.purchase = json["purchase"]?.string
        kajabi.offer = json["offer"]?.string
        kajabi.tag = json["tag"]?.string
        self.init(seq: try requiredInt(json, "seq"), event: kajabi, student: student, status: status,
                  rehomed: json["rehomed"]?.bool ?? false)
    }
}

extension CompletionRow {
    /// The event line of this row with `status`, byte for byte what `EventRecord.encode`
    /// writes for the `Event` that `RowMapper` makes of it (kept next to that encoder so the
    /// two change together). `student` is the owner's id as UTF-8, nil for nobody.
    func encodeLine(into w: inout JSONWriter, seq: Int, status: EventStatus, student: UnsafeRawBufferPointer?,
                    file: String, sha256: String) {
        var file = file, sha256 = sha256
        file.withUTF8 { file in
            sha256.withUTF8 { sha256 in
                encodeLine(into: &w, seq: seq, status: status, student: student, file: UnsafeRawBufferPointer(file),
                           sha256: UnsafeRawBufferPointer(sha256))
            }
        }
    }

    /// The same, the file's name and hash given as UTF-8 (the encoder's thread holds them
    /// so for a whole chunk: a string per line was a retain and a release of a reference
    /// the scoring thread shares, a contended cache line). `sourceIsPlain`: the caller
    /// found that neither needs escaping (`JSONWriter.isPlain`), once for many lines.
    func encodeLine(into w: inout JSONWriter, seq: Int, status: EventStatus, student: UnsafeRawBufferPointer?,
                    file: UnsafeRawBufferPointer, sha256: UnsafeRawBufferPointer, sourceIsPlain: Bool = false) {
        if !writeLine(into: &w, seq: seq, status: status, student: student, file: file, sha256: sha256,
                      sourceIsPlain: sourceIsPlain) {
            encodeLineByMembers(into: &w, seq: seq, status: status, student: student, file: String(decoding: file, as: UTF8.self),
                                sha256: String(decoding: sha256, as: UTF8.self))
        }
    }

    /// The line of `encodeLine` written in one piece, when none of its strings needs escaping
    /// (else false, and nothing is written).
    private func writeLine(into w: inout JSONWriter, seq: Int, status: EventStatus, student: UnsafeRawBufferPointer?,
                           file: UnsafeRawBufferPointer, sha256: UnsafeRawBufferPointer, sourceIsPlain: Bool) -> Bool {
        // The student is most often the email itself (the same bytes): checked once.
        let studentIsEmail = student.map { $0.baseAddress == email.baseAddress && $0.count == email.count } ?? true
        guard case .digest = key, JSONWriter.isPlain(email), JSONWriter.isPlain(course),
              sourceIsPlain || (JSONWriter.isPlain(file) && JSONWriter.isPlain(sha256)),
              studentIsEmail || student.map(JSONWriter.isPlain) ?? true, name.map(JSONWriter.isPlain) ?? true,
              certificate.map(JSONWriter.isPlain) ?? true else { return false }
        let room = 320 + (student?.count ?? 0) + email.count + (name?.count ?? 0) + course.count + file.count + sha256.count
            + (certificate?.count ?? 0)
        w.appendValue(room: room) { p in
            var line = RawLine(p)
            line.ascii(#"{"seq":"#)
            line.decimal(seq)
            line.ascii(#","id":"#)
            line.id(key)
            line.ascii(#","kind":"course_completed","student":"#)
            line.quoted(student)
            line.ascii(#","email":"#)
            line.quoted(email)
            line.ascii(#","name":"#)
            line.quoted(name)
            line.ascii(#","course":"#)
            line.quoted(course)
            line.ascii(#","at":"#)
            line.time(at)
            line.ascii(#","source":{"file":"#)
            line.quoted(file)
            line.ascii(#","sha256":"#)
            line.quoted(sha256)
            line.ascii(#","row":"#)
            line.decimal(row)
            line.ascii(#"},"status":"#)
            switch status {
            case .applied: line.ascii(#""applied""#)
            case .duplicate: line.ascii(#""duplicate""#)
            case .unmatched: line.ascii(#""unmatched""#)
            }
            if let certificate {
                line.ascii(#","certificate":"#)
                line.quoted(certificate)
            }
            line.ascii("}")
            return line.count
        }
        return true
    }

    /// `encodeLine` member by member, escaping what needs it.
    private func encodeLineByMembers(into w: inout JSONWriter, seq: Int, status: EventStatus,
                                     student: UnsafeRawBufferPointer?, file: String, sha256: String) {
        w.beginObject()
        w.member("seq", seq)
        w.member("id", key)
        w.member("kind", EventKind.courseCompleted.rawValue)
        w.member("student", utf8: student)
        w.member("email", utf8: email)
        w.member("name", utf8: name)
        w.member("course", utf8: course)
        w.member("at", at)
        w.key(literal: "source")
        w.beginObject()
        w.member("file", file)
        w.member("sha256", sha256)
        w.member("row", row)
        w.endObject()
        w.member("status", status.rawValue)
        if let certificate { w.member("certificate", utf8: certificate) }
        w.endObject()
    }

    /// The award line of this row applied to `student` (UTF-8) for `points`, with `note` after
    /// its reason (a cap's, or empty), byte for byte what `PointsRecord.encode` writes for the
    /// record `Scoring.decide` makes of the completion, after the line whose hash is `prev`.
    func encodeAwardLine(into w: inout JSONWriter, seq: Int, student: UnsafeRawBufferPointer, points: Int, note: String,
                         prev: String) {
        var note = note, prev = prev
        note.withUTF8 { note in
            prev.withUTF8 { prev in
                encodeAwardLine(into: &w, seq: seq, student: student, points: points, note: UnsafeRawBufferPointer(note),
                                prev: UnsafeRawBufferPointer(prev))
            }
        }
    }

    /// The same, the note and the previous line's hash given as UTF-8.
    func encodeAwardLine(into w: inout JSONWriter, seq: Int, student: UnsafeRawBufferPointer, points: Int,
                         note: UnsafeRawBufferPointer, prev: UnsafeRawBufferPointer) {
        if !writeAwardLine(into: &w, seq: seq, student: student, points: points, note: note, prev: prev) {
            encodeAwardLineByMembers(into: &w, seq: seq, student: student, points: points,
                                     note: String(decoding: note, as: UTF8.self), prev: String(decoding: prev, as: UTF8.self))
        }
    }

    /// The line of `encodeAwardLine` written in one piece, when none of its strings needs
    /// escaping (else false, and nothing is written).
    private func writeAwardLine(into w: inout JSONWriter, seq: Int, student: UnsafeRawBufferPointer, points: Int,
                                note: UnsafeRawBufferPointer, prev: UnsafeRawBufferPointer) -> Bool {
        guard case .digest = key, JSONWriter.isPlain(student), JSONWriter.isPlain(course), JSONWriter.isPlain(note),
              JSONWriter.isPlain(prev) else { return false }
        let room = 320 + student.count + 2 * course.count + note.count + prev.count
        w.appendValue(room: room) { p in
            var line = RawLine(p)
            line.ascii(#"{"seq":"#)
            line.decimal(seq)
            line.ascii(#","at":"#)
            line.time(at)
            line.ascii(#","student":"#)
            line.quoted(student)
            line.ascii(#","points":"#)
            line.decimal(points)
            line.ascii(#","activity":"LEARN","event":"#)
            line.id(key)
            line.ascii(#","reason":"completed "#)
            line.bytes(course)
            line.bytes(note)
            line.ascii(#"","change":"award","course":"#)
            line.quoted(course)
            line.ascii(#","prev":"#)
            line.quoted(prev)
            line.ascii("}")
            return line.count
        }
        return true
    }

    /// `encodeAwardLine` member by member, escaping what needs it.
    private func encodeAwardLineByMembers(into w: inout JSONWriter, seq: Int, student: UnsafeRawBufferPointer, points: Int,
                                          note: String, prev: String) {
        w.beginObject()
        w.member("seq", seq)
        w.member("at", at)
        w.member("student", utf8: student)
        w.member("points", points)
        w.member("activity", Activity.learn)
        w.member("event", key)
        let prefix: StaticString = "completed "
        var note = note
        note.withUTF8 { note in
            let length = prefix.utf8CodeUnitCount + course.count + note.count
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { reason in
                let p = reason.baseAddress!
                p.update(from: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
                if let base = course.baseAddress {
                    (p + prefix.utf8CodeUnitCount).update(from: base.assumingMemoryBound(to: UInt8.self), count: course.count)
                }
                if let base = note.baseAddress { (p + prefix.utf8CodeUnitCount + course.count).update(from: base, count: note.count) }
                w.member("reason", utf8: UnsafeRawBufferPointer(reason))
            }
        }
        w.member("change", PointsRecord.Change.award.rawValue)
        w.member("course", utf8: course)
        w.member("prev", prev)
        w.endObject()
    }
}

extension PointsRecord {
    public func encoded() -> [UInt8] {
        var w = JSONWriter(capacity: 320)
        encode(into: &w)
        return w.bytes
    }

    /// Appends the line (without newline) to `w`, with `prev` in place of the record's own.
    public func encode(into w: inout JSONWriter, prev: String? = nil) {
        w.beginObject()
        w.member("seq", seq)
        w.member("at", at)
        w.member("student", student)
        w.member("points", points)
        w.member("activity", activity)
        w.member("event", event)
        w.member("reason", reason)
        w.member("change", change.rawValue)
        if let course { w.member("course", course) }
        if let badge { w.member("badge", badge) }
        if let unlock { w.member("unlock", unlock) }
        w.member("prev", prev ?? self.prev)
        w.endObject()
    }

    public init(json: JSONValue) throws(RecordError) {
        guard let changeText = json["change"]?.string, let change = Change(rawValue: changeText) else {
            throw RecordError("unknown or missing change")
        }
        self.init(seq: try requiredInt(json, "seq"), at: try timestamp(json, "at"), student: try required(json, "student"),
                  points: try requiredInt(json, "points"), activity: try required(json, "activity"),
                  event: try required(json, "event"), reason: json["reason"]?.string ?? "", change: change,
                  course: json["course"]?.string, badge: json["badge"]?.string, unlock: json["unlock"]?.string,
                  prev: try required(json, "prev"))
    }
}

extension RejectedRecord {
    public func encoded() -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        encode(into: &w)
        return w.bytes
    }

    /// Appends the line (without newline) to `w`.
    public func encode(into w: inout JSONWriter) {
        w.beginObject()
        w.field("seq", seq)
        w.field("file", file)
        w.field("row", row)
        w.field("reason", reason)
        w.field("raw", raw)
        w.endObject()
    }
}

extension AuditRecord {
    public func encoded() -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        encode(into: &w)
        return w.bytes
    }

    /// Appends the line (without newline) to `w`.
    public func encode(into w: inout JSONWriter) {
        w.beginObject()
        w.field("seq", seq)
        w.field("at", at.iso8601)
        w.field("action", action)
        if let file { w.field("file", file) }
        if let sha256 { w.field("sha256", sha256) }
        if let detail { w.field("detail", detail) }
        w.field("prev", prev)
        w.endObject()
    }

    public init(json: JSONValue) throws(RecordError) {
        self.init(seq: try requiredInt(json, "seq"), at: try timestamp(json, "at"), action: try required(json, "action"),
                  file: json["file"]?.string, sha256: json["sha256"]?.string, detail: json["detail"],
                  prev: try required(json, "prev"))
    }
}

private func required(_ json: JSONValue, _ key: String) throws(RecordError) -> String {
    guard let value = json[key]?.string else { throw RecordError("missing \(key)") }
    return value
}

private func requiredInt(_ json: JSONValue, _ key: String) throws(RecordError) -> Int {
    guard let value = json[key]?.int else { throw RecordError("missing \(key)") }
    return value
}

private func timestamp(_ json: JSONValue, _ key: String) throws(RecordError) -> Timestamp {
    guard let text = json[key]?.string, let value = DateParser.parse(text) else {
        throw RecordError("missing or unreadable \(key)")
    }
    return value
}
