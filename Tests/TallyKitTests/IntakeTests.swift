import Foundation
import Testing
@testable import TallyKit

/// Files into events or rejected rows, as the engine's readers see them.
final class IntakeTests {
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-\(UUID().uuidString)").path
        try FileSystem.createDirectory(directory)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func write(_ name: String, _ text: String) throws -> String {
        let path = directory + "/" + name
        try FileSystem.writeAtomically(Array(text.utf8), to: path)
        return path
    }

    static let modified = Timestamp(year: 2024, month: 9, day: 10)!

    func readTable(_ text: String, settings: TableIntake.Settings = .init()) throws -> [IntakeItem] {
        let path = try write("table.csv", text)
        var items: [IntakeItem] = []
        try TableIntake(settings: settings).read(path: path, file: "table.csv", sha256: "sha", kind: .csv,
                                                 modified: Self.modified) { items.append($0) }
        return items
    }

    func readJSON(_ text: String, policy: JSONIntake.SignaturePolicy = .init()) throws -> [IntakeItem] {
        let path = try write("payload.json", text)
        var items: [IntakeItem] = []
        try JSONIntake(policy: policy, payloads: .init(forms: ["77": "Mapped Course"]))
            .readDocument(path: path, file: "payload.json", sha256: "sha", modified: Self.modified) { items.append($0) }
        return items
    }

    @Test("a file whose dates show day-first is read day-first throughout")
    func dayFirstDetected() throws {
        let items = try readTable("Email,Course,Date\na@example.org,AI,02/09/2024\nb@example.org,AI,25/09/2024\n")
        guard case .event(let first) = items[0] else { Issue.record("expected an event"); return }
        #expect(first.at.iso8601 == "2024-09-02T00:00:00Z")
    }

