/// `tally verify`: reads every ledger line and checks what Tally promises of them.
///
/// Each line parses and carries the next sequence number; each `points.jsonl` and
/// `audit.jsonl` line names the SHA-256 of the line before it, so an edited or removed line
/// breaks the chain at the next one; every ledger is at least as long as the last commit
/// says; and `state.json` equals the fold of the ledgers. It changes nothing.
public struct Verifier {
    public struct Result: Sendable {
        public var summary: [String] = []
        public var problems: [String] = []
    }

    let settings: EngineSettings

    public init(settings: EngineSettings) { self.settings = settings }

    public func run() throws -> Result {
        var result = Result()
        let data = settings.paths.data
        guard FileSystem.isDirectory(data) else {
            result.problems.append("\(data) does not exist: nothing to verify")
            return result
        }
        let names = ["events", "points", "unmatched", "rejected", "audit"]
        var sizes: [String: Int] = [:]
        for name in names {
            let path = data + "/\(name).jsonl"
            guard FileSystem.exists(path) else {
                sizes[name] = 0
                continue
            }
            let file = try LedgerFile(path: path, chained: name == "points" || name == "audit")
            sizes[name] = file.size
            let (lines, problems) = try check(file, name: name)
            result.problems += problems
            result.summary.append("\(name).jsonl: \(lines) lines" + (file.isChained ? ", hash chain checked" : ""))
        }
        // Commits: every ledger at least as long as the last commit says.
        let auditPath = data + "/audit.jsonl"
        if FileSystem.exists(auditPath) {
            let ledger = try Ledger(directory: data)
            if let commit = try ledger.lastCommit() {
                for (name, length) in commit.lengths.sorted(by: { $0.key < $1.key }) where (sizes[name] ?? 0) < length {
                    result.problems.append("\(name).jsonl is \(sizes[name] ?? 0) bytes but the last commit recorded \(length): lines were cut")
                }
            }
            if result.problems.isEmpty { try compareSnapshot(ledger, into: &result) }
        }
        if result.problems.isEmpty { result.summary.append("ok") }
        return result
    }

    private func check(_ file: LedgerFile, name: String) throws -> (Int, [String]) {
        var problems: [String] = []
        var expectedSeq = 1
        var previousHash = LedgerFile.genesis
        var count = 0
        try file.forEachLine { line, _ in
            count += 1
            guard problems.count < 20 else { return }
            let json: JSONValue
            do { json = try JSONParser.parse(line) } catch {
                problems.append("\(name).jsonl line \(count) is not valid JSON: \(error)")
                return
            }
            let seq = json["seq"]?.int
            if seq != expectedSeq {
                problems.append("\(name).jsonl line \(count) has seq \(seq.map(String.init) ?? "none"), expected \(expectedSeq): a line was removed or inserted")
            }
            expectedSeq = (seq ?? expectedSeq) + 1
            if file.isChained {
                if json["prev"]?.string != previousHash {
                    problems.append("\(name).jsonl line \(count) (seq \(seq.map(String.init) ?? "?")): its prev hash does not match the line before it: that line was edited or removed")
                }
                previousHash = Crypto.sha256Hex(UnsafeRawBufferPointer(line))
            }
        }
        if file.completeLength < file.size {
            problems.append("\(name).jsonl ends with a torn line (\(file.size - file.completeLength) bytes without a newline): an interrupted write, which the next sync cuts")
        }
        return (count, problems)
    }

    private func compareSnapshot(_ ledger: Ledger, into result: inout Result) throws {
        let path = settings.paths.state
        guard FileSystem.exists(path) else {
            result.problems.append("state.json is missing; run `tally rebuild`")
            return
        }
        let snapshot: State
        do { snapshot = try Snapshot.decode(try FileSystem.readFile(path, limit: Int.max)) } catch {
            result.problems.append("state.json cannot be read: \(error); run `tally rebuild`")
            return
        }
        let rebuilt = try Replay.rebuild(from: ledger)
        var current = snapshot
        if snapshot.positions != rebuilt.positions {
            let at = snapshot.positions, ends = rebuilt.positions
            guard at.events.bytes <= ends.events.bytes, at.points.bytes <= ends.points.bytes, at.audit.bytes <= ends.audit.bytes else {
                result.problems.append("state.json reflects ledger lines that are not there (it is ahead of the ledgers): the ledgers were cut; run `tally rebuild` once the cause is known")
                return
            }
            try Replay.roll(&current, forwardFrom: ledger)
            result.summary.append("state.json reflects an earlier commit; checked it brought forward, as the next run will")
        }
        let rules = settings.rules
        let mine = current.students(rules: rules), theirs = rebuilt.students(rules: rules)
        var differences: [String] = []
        for id in Set(mine.keys).union(theirs.keys).sorted() where mine[id] != theirs[id] {
            let a = mine[id].map { "\($0.xp) xp, courses \($0.courses)" } ?? "absent"
            let b = theirs[id].map { "\($0.xp) xp, courses \($0.courses)" } ?? "absent"
            differences.append("student \(id): state.json says \(a), the ledgers say \(b)")
        }
        if differences.isEmpty && Snapshot.encode(current, rules: rules) != Snapshot.encode(rebuilt, rules: rules) {
            differences.append("state.json's index differs from the fold of the ledgers")
        }
        if differences.isEmpty {
            result.summary.append("state.json matches the ledgers")
        } else {
            result.problems += differences.prefix(20).map { $0 + "; run `tally rebuild` once the cause is known" }
        }
    }
}
