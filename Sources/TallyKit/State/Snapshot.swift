/// The snapshot, in two files written after every batch:
///
/// - `data/state.json` — what users and the site read: `format`, `students` and the
///   `positions` of the ledgers it reflects. Its size grows with the number of students only.
/// - `data/index.json` — what the scoring core needs to decide the next event (ids seen,
///   files processed, bindings, the events in force), with its own `positions`. It grows
///   with the ledgers, so the daemon writes it at most every few seconds and at shutdown;
///   a start loads it and folds only the ledger lines committed after it.
///
/// Both are derived from the ledgers: either can be deleted, and `tally rebuild` (or the
/// next start) makes it again.
public enum Snapshot {
    /// The bytes of `state.json`.
    public static func encodeState(_ state: State, rules: Rules) -> [UInt8] {
        encodeState(students: state.students(rules: rules), positions: state.positions)
    }

    /// The bytes of `state.json` for students already listed (the engine lists them once a batch).
    public static func encodeState(students: [String: StudentState], positions: State.Positions) -> [UInt8] {
        var w = JSONWriter(capacity: 1 << 16)
        w.beginObject()
        w.field("format", State.format)
        w.key("students")
        w.beginObject()
        for id in students.keys.sorted() {
            guard let student = students[id] else { continue }
            w.key(id)
            encode(student, &w)
        }
        w.endObject()
        encodePositions(positions, &w)
        w.endObject()
        w.bytes.append(0x0A)
        return w.bytes
    }

    private static func encodePositions(_ positions: State.Positions, _ w: inout JSONWriter) {
        w.key("positions")
        w.beginObject()
        for (name, mark) in positions.named {
            w.key(name)
            w.beginObject()
            w.field("seq", mark.seq)
            w.field("bytes", mark.bytes)
            w.endObject()
        }
        w.endObject()
    }

