import Foundation

/// `data/stats.json` (the figures and the positions they reflect) and `data/metrics.prom`
/// (the same figures in Prometheus's text format, for node_exporter's textfile collector).
extension LedgerStats {
    // MARK: stats.json

    public func encodedJSON(students: Int? = nil, generatedAt: Timestamp? = nil) -> [UInt8] {
        var w = JSONWriter(capacity: 2048)
        w.beginObject()
        w.field("format", LedgerStats.format)
        if let generatedAt { w.field("generated_at", generatedAt.iso8601) }
        if let students { w.field("students", students) }
        w.key("events")
        w.beginObject()
        for kind in EventKind.allCases {
            guard let counts = decisions[kind] else { continue }
            w.key(kind.rawValue)
            w.beginObject()
            w.field("applied", counts.applied)
            w.field("duplicate", counts.duplicate)
            w.field("unmatched", counts.unmatched)
            w.endObject()
        }
        w.endObject()
        w.field("moves", moves)
        w.field("rejected_rows", rejectedRows)
        w.key("files")
        w.beginObject()
        w.field("done", filesDone)
        w.field("failed", filesFailed)
        w.field("skipped", filesSkipped)
        w.field("rosters", rosters)
        w.endObject()
        w.field("points_awarded", pointsAwarded)
        w.field("points_revoked", pointsRevoked)
        if let rate = matchedRate { w.field("matched_rate", .number(Self.decimal(rate))) }
        if let rate = duplicateRate { w.field("duplicate_rate", .number(Self.decimal(rate))) }
        w.key("processing_ms")
        w.beginObject()
        w.field("files", processing.count)
        w.field("total", processing.totalMilliseconds)
        w.field("max", processing.maxMilliseconds)
        if processing.count > 0 { w.field("mean", processing.totalMilliseconds / processing.count) }
        w.endObject()
        Snapshot.encodePositions(positions, &w)
        w.endObject()
        w.bytes.append(0x0A)
        return w.bytes
    }

    /// The figures of a `stats.json`; nil when it is not one this Tally wrote.
    public init?(json: JSONValue) {
        guard json["format"]?.int == LedgerStats.format else { return nil }
        self.init()
        for (name, value) in json["events"]?.object.map({ Array(zip($0.keys, $0.values)) }) ?? [] {
            guard let kind = EventKind(rawValue: name) else { return nil }
            decisions[kind] = Decisions(applied: value["applied"]?.int ?? 0, duplicate: value["duplicate"]?.int ?? 0,
                                        unmatched: value["unmatched"]?.int ?? 0)
        }
        moves = json["moves"]?.int ?? 0
        rejectedRows = json["rejected_rows"]?.int ?? 0
        filesDone = json["files"]?["done"]?.int ?? 0
        filesFailed = json["files"]?["failed"]?.int ?? 0
        filesSkipped = json["files"]?["skipped"]?.int ?? 0
        rosters = json["files"]?["rosters"]?.int ?? 0
        pointsAwarded = json["points_awarded"]?.int ?? 0
        pointsRevoked = json["points_revoked"]?.int ?? 0
        processing = Timing(count: json["processing_ms"]?["files"]?.int ?? 0,
                            totalMilliseconds: json["processing_ms"]?["total"]?.int ?? 0,
                            maxMilliseconds: json["processing_ms"]?["max"]?.int ?? 0)
        // Every ledger's mark, or none: counts without their positions could be counted twice.
        for (name, _) in positions.named {
            guard let mark = json["positions"]?[name], let seq = mark["seq"]?.int, let bytes = mark["bytes"]?.int else { return nil }
            positions[name] = State.Positions.Mark(seq: seq, bytes: bytes)
        }
    }

    /// Reads `stats.json`; nil when it is missing, damaged or of another format.
    public static func load(path: String) -> LedgerStats? {
        guard let bytes = try? FileSystem.readFile(path, limit: 1 << 20), let json = try? JSONParser.parse(bytes) else { return nil }
        return LedgerStats(json: json)
    }

    // MARK: metrics.prom

    /// The figures in Prometheus's text exposition format. `students` and `at` (the batch's
    /// time) are gauges of the moment.
    public func prometheus(students: Int, at: Timestamp) -> [UInt8] {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        family("tally_events_total", "counter", "New events by kind and how they were decided (moves not included).")
        for kind in EventKind.allCases {
            guard let counts = decisions[kind] else { continue }
            for (status, count) in [("applied", counts.applied), ("duplicate", counts.duplicate), ("unmatched", counts.unmatched)] {
                out += "tally_events_total{kind=\"\(kind.rawValue)\",status=\"\(status)\"} \(count)\n"
            }
        }
        family("tally_event_moves_total", "counter", "Event lines re-stating an event that moved to another student (a roster, a link).")
        out += "tally_event_moves_total \(moves)\n"
        family("tally_rejected_rows_total", "counter", "Rows and payloads rejected with a reason (rejected.jsonl).")
        out += "tally_rejected_rows_total \(rejectedRows)\n"
        family("tally_files_total", "counter", "Files taken from the inbox, by outcome.")
        for (outcome, count) in [("done", filesDone), ("failed", filesFailed), ("skipped", filesSkipped), ("roster", rosters)] {
            out += "tally_files_total{outcome=\"\(outcome)\"} \(count)\n"
        }
        family("tally_points_awarded_total", "counter", "Points awarded.")
        out += "tally_points_awarded_total \(pointsAwarded)\n"
        family("tally_points_revoked_total", "counter", "Points taken back (moves, corrections).")
        out += "tally_points_revoked_total \(pointsRevoked)\n"
        family("tally_file_processing_seconds", "summary", "Time to read and score a file.")
        out += "tally_file_processing_seconds_sum \(Self.decimal(Double(processing.totalMilliseconds) / 1000))\n"
        out += "tally_file_processing_seconds_count \(processing.count)\n"
        family("tally_file_processing_seconds_max", "gauge", "The longest a file took to read and score.")
        out += "tally_file_processing_seconds_max \(Self.decimal(Double(processing.maxMilliseconds) / 1000))\n"
        family("tally_students", "gauge", "Students on the board.")
        out += "tally_students \(students)\n"
        family("tally_ledger_lines", "gauge", "Lines in each ledger.")
        for (name, mark) in positions.named { out += "tally_ledger_lines{ledger=\"\(name)\"} \(mark.seq)\n" }
        family("tally_last_batch_timestamp_seconds", "gauge", "When the last batch was committed (Unix time).")
        out += "tally_last_batch_timestamp_seconds \(Self.decimal(Double(at.milliseconds) / 1000))\n"
        return Array(out.utf8)
    }

    /// A number as Prometheus and JSON read it, with at most four decimals.
    static func decimal(_ value: Double) -> String {
        let rounded = (value * 10_000).rounded() / 10_000
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        return String(format: "%.4f", rounded).replacingOccurrences(of: #"0+$"#, with: "", options: .regularExpression)
    }
}
