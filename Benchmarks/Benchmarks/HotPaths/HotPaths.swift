// Micro-benchmarks of the functions Tally runs once per row or once per ledger line.
//
// Every input is built once, outside the measured closures. Benchmarks of small functions run
// `scalingFactor` calls per iteration (`benchmark.scaledIterations`), so the figures marked `*`
// in the table are per call; the CSV benchmark scans a whole in-memory export per iteration.

import Benchmark
import TallyKit

// MARK: - Inputs

/// A tiny deterministic generator, so every run measures the same bytes.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

enum Inputs {
    /// As written in the CSV: one is quoted because it holds a comma.
    static let courses = [
        "Course 01: Data Literacy 101", "Course 02: Prompt Design", "Course 03: AI Foundations 1",
        "Course 04: Practical Skills for Teams", "Course 05: Responsible AI", "\"Course 06: Spreadsheets, Advanced\"",
    ]
    static let referrals = [
        "\"Newsletter, then a friend\"", "A colleague", "\"Saw it on the \"\"Learn\"\" page\"", "",
        "LinkedIn", "\"Search, then the blog\"",
    ]

    static func email(_ n: Int, _ rng: inout SplitMix64) -> String {
        let id = String(n).leftPadded(to: 6)
        switch rng.below(4) {
        case 0: return "Student.\(id)+forms@Gmail.com"
        case 1: return "student.\(id)@googlemail.com"
        case 2: return "student\(id)@northwind.example"
        default: return " Student_\(id)@Example.ORG "
        }
    }

    /// A Google Forms export: header, then rows like
    /// `11/3/2024 8:00:29,Student.000123+forms@Gmail.com,Student 000123 Lastname,Course 04: …,https://…,"Newsletter, then a friend"`,
    /// until it holds at least `bytes` bytes.
    static func googleFormsCSV(bytes: Int) -> [UInt8] {
        var rng = SplitMix64(state: 42)
        var out: [UInt8] = []
        out.reserveCapacity(bytes + 256)
        out.append(contentsOf: "Timestamp,Email Address,Full name,Which course did you complete?,Certificate link,How did you hear about us?\r\n".utf8)
        var n = 0
        while out.count < bytes {
            n += 1
            let id = String(n).leftPadded(to: 6)
            let when = "\(1 + rng.below(12))/\(1 + rng.below(28))/2024 \(rng.below(24)):\(String(rng.below(60)).leftPadded(to: 2)):\(String(rng.below(60)).leftPadded(to: 2))"
            let row = "\(when),\(email(n, &rng)),Student \(id) Lastname,\(courses[rng.below(courses.count)]),https://certs.example.org/\(id)/\(rng.below(10)),\(referrals[rng.below(referrals.count)])\r\n"
            out.append(contentsOf: row.utf8)
        }
        return out
    }

    static let emails: [String] = {
        var rng = SplitMix64(state: 7)
        return (0..<1000).map { email($0, &rng) }
    }()

    static let slashDates: [String] = {
        var rng = SplitMix64(state: 8)
        return (0..<1000).map { _ in
            "\(1 + rng.below(12))/\(1 + rng.below(28))/2024 \(rng.below(24)):\(String(rng.below(60)).leftPadded(to: 2)):\(String(rng.below(60)).leftPadded(to: 2))"
        }
    }()

    static let isoDates: [String] = {
        var rng = SplitMix64(state: 9)
        let zones = ["Z", "+02:00", ".123Z", "-05:00"]
        return (0..<1000).map { _ in
            "2024-\(String(1 + rng.below(12)).leftPadded(to: 2))-\(String(1 + rng.below(28)).leftPadded(to: 2))T\(String(rng.below(24)).leftPadded(to: 2)):\(String(rng.below(60)).leftPadded(to: 2)):\(String(rng.below(60)).leftPadded(to: 2))\(zones[rng.below(zones.count)])"
        }
    }()

    static let at = Timestamp(year: 2024, month: 11, day: 3, hour: 8, minute: 0, second: 29)!
    static let email = try! Email(normalising: "Student.000123+forms@Gmail.com")

    /// A course_completed record as the intake writes it to events.jsonl.
    static let courseCompleted: EventRecord = {
        let course = "Course 04: Practical Skills for Teams"
        let event = Event(
            id: Event.contentID(kind: .courseCompleted, email: email, course: course, points: nil, at: at),
            kind: .courseCompleted, email: email, name: "Student 000123 Lastname", course: course, at: at,
            source: EventSource(file: "google-forms-completions-2024-11-03.csv",
                                sha256: Crypto.sha256Hex(Array("the export's bytes".utf8)), row: 124),
            certificate: "https://certs.example.org/000123/5")
        return EventRecord(seq: 48_213, event: event, student: email.value, status: .applied)
    }()

    /// The points a completion awards, as written to points.jsonl.
    static let completionPoints = PointsRecord(
        seq: 90_127, at: at, student: email.value, points: 20, activity: "LEARN", event: courseCompleted.event.id,
        reason: "completed Course 04: Practical Skills for Teams", course: "Course 04: Practical Skills for Teams",
        prev: Crypto.sha256Hex(Array("the previous line".utf8)))

