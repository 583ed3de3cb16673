import Testing
@testable import TallyKit

/// The flat table of tracked events against a `Dictionary` doing the same work.
struct TrackedTableTests {
    static func entry(_ seq: Int) -> State.Tracked {
        State.Tracked(status: seq % 3 == 0 ? .unmatched : .applied, account: Int32(seq % 7) - 1, seq: seq,
                      offset: seq * 10, firstSeq: seq / 2)
    }

    /// What entry `seq` is granted when it is added: every other one a grant (of those, every
    /// fifth too wide for the inline fields), every seventh a second one.
    static func grants(_ seq: Int) -> [State.StoredGrant] {
        guard seq % 2 == 0 else { return [] }
        let first = State.StoredGrant(at: Int64(seq), points: seq % 5 == 0 ? 1 << 40 : 20, activity: 0, course: Int32(seq % 5))
        return seq % 7 == 0 ? [first, State.StoredGrant(at: Int64(seq), points: 3, activity: 1, course: -1)] : [first]
    }

    /// An entry's fields other than its grants, to compare with a model's.
    static func fields(_ entry: State.Tracked?) -> [Int]? {
        entry.map { [$0.seq, $0.offset, $0.firstSeq, Int($0.status.code), Int($0.account)] }
    }

    /// Digest keys, some with equal halves or zero bits (one all zero, as a text key is kept
    /// in its page), and text keys.
    static func key(_ n: Int) -> EventKey {
        switch n % 5 {
        case 0: return .text("kajabi-\(n / 5)")
        case 1: return .digest(UInt64(n), 0)
        case 2: return .digest(0, UInt64(n / 5))
        default: return .digest(UInt64(n) &* 0x9E37_79B9_7F4A_7C15, UInt64(n) << 7)
        }
    }

    /// A table of entries `numbers`, added in that order, each with its grants.
    static func table(_ numbers: some Sequence<Int>) -> TrackedTable {
        var table = TrackedTable()
        for n in numbers {
            table[Self.key(n)] = Self.entry(n)
            for grant in Self.grants(n) { table.add(grant, to: table.count - 1) }
        }
        return table
    }

