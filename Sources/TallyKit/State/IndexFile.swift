import Dispatch
import Foundation
/// `data/index.bin`: the scoring index in a compact binary form, so that a start with
/// millions of ledger lines loads it in a fraction of a second instead of folding the
/// ledgers again (or parsing hundreds of megabytes of JSON).
///
/// Layout: the magic `TALLYIDX`, the format number, the positions of the five ledgers, then
/// sections in a fixed order — course names, activities, files, seen ids, roster, bindings,
/// contacts, accounts, tracked events, events per email — and last a trailer: the byte offsets of the accounts,
/// the tracked events and the events per email, 8 bytes each (little-endian), and the magic
/// `TALLYEND`. A reader then starts a second thread at the tracked events at once, with
/// nothing to skip, and a file cut short is known as one before anything is read. A course is
/// written once and named by its number in the first section, a grant's activity by its
/// number in the second; a tracked event's student by the number of its account (plus one; 0
/// for nobody); a completed course's event, and each event filed under an email, by the
/// tracked event's number (its place in the tracked section, which is the table's own
/// order, so a state read back numbers its events as it did). Integers are LEB128 varints (zigzag for signed ones), strings a varint
/// length and their UTF-8 bytes, an event id a tag byte and 16 bytes or a string. The files,
/// roster, bindings, contacts and quizzes passed are written in the order of their keys, so
/// that the same ledgers give the same bytes in every run (Swift seeds a set's hashing per
/// process); the ids seen, accounts and tracked events follow the order the ledgers gave
/// them, so two equal states reached in different orders may still differ in bytes, and are
/// compared as states (`==`).
///
/// It is derived data: deleted, damaged or written by another version, it is rebuilt from
/// the ledgers.
extension Snapshot {
    /// `index.bin` numbers two spellings of one course apart (see `CourseName`): written by
    /// a Tally that compared course names as written. The index is not damaged, only of
    /// its time: the ledgers are folded again, which makes one course of them.
    public struct CoursesNumberedApart: Error, CustomStringConvertible, Sendable {
        public var description: String {
            "index.bin numbers two spellings of one course apart, as a Tally before course names were folded did"
        }
    }