    /// A 400-byte ledger-like line, the size Tally hashes when it chains ledger lines.
    static let line400: [UInt8] = {
        var line = courseCompleted.encoded()
        while line.count < 400 { line.append(UInt8(ascii: " ")) }
        return Array(line.prefix(400))
    }()

    /// Stops the run if an input would send a benchmark down an error path instead of the
    /// path it is meant to measure (say, after a parser starts refusing one of these forms).
    static func check(csv: [UInt8]) {
        // `fatalError`, not `precondition`: a release build keeps its message.
        func require(_ ok: Bool, _ message: @autoclosure () -> String) {
            if !ok { fatalError("benchmark input: \(message())") }
        }
        require(emails.allSatisfy { (try? Email(normalising: $0)) != nil }, "an email input is refused")
        require(slashDates.allSatisfy { DateParser.parse($0, order: .monthFirst) != nil }, "a slash date is refused")
        require(isoDates.allSatisfy { DateParser.parse($0) != nil }, "an ISO 8601 date is refused")
        require((try? JSONParser.parse(courseCompleted.encoded())) != nil, "the events.jsonl line is refused")
        var bad: String?
        try? CSVReader(bytes: csv).forEachRecord { record in
            if record.rejection != nil || record.count != 6 {
                bad = "record \(record.number) (\(record.count) fields, \(record.rejection ?? "not rejected")): \(record.raw)"
            }
            return bad == nil
        }
        require(bad == nil, "a CSV row does not read as 6 fields: \(bad ?? "")")
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

// MARK: - Benchmarks

let benchmarks: @Sendable () -> Void = {
    let perCall: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]

    // CSV: one iteration reads a 4 MiB export from memory, touching every field's bytes as the
    // intake does. `bytesPerSecond` is the scan rate, timed around the read inside the iteration.
    let csv = Inputs.googleFormsCSV(bytes: 4 << 20)
    Inputs.check(csv: csv)
    let bytesPerSecond = BenchmarkMetric.custom("bytes/s (CSV scan)", polarity: .prefersLarger)
    Benchmark("CSVReader scan, 4 MiB Google Forms export",
              configuration: .init(metrics: perCall + [bytesPerSecond], warmupIterations: 2,
                                   maxDuration: .seconds(3), maxIterations: 200)) { benchmark in
        let clock = ContinuousClock()
        let start = clock.now
        let reader = CSVReader(bytes: csv)
        var records = 0, fieldBytes = 0
        do {
            try reader.forEachRecord { record in
                records += 1
                for index in 0..<record.count {
                    fieldBytes &+= record.withBytes(at: index) { $0.count }
                }
                return true
            }
        } catch {
            benchmark.error("CSV read failed: \(error)")
        }
        let elapsed = clock.now - start
        blackHole(records)
        blackHole(fieldBytes)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if seconds > 0 { benchmark.measurement(bytesPerSecond, Int(Double(csv.count) / seconds)) }
    }

    let emails = Inputs.emails
    Benchmark("Email(normalising:), mixed plain and gmail",
              configuration: .init(metrics: perCall, scalingFactor: .kilo)) { benchmark in
        for i in benchmark.scaledIterations {
            blackHole(try? Email(normalising: emails[i % emails.count]))
        }
    }

    let slashDates = Inputs.slashDates
    Benchmark("DateParser.parse, \"11/3/2024 8:00:29\"",
              configuration: .init(metrics: perCall, scalingFactor: .kilo)) { benchmark in
        for i in benchmark.scaledIterations {
            blackHole(DateParser.parse(slashDates[i % slashDates.count], order: .monthFirst))
        }
    }

    let isoDates = Inputs.isoDates
    Benchmark("DateParser.parse, ISO 8601",
              configuration: .init(metrics: perCall, scalingFactor: .kilo)) { benchmark in
        for i in benchmark.scaledIterations {
            blackHole(DateParser.parse(isoDates[i % isoDates.count]))
        }
    }

    let email = Inputs.email, at = Inputs.at
    Benchmark("Event.contentID, course_completed",
              configuration: .init(metrics: perCall, scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Event.contentID(kind: .courseCompleted, email: email,
                                      course: "Course 04: Practical Skills for Teams", points: nil, at: at))
        }
    }

    let record = Inputs.courseCompleted
    Benchmark("EventRecord.encoded(), course_completed",
              configuration: .init(metrics: perCall, scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(record.encoded())
        }
    }

    let points = Inputs.completionPoints
    Benchmark("PointsRecord.encoded(), completion award",
              configuration: .init(metrics: perCall, scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(points.encoded())
        }
    }

    let line = record.encoded()
    Benchmark("JSONParser.parse, events.jsonl line (\(line.count) B)",
              configuration: .init(metrics: perCall, scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try? JSONParser.parse(line))
        }
    }

    let line400 = Inputs.line400
    Benchmark("Crypto.sha256Hex, 400-byte line",
              configuration: .init(metrics: perCall, scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Crypto.sha256Hex(line400))
        }
    }
}
