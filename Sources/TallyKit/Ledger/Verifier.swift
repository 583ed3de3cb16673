/// `tally verify`: reads every ledger line and checks what Tally promises of them.
///
/// Each line parses and carries the next sequence number; each `points.jsonl` and
/// `audit.jsonl` line names the SHA-256 of the line before it, so an edited or removed line
/// breaks the chain at the next one; every ledger is at least as long as the last commit
/// says; the line of `points.jsonl` that ends where the last commit says is the one whose
/// hash it recorded (the chain head), which covers the last line, which no later line
/// chains to; and `state.json` equals the fold of the ledgers (while they are empty, as a
/// sync of an empty inbox leaves them, there need be none). It changes nothing.
///
/// What it cannot see: the newest commit line is itself the last line of `audit.jsonl`, so
/// nothing in `data/` protects it. Whoever edits it to fit (lengths and head) can edit or
/// cut the last points lines; whoever cuts whole batches off the end of every ledger,
/// `audit.jsonl` included, leaves an older commit that holds; and `events.jsonl`,
/// `unmatched.jsonl` and `rejected.jsonl` are not chained, so an edit there that keeps its
/// line valid shows only when it changes the fold. A copy of the last commit line kept
/// outside `data/` is the anchor for those.
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
        // The last commit first: the points line it names is found in the one pass over the file.
        let auditPath = data + "/audit.jsonl"
        let commit = FileSystem.exists(auditPath)
            ? try Ledger.lastCommit(in: LedgerFile(path: auditPath, chained: true)) : nil
        // How long audit.jsonl was at the commit state.json reflects: a torn end short of it
        // lost a commit that made files durable and archived them.
        let snapshotAudit = (try? Snapshot.statePositions(at: settings.paths.state))?.audit.bytes
        let names = ["events", "points", "unmatched", "rejected", "audit"]
        var sizes: [String: Int] = [:]
        var pointsHead: LineAtEnd?
        for name in names {
            let path = data + "/\(name).jsonl"
            guard FileSystem.exists(path) else {
                sizes[name] = 0
                continue
            }
            let file = try LedgerFile(path: path, chained: name == "points" || name == "audit")
            sizes[name] = file.size
            let headEnd = name == "points" && commit?.heads["points"] != nil ? commit?.lengths["points"] : nil
            let committed = name == "audit" ? snapshotAudit : commit?.lengths[name]
            let (lines, problems, atEnd) = try check(file, name: name, endingAt: headEnd, committed: committed)
            if name == "points" { pointsHead = atEnd }
            result.problems += problems
            result.summary.append("\(name).jsonl: \(lines) lines" + (file.isChained ? ", hash chain checked" : ""))
        }
        // Commits: every ledger at least as long as the last commit says, and its points head there.
        if let commit {
            var cut = false
            for (name, length) in commit.lengths.sorted(by: { $0.key < $1.key }) where (sizes[name] ?? 0) < length {
                result.problems.append("\(name).jsonl is \(sizes[name] ?? 0) bytes but the last commit recorded \(length): lines were cut")
                cut = true
            }
            // A commit of a Tally before heads names none: nothing to hold the last line to.
            if !cut, let head = commit.heads["points"], let problem = Self.headProblem(head, at: commit.lengths["points"] ?? 0, found: pointsHead) {
                result.problems.append(problem)
            }
        }
        if FileSystem.exists(auditPath), result.problems.isEmpty {
            try compareSnapshot(try Ledger(directory: data), isEmpty: sizes.values.allSatisfy { $0 == 0 }, into: &result)
        }
        if result.problems.isEmpty { result.summary.append("ok") }
        return result
    }

    /// The line of a chained ledger that ends at a given byte offset: its number, its seq and
    /// its hash (the `prev` the line after it carries).
    struct LineAtEnd {
        var number: Int
        var seq: Int?
        var hash: String
    }

    /// What is wrong with `points.jsonl` when its line that ends at `length` (`found`) is not
    /// the chain head `head` that the last commit recorded; nil when it is.
    static func headProblem(_ head: String, at length: Int, found: LineAtEnd?) -> String? {
        if length == 0 {
            return head == LedgerFile.genesis ? nil
                : "the last commit recorded points.jsonl as empty yet names a last line: audit.jsonl's last line was edited"
        }
        guard let found else {
            return "points.jsonl has no line that ends at byte \(length), where the last commit says its lines end: a line was edited"
        }
        guard found.hash != head else { return nil }
        return "points.jsonl's line \(found.number) (seq \(found.seq.map(String.init) ?? "?")) is not the line the last commit recorded: it was edited, or lines were cut and the commit edited"
    }

    /// Checks every line of `file`; returns how many there are, the problems found, and the
    /// line that ends at byte `endingAt` (nil when none does, or none is asked).
    private func check(_ file: LedgerFile, name: String, endingAt: Int? = nil, committed: Int? = nil) throws -> (Int, [String], LineAtEnd?) {
        var problems: [String] = []
        var expectedSeq = 1
        var previousHash = LedgerFile.genesis
        var count = 0
        var atEnd: LineAtEnd?
        try file.forEachLine { line, end in
            count += 1
            if end == endingAt {   // hashed here, whatever else is wrong with it
                atEnd = LineAtEnd(number: count, seq: (try? JSONParser.parse(line))?["seq"]?.int,
                                  hash: Crypto.sha256Hex(UnsafeRawBufferPointer(line)))
            }
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
            let torn = "\(name).jsonl ends with a torn line (\(file.size - file.completeLength) bytes without a newline)"
            // Past the last commit it is an interrupted write; within it, committed bytes are gone.
            problems.append(torn + (file.completeLength < committed ?? 0
                ? ": committed bytes are missing, so it was cut outside Tally; restore it from a backup"
                : ": an interrupted write, which the next sync cuts"))
        }
        return (count, problems, atEnd)
    }

    /// Whether `listed` names the courses of `folded` in its order once each spellings of
    /// one course (`CourseName`) are taken as one, the first in its place.
    static func sameCourses(_ listed: [String], _ folded: [String]) -> Bool {
        var keys: [String] = []
        for course in listed {
            let key = CourseName.key(course)
            if !keys.contains(key) { keys.append(key) }
        }
        return keys == folded.map(CourseName.key)
    }

    /// The fields in which two students differ, as each side has them ("absent" for none).
    static func difference(_ a: StudentState?, _ b: StudentState?) -> (String, String) {
        guard let a, let b else { return (a == nil ? "absent" : "present", b == nil ? "absent" : "present") }
        var left: [String] = [], right: [String] = []
        func field<T: Equatable>(_ name: String, _ x: T, _ y: T) {
            guard x != y else { return }
            left.append("\(name) \(x)")
            right.append("\(name) \(y)")
        }
        field("xp", a.xp, b.xp)
        field("courses", a.courses, b.courses)
        field("badges", a.badges, b.badges)
        field("unlocks", a.unlocks, b.unlocks)
        field("level", a.level ?? "none", b.level ?? "none")
        field("name", a.name ?? "none", b.name ?? "none")
        field("public", a.isPublic, b.isPublic)
        field("reached_at", a.reachedAt, b.reachedAt)
        field("months", a.months.map { "\($0.month): \($0.points)" }, b.months.map { "\($0.month): \($0.points)" })
        return (left.joined(separator: ", "), right.joined(separator: ", "))
    }

    /// Compares `state.json` and `index.bin` with the fold of the ledgers. `isEmpty`: the
    /// ledgers hold no byte at all, as in a folder where nothing was ever recorded.
    private func compareSnapshot(_ ledger: Ledger, isEmpty: Bool, into result: inout Result) throws {
        let rebuilt = try Replay.rebuild(from: ledger)
        let ends = rebuilt.positions
        func isAhead(_ at: State.Positions) -> Bool {
            at.events.bytes > ends.events.bytes || at.points.bytes > ends.points.bytes || at.audit.bytes > ends.audit.bytes
        }
        // state.json: the students must be the fold's.
        let statePath = settings.paths.state
        guard FileSystem.exists(statePath) else {
            // A sync of an empty inbox makes the ledgers, and no snapshot until a line is written.
            if isEmpty {
                result.summary.append("nothing is recorded yet: the ledgers are empty and there is no state.json")
            } else {
                result.problems.append("state.json is missing; run `tally rebuild`")
            }
            return
        }
        do {
            let bytes = try FileSystem.readFile(statePath, limit: Int.max)
            let at = try Snapshot.decodePositions(bytes, name: "state.json")
            if isAhead(at) {
                result.problems.append("state.json reflects ledger lines that are not there (it is ahead of the ledgers): the ledgers were cut; run `tally rebuild` once the cause is known")
            } else if at != ends {
                result.summary.append("state.json reflects an earlier commit (the next run brings it forward)")
            } else {
                let mine = try Snapshot.decodeStudents(bytes)
                var theirs = rebuilt.students(rules: settings.rules)
                // A state.json of a Tally before `months` has none; the next run writes them.
                let withoutMonths = !mine.isEmpty && !bytes.contains(Array(#""months":"#.utf8))
                if withoutMonths {
                    for id in theirs.keys { theirs[id]?.months = [] }
                    result.summary.append("state.json was written by an earlier Tally, without months (the next run rewrites it)")
                }
                var differences: [String] = []
                var levelsOnly = 0, spellingsApart = 0
                for id in Set(mine.keys).union(theirs.keys).sorted() where mine[id] != theirs[id] {
                    // A level is the table's name for an XP: one that differs alone follows a
                    // `[[levels]]` table changed since state.json was written, not the ledgers.
                    if var kept = mine[id], let folded = theirs[id] {
                        kept.level = folded.level
                        if kept == folded {
                            levelsOnly += 1
                            continue
                        }
                        // Courses listed under two spellings of one course: as a Tally before
                        // course names were folded wrote them (see `CourseName`).
                        if Self.sameCourses(kept.courses, folded.courses) {
                            kept.courses = folded.courses
                            if kept == folded {
                                spellingsApart += 1
                                continue
                            }
                        }
                    }
                    let (a, b) = Self.difference(mine[id], theirs[id])
                    differences.append("student \(id): state.json says \(a), the ledgers say \(b); run `tally rebuild` once the cause is known")
                }
                result.problems += differences.prefix(20)
                if levelsOnly > 0 {
                    result.summary.append("state.json names the levels of \(levelsOnly) student\(levelsOnly == 1 ? "" : "s") by an earlier [[levels]] table; the next batch (or `tally rebuild`) writes them by the one in tally.toml")
                }
                if spellingsApart > 0 {
                    result.summary.append("state.json lists spellings of one course apart for \(spellingsApart) student\(spellingsApart == 1 ? "" : "s"), as a Tally before course names were folded wrote it; the next run (or `tally rebuild`) lists each course once")
                }
                if differences.isEmpty { result.summary.append("state.json matches the ledgers") }
            }
        } catch {
            result.problems.append("state.json cannot be read: \(error); run `tally rebuild`")
        }
        // index.bin: brought forward, it must be the fold's, exactly.
        let indexPath = settings.paths.index
        guard FileSystem.exists(indexPath) else { return }
        do {
            var index = try Snapshot.readIndex(at: indexPath)   // mapped, as a start reads it
            if isAhead(index.positions) {
                result.problems.append("index.bin reflects ledger lines that are not there; delete it (the next run rebuilds it)")
                return
            }
            try Replay.roll(&index, forwardFrom: ledger)
            index.positions = rebuilt.positions
            if index == rebuilt {
                result.summary.append("index.bin matches the ledgers")
            } else {
                result.problems.append("index.bin differs from the fold of the ledgers; delete it (the next run rebuilds it)")
            }
        } catch let error as Snapshot.CoursesNumberedApart {
            result.summary.append("\(error) (the next run rebuilds it from the ledgers)")
        } catch {
            result.problems.append("index.bin cannot be read: \(error); delete it (the next run rebuilds it)")
        }
    }
}
