#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The snapshot, in two files written after every batch:
///
/// - `data/state.json` — what users and the site read: `format`, `students` and the
///   `positions` of the ledgers it reflects. Its size grows with the number of students only.
/// - `data/index.bin` — what the scoring core needs to decide the next event (ids seen,
///   files processed, bindings, the events in force and where their lines are), with its
///   own `positions`, in a compact binary form (see `IndexFile.swift`). It grows with the
///   ledgers, so the daemon writes it at most every few seconds and at shutdown; a start
///   loads it and folds only the ledger lines committed after it.
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
        var bytes: [UInt8] = []
        writeState(students: students, positions: positions, chunk: Int.max) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Encodes `state.json` as `encodeState` does, handing `write` the bytes whenever `chunk`
    /// of them are ready (and the rest at the end), so the whole text is never in memory.
    public static func writeState(students: [String: StudentState], positions: State.Positions, chunk: Int = 1 << 20,
                                  to write: (_ bytes: [UInt8]) throws -> Void) rethrows {
        try writeState(StudentListing(ids: Array(students.keys), states: Array(students.values)), positions: positions,
                       chunk: chunk, to: write)
    }

    /// `writeState` for students listed as arrays (the engine's batches).
    ///
    /// A student whose strings need no escaping (nearly all) is written whole at a pointer
    /// (`appendPlain`), the others member by member (`encode`); `plain: false` writes every
    /// one member by member, for the tests that hold the two to the same bytes. A state's
    /// students are read in place (`StudentListing.InPlace`: nothing copied or retained),
    /// but for those with badges or unlocks and roster students with no account, which are
    /// read one by one as `ListedStudent`s, as students made whole are.
    static func writeState(_ students: StudentListing, positions: State.Positions, chunk: Int = 1 << 20, plain: Bool = true,
                           to write: (_ bytes: [UInt8]) throws -> Void) rethrows {
        var w = JSONWriter(capacity: min(chunk, 1 << 20) + 4096)
        w.beginObject()
        w.field("format", State.format)
        w.key("students")
        w.beginObject()
        let order = students.byID()
        let names = students.numberedCourseNames.map(QuotedNames.init)
        try students.ids.withUnsafeBufferPointer { ids in try students.withStudentsInPlace { inPlace in
          try QuotedNames.withBuffers(of: names) { quoted in
            for index in order {
                // A student read in place is written as it is read, nothing copied; any other,
                // and one that needs escaping, is made a `ListedStudent` first.
                if plain, let inPlace, let quoted, let student = inPlace.student(index),
                   appendPlain(id: ids.baseAddress! + index, student, courseNames: quoted, to: &w) {
                    // Written.
                } else {
                    var student = students[index]
                    if !plain || !appendPlain(id: ids[index], &student, courseNames: names, to: &w) {
                        w.key(ids[index])
                        encode(student, &w)
                    }
                }
                if w.bytes.count >= chunk {
                    // Only the bytes go: the writer's place in the document (its commas) stays.
                    try write(w.bytes)
                    w.bytes.removeAll(keepingCapacity: true)
                }
            }
          }
        } }
        w.endObject()
        encodePositions(positions, &w)
        w.endObject()
        w.bytes.append(0x0A)
        try write(w.bytes)
    }

    /// Writes `"id":{...}` of one student as `key(id)` and `encode` write it, in one append,
    /// when none of its strings needs escaping; returns false, having written nothing,
    /// when one does (or a month is before year 0), for `encode` to write it instead.
    static func appendPlain(id: String, _ student: StudentState, to w: inout JSONWriter) -> Bool {
        var listed = ListedStudent(student)
        return appendPlain(id: id, &listed, to: &w)
    }

    /// `courseNames`: the state's course names, quoted, for a student whose courses are
    /// numbered (see `QuotedNames`). `student` is only read: taken `inout`, the closure that
    /// writes it captures its address, where a value would be copied (retaining each of its
    /// strings and arrays) for every student.
    static func appendPlain(id: String, _ student: inout ListedStudent, courseNames: QuotedNames? = nil,
                            to w: inout JSONWriter) -> Bool {
        func bytes(_ texts: some Sequence<String>) -> Int { texts.reduce(0) { $0 + $1.utf8.count + 3 } }
        let names = student.courses.isNumbered ? courseNames : nil
        let courses = names?.room(student.courses) ?? bytes(student.courses)
        // 200: the keys and punctuation, two `null`s and two 20-digit numbers. 40 a month:
        // `,"178956970-12":-9223372036854775808` at the most.
        let room = 200 + id.utf8.count + (student.name?.utf8.count ?? 0) + (student.level?.utf8.count ?? 0)
            + bytes(student.badges) + bytes(student.unlocks) + courses + student.months.count * 40
        return w.appendPlainValue(room: room) { p -> Int? in
            var line = RawLine(p)
            guard line.plain(id) else { return nil }
            line.ascii(#":{"name":"#)
            guard line.plain(student.name) else { return nil }
            line.ascii(#","xp":"#)
            line.decimal(student.xp)
            line.ascii(#","level":"#)
            guard line.plain(student.level) else { return nil }
            line.ascii(#","badges":"#)
            guard line.plain(student.badges) else { return nil }
            line.ascii(#","unlocks":"#)
            guard line.plain(student.unlocks) else { return nil }
            line.ascii(#","courses":"#)
            if let names {
                guard line.plain(student.courses, quoted: names) else { return nil }
            } else {
                guard line.plain(student.courses) else { return nil }
            }
            line.ascii(student.isPublic ? #","public":true,"reached_at":"# : #","public":false,"reached_at":"#)
            line.decimal(student.reachedAt)
            guard student.months.withUnsafeBufferPointer({ line.months($0) }) else { return nil }
            return line.count
        }
    }

    /// `appendPlain` for a student read in place (see `StudentListing.InPlace`), with the
    /// same bytes: its fields are read through pointers and its strings copied by
    /// `RawLine.plain(at:)`, so that nothing is retained. It has no badge or unlock.
    static func appendPlain(id: UnsafePointer<String>, _ student: StudentInPlace, courseNames names: QuotedNames.Buffers,
                            to w: inout JSONWriter) -> Bool {
        let account = student.account
        let room = 200 + id.pointee.utf8.count + (student.name.pointee?.utf8.count ?? 0)
            + (student.level.pointee?.utf8.count ?? 0) + names.room(account.pointee.courses)
            + account.pointee.months.count * 40
        return w.appendPlainValue(room: room) { p -> Int? in
            var line = RawLine(p)
            guard line.plain(at: id) else { return nil }
            line.ascii(#":{"name":"#)
            guard line.plain(at: student.name) else { return nil }
            line.ascii(#","xp":"#)
            line.decimal(account.pointee.xp)
            line.ascii(#","level":"#)
            guard line.plain(at: student.level) else { return nil }
            line.ascii(#","badges":[],"unlocks":[],"courses":"#)
            guard line.plain(account.pointee.courses, quoted: names) else { return nil }
            line.ascii(student.isPublic ? #","public":true,"reached_at":"# : #","public":false,"reached_at":"#)
            line.decimal(account.pointee.reachedAt)
            guard account.pointee.months.withUnsafeBufferPointer({ line.months($0) }) else { return nil }
            return line.count
        }
    }

    static func encodePositions(_ positions: State.Positions, _ w: inout JSONWriter) {
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

    private static func encode(_ student: ListedStudent, _ w: inout JSONWriter) {
        // Keys known at compile time (`member`): written without scanning them for escapes.
        w.beginObject()
        w.member("name", student.name)
        w.member("xp", student.xp)
        w.member("level", student.level)
        w.key(literal: "badges")
        w.beginArray()
        for badge in student.badges { w.string(badge) }
        w.endArray()
        w.key(literal: "unlocks")
        w.beginArray()
        for step in student.unlocks { w.string(step) }
        w.endArray()
        w.key(literal: "courses")
        w.beginArray()
        for course in student.courses { w.string(course) }
        w.endArray()
        w.member("public", student.isPublic)
        w.member("reached_at", student.reachedAt)
        w.key(literal: "months")
        w.beginObject()
        for month in student.months { w.field(month.month.description, month.points) }
        w.endObject()
        w.endObject()
    }

    /// The students of a `state.json`, as `tally render` needs them.
    public static func decodeStudents(_ bytes: [UInt8]) throws -> [String: StudentState] {
        let json = try parse(bytes, name: "state.json")
        var students: [String: StudentState] = [:]
        for (id, value) in json["students"]?.object ?? JSONObject([]) { students[id] = student(from: value) }
        return students
    }

    /// The positions a `state.json` says it reflects.
    public static func decodePositions(_ bytes: [UInt8], name: String) throws -> State.Positions {
        var positions = State.Positions()
        for (key, value) in try parse(bytes, name: name)["positions"]?.object ?? JSONObject([]) {
            positions[key] = State.Positions.Mark(seq: value["seq"]?.int ?? 0, bytes: value["bytes"]?.int ?? 0)
        }
        return positions
    }

    /// The positions of the `state.json` at `path`, from its last bytes alone: they are its
    /// last member, after every student. (A start checks them; parsing a 40 MB file to learn
    /// ten numbers was a tenth of it.) Falls back to reading the whole file.
    public static func statePositions(at path: String) throws -> State.Positions {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemError("stat", path: path) }
        let size = Int(info.st_size)
        let start = max(0, size - 1024)
        var tail = [UInt8](repeating: 0, count: size - start)
        let n = tail.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
        let key = Array(#""positions":"#.utf8)
        if n == tail.count, let end = tail.lastIndex(of: UInt8(ascii: "}")),
           let found = tail.indices.reversed().first(where: { tail[$0...].starts(with: key) }), found + key.count < end,
           let object = try? JSONParser.parse(Array(tail[(found + key.count)..<end])), case .object(let members) = object {
            var positions = State.Positions()
            for (name, value) in members {
                positions[name] = State.Positions.Mark(seq: value["seq"]?.int ?? 0, bytes: value["bytes"]?.int ?? 0)
            }
            return positions
        }
        return try decodePositions(FileSystem.readFile(path, limit: Int.max), name: "state.json")
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

    private static func student(from json: JSONValue) -> StudentState {
        StudentState(name: json["name"]?.string, xp: json["xp"]?.int ?? 0, level: json["level"]?.string,
                     badges: (json["badges"]?.array ?? []).compactMap(\.string),
                     unlocks: (json["unlocks"]?.array ?? []).compactMap(\.string),
                     courses: (json["courses"]?.array ?? []).compactMap(\.string),
                     isPublic: json["public"]?.bool ?? true, reachedAt: json["reached_at"]?.int ?? 0,
                     months: (json["months"]?.object ?? JSONObject([])).compactMap { name, value in
                         guard let month = Month(name), let points = value.int else { return nil }
                         return MonthPoints(month: month, points: points)
                     }.sorted { $0.month < $1.month })
    }
}

/// A state's course names as `state.json` quotes them, each plain one's bytes in one buffer:
/// a student read from a state names its courses by number (`ListedCourses`), and its
/// courses are then copied from here by number. Read as `String`s, each name of each
/// student was a retain and a release of a string the site's thread was retaining too.
struct QuotedNames {
    fileprivate var bytes: [UInt8] = []
    /// Where each name's quoted bytes are; nil for a name that needs escaping.
    fileprivate var ranges: [Range<Int>?] = []

    init(_ names: [String]) {
        for var name in names {
            name.withUTF8 { utf8 in
                guard JSONWriter.isPlain(UnsafeRawBufferPointer(utf8)) else { return ranges.append(nil) }
                let start = bytes.count
                bytes.append(UInt8(ascii: "\""))
                bytes.append(contentsOf: utf8)
                bytes.append(UInt8(ascii: "\""))
                ranges.append(start..<bytes.count)
            }
        }
    }

    /// Room for `["a","b"]` of numbered `courses`, their names' plain parts (a name that
    /// needs escaping stops the writing, so it needs none).
    func room(_ courses: ListedCourses) -> Int {
        var room = 2
        for index in courses.indices {
            if let number = courses.number(at: index), let range = ranges[number] { room += range.count + 1 }
        }
        return room
    }

    /// The names' bytes and ranges where they are, for writing students in place (see
    /// `StudentListing.InPlace`): reached through the arrays, they were retained and
    /// released for every student.
    struct Buffers {
        fileprivate let bytes: UnsafeRawBufferPointer
        fileprivate let ranges: UnsafeBufferPointer<Range<Int>?>

        /// `room` of the listed courses of `courses`.
        func room(_ courses: CourseKeys) -> Int {
            courses.entries.withUnsafeBufferPointer { entries in
                var room = 2
                for entry in entries {
                    guard entry.isListed else { break }
                    if let range = ranges[Int(entry.course)] { room += range.count + 1 }
                }
                return room
            }
        }
    }

    /// Calls `body` with the buffers of `names`, or nil.
    static func withBuffers<R>(of names: QuotedNames?, _ body: (Buffers?) throws -> R) rethrows -> R {
        guard let names else { return try body(nil) }
        return try names.bytes.withUnsafeBytes { bytes in
            try names.ranges.withUnsafeBufferPointer { ranges in try body(Buffers(bytes: bytes, ranges: ranges)) }
        }
    }
}

extension RawLine {
    /// `["a","b"]` of numbered `courses`, copied from `names`; false when one needs escaping
    /// (what was written is then to be thrown away).
    fileprivate mutating func plain(_ courses: ListedCourses, quoted names: QuotedNames) -> Bool {
        ascii("[")
        let done = names.bytes.withUnsafeBytes { quoted -> Bool in
            for index in courses.indices {
                if index > 0 { ascii(",") }
                guard let number = courses.number(at: index), let range = names.ranges[number] else { return false }
                bytes(UnsafeRawBufferPointer(rebasing: quoted[range]))
            }
            return true
        }
        guard done else { return false }
        ascii("]")
        return true
    }

    /// `plain(_:quoted:)` of the listed courses of `courses`.
    fileprivate mutating func plain(_ courses: CourseKeys, quoted names: QuotedNames.Buffers) -> Bool {
        ascii("[")
        let done = courses.entries.withUnsafeBufferPointer { entries -> Bool in
            for index in entries.indices {
                let entry = entries[index]
                guard entry.isListed else { break }
                if index > 0 { ascii(",") }
                guard let range = names.ranges[Int(entry.course)] else { return false }
                bytes(UnsafeRawBufferPointer(rebasing: names.bytes[range]))
            }
            return true
        }
        guard done else { return false }
        ascii("]")
        return true
    }

    /// `plain(_:)` of the text at `text`, read where it is (`RawLine` copies in loops, so
    /// that the string is not retained around a copy).
    @inline(__always)
    fileprivate mutating func plain(at text: UnsafePointer<String?>) -> Bool {
        guard text.pointee != nil else {
            ascii("null")
            return true
        }
        return quoted(text.pointee!.utf8)
    }

    /// `plain(at:)` of a `String` that is never nil.
    @inline(__always)
    fileprivate mutating func plain(at text: UnsafePointer<String>) -> Bool { quoted(text.pointee.utf8) }

    /// `"text"` when no byte of it needs escaping; false, having written nothing, else.
    @inline(__always)
    private mutating func quoted(_ text: String.UTF8View) -> Bool {
        text.withContiguousStorageIfAvailable { utf8 -> Bool in
            let raw = UnsafeRawBufferPointer(utf8)
            guard JSONWriter.isPlain(raw) else { return false }
            quoted(raw)
            return true
        } ?? false
    }

    /// `,"months":{"2024-09":20,...}}`, closing the student; false for a month before year 0.
    fileprivate mutating func months(_ months: UnsafeBufferPointer<MonthPoints>) -> Bool {
        ascii(#","months":{"#)
        for index in months.indices {
            let month = months[index]
            // `Month.description`: the year in at least four digits, the month in two.
            guard month.month.number >= 0 else { return false }
            let year = month.month.year, number = month.month.month
            ascii(index == 0 ? "\"" : ",\"")
            if year < 1000 { ascii(year < 10 ? "000" : year < 100 ? "00" : "0") }
            decimal(year)
            ascii(number < 10 ? "-0" : "-")
            decimal(number)
            ascii("\":")
            decimal(month.points)
        }
        ascii("}}")
        return true
    }

    /// `"text"`, or `null` for nil; false when a byte of it needs escaping (what was written
    /// is then to be thrown away).
    fileprivate mutating func plain(_ text: String?) -> Bool {
        guard let text else {
            ascii("null")
            return true
        }
        return quoted(text.utf8)
    }

    /// `["a","b"]`; false as above.
    fileprivate mutating func plain<Texts: RandomAccessCollection<String>>(_ texts: Texts) -> Bool where Texts.Index == Int {
        ascii("[")
        for index in texts.indices {
            if index > 0 { ascii(",") }
            guard plain(texts[index]) else { return false }
        }
        ascii("]")
        return true
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
