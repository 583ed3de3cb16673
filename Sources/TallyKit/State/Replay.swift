/// Folds ledger lines back into a `State`: all of them for `tally rebuild`, or only those
/// after a snapshot's positions when a run stopped between a commit and its snapshot.
public enum Replay {
    /// Folds the lines of every ledger that lie after `state.positions`, then sets the
    /// positions to the ledgers' ends.
    public static func roll(_ state: inout State, forwardFrom ledger: Ledger) throws {
        let start = state.positions
        try fold(ledger.events, from: start.events.bytes) { json, offset in state.apply(try EventRecord(json: json), offset: offset) }
        try fold(ledger.points, from: start.points.bytes) { json, _ in state.apply(try PointsRecord(json: json)) }
        try fold(ledger.audit, from: start.audit.bytes) { json, _ in
            if json["action"]?.string == "file_done" || json["action"]?.string == "roster_loaded",
               let sha = json["sha256"]?.string {
                state.markProcessed(sha256: sha)
                if let key = json["detail"]?["message"]?.string { state.markProcessed(sha256: key) }
            }
        }
        state.positions = positions(of: ledger)
    }

    /// The state the ledgers alone describe.
    public static func rebuild(from ledger: Ledger) throws -> State {
        var state = State()
        try roll(&state, forwardFrom: ledger)
        return state
    }

    /// The ledgers' ends, as a snapshot records them.
    public static func positions(of ledger: Ledger) -> State.Positions {
        func mark(_ file: LedgerFile) -> State.Positions.Mark { .init(seq: file.lastSeq, bytes: file.size) }
        return State.Positions(events: mark(ledger.events), points: mark(ledger.points),
                               unmatched: mark(ledger.unmatched), rejected: mark(ledger.rejected), audit: mark(ledger.audit))
    }

    /// Parses each line after `offset`; `body` gets it and the byte offset where it starts.
    private static func fold(_ file: LedgerFile, from offset: Int, _ body: (JSONValue, Int) throws -> Void) throws {
        let name = FileSystem.split(file.path).name
        var lineNumber = 0
        try file.forEachLine(from: offset) { line, end in
            lineNumber += 1
            let json: JSONValue
            do { json = try JSONParser.parse(line) } catch {
                throw RecordError("\(name): a line after byte \(offset) is not valid JSON (\(error)); run `tally verify`")
            }
            do { try body(json, end - line.count - 1) } catch {
                throw RecordError("\(name): line with seq \(json["seq"]?.text ?? "?") cannot be read back: \(error)")
            }
        }
    }
}