    static let indexMagic = Array("TALLYIDX".utf8)
    static let indexEndMagic = Array("TALLYEND".utf8)

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
        var handed = 0   // bytes already handed to `write`
        func drain() throws(Failure) {
            guard w.bytes.count >= chunk else { return }
            try write(w.bytes)
            handed += w.bytes.count
            w.bytes.removeAll(keepingCapacity: true)
        }
        var sections: [Int] = []   // where the accounts, tracked events and emails start
        w.bytes.append(contentsOf: indexMagic)
        w.unsigned(UInt64(State.indexFormat))
        for (_, mark) in state.positions.named {
            w.signed(mark.seq)
            w.signed(mark.bytes)
        }
        // In the state's own order, so that a state read back numbers its courses alike.
        w.unsigned(state.courses.count)
        for name in state.courses.names { w.string(name) }
        w.unsigned(state.activities.count)
        for name in state.activities.names { w.string(name) }
        // Sets and dictionaries in the order of their keys: Swift seeds their hashing per
        // process, and the same state is to give the same bytes in every run.
        w.unsigned(state.files.count)
        for sha in state.files.sorted() { w.string(sha) }
        w.unsigned(state.seen.count)
        for key in state.seen {
            w.key(key)
            try drain()
        }
        w.unsigned(state.roster.count)
        for (id, entry) in state.roster.sorted(by: { $0.key < $1.key }) {
            w.string(id)
            w.optional(entry.name)
            w.bool(entry.isPublic)
            w.unsigned(entry.emails.count)
            for email in entry.emails { w.string(email.value) }
        }
        w.unsigned(state.bindings.count)
        for (email, student) in state.bindings.sorted(by: { $0.key.value < $1.key.value }) {
            w.string(email.value)
            w.string(student)
        }
        w.unsigned(state.contacts.count)
        for (contact, email) in state.contacts.sorted(by: { $0.key < $1.key }) {
            w.string(contact)
            w.string(email.value)
        }
        sections.append(handed + w.bytes.count)
        w.unsigned(state.accounts.count)
        // By index, each field read where it is: a copy of an account (as `zip` gave them)
        // retained and released each of its strings and arrays.
        let ids = state.accounts.ids, accounts = state.accounts.list
        for index in accounts.indices {
            w.string(ids[index])
            w.optional(accounts[index].latestName)
            w.signed(accounts[index].applied)
            w.signed(accounts[index].xp)
            w.strings(accounts[index].badges)
            w.strings(accounts[index].unlocks)
            // The numbers up to the quizzes passed in one append.
            let reachedAt = accounts[index].reachedAt, passed = accounts[index].passed.count
            let months = accounts[index].months, courses = accounts[index].courses.entries
            w.append(room: (4 + 2 * months.count + 2 * courses.count) * RawBinary.longestNumber) { raw in
                raw.signed(reachedAt)
                raw.unsigned(months.count)
                for month in months {
                    raw.signed(Int(month.month.number))
                    raw.signed(month.points)
                }
                // The listed courses first, in order, then those only completed: each its
                // number, doubled, plus one when listed, then its event plus one (0: none).
                raw.unsigned(courses.count)
                for entry in courses {
                    raw.unsigned(Int(entry.course) * 2 + (entry.isListed ? 1 : 0))
                    raw.unsigned(Int(entry.event) + 1)
                }
                raw.unsigned(passed)
            }
            if passed > 0 {
                for (quiz, key) in accounts[index].passed.sorted(by: { $0.key < $1.key }) { w.string(quiz); w.key(key) }
            }
            try drain()
        }
        sections.append(handed + w.bytes.count)
        let tracked = state.tracked
        w.unsigned(tracked.count)
        for index in 0..<tracked.count {
            let entry = tracked[at: index]
            w.key(tracked.key(at: index))
            // The rest of the entry in an append, and each grant in one. (A closure that
            // captured `tracked` would copy the table, retaining its arrays, every entry.)
            let grants = tracked.grantCount(of: index)
            w.append(room: 1 + 5 * RawBinary.longestNumber) { raw in
                raw.byte(entry.status.code)
                raw.unsigned(Int(entry.account) + 1)
                raw.signed(entry.seq)
                raw.signed(entry.offset)
                raw.signed(entry.firstSeq)
                raw.unsigned(grants)
            }
            // Activity and course by number (the course plus one; 0 for none).
            tracked.forEachGrant(of: index) { grant in
                w.append(room: 4 * RawBinary.longestNumber) { raw in
                    raw.signed(Int(grant.at))
                    raw.signed(grant.points)
                    raw.unsigned(Int(grant.activity))
                    raw.unsigned(Int(grant.course) + 1)
                }
            }
            try drain()
        }
        sections.append(handed + w.bytes.count)
        w.unsigned(state.byEmail.count)
        for (entry, email) in state.byEmail.ids.enumerated() {
            w.string(email)
            let events = state.byEmail.events(at: entry)
            w.unsigned(events.count)
            for event in events { w.unsigned(Int(event)) }
            try drain()
        }
        for offset in sections { withUnsafeBytes(of: UInt64(offset).littleEndian) { w.bytes.append(contentsOf: $0) } }
        w.bytes.append(contentsOf: indexEndMagic)
        try write(w.bytes)
    }

    /// The trailer's size: three offsets and the end magic.
    private static let trailerSize = 32

    /// The section offsets of the trailer at the end of `buffer`, checked to follow each
    /// other between `after` and the trailer; throws when the file is cut short or they do
    /// not (a damaged file).
    private static func sectionOffsets(_ buffer: UnsafeBufferPointer<UInt8>, after: Int) throws
        -> (accounts: Int, tracked: Int, emails: Int) {
        guard buffer.count >= after + trailerSize, buffer.suffix(indexEndMagic.count).elementsEqual(indexEndMagic) else {
            throw RecordError("index.bin ends early")
        }
        let base = UnsafeRawBufferPointer(buffer)
        let end = buffer.count - trailerSize
        let offsets = (0..<3).map { UInt64(littleEndian: base.loadUnaligned(fromByteOffset: end + 8 * $0, as: UInt64.self)) }
        guard UInt64(after) <= offsets[0], offsets[0] <= offsets[1], offsets[1] <= offsets[2], offsets[2] <= UInt64(end)
        else { throw RecordError("index.bin's section offsets are damaged") }
        return (Int(offsets[0]), Int(offsets[1]), Int(offsets[2]))
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
            var release = MappedFile.Release.none
            return try decodeIndex(buffer, release: &release)
        }
    }

    /// Reads the `index.bin` at `path` as `decodeIndex` does, mapped rather than read into
    /// memory (see `MappedFile`): its pages leave the process as the state is built.
    public static func readIndex(at path: String) throws -> State {
        try MappedFile.withBytes(of: path) { bytes, release in try decodeIndex(bytes, release: &release) }
    }

    /// The decoding itself, on two threads: this one reads the sections up to the tracked
    /// events, then the addresses of the events per email; the other, started as soon as the
    /// course names are read, reads the tracked events from where the trailer says they
    /// start, then files the events per email. A 10-million-line index is mostly accounts and
    /// tracked events, so the two halves take about as long; both read the emails' section,
    /// each for its own part of the work.
    ///
    /// Tables are filled by their loaders (`EventTableLoader`, `AccountTable.appendLoaded`):
    /// an index holds each key once, so nothing is looked up as it is added, and each table's
    /// slots are built in one pass at the end, where a repeated key (a damaged file) is refused.
    private static func decodeIndex(_ whole: UnsafeBufferPointer<UInt8>, release: inout MappedFile.Release) throws -> State {
        var r = BinaryReader(whole)
        var state = State()
        state.positions = try readHeader(&r)
        let sections = try sectionOffsets(whole, after: r.position)
        // The sections, without the trailer.
        let buffer = UnsafeBufferPointer(rebasing: whole[0..<(whole.count - trailerSize)])
        r = BinaryReader(buffer, at: r.position)
        // No nested functions over `state` or `r` below: a captured variable is boxed, and
        // every access to it then costs a reference count and an exclusivity check.
        var table: [String] = []
        for _ in 0..<(try r.count()) { table.append(try r.string()) }
        guard let courses = NumberedNames(table, folding: true) else {
            // Names that differ but fold alike: numbered apart by a Tally before course names
            // were folded. Not damage; the ledgers are folded again, into one course.
            if Set(table).count == table.count { throw CoursesNumberedApart() }
            throw RecordError("index.bin lists a course twice")
        }
        state.courses = courses
        var activities: [String] = []
        for _ in 0..<(try r.count()) { activities.append(try r.string()) }
        guard let numbered = NumberedNames(activities) else { throw RecordError("index.bin lists an activity twice") }
        state.activities = numbered

        // The other half: its grants name courses and activities by number, so it needs
        // only how many there are.
        let other = OtherHalf(bytes: buffer, sections: sections, names: (table.count, activities.count), release: release)
        let worker = Thread { other.decode() }
        worker.stackSize = 1 << 20
        worker.start()
        // On every way out: the bytes must outlive the other thread's reading.
        defer { other.done.wait() }

        let files = try r.count()
        state.files.reserveCapacity(files)
        for _ in 0..<files { state.files.insert(try r.string()) }
        let seenCount = try r.count()
        var seen = EventSet.Loader(capacity: seenCount)
        for _ in 0..<seenCount {
            seen.insert(try r.key())
            release.upTo(r.position)
        }
        guard let seenSet = seen.finish() else { throw RecordError("index.bin lists a seen id twice") }
        state.seen = seenSet
        for _ in 0..<(try r.count()) {
            let id = try r.string()
            let name = try r.optional()
            let isPublic = try r.bool()
            var emails: [Email] = []
            for _ in 0..<(try r.count()) { emails.append(try r.email()) }
            state.roster[id] = State.RosterStudent(name: name, isPublic: isPublic, emails: emails)
        }
        let bindings = try r.count()
        state.bindings.reserveCapacity(bindings)
        for _ in 0..<bindings {
            let email = try r.email()
            state.bindings[email] = try r.string()
        }
        let contacts = try r.count()
        state.contacts.reserveCapacity(contacts)
        for _ in 0..<contacts {
            let contact = try r.string()
            state.contacts[contact] = try r.email()
        }
        guard r.position == sections.accounts else { throw RecordError("index.bin's accounts are not where it says") }
        let (accounts, idHashes, lastEvent) = try decodeAccounts(&r, courseCount: table.count, release: &release)
        guard r.position == sections.tracked else { throw RecordError("index.bin's tracked events are not where it says") }
        state.accounts = accounts
        // The addresses of the events per email, while the other thread files their events.
        var emails = BinaryReader(buffer, at: sections.emails)
        var emailsRelease = release.starting(at: sections.emails)
        let emailCount = try emails.count()
        // Room for as many as the bytes left could hold (two each, at least): a damaged count
        // makes no room past that.
        var addresses = EmailEvents.Addresses(count: min(emailCount, emails.remaining / 2))
        // An email is most often the id of the account at its place: a student's id is their
        // email unless a roster names them, and both tables list them in the order first
        // seen. That string is then shared, not made again, and so is its hash (a million
        // of each at a big start).
        let ids = accounts.ids
        for entry in 0..<emailCount {
            let bytes = UnsafeRawBufferPointer(try emails.stringBytes())   // stored normalised
            if entry < ids.count, AccountTable.sameBytes(ids[entry], bytes) {
                addresses.append(ids[entry], hash: idHashes[entry])
            } else {
                addresses.append(String(decoding: bytes, as: UTF8.self))
            }
            try emails.skipNumbers(try emails.count())
            emailsRelease.upTo(emails.position)
        }
        guard addresses.finish() else { throw RecordError("index.bin files events under an email twice") }
        other.done.wait()
        other.done.signal()   // for the `defer`
        let half = try other.result.get()
        guard half.accountCount == accounts.count else { throw RecordError("index.bin's account count is damaged") }
        guard lastEvent < half.tracked.count else {
            throw RecordError("index.bin names tracked event \(lastEvent) of \(half.tracked.count)")
        }
        state.tracked = half.tracked
        state.byEmail = try EmailEvents(addresses, half.filing)
        return state
    }

    /// The accounts section, its ids' hashes (for the emails that are the same ids), and the
    /// highest tracked event number its completed courses name (-1 for none): the tracked
    /// events are read on the other thread, and checked after.
    private static func decodeAccounts(_ r: inout BinaryReader, courseCount: Int,
                                       release: inout MappedFile.Release) throws -> (AccountTable, idHashes: [UInt64], lastEvent: Int) {
        var lastEvent = -1
        let accountCount = try r.count()
        var accounts = AccountTable(loading: accountCount)
        for _ in 0..<accountCount {
            // Filled where it lies in the table (see `appendLoaded(_:_:fill:)`).
            try accounts.appendLoaded(try r.string(), State.Account()) { (account: inout State.Account) throws(any Error) in
                account.latestName = try r.optional()
                guard let applied = Int32(exactly: try r.signed()) else {
                    throw RecordError("index.bin has an applied count out of range")
                }
                account.applied = Int(applied)
                account.xp = try r.signed()
                // Set only when there are any: each goes through the box nearly every account leaves
                // empty (`Account.badges`), taking it out and putting it back.
                let badges = try r.strings(), unlocks = try r.strings()
                if !badges.isEmpty { account.badges = badges }
                if !unlocks.isEmpty { account.unlocks = unlocks }
                account.reachedAt = try r.signed()
                let monthCount = try r.count()
                account.months.reserveCapacity(monthCount)
                for _ in 0..<monthCount {
                    let number = try r.signed()
                    guard let month = Int32(exactly: number) else { throw RecordError("index.bin has a month out of range") }
                    account.months.append(MonthPoints(month: Month(number: month), points: try r.signed()))
                }
                let courses = try r.count()
                // A student holds each course once: a damaged count makes no room past that.
                account.courses.reserveLoaded(min(courses, courseCount))
                for _ in 0..<courses {
                    let code = try r.unsigned(), event = try r.unsigned()
                    guard code / 2 < UInt64(courseCount), event <= UInt64(Int32.max),
                          account.courses.appendLoaded(course: Int32(code / 2), listed: code % 2 == 1, event: Int32(event) - 1)
                    else { throw RecordError("index.bin lists a course twice, out of order or out of range") }
                    lastEvent = max(lastEvent, Int(event) - 1)
                }
                for _ in 0..<(try r.count()) {
                    let quiz = try r.string()
                    account.passed[quiz] = try r.key()
                }
            }
            release.upTo(r.position)
        }
        let hashes = accounts.loadedHashes()
        guard accounts.finishLoading(hashes: hashes) else { throw RecordError("index.bin lists a student twice") }
        return (accounts, hashes, lastEvent)
    }

    /// The tracked events section, for accounts numbered below `accountCount`, and grants of
    /// the first `names.courses` courses and `names.activities` activities.
    fileprivate static func decodeTracked(_ r: inout BinaryReader, names: (courses: Int, activities: Int), accountCount: Int,
                                          release: inout MappedFile.Release) throws -> TrackedTable {
        let trackedCount = try r.count()
        guard trackedCount < Int(Int32.max) else {
            throw RecordError("index.bin lists more tracked events than an index holds")
        }
        var tracked = TrackedTable.Loader(capacity: trackedCount)
        var grants: [State.StoredGrant] = []   // one entry's, the array kept from entry to entry
        for _ in 0..<trackedCount {
            let key = try r.key()
            guard let status = EventStatus(code: try r.byte()) else { throw RecordError("index.bin: unknown status") }
            let number = try r.unsigned()
            guard number <= UInt64(accountCount) else {
                throw RecordError("index.bin names account \(number) of \(accountCount)")
            }
            let seq = try r.signed(), offset = try r.signed(), firstSeq = try r.signed()
            guard let entry = State.Tracked(checking: status, account: Int32(number) - 1, seq: seq, offset: offset,
                                            firstSeq: firstSeq)
            else { throw RecordError("index.bin has a tracked event's seq or offset out of range") }
            grants.removeAll(keepingCapacity: true)
            for _ in 0..<(try r.count()) {
                let at = Int64(try r.signed() as Int)
                let points: Int = try r.signed()
                let activity = try r.unsigned(), course = try r.unsigned()
                guard activity < UInt64(names.activities), course <= UInt64(names.courses) else {
                    throw RecordError("index.bin names a grant's activity or course out of range")
                }
                grants.append(State.StoredGrant(at: at, points: points, activity: Int32(activity), course: Int32(course) - 1))
            }
            tracked.append(key, entry, grants: grants)
            release.upTo(r.position)
        }
        guard let table = tracked.finish() else { throw RecordError("index.bin lists an event twice") }
        return table
    }
}