    @Test("adding, replacing, changing in place and finding give what a dictionary gives, across pages and growth")
    func sameAsDictionary() {
        var table = TrackedTable(), simple: [EventKey: (entry: State.Tracked, grants: [State.StoredGrant])] = [:]
        var order: [EventKey] = []
        let total = 40_000   // more than two pages of entries, several doublings of the slots
        for n in 0..<total {
            let key = Self.key(n)
            table[key] = Self.entry(n)
            for grant in Self.grants(n) { table.add(grant, to: table.count - 1) }
            simple[key] = (Self.entry(n), Self.grants(n))
            order.append(key)
            if n % 3 == 0 {   // replace an earlier one: its fields, not its grants
                let earlier = Self.key(n / 2)
                table[earlier] = Self.entry(n + 1)
                simple[earlier]?.entry = Self.entry(n + 1)
            }
            if n % 5 == 0, let index = table.index(forKey: Self.key(n / 3)) {   // change one in place
                table[at: index].offset = -n
                simple[Self.key(n / 3)]?.entry.offset = -n
            }
        }
        #expect(table.count == simple.count)
        for (key, value) in simple {
            #expect(Self.fields(table[key]) == Self.fields(value.entry))
            #expect(table.index(forKey: key).map(table.grants) == value.grants)
        }
        for n in total..<(total + 1000) { #expect(table[Self.key(n)] == nil && table.index(forKey: Self.key(n)) == nil) }
        #expect(table.map(\.key) == order)
        #expect(table.map { Self.fields($0.value) } == order.map { Self.fields(simple[$0]?.entry) })
    }

    @Test("tables with the same entries and grants are equal whatever the order they were added in; a differing one is not")
    func equality() throws {
        let forward = Self.table(0..<100), backward = Self.table((0..<100).reversed())
        #expect(forward == backward)
        var other = backward
        other[Self.key(50)] = Self.entry(51)
        #expect(forward != other)
        #expect(forward != Self.table(0..<99))
        // A grant more, or one fewer, on an entry with none, one inline, one kept apart, or two.
        for n in [1, 2, 10, 14] {
            var more = backward
            more.add(State.StoredGrant(at: 1, points: 1, activity: 2, course: -1), to: try #require(more.index(forKey: Self.key(n))))
            #expect(forward != more)
            var fewer = backward
            let taken = fewer.takeGrant(from: try #require(fewer.index(forKey: Self.key(n)))) { _ in true }
            #expect(taken == Self.grants(n).first)
            if taken != nil { #expect(forward != fewer) }
        }
        // A grant kept apart that differs in its points alone.
        var changed = backward
        let entry = try #require(changed.index(forKey: Self.key(14)))
        var grants = changed.grants(of: entry)
        while changed.takeGrant(from: entry, where: { _ in true }) != nil {}
        grants[1].points += 1
        for grant in grants { changed.add(grant, to: entry) }
        #expect(forward != changed)
    }

    @Test("a set of ids answers as a Set does")
    func eventSet() {
        var set = EventSet(), simple = Set<EventKey>()
        for n in 0..<20_000 {
            let key = Self.key(n % 15_000)
            #expect(set.insert(key) == simple.insert(key).inserted)
            #expect(set.contains(Self.key(n / 2)) == simple.contains(Self.key(n / 2)))
        }
        #expect(set.count == simple.count)
        #expect(Set(set) == simple)
        var other = EventSet()
        for key in simple { other.insert(key) }
        #expect(other == set)
        other.insert(Self.key(99_999))
        #expect(other != set)
    }

    @Test("room reserved ahead holds every entry added after it")
    func reserved() {
        var table = TrackedTable()
        table.reserveCapacity(5000)
        for n in 0..<5000 { table[Self.key(n)] = Self.entry(n) }
        for n in 0..<5000 { #expect(table[Self.key(n)]?.seq == n) }
    }
}

/// A tracked entry's packed fields against the values set, and its grants against arrays.
struct TrackedPackingTests {
    @Test("a tracked entry takes 40 bytes and holds no reference")
    func size() {
        #expect(MemoryLayout<State.Tracked>.size == 40 && MemoryLayout<State.Tracked>.stride == 40)
        #expect(_isPOD(State.Tracked.self))
    }

    @Test("seq, first seq, offset, status and account read back as set, in any order of setting, beside any grant",
          arguments: [(-1, 1, 1), (0, 5, 2), (1 << 40, 3_000_000_000, 2_000_000_000), ((1 << 47) - 1, 7, 7), (-(1 << 47), 9, 0)])
    func fields(offset: Int, seq: Int, firstSeq: Int) {
        // The widest activity kept inline, the first kept apart, and no grant.
        for activity: Int32 in [(1 << 14) - 3, (1 << 14) - 2, -1] {
            for status in [EventStatus.applied, .duplicate, .unmatched] {
                var table = TrackedTable()
                table[.text("e")] = State.Tracked(status: status, account: -1, seq: seq, offset: offset, firstSeq: firstSeq)
                let grant = State.StoredGrant(at: -5, points: -20, activity: activity, course: -1)
                if activity >= 0 { table.add(grant, to: 0) }
                var entry = table[at: 0]
                #expect(entry.seq == seq && entry.firstSeq == firstSeq && entry.offset == offset && entry.status == status)
                // A later line in force: its seq and offset change, the first seq stays.
                table[at: 0].seq = seq + 10
                table[at: 0].offset = 77
                table[at: 0].account = Int32.max
                table[at: 0].status = .applied
                entry = table[at: 0]
                #expect(entry.seq == seq + 10 && entry.firstSeq == firstSeq && entry.offset == 77 && entry.account == .max)
                #expect(entry.status == .applied && table.grants(of: 0) == (activity >= 0 ? [grant] : []))
                // An entry written whole changes its fields, never its grants.
                table[.text("e")] = State.Tracked(status: .unmatched, account: 3, seq: 1, offset: 2, firstSeq: 1)
                #expect(table[at: 0].status == .unmatched && table[at: 0].offset == 2 && table[at: 0].account == 3)
                #expect(table.grants(of: 0) == (activity >= 0 ? [grant] : []))
            }
        }
        #expect(State.Tracked(checking: .applied, account: 0, seq: 3_000_000_000, offset: 0, firstSeq: 1) == nil)
        #expect(State.Tracked(checking: .applied, account: 0, seq: 1, offset: 1 << 47, firstSeq: 1) == nil)
    }

    /// A grant for the model test: about a fifth too wide for the inline fields, by their
    /// points (beyond Int32) or their activity (past the inline limit).
    static func randomGrant(_ generator: inout SeededGenerator, at n: Int) -> State.StoredGrant {
        let random = Int(generator.next() % 1000)
        let wide = [Int(Int32.max) + 1, Int(Int32.min) - 1, Int(Int32.max), Int(Int32.min)]
        let points = random % 9 == 0 ? wide[random % 4] : random - 500
        let activity: Int32 = random % 13 == 0 ? 20_000 : random % 17 == 0 ? (1 << 14) - 2 : Int32(random % 3)
        return State.StoredGrant(at: Int64(n % 40), points: points, activity: activity, course: Int32(random % 4) - 1)
    }

    @Test("grants come back in the order granted, on each entry, against arrays of them: added, taken, wide or not",
          arguments: [7, 8, 9] as [UInt64])
    func grants(seed: UInt64) {
        var table = TrackedTable()
        var simple: [[State.StoredGrant]] = []
        for n in 0..<6 {
            table[.text("e\(n)")] = State.Tracked(status: .applied, account: Int32(n), seq: n + 1, offset: n, firstSeq: n + 1)
            simple.append([])
        }
        var generator = SeededGenerator(state: seed)
        for n in 0..<1500 {
            let entry = Int(generator.next() % 6), random = Int(generator.next() % 1000)
            if random < 450 || simple[entry].isEmpty {
                let grant = Self.randomGrant(&generator, at: n)
                table.add(grant, to: entry)
                simple[entry].append(grant)
            } else if random < 950 {
                // The first grant that matches goes, wherever it is.
                let wanted = simple[entry][random % simple[entry].count]
                let matching: (State.StoredGrant) -> Bool = { $0.points == wanted.points && $0.course == wanted.course }
                let taken = table.takeGrant(from: entry, where: matching)
                #expect(taken == simple[entry].first(where: matching))
                simple[entry].remove(at: simple[entry].firstIndex(where: matching)!)
            } else {
                #expect(table.takeGrant(from: entry) { $0.at < 0 } == nil)   // none matches: nothing changes
            }
            for check in 0..<6 {
                #expect(table.grants(of: check) == simple[check] && table.grantCount(of: check) == simple[check].count)
                var each: [State.StoredGrant] = []
                table.forEachGrant(of: check) { each.append($0) }
                #expect(each == simple[check])
                let entry = table[at: check]
                #expect(entry.seq == check + 1 && entry.offset == check && entry.account == Int32(check) && entry.status == .applied)
            }
            // Equal to a table given the same grants in one go, however each came to be stored.
            if n % 25 == 0 {
                var fresh = TrackedTable()
                for check in 0..<6 {
                    fresh[.text("e\(check)")] = table[at: check]
                    for grant in simple[check] { fresh.add(grant, to: check) }
                }
                #expect(fresh == table)
            }
        }
    }
}