    /// The bytes of `index.json`.
    public static func encodeIndex(_ state: State) -> [UInt8] {
        var w = JSONWriter(capacity: 1 << 16)
        w.beginObject()
        w.field("format", State.format)
        encodePositions(state.positions, &w)
        w.key("index")
        w.beginObject()
        w.key("files")
        w.beginArray()
        for sha in state.files.sorted() { w.string(sha) }
        w.endArray()
        w.key("seen")
        w.beginArray()
        for id in state.seen.sorted() { w.string(id) }
        w.endArray()
        w.key("roster")
        w.beginObject()
        for id in state.roster.keys.sorted() {
            guard let entry = state.roster[id] else { continue }
            w.key(id)
            w.beginObject()
            w.field("name", entry.name)
            w.field("public", entry.isPublic)
            w.key("emails")
            w.beginArray()
            for email in entry.emails { w.string(email.value) }
            w.endArray()
            w.endObject()
        }
        w.endObject()
        w.key("bindings")
        w.beginObject()
        for email in state.bindings.keys.sorted() { w.field(email.value, state.bindings[email]) }
        w.endObject()
        w.key("accounts")
        w.beginObject()
        for id in state.accounts.keys.sorted() {
            guard let account = state.accounts[id] else { continue }
            w.key(id)
            w.beginObject()
            w.field("latest_name", account.latestName)
            w.key("figures")
            encode(account.state, &w)
            w.endObject()
        }
        w.endObject()
        w.key("tracked")
        w.beginArray()
        for entry in state.tracked.values.sorted(by: { $0.firstSeq < $1.firstSeq }) {
            w.beginObject()
            w.field("first", entry.firstSeq)
            w.key("record")
            w.rawLiteral(entry.record.encoded())
            w.key("awards")
            w.beginArray()
            for award in entry.awards { w.rawLiteral(award.encoded()) }
            w.endArray()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.endObject()
        w.bytes.append(0x0A)
        return w.bytes
    }

    private static func encode(_ student: StudentState, _ w: inout JSONWriter) {
        w.beginObject()
        w.field("name", student.name)
        w.field("xp", student.xp)
        w.field("level", student.level)
        w.key("badges")
        w.beginArray()
        for badge in student.badges { w.string(badge) }
        w.endArray()
        w.key("unlocks")
        w.beginArray()
        for step in student.unlocks { w.string(step) }
        w.endArray()
        w.key("courses")
        w.beginArray()
        for course in student.courses { w.string(course) }
        w.endArray()
        w.field("public", student.isPublic)
        w.field("reached_at", student.reachedAt)
        w.endObject()
    }

    /// The students of a `state.json`, as `tally render` needs them.
    public static func decodeStudents(_ bytes: [UInt8]) throws -> [String: StudentState] {
        let json = try parse(bytes, name: "state.json")
        var students: [String: StudentState] = [:]
        for (id, value) in json["students"]?.object ?? JSONObject([]) { students[id] = student(from: value) }
        return students
    }

    /// The positions a `state.json` or `index.json` says it reflects.
    public static func decodePositions(_ bytes: [UInt8], name: String) throws -> State.Positions {
        var positions = State.Positions()
        for (key, value) in try parse(bytes, name: name)["positions"]?.object ?? JSONObject([]) {
            positions[key] = State.Positions.Mark(seq: value["seq"]?.int ?? 0, bytes: value["bytes"]?.int ?? 0)
        }
        return positions
    }

    private static func parse(_ bytes: [UInt8], name: String) throws -> JSONValue {
        let json: JSONValue
        do { json = try JSONParser.parse(bytes, limits: .init(maxDepth: 16, maxStringBytes: 1 << 20)) } catch {
            throw RecordError("\(name) is not valid JSON (\(error))")
        }
        guard json["format"]?.int == State.format else {
            throw RecordError("\(name) has format \(json["format"]?.text ?? "none"); this Tally reads format \(State.format)")
        }
        return json
    }

    /// Reads `index.json` back into a state; throws when it is not one this version wrote.
    public static func decodeIndex(_ bytes: [UInt8]) throws -> State {
        let json = try parse(bytes, name: "index.json")
        guard let index = json["index"], let positions = json["positions"] else {
            throw RecordError("index.json has no index or positions")
        }
        var state = State()
        for (name, value) in positions.object ?? JSONObject([]) {
            state.positions[name] = State.Positions.Mark(seq: value["seq"]?.int ?? 0, bytes: value["bytes"]?.int ?? 0)
        }
        state.files = Set((index["files"]?.array ?? []).compactMap(\.string))
        state.seen = Set((index["seen"]?.array ?? []).compactMap(\.string))
        for (id, value) in index["roster"]?.object ?? JSONObject([]) {
            let emails = (value["emails"]?.array ?? []).compactMap { $0.string.flatMap { try? Email(normalising: $0) } }
            state.roster[id] = State.RosterStudent(name: value["name"]?.string, isPublic: value["public"]?.bool ?? true,
                                                   emails: emails)
        }
        for (email, value) in index["bindings"]?.object ?? JSONObject([]) {
            if let address = try? Email(normalising: email), let student = value.string { state.bindings[address] = student }
        }
        for (id, value) in index["accounts"]?.object ?? JSONObject([]) {
            var account = State.Account()
            account.latestName = value["latest_name"]?.string
            if let figures = value["figures"] { account.state = student(from: figures) }
            state.accounts[id] = account
        }
        for value in index["tracked"]?.array ?? [] {
            guard let recordJSON = value["record"] else { continue }
            let record = try EventRecord(json: recordJSON)
            let awards = try (value["awards"]?.array ?? []).map { try PointsRecord(json: $0) }
            state.restore(record, awards: awards, firstSeq: value["first"]?.int ?? record.seq)
        }
        return state
    }

    private static func student(from json: JSONValue) -> StudentState {
        StudentState(name: json["name"]?.string, xp: json["xp"]?.int ?? 0, level: json["level"]?.string,
                     badges: (json["badges"]?.array ?? []).compactMap(\.string),
                     unlocks: (json["unlocks"]?.array ?? []).compactMap(\.string),
                     courses: (json["courses"]?.array ?? []).compactMap(\.string),
                     isPublic: json["public"]?.bool ?? true, reachedAt: json["reached_at"]?.int ?? 0)
    }
}

extension State.Positions {
    var named: [(String, Mark)] {
        [("events", events), ("points", points), ("unmatched", unmatched), ("rejected", rejected), ("audit", audit)]
    }

    subscript(name: String) -> Mark? {
        get { named.first { $0.0 == name }?.1 }
        set {
            guard let newValue else { return }
            switch name {
            case "events": events = newValue
            case "points": points = newValue
            case "unmatched": unmatched = newValue
            case "rejected": rejected = newValue
            case "audit": audit = newValue
            default: break
            }
        }
    }
}

extension State {
    /// Puts back a tracked event read from a snapshot, with the index entries derived from it.
    mutating func restore(_ record: EventRecord, awards: [PointsRecord], firstSeq: Int) {
        let event = record.event
        tracked[event.id] = Tracked(record: record, awards: awards, firstSeq: firstSeq)
        if let email = event.email { byEmail[email, default: []].append(event.id) }
        guard record.status == .applied, let student = record.student else { return }
        accounts[student, default: Account()].applied += 1
        if event.kind == .courseCompleted, let course = event.course { accounts[student]?.completed[course] = event.id }
        if event.kind == .quizPassed, let quiz = event.quiz { accounts[student]?.passed[quiz] = event.id }
    }
}