/// The other thread's half of `decodeIndex`: it skips the accounts, reads the tracked
/// events, files the events per email (their addresses are made on the first thread), and
/// checks that the file ends there. `result` is written
/// once, before `done` is signalled, and read after.
private final class OtherHalf: @unchecked Sendable {
    // @unchecked: the bytes are read-only and outlive the thread (`decodeIndex` waits for
    // `done` on every path out), and `result` is handed over through the semaphore.
    private let bytes: UnsafeBufferPointer<UInt8>
    private let sections: (accounts: Int, tracked: Int, emails: Int)
    private let names: (courses: Int, activities: Int)
    private let release: MappedFile.Release
    let done = DispatchSemaphore(value: 0)
    var result: Result<(accountCount: Int, tracked: TrackedTable, filing: EmailEvents.Filing), any Error>
        = .failure(RecordError("index.bin was not read"))

    init(bytes: UnsafeBufferPointer<UInt8>, sections: (accounts: Int, tracked: Int, emails: Int),
         names: (courses: Int, activities: Int), release: MappedFile.Release) {
        self.bytes = bytes
        self.sections = sections
        self.names = names
        self.release = release
    }

    func decode() {
        defer { done.signal() }
        result = Result {
            // The number of accounts, which tracked events name (checked against the accounts read).
            var r = BinaryReader(bytes, at: sections.accounts)
            let accountCount = try r.count()
            r.position = sections.tracked
            var release = release.starting(at: r.position)
            let tracked = try Snapshot.decodeTracked(&r, names: names, accountCount: accountCount, release: &release)
            guard r.position == sections.emails else { throw RecordError("index.bin's emails are not where it says") }
            // The events per email; the addresses are made on the other thread (see `EmailEvents.Addresses`).
            let emails = try r.count()
            var filing = EmailEvents.Filing(emails: min(emails, r.remaining / 2), events: tracked.count)
            var events: [Int32] = []   // one email's, read before they are filed (see `Filing.append`)
            for _ in 0..<emails {
                try r.skipString()
                events.removeAll(keepingCapacity: true)
                for _ in 0..<(try r.count()) {
                    let event = try r.unsigned()
                    guard event < UInt64(tracked.count) else {
                        throw RecordError("index.bin files tracked event \(event) of \(tracked.count) under an email")
                    }
                    events.append(Int32(event))
                }
                try events.withUnsafeBufferPointer { try filing.append($0) }
                release.upTo(r.position)
            }
            guard r.remaining == 0 else { throw RecordError("index.bin has \(r.remaining) bytes after its last section") }
            return (accountCount, tracked, filing)
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
