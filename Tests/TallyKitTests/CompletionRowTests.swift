import Foundation
import Testing
@testable import TallyKit

/// The byte-level row path (`CompletionRow`, `Email.normalisedASCII`, the duplicate line)
/// against the ordinary one it stands in for: `RowMapper.event`, `Email(normalising:)`,
/// `EventRecord.encode`, and a whole sync with the fast path off.
struct CompletionRowTests {
    static let addresses = [
        "bob@example.com", "  Bob@Example.COM ", "<bob@example.com>", "Bob <Bob@example.com>", "mailto:BOB@x.org",
        "MAILTO: bob@x.org", "B.o.b+news@Gmail.com", "b.o.b@googlemail.com", "+tag@gmail.com", "...@gmail.com",
        "bob@example.com.", "bob@@example.com", "bob@example", "bob@-example.com", "bob smith@example.com",
        "", "   ", "<>", "mailto:", "zoë@example.com", "bob@exämple.com", "\u{00A0}bob@example.com",
        "bob@example.com\u{1F}", "\tbob@example.com\r", String(repeating: "a", count: 65) + "@x.org",
        "a@" + String(repeating: "b", count: 64) + ".org", "a\"b@x.org", "a,b@x.org",
    ]

    @Test("an ASCII address normalised as bytes is what Email(normalising:) makes, and the rest is left to it",
          arguments: addresses)
    func emailBytes(raw: String) {
        let simple = try? Email(normalising: raw)
        var text = raw
        let fast: String? = text.withUTF8 { utf8 in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Email.foldedCapacity(utf8.count)) { out in
                Email.normalisedASCII(UnsafeRawBufferPointer(utf8), into: out).map {
                    String(decoding: UnsafeBufferPointer(rebasing: out[..<$0]), as: UTF8.self)
                }
            }
        }
        if let fast {
            #expect(fast == simple?.value)
        } else {
            #expect(simple == nil || raw.utf8.contains { $0 >= 0x80 })
        }
    }

    /// Every row of `csv` through both paths: where the byte path reads a row, its key and
    /// its duplicate line must be the ordinary event's. Returns how many rows it read.
    @discardableResult
    func compare(_ csv: String, settings: RowMapper.Settings = .init(), student: String?? = nil) throws -> Int {
        let reader = CSVReader(bytes: Array(csv.utf8))
        var headers: [String]?
        var fastRows = 0
        var checked = 0
        try reader.forEachRecord { record in
            guard let names = headers else {
                headers = record.fields
                return true
            }
            let map = HeaderMap(headers: names)
            let mapper = RowMapper(map: map, settings: settings, file: "export.csv", sha256: "abc",
                                   fallbackTime: Timestamp(milliseconds: 1_700_000_000_000))
            let simple = mapper.event(row: record.number, otherDate: { map.otherDate.map { record.string(at: $0) } }) { column in
                map.index(of: column).map { record.string(at: $0) }
            }
            guard let columns = CompletionRow.Columns(mapper: mapper) else { return true }
            _ = CompletionRow.read(record, columns: columns) { row in
                fastRows += 1
                guard case .success(let event) = simple else {
                    Issue.record("row \(record.number): the byte path read a row the mapper rejects")
                    return true
                }
                #expect(row.key == event.key, "row \(record.number)")
                var interner = TextInterner()
                #expect(row.event(columns, courses: &interner) == event,
                        "row \(record.number)")
                let owner = student ?? event.email?.value
                var simpleLine = JSONWriter(), fastLine = JSONWriter()
                EventRecord(seq: 7, event: event, student: owner, status: .duplicate).encode(into: &simpleLine)
                if let bytes = owner.map({ Array($0.utf8) }) {
                    bytes.withUnsafeBytes { row.encodeLine(into: &fastLine, seq: 7, status: .duplicate, student: $0, file: "export.csv", sha256: "abc") }
                } else {
                    row.encodeLine(into: &fastLine, seq: 7, status: .duplicate, student: nil, file: "export.csv", sha256: "abc")
                }
                #expect(String(decoding: fastLine.bytes, as: UTF8.self) == String(decoding: simpleLine.bytes, as: UTF8.self))
                // Each status, and the award line, uncapped and capped, as the records write them.
                for status in [EventStatus.applied, .unmatched] {
                    var simple = JSONWriter(), fast = JSONWriter()
                    EventRecord(seq: 7, event: event, student: owner, status: status).encode(into: &simple)
                    row.encodeLine(into: &fast, seq: 7, status: status, student: nil, file: "export.csv", sha256: "abc")
                    if owner != nil {
                        fast = JSONWriter()
                        Array(owner!.utf8).withUnsafeBytes {
                            row.encodeLine(into: &fast, seq: 7, status: status, student: $0, file: "export.csv", sha256: "abc")
                        }
                    }
                    #expect(String(decoding: fast.bytes, as: UTF8.self) == String(decoding: simple.bytes, as: UTF8.self))
                }
                for (points, note) in [(20, ""), (0, " (capped: LEARN at most 40 in 7 days)"), (-5, " \"quoted\"\t")] {
                    let course = event.course ?? ""
                    var simple = JSONWriter(), fast = JSONWriter()
                    PointsRecord(seq: 9, at: event.at, student: owner ?? "s-1", points: points, activity: Activity.learn,
                                 event: event.id, reason: "completed \(course)" + note, course: course)
                        .encode(into: &simple, prev: LedgerFile.genesis)
                    Array((owner ?? "s-1").utf8).withUnsafeBytes {
                        row.encodeAwardLine(into: &fast, seq: 9, student: $0, points: points, note: note, prev: LedgerFile.genesis)
                    }
                    #expect(String(decoding: fast.bytes, as: UTF8.self) == String(decoding: simple.bytes, as: UTF8.self))
                }
                checked += 1
                return true
            }
            return true
        }
        #expect(checked == fastRows)
        return fastRows
    }

    @Test("plain completion rows read as bytes give the ordinary event's id and duplicate line")
    func plainRows() throws {
        let csv = """
        Timestamp,Email Address,Full name,Course,Certificate link,Other
        9/2/2024 10:30:00,Bob@Example.com,Bob Smith,Data Literacy 101,https://c.example/1,x
        2024-09-02T10:30:00.123Z,b.o.b+x@gmail.com,,Course 2,,"a, b"
        ,carol@example.org,carol@example.org,Course 3,https://c.example/3,
        9/2/1969 1:02:03 PM,dan@example.org,Dan \\ "the" man,Course 4: Tabs\tand more,https://c.example/4?a="1",
        9/2/2024,eve@example.org,Eve,Course 5,,
        9/2/2024, <Fay@Example.org> ,Fay,Course 5,https://c.example/6,
        9/2/2024 10:30:00,"gus@example.com",Gus,Course 1,
        9/2/2024 10:30:00,hal@example.com,"Smith, Hal",Course 1,"https://c.example/7,8"
        9/2/2024 10:30:00,hal@example.com,Hal,course  1,
        9/2/2024 10:30:00,hal@example.com,Hal,COURSE 1,
        """
        let read = try compare(csv)
        #expect(read == 10)
        try compare(csv, student: .some(nil))
        try compare(csv, student: "roster-id-1")
        try compare(csv, settings: .init(course: "Fixed Course ✓"))
        try compare(csv, settings: .init(dateOrder: .dayFirst))
    }

    @Test("rows the byte path leaves alone: quoted with escapes, padded or non-ASCII cells, bad emails and dates, no course")
    func awkwardRows() throws {
        let csv = #"""
        Timestamp,Email Address,Full name,Course,Certificate link
        9/2/2024 10:30:00,"bob@example.com",Bob,"Course ""1""",
        9/2/2024 10:30:00,bob@example.com,"Smith, ""Bob""",Course 1,
        9/2/2024 10:30:00,bob@example.com,Bob,Course 1,  
        9/2/2024 10:30:00,bob@example.com,Zoë,Course 1,
        9/2/2024 10:30:00,bob@example.com,Bob,Cours é,
        9/2/2024 10:30:00,bob@example.com,Bob, Course 1,
        9/2/2024 10:30:00,not an email,Bob,Course 1,
        9/2/2024 10:30:00,,Bob,Course 1,
        31/31/2024,bob@example.com,Bob,Course 1,
        9/2/2024 10:30:00,bob@example.com,Bob,,
        9/2/2024 10:30:00,bob@example.com,Bob,Course 1,https://c.example/é
        9/2/2024 10:30:00 ,bob@example.com,Bob,Course 1,
        """#
        let lines = csv.split(separator: "\n")
        for line in lines.dropFirst() {
            #expect(try compare(lines[0] + "\n" + line) == 0, "\(line)")
        }
    }

    @Test("files whose rows are not plain completions have no byte path")
    func otherFiles() {
        let quiz = HeaderMap(headers: ["Email", "Score"])
        #expect(CompletionRow.Columns(map: quiz, settings: .init(quiz: "Quiz 1"), file: "f", sha256: "s", fallbackTime: .init(milliseconds: 0)) == nil)
        let ids = HeaderMap(headers: ["Email", "Course", "Response ID"])
        #expect(CompletionRow.Columns(map: ids, settings: .init(), file: "f", sha256: "s", fallbackTime: .init(milliseconds: 0)) == nil)
        let awards = HeaderMap(headers: ["Email", "Points", "Reason"])
        #expect(CompletionRow.Columns(map: awards, settings: .init(), file: "f", sha256: "s", fallbackTime: .init(milliseconds: 0)) == nil)
        let parts = HeaderMap(headers: ["Email", "First name", "Last name", "Course"])
        #expect(CompletionRow.Columns(map: parts, settings: .init(), file: "f", sha256: "s", fallbackTime: .init(milliseconds: 0)) != nil)
    }

    @Test("first and last names: the byte path reads a row only when its name column says it all")
    func nameParts() throws {
        let csv = """
        Email,Name,First name,Last name,Course
        a@example.org,Ann Lee,Ann,Lee,Course 1
        b@example.org,,Bo,Chan,Course 1
        """
        #expect(try compare(csv) == 1)
    }

    @Test("a row whose date cell is empty leaves the byte path when the table has another date column")
    func otherDate() throws {
        let csv = """
        Timestamp,Email Address,Course,Completion date
        1/31/2024 14:03:04,ada@example.com,AI 1,1/30/2024
        1/31/2024 15:00:00,bob@example.com,AI 1,
        ,cy@example.com,AI 1,
        """
        #expect(try compare(csv) == 1)
        // With no other date column, an empty cell is the file's time, on the byte path.
        #expect(try compare("Email Address,Course,Completion date\nbob@example.com,AI 1,\n") == 1)
        let day1 = csv + "\n"
        let day2 = day1 + "2/1/2024 09:00:00,dan@example.com,AI 2,\n2/1/2024 09:00:00,ada@example.com,AI 2,2/1/2024\n"
        let files = [("form-1.csv", day1), ("form-2.csv", day2)]
        let fast = try sync(files, bytes: true, roster: false)
        let simple = try sync(files, bytes: false, roster: false)
        for (name, bytes) in simple { #expect(fast[name] == bytes, "\(name) differs") }
        let events = String(decoding: fast["events.jsonl"] ?? [], as: UTF8.self)
        #expect(events.contains(#""email":"bob@example.com","name":null,"course":"AI 1","at":"2024-01-31T15:00:00Z""#))
    }

    /// Syncs `files` (name, text) in order with the byte path on or off; returns the ledgers
    /// and the snapshot, without the audit lines and times that differ between runs.
    func sync(_ files: [(String, String)], bytes: Bool, roster: Bool) throws -> [String: [UInt8]] {
        var config = TallyConfig()
        config.roster.required = roster
        return try sync(files, bytes: bytes, config: config).files
    }

    /// The same under `config`, with the engine's state after the last file and as a new
    /// engine loads it back from `index.bin`.
    func sync(_ files: [(String, String)], bytes: Bool, config: TallyConfig) throws
        -> (files: [String: [UInt8]], state: State, loaded: State) {
        try sync(files.map { ($0.0, Array($0.1.utf8)) }, bytes: bytes, config: config)
    }

    /// The same, for files of any bytes (workbooks).
    func sync(_ files: [(String, [UInt8])], bytes: Bool, config: TallyConfig) throws
        -> (files: [String: [UInt8]], state: State, loaded: State) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tally-rows-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let settings = EngineSettings(config: config, inbox: root + "/inbox", data: root + "/data", site: root + "/site")
        var engine: Engine! = try Engine(settings: settings)
        engine.readsRowsAsBytes = bytes
        engine.csvThreadFrom = 0   // a CSV read on its own thread, however small, as the engine reads a big one
        engine.rosterTime = Timestamp(milliseconds: 1_700_000_100_250)   // the same in both runs
        for (index, file) in files.enumerated() {
            let path = root + "/inbox/" + file.0
            try Data(file.1).write(to: URL(fileURLWithPath: path))
            // Oldest first, the same times in both runs.
            var times = [timespec(tv_sec: 1_700_000_000 + index, tv_nsec: 0), timespec(tv_sec: 1_700_000_000 + index, tv_nsec: 0)]
            utimensat(AT_FDCWD, path, &times, 0)
            _ = try engine.sync()
        }
        var out: [String: [UInt8]] = [:]
        for name in ["events.jsonl", "points.jsonl", "unmatched.jsonl", "rejected.jsonl"] {
            out[name] = Array(try Data(contentsOf: URL(fileURLWithPath: root + "/data/" + name)))
        }
        let state = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: root + "/data/state.json"))))
        out["students"] = state["students"].map { $0.serialized() } ?? []
        // Not the audit's: its lines carry how many milliseconds a file took.
        let at = engine.state.positions
        out["positions"] = [UInt8]("\([at.events, at.points, at.unmatched, at.rejected])".utf8)
        out["stats"] = [UInt8]("\(engine.stats.decisions[.courseCompleted].map { "\($0)" } ?? "")".utf8)
        out["stats.points"] = [UInt8]("\(engine.stats.pointsAwarded) \(engine.stats.pointsRevoked)".utf8)
        let finalState = engine.state
        try engine.flushIndex()
        engine = nil   // its lock released, for the engine that loads the index back
        // A process another test spawns at this instant holds copies of every descriptor, the
        // lock's among them, from its fork until its exec: a moment, on a loaded machine longer.
        var loaded: State?
        for attempt in 0..<50 where loaded == nil {
            do { loaded = try Engine(settings: settings).state } catch LockError.held(_) where attempt < 49 { usleep(20_000) }
        }
        return (out, finalState, try #require(loaded))
    }

    @Test("a cumulative export synced with the byte path writes what the ordinary path writes", arguments: [false, true])
    func wholeSync(roster: Bool) throws {
        let day1 = """
        Timestamp,Email Address,Full name,Course,Certificate link
        9/2/2024 10:30:00,bob@example.com,Bob,Course 1,https://c.example/1
        9/2/2024 10:31:00,B.ob+x@gmail.com,Bob G,Course 1,
        9/2/2024 10:32:00,carol@example.org,"Lee, Carol",Course 2,
        9/2/2024 10:33:00,bob@example.com,Bob,Course 2,
        """
        let day2 = day1 + """

        9/2/2024 10:30:00,bob@example.com,Bob,Course 1,https://c.example/1
        9/3/2024 09:00:00,bob@example.com,Bob,Course 1,https://c.example/1
        9/3/2024 09:01:00,bo.b@gmail.com,Robert,Course 3,
        9/3/2024 09:02:00,dan@example.org,Dan,Course 1,
        9/3/2024 09:02:00,not-an-email,Dan,Course 1,
        """
        let files = [("day1.csv", day1), ("day2.csv", day2), ("day2-again.csv", day2 + "\n")]
        let fast = try sync(files, bytes: true, roster: roster)
        let simple = try sync(files, bytes: false, roster: roster)
        #expect(fast.keys.sorted() == simple.keys.sorted())
        for (name, bytes) in simple {
            #expect(fast[name] == bytes, "\(name) differs")
        }
        #expect(String(decoding: fast["events.jsonl"] ?? [], as: UTF8.self).contains("\"duplicate\""))
    }

    static let flatLines = [
        #"{"email":"Bob@Example.com","name":"Bob","course":"Course 1","at":"9/2/2024 10:30:00","certificate_url":"https://c/1"}"#,
        #"{"email":"b.o.b+x@gmail.com","name":"","course":"Course 2","at":"2024-09-02T10:30:00.5Z","certificate_url":""}"#,
        #" { "course" : "Course 3" , "email" : " <carol@example.org> " , "name" : "carol@example.org" } "#,
        #"{"email":"dan@example.org","name":"Dan "D"","course":"Course 1","at":"9/2/2024"}"#,
        #"{"email":"eve@example.org","course":"Course 1","at":"9/2/2024","kind":"course_completed"}"#,
        #"{"email":"eve@example.org","course":"Course 1","at":1725273000}"#,
        #"{"email":"eve@example.org","course":" Course 1","at":"9/2/2024"}"#,
        #"{"email":"eve@example.org","course":"Course 1","at":"not a date"}"#,
        #"{"email":"eve@example.org","course":"Course 1","at":""}"#,
        #"{"email":"not an email","course":"Course 1"}"#,
        #"{"email":"eve@example.org","course":""}"#,
        #"{"email":"eve@example.org","name":"Zoë","course":"Course 1"}"#,
        #"{"email":"eve@example.org","email":"fay@example.org","course":"Course 1"}"#,
        #"{"email":"eve@example.org","course":"Course 1"} x"#,
        #"{"email":"eve@example.org","course":"Course 1""#,
        #"{"name":"Eve","course":"Course 1"}"#,
        #"{"email":"eve@example.org","name":"Eve","course":"Course 1","at":"9/2/2024 10:30:00","certificate_url":"https://c/é"}"#,
        #"[{"email":"eve@example.org","course":"Course 1"}]"#,
        "{}",
    ]

    @Test("a plain flat JSON line read as bytes gives the event KajabiPayload.flatEvent makes of it", arguments: flatLines)
    func flatLine(line: String) {
        let source = EventSource(file: "events.jsonl", sha256: "abc", row: 3)
        let fallback = Timestamp(milliseconds: 1_700_000_000_000)
        let simple = (try? JSONParser.parse(line)).flatMap { try? KajabiPayload.flatEvent($0, source: source, fallbackTime: fallback) }
        var bytes = Array(line.utf8)
        let read = bytes.withUnsafeMutableBytes { raw in
            FlatLine.read(UnsafeRawBufferPointer(raw), row: 3, fallbackTime: fallback) { row in
                var interner = TextInterner()
                let fast = row.event(file: "events.jsonl", sha256: "abc", course: nil, courses: &interner)
                #expect(fast == simple)
                #expect(row.key == simple?.key)
                if let simple {
                    var simpleLine = JSONWriter(), fastLine = JSONWriter()
                    EventRecord(seq: 2, event: simple, student: simple.email?.value, status: .duplicate).encode(into: &simpleLine)
                    Array(simple.email!.value.utf8).withUnsafeBytes {
                        row.encodeLine(into: &fastLine, seq: 2, status: .duplicate, student: $0, file: "events.jsonl", sha256: "abc")
                    }
                    #expect(fastLine.bytes == simpleLine.bytes)
                }
                return true
            }
        }
        // The plain lines of the list are read; the others are left to the parser.
        let plain = line.contains("Bob") || line.contains("b.o.b") || line.contains("carol")
        #expect(read == plain, "\(line)")
    }

    @Test("JSON lines synced with the byte path write what the ordinary path writes", arguments: [false, true])
    func wholeSyncOfLines(roster: Bool) throws {
        let day1 = [
            #"{"email":"bob@example.com","name":"Bob","course":"Course 1","at":"9/2/2024 10:30:00","certificate_url":"x"}"#,
            #"{"email":"B.ob+x@gmail.com","name":"Bob G","course":"Course 1","at":"9/2/2024 10:31:00"}"#,
            #"{"email":"carol@example.org","name":"Lee, "Carol"","course":"Course 2","at":"9/2/2024 10:32:00"}"#,
        ].joined(separator: "\n")
        let day2 = day1 + "\n" + [
            #"{"email":"bob@example.com","name":"Bob","course":"Course 1","at":"9/2/2024 10:30:00","certificate_url":"x"}"#,
            #"{"email":"bob@example.com","name":"Bob","course":"Course 1","at":"9/3/2024 09:00:00"}"#,
            #"{"email":"dan@example.org","kind":"manual_award","points":5,"reason":"helped"}"#,
            #"{"email":"not-an-email","course":"Course 1"}"#,
            "",
        ].joined(separator: "\n")
        let files = [("day1.jsonl", day1), ("day2.jsonl", day2), ("day2-again.jsonl", day2 + "\n")]
        let fast = try sync(files, bytes: true, roster: roster)
        let simple = try sync(files, bytes: false, roster: roster)
        for (name, bytes) in simple {
            #expect(fast[name] == bytes, "\(name) differs")
        }
        #expect(String(decoding: fast["events.jsonl"] ?? [], as: UTF8.self).contains("\"duplicate\""))
    }

    /// Two syncs of the same files, one with the byte lane and one without, wrote the same
    /// lines and left the same state, as it is and as `index.bin` loads it back.
    func expectSame(_ fast: (files: [String: [UInt8]], state: State, loaded: State),
                    _ simple: (files: [String: [UInt8]], state: State, loaded: State)) {
        #expect(fast.files.keys.sorted() == simple.files.keys.sorted())
        func lines(_ bytes: [UInt8]) -> [String] { String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init) }
        for (name, bytes) in simple.files {
            #expect(lines(fast.files[name] ?? []) == lines(bytes), "\(name) differs")
        }
        // The same state, but for the audit's length (its lines carry milliseconds).
        func withoutAudit(_ state: State) -> State {
            var state = state
            state.positions.audit = .init()
            return state
        }
        #expect(withoutAudit(fast.state) == withoutAudit(simple.state))
        #expect(withoutAudit(fast.loaded) == withoutAudit(simple.loaded))
        #expect(fast.loaded == fast.state)
    }

    /// Files that exercise the lane for new rows: new students and courses, a course done
    /// again under another id, a name that changes, points per course, a file with a fixed
    /// course, JSON lines, and then a roster that moves what the lane applied (read back
    /// from the offsets it recorded) and a refund-free manual award in between.
    static let laneFiles: [(String, String)] = [
        ("day1.csv", """
        Timestamp,Email Address,Full name,Course,Certificate link
        9/2/2024 10:30:00,bob@example.com,Bob,Course 1,https://c.example/1
        9/2/2024 10:31:00,B.ob+x@gmail.com,Bob G,Course 1,
        9/2/2024 10:32:00,carol@example.org,"Lee, Carol",Course 2,
        9/2/2024 10:33:00,bob@example.com,Robert,Course 2,
        10/1/2024 08:00:00,bob@example.com,,Course 1,
        10/1/2024 08:00:00,bob@example.com,Bob,Course 3,
        9/2/2024 10:30:00,bob@example.com,Bob,Course 1,https://c.example/1
        9/3/2024 10:00:00,bob@example.com,Bob,Course 6,
        9/3/2024 10:05:00,bob@example.com,Bob,course 1,
        9/3/2024 10:06:00,carol@example.org,Carol,COURSE  1,
        9/3/2024 10:07:00,carol@example.org,Carol,Course 1 ,
        9/3/2024 10:08:00,carol@example.org,Carol,Course\u{A0}6,
        9/3/2024 10:09:00,carol@example.org,Carol,course 6,
        """),
        ("day2.jsonl", [
            #"{"email":"dan@example.org","name":"Dan","course":"Course 1","at":"9/2/2024 10:30:00"}"#,
            #"{"email":"bob@example.com","name":"Bob","course":"Course 2","at":"9/4/2024 10:30:00"}"#,
            #"{"email":"eve@example.org","kind":"manual_award","points":5,"reason":"helped"}"#,
            #"{"email":"eve@example.org","name":"Eve","course":"Course 2","at":"11/4/2024 10:30:00"}"#,
            #"{"email":"dan@example.org","name":"Dan","course":"COURSE 1","at":"9/5/2024 10:30:00"}"#,
            #"{"email":"eve@example.org","name":"Eve","course":"course\u00a02","at":"11/5/2024 10:30:00"}"#,
        ].joined(separator: "\n")),
        ("course-4-export.csv", """
        Email,Name
        bob@example.com,Bob
        fay@example.org,Fay
        """),
        ("roster-2026.csv", """
        id,email,name
        s-bob,bob@example.com,Bob B.
        s-bob,bob@gmail.com,
        s-eve,eve@example.org,Eve
        """),
        ("day3.csv", """
        Timestamp,Email Address,Full name,Course,Certificate link
        12/1/2024 10:30:00,bob@example.com,Bob,Course 5,
        12/1/2024 10:30:00,gus@example.org,Gus,Course 5,
        """),
    ]

    static let laneRules: [String] = [
        "",
        "[points]\ncourse_completed = 30\n[points.courses]\n\"Course 2\" = 50\n\"Course 3\" = 0\n",
        "[[badges]]\nid = \"two\"\nname = \"Two courses\"\ncompletions = 2\n",
        "[[caps]]\nactivity = \"learn\"\nmax = 40\ndays = 7\n",
        """
        [points.courses]
        "Course 1" = 25
        [[badges]]
        id = "first"
        name = "First course"
        completions = 1
        [[badges]]
        id = "pair"
        name = "One and two"
        courses = ["Course 1", "Course 2"]
        [[caps]]
        activity = "LEARN"
        max = 60
        [[caps]]
        activity = "learn"
        max = 30
        days = 1

        """,
        // Spellings of the rows' courses, in the configuration.
        """
        [points.courses]
        "course  1" = 25
        "COURSE 2" = 50
        [[badges]]
        id = "pair"
        name = "One and two"
        courses = ["COURSE 1", "course\\u00a02"]

        """,
    ]

    @Test("new plain rows decided from their bytes write and fold what Scoring.decide does, then move alike",
          arguments: laneRules)
    func newRowsLane(rules: String) throws {
        var config = try TallyConfig.load(contentsOf: rules + "[[sources]]\nfiles = \"course-4-*.csv\"\ncourse = \"Course 4\"\n", environment: [:])
        config.roster.required = false
        let fast = try sync(Self.laneFiles, bytes: true, config: config)
        let simple = try sync(Self.laneFiles, bytes: false, config: config)
        expectSame(fast, simple)
        // The roster moved what the lane applied: revokes name its events.
        let points = String(decoding: fast.files["points.jsonl"] ?? [], as: UTF8.self)
        #expect(points.contains(#""change":"revoke""#))
        #expect(points.contains(#""student":"s-bob""#))
        // Spellings of a course the student has are duplicates (plain rows by the lane, the
        // padded and non-ASCII ones by the ordinary path); a new student's is applied.
        let events = String(decoding: fast.files["events.jsonl"] ?? [], as: UTF8.self).split(separator: "\n")
        func status(_ email: String, _ course: String) -> Substring? {
            guard let line = events.first(where: { $0.contains(#""email":"\#(email)""#) && $0.contains(#""course":"\#(course)""#) }),
                  let range = line.range(of: #""status":""#) else { return nil }
            return line[range.upperBound...].prefix { $0 != "\"" }
        }
        #expect(status("bob@example.com", "course 1") == "duplicate")
        #expect(status("carol@example.org", "COURSE  1") == "applied")
        #expect(status("carol@example.org", "course 6") == "duplicate")
        #expect(status("dan@example.org", "COURSE 1") == "duplicate")
        // Moved to a roster id, shown by the first spelling, once.
        let bob = fast.state.students(rules: Rules())["s-bob"]?.courses ?? []
        #expect(bob.filter { CourseName.same($0, "Course 1") } == ["Course 1"])
        if rules.contains("[[caps]]") { #expect(points.contains("(capped: LEARN at most")) }
        if rules.contains("[[badges]]") { #expect(points.contains(#""activity":"BADGE""#)) }
    }

    @Test("sheet rows read as bytes decide, write and fold what the ordinary path does", arguments: laneRules)
    func sheetsLane(rules: String) throws {
        let header = ["Timestamp", "Email Address", "Full name", "Course", "Certificate link"]
        let day1 = [
            header,
            ["9/2/2024 10:30:00", "bob@example.com", "Bob", "Course 1", "https://c.example/1"],
            ["9/2/2024 10:31:00", "B.ob+x@gmail.com", "Bob G", "Course 1", ""],
            ["9/2/2024 10:32:00", "carol@example.org", "Lee, Carol", "Course 2", ""],
            ["9/2/2024 10:33:00", "bob@example.com", "Robert", "Course 2", ""],
            ["9/3/2024 10:00:00", "bob@example.com", "Bob", "Course 6", ""],
            ["9/3/2024 10:01:00", "bob@example.com", "Bob", "course  6", ""],
            ["9/3/2024 10:02:00", "carol@example.org", "Carol", "COURSE 1", ""],
            ["9/3/2024 10:03:00", "carol@example.org", "Carol", "Course\u{A0}1", ""],
            ["9/3/2024 10:00:00", "zoe@example.org", "Zoë", "Course 1", ""],
            ["9/3/2024 10:00:00", " dan@example.org ", "Dan", "Course 1", ""],
            ["9/3/2024 10:00:00", "not an email", "Eve", "Course 1", ""],
            ["", "fay@example.org", "Fay", "Course 2", ""],
        ]
        let day2 = day1 + [
            ["9/2/2024 10:30:00", "bob@example.com", "Bob", "Course 1", "https://c.example/1"],
            ["10/1/2024 08:00:00", "bob@example.com", "Bob", "Course 3", ""],
            ["10/1/2024 08:00:00", "gus@example.org", "Gus", "Course 3", ""],
        ]
        func workbook(_ rows: [[String]]) throws -> [UInt8] {
            let path = try WorkbookOnePassTests.workbook(rows)
            defer { try? FileManager.default.removeItem(atPath: path) }
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        let files: [(String, [UInt8])] = [
            ("day1.xlsx", try workbook(day1)),
            ("day2.xlsx", try workbook(day2)),
            ("roster-2026.csv", Array("id,email,name\ns-bob,bob@example.com,Bob B.\n".utf8)),
            ("day3.xlsx", try workbook(day2 + [["12/1/2024 10:30:00", "bob@example.com", "Bob", "Course 5", ""]])),
        ]
        let config = try TallyConfig.load(contentsOf: rules, environment: [:])
        let fast = try sync(files, bytes: true, config: config)
        let simple = try sync(files, bytes: false, config: config)
        expectSame(fast, simple)
        let events = String(decoding: fast.files["events.jsonl"] ?? [], as: UTF8.self)
        #expect(events.contains(#""status":"duplicate""#))
        #expect(events.contains(#""file":"day3.xlsx""#))
    }
}
