import Testing
@testable import TallyKit

/// The flat table of tracked events against a `Dictionary` doing the same work.
struct TrackedTableTests {
    static func entry(_ seq: Int) -> State.Tracked {
        var entry = State.Tracked(status: seq % 3 == 0 ? .unmatched : .applied, account: Int32(seq % 7) - 1, seq: seq,
                                  offset: seq * 10, firstSeq: seq / 2)
        if seq % 2 == 0 { entry.add(State.StoredGrant(at: Int64(seq), points: 20, activity: 0, course: Int32(seq % 5))) }
        return entry
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

    @Test("adding, replacing, changing in place and finding give what a dictionary gives, across pages and growth")
    func sameAsDictionary() {
        var table = TrackedTable(), simple: [EventKey: State.Tracked] = [:]
        var order: [EventKey] = []
        let total = 40_000   // more than two pages of entries, several doublings of the slots
        for n in 0..<total {
            let key = Self.key(n)
            table[key] = Self.entry(n)
            simple[key] = Self.entry(n)
            order.append(key)
            if n % 3 == 0 {   // replace an earlier one
                let earlier = Self.key(n / 2)
                table[earlier] = Self.entry(n + 1)
                simple[earlier] = Self.entry(n + 1)
            }
            if n % 5 == 0, let index = table.index(forKey: Self.key(n / 3)) {   // change one in place
                table[at: index].offset = -n
                simple[Self.key(n / 3)]?.offset = -n
            }
        }
        #expect(table.count == simple.count)
        for (key, value) in simple { #expect(table[key] == value) }
        for n in total..<(total + 1000) { #expect(table[Self.key(n)] == nil && table.index(forKey: Self.key(n)) == nil) }
        #expect(table.map(\.key) == order)
        #expect(Dictionary(uniqueKeysWithValues: table.map { ($0.key, $0.value) }) == simple)
    }

    @Test("tables with the same entries are equal whatever the order they were added in; a differing entry is not")
    func equality() {
        var forward = TrackedTable(), backward = TrackedTable()
        for n in 0..<100 { forward[Self.key(n)] = Self.entry(n) }
        for n in (0..<100).reversed() { backward[Self.key(n)] = Self.entry(n) }
        #expect(forward == backward)
        backward[Self.key(50)] = Self.entry(51)
        #expect(forward != backward)
        var shorter = TrackedTable()
        for n in 0..<99 { shorter[Self.key(n)] = Self.entry(n) }
        #expect(forward != shorter)
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

/// A tracked entry's packed fields against the values set, and its grants against an array.
struct TrackedPackingTests {
    @Test("a tracked entry takes 48 bytes")
    func size() {
        #expect(MemoryLayout<State.Tracked>.stride == 48)
    }

    @Test("seq, first seq, offset, status and account read back as set, in any order of setting",
          arguments: [(-1, 1, 1), (0, 5, 2), (1 << 40, 3_000_000_000, 2_000_000_000), ((1 << 47) - 1, 7, 7), (-(1 << 47), 9, 0)])
    func fields(offset: Int, seq: Int, firstSeq: Int) {
        for status in [EventStatus.applied, .duplicate, .unmatched] {
            var entry = State.Tracked(status: status, account: -1, seq: seq, offset: offset, firstSeq: firstSeq)
            entry.add(State.StoredGrant(at: -5, points: 20, activity: (1 << 14) - 2, course: -1))
            #expect(entry.seq == seq && entry.firstSeq == firstSeq && entry.offset == offset && entry.status == status)
            // A later line in force: its seq and offset change, the first seq stays.
            entry.seq = seq + 10
            entry.offset = 77
            entry.account = Int32.max
            entry.status = .applied
            #expect(entry.seq == seq + 10 && entry.firstSeq == firstSeq && entry.offset == 77 && entry.account == .max)
            #expect(entry.status == .applied && entry.grants.map(\.activity) == [(1 << 14) - 2])
        }
        #expect(State.Tracked(checking: .applied, account: 0, seq: 3_000_000_000, offset: 0, firstSeq: 1) == nil)
        #expect(State.Tracked(checking: .applied, account: 0, seq: 1, offset: 1 << 47, firstSeq: 1) == nil)
    }

    @Test("grants come back in the order granted, those too wide for the inline fields included")
    func grants() {
        let wide = [Int(Int32.max) + 1, Int(Int32.min) - 1]
        var entry = State.Tracked(status: .applied, account: 0, seq: 1, offset: 0, firstSeq: 1)
        var simple: [State.StoredGrant] = []
        var generator = SeededGenerator(state: 7)
        for n in 0..<400 {
            let random = Int(generator.next() % 1000)
            if random < 450 || simple.isEmpty {
                let points = random % 9 == 0 ? wide[random % 2] : random - 500
                let grant = State.StoredGrant(at: Int64(n), points: points, activity: random % 13 == 0 ? 20_000 : Int32(random % 3),
                                              course: Int32(random % 4) - 1)
                entry.add(grant)
                simple.append(grant)
            } else {
                let wanted = simple[random % simple.count]
                let taken = entry.take { $0 == wanted }
                #expect(taken == wanted)
                simple.remove(at: simple.firstIndex(of: wanted)!)
            }
            #expect(entry.grants == simple && entry.grantCount == simple.count && entry.hasGrants == !simple.isEmpty)
            var each: [State.StoredGrant] = []
            entry.forEachGrant { each.append($0) }
            #expect(each == simple)
        }
        // Equal by what they hold, however it is stored.
        var other = State.Tracked(status: .applied, account: 0, seq: 1, offset: 0, firstSeq: 1)
        for grant in simple { other.add(grant) }
        #expect(other == entry)
    }
}
