import Foundation
import Testing
@testable import TallyKit

/// The bulk path `index.bin` is read back through (`EventTableLoader`, `EventSet.Loader`,
/// `AccountTable.appendLoaded`, the mapped file) against the tables filled entry by entry.
struct IndexLoadingTests {
    /// Distinct keys, digests and text mixed, more than two pages of `EventTable` (16,384 each);
    /// the first seed's has the all-zero digest, which is how a page keeps a text key.
    static func keys(_ count: Int, seed: UInt64 = 1) -> [EventKey] {
        var generator = SeededGenerator(state: seed)
        return (0..<count).map { index in
            if seed == 1 && index == 5 { return .digest(0, 0) }
            return index % 7 == 3 ? .text("evt_\(seed)_\(index)") : .digest(generator.next(), UInt64(index))
        }
    }

    @Test("a loaded table finds, iterates and grows as one filled entry by entry")
    func loadedTable() {
        let keys = Self.keys(40_000)
        var simple = EventTable<Int>()
        var loader = EventTableLoader<Int>(capacity: keys.count)
        for (value, key) in keys.enumerated() {
            simple[key] = value
            loader.append(key, value)
        }
        guard var loaded = loader.finish() else {
            Issue.record("distinct keys were refused")
            return
        }
        #expect(loaded == simple && loaded.count == keys.count)
        #expect(loaded.map { $0.key } == keys && loaded.map { $0.value } == Array(0..<keys.count))
        for (value, key) in keys.enumerated() { #expect(loaded.index(forKey: key) == value) }
        for key in Self.keys(1_000, seed: 2) { #expect(loaded[key] == nil) }
        // Added to after loading, as the daemon does: the slots grow past the loaded ones.
        let more = Self.keys(30_000, seed: 3)
        for (value, key) in more.enumerated() {
            loaded[key] = -value
            simple[key] = -value
        }
        #expect(loaded == simple && loaded.count == 70_000)
        #expect(loaded[keys[12_345]] == 12_345 && loaded[more[29_999]] == -29_999)
    }

    @Test("a key that comes twice is refused, in a table, a set, the accounts and the emails", arguments: [0, 5, 39_999])
    func repeatedKeys(at position: Int) {
        var keys = Self.keys(40_000)
        keys.append(keys[position])
        var table = EventTableLoader<Int>(capacity: keys.count)
        var set = EventSet.Loader(capacity: keys.count)
        for (value, key) in keys.enumerated() {
            table.append(key, value)
            set.insert(key)
        }
        let refusedTable = table.finish(), refusedSet = set.finish()
        #expect(refusedTable == nil && refusedSet == nil)
        var accounts = AccountTable(loading: 3)
        for id in ["ada@example.org", "S1", "ada@example.org"] { accounts.appendLoaded(id, State.Account()) }
        let placed = accounts.finishLoading()
        #expect(!placed)
        // The events per email, canonically equal addresses being one email as in a dictionary.
        var emails = EmailEvents.Addresses(count: 2)
        emails.append("jos\u{E9}@example.org")
        emails.append("jose\u{301}@example.org")
        let filed = emails.finish()
        #expect(!filed)
    }

    @Test("events per email read back chain as filed; one filed twice, out of order or out of range is refused")
    func loadedEmailEvents() throws {
        // Filed live: events numbered in order, spread over emails as a ledger spreads them.
        var live = EmailEvents(), simple: [String: [Int32]] = [:]
        let emails = (0..<300).map { "s\($0)@example.org" }
        for event in Int32(0)..<5_000 where event % 11 != 4 {   // some events under no email
            let email = emails[Int(event * 7 % 300) % (event < 2_500 ? 150 : 300)]
            live.file(event, under: email)
            simple[email, default: []].append(event)
        }
        #expect(live.count == simple.count)
        for (email, events) in simple { #expect(live[email] == events) }
        #expect(live["nobody@example.org"] == nil)
        // Read back in the order an index lists them, then filed to as the daemon does.
        // The addresses and the events filed apart, as the two threads of a start read them.
        var addresses = EmailEvents.Addresses(count: live.count)
        var filing = EmailEvents.Filing(emails: live.count, events: 5_000)
        for (entry, email) in live.ids.enumerated() {
            addresses.append(email)
            try live.events(at: entry).withUnsafeBufferPointer { try filing.append($0) }
        }
        let placed = addresses.finish()
        #expect(placed)
        var loaded = try EmailEvents(addresses, filing)
        for (email, events) in simple { #expect(loaded[email] == events) }
        loaded.file(5_000, under: emails[3])
        loaded.file(5_001, under: "new@example.org")
        #expect(loaded[emails[3]] == simple[emails[3]]! + [5_000] && loaded["new@example.org"] == [5_001])
        // Damaged: an event twice (under one email or two), backwards, or past the tracked ones.
        // Each list is one email's events, the wrong one at the end of the last list or in its middle.
        for events in [[[Int32(1), 1]], [[1], [1]], [[3, 2]], [[5]], [[-1]], [[0, 2, 4], [1, 2, 3]], [[0, 1], [2, 7, 3]]] {
            var damaged = EmailEvents.Filing(emails: events.count, events: 5)
            #expect(throws: RecordError.self) {
                for list in events { try list.withUnsafeBufferPointer { try damaged.append($0) } }
            }
        }
        // Addresses and filings that do not count the same emails.
        var one = EmailEvents.Addresses(count: 2)
        one.append("a@example.org")
        let finished = one.finish()
        #expect(finished)
        var two = EmailEvents.Filing(emails: 2, events: 5)
        for list: [Int32] in [[0], [1]] { try list.withUnsafeBufferPointer { try two.append($0) } }
        #expect(throws: RecordError.self) { try EmailEvents(one, two) }
    }

    @Test("a loaded set and accounts answer as ones filled one by one")
    func loadedSetAndAccounts() {
        let keys = Self.keys(20_000)
        var loader = EventSet.Loader(capacity: keys.count)
        var simple = EventSet()
        for key in keys {
            loader.insert(key)
            simple.insert(key)
        }
        guard var set = loader.finish() else {
            Issue.record("distinct ids were refused")
            return
        }
        #expect(set == simple && Array(set) == keys)
        #expect(keys.allSatisfy(set.contains) && !set.contains(.text("absent")))
        let again = set.insert(keys[77]), new = set.insert(.text("new"))
        #expect(!again && new && set.count == 20_001)

        let ids = (0..<5_000).map { "student\($0)@example.org" }
        var accounts = AccountTable(loading: ids.count)
        var oneByOne = AccountTable()
        for (number, id) in ids.enumerated() {
            var account = State.Account()
            account.applied = number
            accounts.appendLoaded(id, account)
            oneByOne.list[oneByOne.findOrAdd(id)] = account
        }
        let placedAll = accounts.finishLoading()
        #expect(placedAll)
        #expect(accounts == oneByOne)
        for (number, id) in ids.enumerated() { #expect(accounts.index(of: id) == number) }
        #expect(accounts.index(of: "nobody@example.org") == nil)
        let added = accounts.findOrAdd("new@example.org")
        #expect(added == 5_000 && accounts.index(of: ids[4_999]) == 4_999)
    }

    /// A state with every part of the index: roster, links, contacts, moves, months, quizzes,
    /// badges and unlocks, events with several grants, revoked grants.
    static func richState() throws -> State {
        var rules = Rules()
        rules.badges = [.init(id: "first", name: "First", completions: 1)]
        rules.quizPassed = 10
        var events: [Event] = []
        for student in 0..<40 {
            for course in 0..<(student % 5 + 1) {
                events.append(ScoringTests.completion("s\(student)@example.org", "Course \(course)", minutes: student * 50_000 + course))
            }
        }
        events.append(KajabiWebhookTests.tagged("t1", contact: "C1", email: "kat@old.example", course: "Course 1"))
        events.append(KajabiWebhookTests.tagged("t2", contact: "C1", email: "kat@new.example", course: "Course 2"))
        events.append(ScoringTests.rosterEntry("s3@example.org", "S3"))
        events.append(ScoringTests.rosterEntry("kat@old.example", "S1", name: "Kat"))
        events.append(Event(id: "link-s4", kind: .link, email: try Email(normalising: "s4@example.org"), at: ScoringTests.t0,
                            source: ScoringTests.source, student: "S3"))
        events.append(Event(id: "m1", kind: .manualAward, email: try Email(normalising: "s6@example.org"), at: ScoringTests.t0,
                            source: ScoringTests.source, points: 15, reason: "helped"))
        events.append(ScoringTests.completion("s7@example.org", "Course 0", id: "evt_dup"))
        events.append(ScoringTests.completion("s8@example.org", "Course 1", id: "evt_dup"))
        var (state, _) = ScoringTests.run(events, rules: rules)
        // A quiz passed, folded from its ledger line.
        let quiz = Event(id: "quiz-1", kind: .quizPassed, email: try Email(normalising: "s5@example.org"), at: ScoringTests.t0,
                         source: ScoringTests.source, quiz: "Quiz 1", score: "9")
        state.apply(EventRecord(seq: 800, event: quiz, student: "s5@example.org", status: .applied))
        // More grants on one event (a bonus line), and one taken back.
        let (key, entry) = try #require(state.tracked.first { $0.value.status == .applied && $0.value.account >= 0 })
        let student = try #require(state.student(of: entry))
        let at = Timestamp(year: 2025, month: 2, day: 1, hour: 12)!
        state.apply(PointsRecord(seq: 900, at: at, student: student, points: 5, activity: "BONUS", event: key.id,
                                 reason: "bonus", unlock: "step-2"), eventKey: key)
        state.apply(PointsRecord(seq: 901, at: at, student: student, points: 7, activity: "BONUS", event: key.id,
                                 reason: "bonus", course: "Course 9"), eventKey: key)
        state.apply(PointsRecord(seq: 902, at: at, student: student, points: 3, activity: "BONUS", event: key.id,
                                 reason: "bonus"), eventKey: key)
        state.apply(PointsRecord(seq: 903, at: at, student: student, points: -5, activity: "BONUS", event: key.id,
                                 reason: "taken back", change: .revoke), eventKey: key)
        state.markProcessed(sha256: "abc")
        state.positions.events = .init(seq: 300, bytes: 123_456)
        return state
    }

    @Test("a rich state goes through index.bin, read or mapped, and comes back equal")
    func richRoundTrip() throws {
        let state = try Self.richState()
        #expect(!state.roster.isEmpty && !state.bindings.isEmpty && !state.contacts.isEmpty && state.seen.count > 0)
        #expect((0..<state.tracked.count).contains { state.tracked.grantCount(of: $0) >= 2 })
        #expect(state.accounts.list.contains { !$0.passed.isEmpty } && state.accounts.list.contains { $0.months.count > 1 })
        let bytes = Snapshot.encodeIndex(state)
        let decoded = try Snapshot.decodeIndex(bytes)
        // Both ways round: `==` looks each side's ids up in the other's tables, so that the
        // tables read back are searched too (their slots, built from hashes some of which
        // are shared between the accounts and the emails).
        #expect(decoded == state && state == decoded)
        let path = NSTemporaryDirectory() + "index-\(UInt64.random(in: 0 ... .max)).bin"
        defer { unlink(path) }
        try FileSystem.writeAtomically(bytes, to: path)
        let mapped = try Snapshot.readIndex(at: path)
        #expect(mapped == state && state == mapped)
        // Every email read back is found in its table, with its events.
        for email in state.byEmail.ids { #expect(mapped.byEmail[email] == state.byEmail[email]) }
        // Course numbers as the state gave them, so its accounts compare equal number for number.
        #expect(state.courses.count >= 2 && mapped.courses.names == state.courses.names)
        #expect(mapped.accounts == state.accounts)
        #expect(mapped.activities.names == state.activities.names && mapped.tracked == state.tracked)
        #expect(Snapshot.encodeState(mapped, rules: Rules()) == Snapshot.encodeState(state, rules: Rules()))
        // A section offset in the trailer that is off by a byte, or out of order, is refused.
        let trailer = bytes.count - 32
        for offset in 0..<3 {
            var damaged = bytes
            damaged[trailer + 8 * offset] &+= 1
            #expect(throws: RecordError.self) { try Snapshot.decodeIndex(damaged) }
            damaged[trailer + 8 * offset + 7] = 0x80
            #expect(throws: RecordError.self) { try Snapshot.decodeIndex(damaged) }
        }
        #expect(Array(bytes.suffix(8)) == Array("TALLYEND".utf8))
        // Cut short, or empty, a mapped index is refused as a read one is.
        try FileSystem.writeAtomically(Array(bytes.prefix(bytes.count / 2)), to: path)
        #expect(throws: RecordError.self) { try Snapshot.readIndex(at: path) }
        try FileSystem.writeAtomically([], to: path)
        #expect(throws: RecordError.self) { try Snapshot.readIndex(at: path) }
    }

    @Test("an index.bin damaged at any byte, or cut at any length, is refused or read whole, never a crash")
    func damagedAnywhere() throws {
        let state = try Self.richState()
        let bytes = Snapshot.encodeIndex(state)
        var refused = 0, read = 0
        func attempt(_ damaged: [UInt8]) {
            do {
                // Read whole: it must then be a state that can be written out again.
                let decoded = try Snapshot.decodeIndex(damaged)
                _ = Snapshot.encodeIndex(decoded)
                _ = Snapshot.encodeState(decoded, rules: Rules())
                read += 1
            } catch is RecordError {
                refused += 1
            } catch {
                Issue.record("index.bin damaged refused with \(error), not a RecordError")
            }
        }
        // Every byte changed in three ways (its low bit, its high bit — a varint's "more to
        // come" — and all bits set), and every length cut short: the trailer's offsets, the
        // counts, the varints and the strings of every section, both threads' halves among them.
        for index in bytes.indices {
            for change in [{ (b: UInt8) in b ^ 0x01 }, { $0 ^ 0x80 }, { _ in 0xFF }] {
                var damaged = bytes
                damaged[index] = change(damaged[index])
                guard damaged != bytes else { continue }
                attempt(damaged)
            }
        }
        for length in 0..<bytes.count { attempt(Array(bytes.prefix(length))) }
        // Both happen: much of the damage is caught (6,144 bytes gave 11,828 refusals with four
        // ways of changing each), and much reads as another state (a letter of a name, a bit
        // of an id, a number still in range: 18,240).
        #expect(refused > bytes.count && read > bytes.count)
    }

    @Test("entries with no grant, one inline, one too wide (by points or activity) or several go through index.bin as they were")
    func grantsRoundTrip() throws {
        var events: [Event] = []
        for n in 0..<30 { events.append(ScoringTests.completion("s\(n % 4)@example.org", "Course \(n)", minutes: n)) }
        var (state, _) = ScoringTests.run(events)
        // Activities past the inline limit (16,382) are listed; so are several per event.
        for n in 0..<16_400 { _ = state.activities.number(for: "A\(n)") }
        let course = Int32(state.courses.count) - 1
        var expected: [EventKey: [State.StoredGrant]] = [:]
        for entry in 0..<state.tracked.count {
            var grants = state.tracked.grants(of: entry)
            if entry % 6 == 0 {   // no grant
                while state.tracked.takeGrant(from: entry, where: { _ in true }) != nil {}
                grants = []
            }
            let more: [State.StoredGrant] = switch entry % 6 {
            case 1: [State.StoredGrant(at: -3, points: 1 << 40, activity: 2, course: -1)]
            case 2: [State.StoredGrant(at: 4, points: 7, activity: 16_390, course: course)]
            case 3: [State.StoredGrant(at: 5, points: -9, activity: 3, course: -1),
                     State.StoredGrant(at: 5, points: Int(Int32.min) - 1, activity: 16_381, course: 0)]
            default: []
            }
            if entry % 6 == 4 {   // its one grant taken, a wide one in its place: kept apart, alone
                while state.tracked.takeGrant(from: entry, where: { _ in true }) != nil {}
                grants = []
                state.tracked.add(State.StoredGrant(at: 1, points: 2, activity: 16_399, course: -1), to: entry)
                grants.append(State.StoredGrant(at: 1, points: 2, activity: 16_399, course: -1))
            }
            for grant in more { state.tracked.add(grant, to: entry) }
            expected[state.tracked.key(at: entry)] = grants + more
        }
        #expect(Set(expected.values.map(\.count)) == [0, 1, 2, 3])
        let read = try Snapshot.decodeIndex(Snapshot.encodeIndex(state))
        #expect(read == state && read.tracked == state.tracked)
        for entry in 0..<read.tracked.count {
            #expect(read.tracked.grants(of: entry) == expected[read.tracked.key(at: entry)])
        }
        // Written again, the same bytes.
        #expect(Snapshot.encodeIndex(read) == Snapshot.encodeIndex(state))
    }

    @Test("a grant naming an activity or a course the index does not list is refused")
    func grantOutOfRange() throws {
        let state = try Self.richState()
        let entry = try #require((0..<state.tracked.count).first { state.tracked[at: $0].account >= 0 })
        for (activity, course) in [(Int32(state.activities.count), Int32(-1)), (0, Int32(state.courses.count))] {
            var damaged = state
            damaged.tracked.add(State.StoredGrant(at: 1, points: 5, activity: activity, course: course), to: entry)
            #expect(throws: RecordError.self) { try Snapshot.decodeIndex(Snapshot.encodeIndex(damaged)) }
        }
        var fine = state
        fine.tracked.add(State.StoredGrant(at: 1, points: 5, activity: Int32(state.activities.count) - 1,
                                           course: Int32(state.courses.count) - 1), to: entry)
        #expect(try Snapshot.decodeIndex(Snapshot.encodeIndex(fine)) == fine)
    }
}
