import Foundation
import Testing
@testable import TallyKit

/// `State.Account`'s out-of-line fields (badges, unlocks, quizzes passed) and its 32-bit
/// count, against a plain struct holding the same figures.
struct AccountTests {
    /// The figures `==` compares, held plainly.
    struct Plain: Equatable {
        var xp = 0, reachedAt = 0, applied = 0
        var latestName: String?
        var badges: [String] = [], unlocks: [String] = []
        var passed: [String: EventKey] = [:]
    }

    static func plain(_ account: State.Account) -> Plain {
        Plain(xp: account.xp, reachedAt: account.reachedAt, applied: account.applied, latestName: account.latestName,
              badges: account.badges, unlocks: account.unlocks, passed: account.passed)
    }

    @Test("an account takes 64 bytes")
    func size() {
        #expect(MemoryLayout<State.Account>.stride == 64, "stride \(MemoryLayout<State.Account>.stride)")
    }

    @Test("accounts are equal exactly when their figures are, with or without badges, unlocks and quizzes, however they came",
          arguments: [1, 2, 3] as [UInt64])
    func equalityAgainstPlain(seed: UInt64) {
        var generator = SeededGenerator(state: seed)
        var accounts: [State.Account] = [], plains: [Plain] = []
        for _ in 0..<40 {
            var account = State.Account(), plain = Plain()
            // A few changes each, from a small set of values, so that many pairs end up equal.
            for _ in 0..<Int(generator.next() % 6) {
                let value = Int(generator.next() % 3)
                switch generator.next() % 9 {
                case 0: account.xp += value; plain.xp += value
                case 1: account.applied = value; plain.applied = value
                case 2: account.latestName = value == 0 ? nil : "N\(value)"; plain.latestName = account.latestName
                case 3:
                    if !account.badges.contains("b\(value)") { account.badges.append("b\(value)"); plain.badges.append("b\(value)") }
                case 4: account.unlocks.append("u\(value)"); plain.unlocks.append("u\(value)")
                case 5: account.passed["q\(value)"] = .text("e\(value)"); plain.passed["q\(value)"] = .text("e\(value)")
                case 6: account.passed["q\(value)"] = nil; plain.passed["q\(value)"] = nil
                case 7: account.unlocks.removeAll(); plain.unlocks.removeAll()
                default: account.badges.removeAll(); plain.badges.removeAll()
                }
                #expect(Self.plain(account) == plain)
            }
            account.emailEntry = Int32(generator.next() % 5) - 1   // a cache: never compared
            accounts.append(account)
            plains.append(plain)
        }
        var equalPairs = 0, withRare = 0
        for i in accounts.indices {
            if !plains[i].badges.isEmpty || !plains[i].unlocks.isEmpty || !plains[i].passed.isEmpty { withRare += 1 }
            for j in accounts.indices {
                #expect((accounts[i] == accounts[j]) == (plains[i] == plains[j]), "\(plains[i]) against \(plains[j])")
                if i != j && plains[i] == plains[j] { equalPairs += 1 }
            }
        }
        #expect(equalPairs > 0 && withRare > 0 && withRare < accounts.count)
    }

    @Test("an account's months are what [MonthPoints].add makes of the same awards, in as little room as they take",
          arguments: [4, 5, 6] as [UInt64])
    func months(seed: UInt64) {
        var generator = SeededGenerator(state: seed)
        var account = State.Account(), plain: [MonthPoints] = []
        let start = Timestamp(year: 2024, month: 1, day: 1, hour: 0)!
        for _ in 0..<400 {
            // Mostly in time order, some earlier; now and then nothing, or a month netted to nothing.
            let days = Int64(generator.next() % 400), random = Int(generator.next() % 10)
            let at = Timestamp(milliseconds: start.milliseconds + days * 86_400_000)
            let points = random == 0 ? 0 : random == 1 ? -plain.points(in: Month(at)) : random * 5 - 20
            account.addToMonth(points, at: at)
            plain.add(points, at: at)
            #expect(account.months == plain)
        }
        // Months added one by one: room for each as it comes, not for twice as many.
        var growing = State.Account()
        for month in 0..<10 {
            growing.addToMonth(20, at: Timestamp(milliseconds: start.milliseconds + Int64(month) * 31 * 86_400_000))
            #expect(growing.months.count == month + 1 && growing.months.capacity <= month + 2)
        }
    }

    @Test("a copy of an account changes apart from the original: badges, unlocks and quizzes are copied on write")
    func copyOnWrite() {
        var original = State.Account()
        original.badges = ["first"]
        original.unlocks = ["step-1"]
        original.passed["Quiz 1"] = .text("e1")
        var copy = original
        copy.badges.append("second")
        copy.unlocks = []
        copy.passed["Quiz 2"] = .text("e2")
        #expect(original.badges == ["first"] && original.unlocks == ["step-1"] && original.passed == ["Quiz 1": .text("e1")])
        #expect(copy.badges == ["first", "second"] && copy.unlocks.isEmpty && copy.passed.count == 2)
        #expect(copy != original)
        var list = [original, original]
        list[1].passed["Quiz 1"] = nil
        list[1].badges.removeAll()
        list[1].unlocks.removeAll()
        #expect(list[0] == original && list[1] == State.Account())
    }

    @Test("the count of applied events holds what the fold can reach, and index.bin refuses one beyond it")
    func appliedBounds() throws {
        var state = State()
        let index = state.accounts.findOrAdd("s@example.org")
        state.accounts.list[index].applied = Int(Int32.max)
        state.accounts.list[index].applied -= 1
        state.accounts.list[index].applied += 1
        #expect(state.accounts.list[index].applied == Int(Int32.max))
        let bytes = Snapshot.encodeIndex(state)
        #expect(try Snapshot.decodeIndex(bytes) == state)
        // The same count plus one, written where it stands (zigzag varints of one length).
        func varint(_ value: UInt64) -> [UInt8] {
            var value = value, bytes: [UInt8] = []
            while value >= 0x80 { bytes.append(UInt8(truncatingIfNeeded: value) | 0x80); value >>= 7 }
            return bytes + [UInt8(value)]
        }
        let stored = varint(UInt64(Int32.max) * 2), beyond = varint((UInt64(Int32.max) + 1) * 2)
        #expect(stored.count == beyond.count)
        let at = try #require((0...(bytes.count - stored.count)).first { Array(bytes[$0..<($0 + stored.count)]) == stored })
        var damaged = bytes
        damaged.replaceSubrange(at..<(at + stored.count), with: beyond)
        #expect(throws: RecordError.self) { try Snapshot.decodeIndex(damaged) }
    }
}
