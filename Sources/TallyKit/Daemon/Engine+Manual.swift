/// The manual commands: `tally award` and `tally link`. Each is a batch of its own — one
/// event scored, one commit, one snapshot, one render — through the same core as a file.
extension Engine {
    /// `tally award`: adds `points` (negative to correct) to the owner of `email`.
    public func award(email: Email, points: Int, reason: String) throws -> Outcome {
        let now = Timestamp.now()
        let id = "award-" + String(Crypto.sha256Hex("\(email.value)\u{1f}\(points)\u{1f}\(reason)\u{1f}\(now.milliseconds)".utf8).prefix(24))
        let event = Event(id: id, kind: .manualAward, email: email, at: now,
                          source: EventSource(file: "tally award", sha256: "", row: 0), points: points, reason: reason)
        return try manual(event, action: "award")
    }

    /// `tally link`: binds `email` to `student` and re-homes the email's events.
    public func link(email: Email, to student: String) throws -> Outcome {
        let known = state.isRosterMode(settings.rules) ? state.roster[student] != nil
            : state.students(rules: settings.rules)[student] != nil
        guard known else { throw EngineError.unknownStudent(student, rosterMode: state.isRosterMode(settings.rules)) }
        let now = Timestamp.now()
        let id = "link-" + String(Crypto.sha256Hex("\(email.value)\u{1f}\(student)\u{1f}\(now.milliseconds)".utf8).prefix(24))
        let event = Event(id: id, kind: .link, email: email, at: now, source: EventSource(file: "tally link", sha256: "", row: 0),
                          student: student)
        return try manual(event, action: "link")
    }

    private func manual(_ event: Event, action: String) throws -> Outcome {
        var outcome = Outcome()
        placeLines()
        try Scoring.apply(event, to: &state, rules: settings.rules, into: &outcome, lines: ledger)
        state.place(outcome.events, at: try ledger.append(outcome))
        stats.count(outcome)
        ledger.append(AuditRecord(at: event.at, action: action, detail: .object(JSONObject([
            ("event", .string(event.id)), ("email", .string(event.email?.value ?? "")),
            // Whom it went to (an award names only the email; null while unmatched).
            ("student", (outcome.events.first?.student ?? event.student).map(JSONValue.string) ?? .null),
            ("points", event.points.map { .number(String($0)) } ?? .null),
            ("reason", event.reason.map(JSONValue.string) ?? .null)]))))
        try ledger.commit(at: .now())
        try writeSnapshot()
        siteError = renderAfterCommit()
        return outcome
    }

}

/// Errors of the manual commands.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    case unknownStudent(String, rosterMode: Bool)

    public var description: String {
        switch self {
        case let .unknownStudent(student, rosterMode):
            return rosterMode ? "no student \"\(student)\" on the roster; link to a roster id"
                : "no student \"\(student)\"; link to an existing student id (an email already in state.json)"
        }
    }
}
