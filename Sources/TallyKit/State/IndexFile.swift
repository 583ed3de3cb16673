/// `data/index.bin`: the scoring index in a compact binary form, so that a start with
/// millions of ledger lines loads it in a fraction of a second instead of folding the
/// ledgers again (or parsing hundreds of megabytes of JSON).
///
/// Layout: the magic `TALLYIDX`, the format number, the positions of the five ledgers, then
/// sections in a fixed order — course names, files, seen ids, roster, bindings, contacts, accounts,
/// tracked events, events per email. A course is written once and named by its number in
/// the first section; a tracked event's student by the number of its account (plus one; 0
/// for nobody). Integers are LEB128 varints (zigzag for signed ones), strings a varint
/// length and their UTF-8 bytes, an event id a tag byte and 16 bytes or a string. Sections
/// follow the state's hash order, not a sorted one: two indexes of one state may differ in
/// bytes, and are compared as states (`==`), never byte for byte. (Tracked events follow
/// the order they were first tracked in.)
///
/// It is derived data: deleted, damaged or written by another version, it is rebuilt from
/// the ledgers.
extension Snapshot {
    static let indexMagic = Array("TALLYIDX".utf8)

    /// The bytes of `index.bin`.
    public static func encodeIndex(_ state: State) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 + state.seen.count * 18 + state.tracked.count * 64)
        writeIndex(state, chunk: Int.max) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Encodes `index.bin` as `encodeIndex` does, handing `write` the bytes whenever `chunk`
    /// of them are ready (and the rest at the end): a million events' index is tens of
    /// megabytes, and held whole (and grown by copying) it was the peak of a big sync.
    public static func writeIndex<Failure: Error>(_ state: State, chunk: Int = 1 << 20,
                                                  to write: (_ bytes: [UInt8]) throws(Failure) -> Void) throws(Failure) {
        var w = BinaryWriter(capacity: min(chunk, 1 << 20) + 4096)
        func drain() throws(Failure) {
            guard w.bytes.count >= chunk else { return }
            try write(w.bytes)
            w.bytes.removeAll(keepingCapacity: true)
        }
        w.bytes.append(contentsOf: indexMagic)
        w.unsigned(UInt64(State.indexFormat))
        for (_, mark) in state.positions.named {
            w.signed(mark.seq)
            w.signed(mark.bytes)
        }
        var courseNumbers: [String: Int] = [:]
        w.unsigned(state.names.count)
        for (number, name) in state.names.enumerated() {
            courseNumbers[name] = number
            w.string(name)
        }
        func course(_ name: String) {
            if let number = courseNumbers[name] {
                w.unsigned(number + 1)
            } else {
                w.unsigned(0)
                w.string(name)
            }
        }
        func courses(_ names: [String]) {
            w.unsigned(names.count)
            for name in names { course(name) }
        }
        w.unsigned(state.files.count)
        for sha in state.files { w.string(sha) }
        w.unsigned(state.seen.count)
        for key in state.seen {
            w.key(key)
            try drain()
        }
        w.unsigned(state.roster.count)
        for (id, entry) in state.roster {
            w.string(id)
            w.optional(entry.name)
            w.bool(entry.isPublic)
            w.unsigned(entry.emails.count)
            for email in entry.emails { w.string(email.value) }
        }
        w.unsigned(state.bindings.count)
        for (email, student) in state.bindings {
            w.string(email.value)
            w.string(student)
        }
        w.unsigned(state.contacts.count)
        for (contact, email) in state.contacts {
            w.string(contact)
            w.string(email.value)
        }
        w.unsigned(state.accounts.count)
        for (id, account) in zip(state.accounts.ids, state.accounts.list) {
            w.string(id)
            w.optional(account.latestName)
            w.signed(account.applied)
            let figures = account.state
            w.optional(figures.name)
            w.signed(figures.xp)
            w.optional(figures.level)
            w.strings(figures.badges)
            w.strings(figures.unlocks)
            courses(figures.courses)
            w.bool(figures.isPublic)
            w.signed(figures.reachedAt)
            w.unsigned(figures.months.count)
            for month in figures.months {
                w.signed(Int(month.month.number))
                w.signed(month.points)
            }
            w.unsigned(account.completed.count)
            for (name, key) in account.completed { course(name); w.key(key) }
            w.unsigned(account.passed.count)
            for (quiz, key) in account.passed { w.string(quiz); w.key(key) }
            try drain()
        }
        w.unsigned(state.tracked.count)
        for (key, entry) in state.tracked {
            w.key(key)
            w.byte(entry.status.code)
            w.unsigned(Int(entry.account) + 1)
            w.signed(entry.seq)
            w.signed(entry.offset)
            w.signed(entry.firstSeq)
            // The inline grant and the rest, without making an array of them per entry.
            w.unsigned((entry.grant == nil ? 0 : 1) + entry.moreGrants.count)
            func grant(_ grant: State.Grant) {
                w.signed(Int(grant.at.milliseconds))
                w.signed(grant.points)
                w.string(grant.activity)
                if let name = grant.course {
                    w.byte(1)
                    course(name)
                } else {
                    w.byte(0)
                }
            }
            if let first = entry.grant { grant(first) }
            for more in entry.moreGrants { grant(more) }
            try drain()
        }
        w.unsigned(state.byEmail.count)
        for (email, keys) in state.byEmail {
            w.string(email.value)
            w.unsigned(keys.count)
            for key in keys { w.key(key) }
            try drain()
        }
        try write(w.bytes)
    }

    private static func readHeader(_ r: inout BinaryReader) throws -> State.Positions {
        guard r.remaining >= indexMagic.count, Array(r.take(indexMagic.count)) == indexMagic else {
            throw RecordError("index.bin is not a Tally index")
        }
        let format = try r.unsigned()
        guard format == UInt64(State.indexFormat) else {
            throw RecordError("index.bin has format \(format); this Tally reads format \(State.indexFormat)")
        }
        var positions = State.Positions()
        for (name, _) in positions.named {
            positions[name] = State.Positions.Mark(seq: try r.signed(), bytes: try r.signed())
        }
        return positions
    }

    /// Reads `index.bin` back into a state; throws when it is not one this version wrote whole.
    public static func decodeIndex(_ bytes: [UInt8]) throws -> State {
        try bytes.withUnsafeBufferPointer { buffer in
            var r = BinaryReader(buffer)
            var state = State()
            state.positions = try readHeader(&r)
            // No nested functions over `state` or `r` below: a captured variable is boxed, and
            // every access to it then costs a reference count and an exclusivity check.
            var table: [String] = []
            for _ in 0..<(try r.count()) {
                let name = try r.string()
                table.append(name)
                state.names.insert(name)
            }
            let files = try r.count()
            state.files.reserveCapacity(files)
            for _ in 0..<files { state.files.insert(try r.string()) }
            let seen = try r.count()
            state.seen.reserveCapacity(seen)
            for _ in 0..<seen { state.seen.insert(try r.key()) }
            for _ in 0..<(try r.count()) {
                let id = try r.string()
                let name = try r.optional()
                let isPublic = try r.bool()
                var emails: [Email] = []
                for _ in 0..<(try r.count()) { emails.append(try r.email()) }
                state.roster[id] = State.RosterStudent(name: name, isPublic: isPublic, emails: emails)
            }
            for _ in 0..<(try r.count()) {
                let email = try r.email()
                state.bindings[email] = try r.string()
            }
            for _ in 0..<(try r.count()) {
                let contact = try r.string()
                state.contacts[contact] = try r.email()
            }
            let accounts = try r.count()
            state.accounts.reserveCapacity(accounts)
            for _ in 0..<accounts {
                let id = try r.string()
                var account = State.Account()
                account.latestName = try r.optional()
                account.applied = try r.signed()
                account.state.name = try r.optional()
                account.state.xp = try r.signed()
                account.state.level = try r.optional()
                account.state.badges = try r.strings()
                account.state.unlocks = try r.strings()
                let courses = try r.count()
                account.state.courses.reserveCapacity(courses)
                for _ in 0..<courses { account.state.courses.append(try r.course(in: table)) }
                account.state.isPublic = try r.bool()
                account.state.reachedAt = try r.signed()
                let months = try r.count()
                account.state.months.reserveCapacity(months)
                for _ in 0..<months {
                    let number = try r.signed()
                    guard let month = Int32(exactly: number) else { throw RecordError("index.bin has a month out of range") }
                    account.state.months.append(MonthPoints(month: Month(number: month), points: try r.signed()))
                }
                let completed = try r.count()
                account.completed.reserveCapacity(completed)
                for _ in 0..<completed {
                    let name = try r.course(in: table)
                    account.completed[name] = try r.key()
                }
                for _ in 0..<(try r.count()) {
                    let quiz = try r.string()
                    account.passed[quiz] = try r.key()
                }
                state.accounts.append(id, account)
            }
            let tracked = try r.count()
            state.tracked.reserveCapacity(tracked)
            let accountCount = state.accounts.count
            for _ in 0..<tracked {
                let key = try r.key()
                guard let status = EventStatus(code: try r.byte()) else { throw RecordError("index.bin: unknown status") }
                let number = try r.unsigned()
                guard number <= UInt64(accountCount) else {
                    throw RecordError("index.bin names account \(number) of \(accountCount)")
                }
                var entry = State.Tracked(status: status, account: Int32(number) - 1, seq: try r.signed(), offset: try r.signed(),
                                          firstSeq: try r.signed(), grant: nil)
                for _ in 0..<(try r.count()) {
                    let at = Timestamp(milliseconds: Int64(try r.signed()))
                    let points: Int = try r.signed()
                    let activity = try r.string()
                    let course = try r.byte() == 0 ? nil : try r.course(in: table)
                    entry.add(State.Grant(at: at, points: points, activity: activity, course: course))
                }
                state.tracked[key] = entry
            }
            let emails = try r.count()
            state.byEmail.reserveCapacity(emails)
            for _ in 0..<emails {
                let email = try r.email()
                var keys: [EventKey] = []
                let count = try r.count()
                keys.reserveCapacity(count)
                for _ in 0..<count { keys.append(try r.key()) }
                state.byEmail[email] = keys
            }
            guard r.remaining == 0 else { throw RecordError("index.bin has \(r.remaining) bytes after its last section") }
            return state
        }
    }
}

extension EventStatus {
    var code: UInt8 {
        switch self {
        case .applied: return 0
        case .duplicate: return 1
        case .unmatched: return 2
        }
    }

    init?(code: UInt8) {
        switch code {
        case 0: self = .applied
        case 1: self = .duplicate
        case 2: self = .unmatched
        default: return nil
        }
    }
}