    @Test("date_order configured wins over detection; unreadable dates reject their row")
    func configuredOrder() throws {
        var settings = TableIntake.Settings()
        settings.mapper.dateOrder = .dayFirst
        settings.dateOrderConfigured = true
        let items = try readTable("Email,Course,Date\na@example.org,AI,02/09/2024\nb@example.org,AI,someday\n", settings: settings)
        guard case .event(let first) = items[0] else { Issue.record("expected an event"); return }
        #expect(first.at.iso8601 == "2024-09-02T00:00:00Z")
        #expect(items[1] == .rejected(row: 3, reason: "unreadable date \"someday\" (expected ISO 8601, dd/mm/yyyy or dd.mm.yyyy)",
                                      raw: "b@example.org,AI,someday"))
    }

    @Test("a table without an email column is refused whole, naming its headers")
    func noEmailColumn() throws {
        #expect(throws: IntakeError.notATable(file: "table.csv", reason: "no email column among the headers \"Who\", \"Course\"; name it with `[[sources]] columns.email` in tally.toml")) {
            try readTable("Who,Course\nx,AI\n")
        }
    }

    @Test("points and reason without a course make a bulk award")
    func bulkAward() throws {
        let items = try readTable("Email,Points,Reason\na@example.org,15,Helped at the meetup\nb@example.org,ten,x\n")
        guard case .event(let award) = items[0] else { Issue.record("expected an event"); return }
        #expect(award.kind == .manualAward)
        #expect(award.points == 15)
        #expect(award.reason == "Helped at the meetup")
        #expect(items[1] == .rejected(row: 3, reason: "points \"ten\" is not a whole number", raw: "b@example.org,ten,x"))
    }

    @Test("a quiz source passes rows at or above the mark and fails the rest")
    func quiz() throws {
        var settings = TableIntake.Settings()
        settings.mapper.quiz = "Module 1 Quiz"
        settings.mapper.pass = 0.7
        let items = try readTable("Timestamp,Email Address,Score\n2024-09-02,a@example.org,7 / 10\n2024-09-02,b@example.org,6 / 10\n",
                                  settings: settings)
        let kinds = items.compactMap { if case .event(let e) = $0 { return e.kind } else { return nil } }
        #expect(kinds == [.quizPassed, .quizFailed])
    }

    @Test("a bare quiz score is a fraction from 0 to 1; above 1 it is refused, saying how to write it", arguments: [
        ("3 / 10", "quiz_failed"), ("7/10", "quiz_passed"), ("50%", "quiz_failed"), ("70 %", "quiz_passed"),
        ("0.5", "quiz_failed"), ("0.8", "quiz_passed"), ("1", "quiz_passed"), ("0", "quiz_failed"),
        ("3", "score \"3\" for quiz \"Module 1 Quiz\" has no maximum (3 of what? 3%?): write it as points of a maximum, such as \"8 / 10\", or as a percentage, such as \"80%\"; a bare number is read only from 0 to 1, as a fraction (0.8 is 80%)"),
        ("50", "score \"50\" for quiz \"Module 1 Quiz\" has no maximum (50 of what? 50%?): write it as points of a maximum, such as \"8 / 10\", or as a percentage, such as \"80%\"; a bare number is read only from 0 to 1, as a fraction (0.8 is 80%)"),
        ("1.5", "score \"1.5\" for quiz \"Module 1 Quiz\" has no maximum (1.5 of what? 1.5%?): write it as points of a maximum, such as \"8 / 10\", or as a percentage, such as \"80%\"; a bare number is read only from 0 to 1, as a fraction (0.8 is 80%)"),
        ("eight", "no readable score for quiz \"Module 1 Quiz\" (expected e.g. \"8 / 10\" or \"80%\")"),
    ])
    func bareScores(score: String, outcome: String) throws {
        var settings = TableIntake.Settings()
        settings.mapper.quiz = "Module 1 Quiz"
        settings.mapper.pass = 0.7
        let items = try readTable("Timestamp,Email Address,Score\n2024-09-02,a@example.org,\(score)\n", settings: settings)
        switch items.first {
        case .event(let event)?:
            #expect(event.kind.rawValue == outcome)
            #expect(event.score == score)
        case .rejected(let row, let reason, let raw)?:
            #expect(reason == outcome)
            #expect(row == 2 && raw == "2024-09-02,a@example.org,\(score)")
        case nil: Issue.record("no item")
        }
    }

    /// Events and rejections of a table, read with the byte lane on and off (they must agree).
    func readBothWays(_ text: String, settings: TableIntake.Settings = .init()) throws -> [IntakeItem] {
        let path = try write("both.csv", text)
        var results: [[IntakeItem]] = []
        for (bytes, thread) in [(true, true), (true, false), (false, false)] {
            var intake = TableIntake(settings: settings)
            intake.readsPlainRowsAsBytes = bytes
            intake.readsCSVOnAThread = thread
            intake.csvThreadFrom = 0
            var items: [IntakeItem] = []
            try intake.read(path: path, file: "both.csv", sha256: "sha", kind: .csv, modified: Self.modified) { items.append($0) }
            results.append(items)
        }
        #expect(results[0] == results[2])
        #expect(results[1] == results[2])
        return results[2]
    }

    @Test("an empty date cell takes the row's other date column, not the file's time, on every path")
    func otherDate() throws {
        let items = try readBothWays("""
            Timestamp,Email Address,Course,Completion date
            1/31/2024 14:03:04,ada@example.com,AI 1,1/30/2024
            1/31/2024 15:00:00,bob@example.com,AI 1,
            1/31/2024 15:00:00,cy@example.com,AI 1,\u{20}
            ,dan@example.com,AI 1,
            someday,eve@example.com,AI 1,

            """)
        let times = items.map { item -> String in
            switch item {
            case .event(let event): "\(event.email!.value) \(event.at.iso8601)"
            case .rejected(let row, let reason, _): "row \(row): \(reason)"
            }
        }
        #expect(times == ["ada@example.com 2024-01-30T00:00:00Z", "bob@example.com 2024-01-31T15:00:00Z",
                          "cy@example.com 2024-01-31T15:00:00Z", "dan@example.com 2024-09-10T00:00:00Z",
                          "row 6: unreadable date \"someday\" (expected ISO 8601, m/d/yyyy or dd.mm.yyyy)"])
        // The row's id is made from the time it carries, as any dated row's.
        guard case .event(let bob) = items[1] else { return }
        #expect(bob.key == Event.contentKey(kind: .courseCompleted, email: try Email(normalising: "bob@example.com"), course: "AI 1",
                                            points: nil, at: bob.at))
    }

    @Test("the date order is told from the other date column on the rows it dates, and only there")
    func otherDateOrder() throws {
        // Bob's row is dated by its Timestamp, which can only be day-first.
        let dayFirst = try readBothWays("""
            Timestamp,Email Address,Course,Completion date
            02/01/2024 14:03:04,ada@example.com,AI 1,03/01/2024
            31/01/2024 15:00:00,bob@example.com,AI 1,

            """)
        #expect(dayFirst.compactMap { if case .event(let e) = $0 { e.at.iso8601 } else { nil } }
                == ["2024-01-03T00:00:00Z", "2024-01-31T15:00:00Z"])
        // Every row has its own date: a day-first Timestamp beside it changes nothing (nor its id).
        let own = try readBothWays("""
            Timestamp,Email Address,Course,Completion date
            31/01/2024 14:03:04,ada@example.com,AI 1,03/01/2024

            """)
        guard case .event(let ada) = own.first else { Issue.record("expected an event"); return }
        #expect(ada.at.iso8601 == "2024-03-01T00:00:00Z")
    }

    @Test("rows of empty cells are skipped as blank lines are, and the rows after keep their numbers")
    func blankRows() throws {
        let items = try readBothWays("Email,Course,Completed at\r\nada@example.com,AI 1,2024-01-31\r\n,,\r\n  ,\t,\u{A0}\r\n \r\n"
                                     + "bob@example.com,AI 1,2024-02-01\r\n,,x\r\n,,\r\n")
        let rows = items.map { item -> String in
            switch item {
            case .event(let event): "\(event.source.row) \(event.email!.value)"
            case .rejected(let row, let reason, let raw): "\(row) \(reason): \(raw)"
            }
        }
        #expect(rows == ["2 ada@example.com", "6 bob@example.com", "7 no email address: ,,x"])
    }

    @Test("a roster row with one bad alias keeps its student with the valid emails; the alias is rejected on its own line")
    func rosterAlias() throws {
        let path = try write("roster.csv", "id,email,name,aliases\r\nS1,ada@example.com,Ada,\"ada@old.example; n/a\"\r\n,,,\r\n"
                                           + "S2,bob@example.com,Bob,-\r\nS3,not-an-email,Cy,cy@example.com\r\n")
        var rejected: [String] = []
        let entries = try RosterReader.read(path: path, file: "roster.csv", limits: .init()) { row, reason, raw in
            rejected.append("\(row) \(reason) | \(raw)")
        }
        #expect(entries.map(\.id) == ["S1", "S2"])
        #expect(entries.map { $0.emails.map(\.value) } == [["ada@example.com", "ada@old.example"], ["bob@example.com"]])
        #expect(rejected == [
            "2 alias \"n/a\" is not a valid email address: left out; student S1 is kept with ada@example.com, ada@old.example | S1,ada@example.com,Ada,\"ada@old.example; n/a\"",
            "4 alias \"-\" is not a valid email address: left out; student S2 is kept with bob@example.com | S2,bob@example.com,Bob,-",
            "5 \"not-an-email\" is not a valid email address | S3,not-an-email,Cy,cy@example.com",
        ])
    }

    @Test("a name that is an email address is dropped so it can never be published")
    func emailAsName() throws {
        let items = try readTable("Email,Name,Course\na@example.org,a@example.org,AI\n")
        guard case .event(let event) = items[0] else { Issue.record("expected an event"); return }
        #expect(event.name == nil)
    }

    @Test("a Kajabi form payload is a completion with its event id; a form id maps to a course")
    func formPayload() throws {
        let items = try readJSON(#"{"event_type":"form.submitted","event_id":"evt_9","created_at":"2024-09-02T10:00:00Z","data":{"form":{"id":77},"submission":{"id":"s1","fields":{"email":"A@Example.org","student_name":"Ada Lovelace"}}}}"#)
        guard case .event(let event) = items.first else { Issue.record("expected an event"); return }
        #expect(event.id == "evt_9")
        #expect(event.kind == .courseCompleted)
        #expect(event.course == "Mapped Course")
        #expect(event.email?.value == "a@example.org")
        #expect(event.name == "Ada Lovelace")
        #expect(event.at.iso8601 == "2024-09-02T10:00:00Z")
    }

    @Test("a lone payload of unknown shape fails its file, naming the shapes Tally knows")
    func unknownShape() throws {
        do {
            _ = try readJSON(#"{"hello": "world"}"#)
            Issue.record("expected a refusal")
        } catch let error as IntakeError {
            #expect(error.description.contains("unknown payload shape with keys \"hello\""))
            #expect(error.description.contains("Tally reads: Kajabi form payloads"))
        }
    }

    @Test("in an array, a bad item is rejected on its own and the others count")
    func arrayItems() throws {
        let items = try readJSON(#"[{"email":"a@example.org","course":"AI"},{"hello":1},{"email":"nope","course":"AI"}]"#)
        #expect(items.count == 3)
        #expect(items[1] == .rejected(row: 2, reason: "unknown payload shape with keys \"hello\"", raw: #"{"hello":1}"#))
        if case .rejected(let row, let reason, _) = items[2] {
            #expect(row == 3)
            #expect(reason == "\"nope\" is not a valid email address")
        } else { Issue.record("expected a rejection") }
    }

    @Test("require_signature refuses an unsigned payload and a capture without a signature")
    func requireSignature() throws {
        let policy = JSONIntake.SignaturePolicy(secret: "s3cret", required: true)
        #expect(throws: IntakeError.self) { try readJSON(#"{"email":"a@example.org","course":"AI"}"#, policy: policy) }
        #expect(throws: IntakeError.self) {
            try readJSON(#"{"headers":{},"body":"{\"email\":\"a@example.org\",\"course\":\"AI\"}"}"#, policy: policy)
        }
        let body = #"{"email":"a@example.org","course":"AI"}"#
        let signed = CapturedRequest(headers: [("X-Kajabi-Signature", CapturedRequest.sign(body: body, secret: "s3cret"))], body: body)
        let items = try readJSON(String(decoding: signed.encoded(), as: UTF8.self), policy: policy)
        #expect(items.count == 1)
    }

    @Test("JSON nested past the limit is refused with a reason")
    func deepJSON() throws {
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        do {
            _ = try readJSON(deep)
            Issue.record("expected a refusal")
        } catch let error as IntakeError {
            #expect(error.description.contains("payload.json is not valid JSON"))
            #expect(error.description.contains("nesting deeper than 64 levels"))
        }
    }
}

extension IntakeTests {
    @Test("a capture naming a site is checked with that site's secret; an unknown site is refused")
    func siteSecrets() throws {
        let policy = JSONIntake.SignaturePolicy(secret: "main", siteSecrets: ["school_1": "site-secret"], required: true)
        let body = #"{"email":"a@example.org","course":"AI"}"#
        func capture(site: String, secret: String) -> String {
            let signed = CapturedRequest(headers: [("X-Kajabi-Signature", CapturedRequest.sign(body: body, secret: secret))],
                                         body: body, site: site)
            return String(decoding: signed.encoded(), as: UTF8.self)
        }
        #expect(try readJSON(capture(site: "school_1", secret: "site-secret"), policy: policy).count == 1)
        do {
            _ = try readJSON(capture(site: "school_1", secret: "main"), policy: policy)
            Issue.record("the main secret must not sign for a site that has its own")
        } catch let error as IntakeError {
            #expect(error.description.contains("does not match"))
        }
        do {
            _ = try readJSON(capture(site: "school_9", secret: "main"), policy: policy)
            Issue.record("an unknown site must be refused")
        } catch let error as IntakeError {
            #expect(error.description.contains("which [kajabi.sites] does not list"))
        }
    }
}
