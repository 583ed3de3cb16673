/// The figures of `tally stats`, `data/metrics.prom` and the site's stats page: what the
/// ledgers say, counted. Like `state.json` they are derived: kept in `data/stats.json` with
/// the ledger positions they reflect, brought forward over the lines after those, and made
/// again from the ledgers when the file is missing or does not fit them.
public struct LedgerStats: Equatable, Sendable {
    public static let format = 1

    /// How the new events of one kind were decided (a line that re-states an event moving to
    /// another student is a move, not a decision).
    public struct Decisions: Equatable, Sendable {
        public var applied = 0
        public var duplicate = 0
        public var unmatched = 0
        public var total: Int { applied + duplicate + unmatched }
    }

    /// Milliseconds, summed: how long files took to read and score.
    public struct Timing: Equatable, Sendable {
        public var count = 0
        public var totalMilliseconds = 0
        public var maxMilliseconds = 0

        mutating func add(_ milliseconds: Int) {
            count += 1
            totalMilliseconds += milliseconds
            maxMilliseconds = max(maxMilliseconds, milliseconds)
        }
    }

    public var decisions: [EventKind: Decisions] = [:]
    public var moves = 0
    public var rejectedRows = 0
    public var filesDone = 0
    public var filesFailed = 0
    public var filesSkipped = 0
    public var rosters = 0
    public var pointsAwarded = 0
    public var pointsRevoked = 0
    /// Per file taken (done or roster): reading and scoring it.
    public var processing = Timing()
    /// The ledger ends these figures reflect.
    public var positions = State.Positions()

    public init() {}

    // MARK: Derived figures

    /// Decisions on events that belong to a person (completions, quizzes, forms, awards).
    public var personal: Decisions {
        decisions.filter { $0.key.isPersonal }.values.reduce(into: Decisions()) {
            $0.applied += $1.applied
            $0.duplicate += $1.duplicate
            $0.unmatched += $1.unmatched
        }
    }

    /// Share of personal events that found their student when they arrived (applied or a
    /// duplicate of what the student had), rather than waiting unmatched. Nil before any.
    public var matchedRate: Double? {
        let all = personal
        return all.total == 0 ? nil : Double(all.applied + all.duplicate) / Double(all.total)
    }

    /// Share of personal events that repeated one already counted.
    public var duplicateRate: Double? {
        let all = personal
        return all.total == 0 ? nil : Double(all.duplicate) / Double(all.total)
    }

    // MARK: Counting

    /// Counts what one decision wrote: its event lines and its points lines.
    mutating func count(_ outcome: Outcome) {
        for line in outcome.events {
            count(kind: line.event.kind, status: line.status, rehomed: line.rehomed)
        }
        for line in outcome.points { count(points: line.points) }
    }

    mutating func count(kind: EventKind, status: EventStatus, rehomed: Bool) {
        if rehomed {
            moves += 1
            return
        }
        switch status {
        case .applied: decisions[kind, default: Decisions()].applied += 1
        case .duplicate: decisions[kind, default: Decisions()].duplicate += 1
        case .unmatched: decisions[kind, default: Decisions()].unmatched += 1
        }
    }

    mutating func count(points: Int) {
        if points > 0 { pointsAwarded += points } else { pointsRevoked -= points }
    }

    /// Counts the course completions of the byte lane (see `Engine.decidePlain`) a file at a
    /// time, as `count(kind:status:rehomed:)` and `count(points:)` would one by one: a
    /// dictionary update per row was a hash of the kind's name.
    mutating func count(plain: PlainCounts) {
        guard plain.applied + plain.duplicate > 0 else { return }
        decisions[.courseCompleted, default: Decisions()].applied += plain.applied
        decisions[.courseCompleted, default: Decisions()].duplicate += plain.duplicate
        pointsAwarded += plain.points
    }

    /// Counts a file's audit line: `file_done`, `file_failed`, `file_skipped`, `roster_loaded`.
    mutating func count(fileAction action: String, milliseconds: Int?) {
        switch action {
        case "file_done": filesDone += 1
        case "roster_loaded": rosters += 1
        case "file_failed": filesFailed += 1
        case "file_skipped": filesSkipped += 1
        default: return
        }
        if let milliseconds, action == "file_done" || action == "roster_loaded" { processing.add(milliseconds) }
    }

    // MARK: From the ledgers

    /// Folds the ledger lines after `positions` (all of them from a fresh value), then takes
    /// the ledgers' ends as its positions.
    public mutating func roll(forwardFrom ledger: Ledger) throws {
        let start = positions
        try ledger.events.forEachLine(from: start.events.bytes) { line, _ in
            let json = try JSONParser.parse(line)
            guard let kind = json["kind"]?.string.flatMap(EventKind.init(rawValue:)),
                  let status = json["status"]?.string.flatMap(EventStatus.init(rawValue:)) else { return }
            count(kind: kind, status: status, rehomed: json["rehomed"]?.bool ?? false)
        }
        try ledger.points.forEachLine(from: start.points.bytes) { line, _ in
            if let points = try JSONParser.parse(line)["points"]?.int { count(points: points) }
        }
        try ledger.rejected.forEachLine(from: start.rejected.bytes) { _, _ in rejectedRows += 1 }
        try ledger.audit.forEachLine(from: start.audit.bytes) { line, _ in
            let json = try JSONParser.parse(line)
            if let action = json["action"]?.string { count(fileAction: action, milliseconds: json["detail"]?["ms"]?.int) }
        }
        positions = Replay.positions(of: ledger)
    }

    /// The figures for `ledger`: `saved` (the last `stats.json`) when it fits the ledgers,
    /// brought forward when it is behind them, else counted afresh.
    public static func current(saved: LedgerStats?, ledger: Ledger) throws -> LedgerStats {
        let ends = Replay.positions(of: ledger)
        if var stats = saved {
            if stats.positions == ends { return stats }
            let at = stats.positions
            if at.events.bytes <= ends.events.bytes && at.points.bytes <= ends.points.bytes
                && at.rejected.bytes <= ends.rejected.bytes && at.audit.bytes <= ends.audit.bytes {
                try stats.roll(forwardFrom: ledger)
                return stats
            }
        }
        var fresh = LedgerStats()
        try fresh.roll(forwardFrom: ledger)
        return fresh
    }
}

/// What the byte lane decided in one file, counted as it goes (see `LedgerStats.count(plain:)`).
struct PlainCounts {
    var applied = 0
    var duplicate = 0
    /// Points awarded: the lane's awards are never negative.
    var points = 0
}
