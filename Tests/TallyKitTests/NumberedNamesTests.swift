import Testing
@testable import TallyKit

/// Course numbers and the completed courses kept by number, against the dictionaries keyed
/// by name that they replace.
struct NumberedNamesTests {
    /// Names that differ late, an empty one, non-ASCII ones and a canonically equal pair.
    static let names: [String] = (0..<300).map { "Course \($0): Practical Skills for Teams" }
        + ["", "Café", "Cafe\u{301}", "日本語の講座", "Z"]

    @Test("numbers by String and by bytes are those a [String: Int] dictionary gives, through growth")
    func sameAsDictionary() {
        var courses = NumberedNames(), simple: [String: Int32] = [:]
        for (n, name) in Self.names.enumerated() {
            #expect(courses.number(of: name) == simple[name], "\(name)")
            let number: Int32
            if n % 2 == 0 {
                number = courses.number(for: name)
            } else {
                number = Array(name.utf8).withUnsafeBytes { courses.number(forBytes: $0) }
            }
            if simple[name] == nil { simple[name] = Int32(simple.count) }
            #expect(number == simple[name], "\(name)")
            // An earlier name again, found both ways.
            let earlier = Self.names[n / 3]
            #expect(courses.number(of: earlier) == simple[earlier])
            #expect(Array(earlier.utf8).withUnsafeBytes { courses.number(forBytes: $0) } == simple[earlier])
        }
        #expect(courses.count == simple.count && courses.count == Self.names.count - 1)
        for (name, number) in simple { #expect(courses.number(of: name) == number && courses[number] == name) }
        #expect(courses.number(of: "No such course") == nil)
    }

    @Test("two names whose hashes agree on the slot and the stored half are still told apart by their bytes")
    func hashCollision() {
        // Names of one length until two share the top half of their hash and its low four
        // bits (a table of sixteen slots): the second probe then meets the first's slot.
        var seen: [UInt64: String] = [:], pair: (String, String)?
        for number in 0..<4_000_000 {
            let name = "Course \(1_000_000_000 + number)"
            let hash = name.utf8.withContiguousStorageIfAvailable { TextInterner.hash(UnsafeRawBufferPointer($0)) }!
            let key = (hash >> 32) << 4 | hash & 15
            if let other = seen[key] { pair = (other, name); break }
            seen[key] = name
        }
        guard let (first, second) = pair else { Issue.record("no colliding pair found"); return }
        var courses = NumberedNames()
        #expect(courses.number(for: first) == 0)
        #expect(courses.number(for: second) == 1)
        for (name, number) in [(first, Int32(0)), (second, 1)] {
            #expect(courses.number(of: name) == number)
            #expect(Array(name.utf8).withUnsafeBytes { courses.number(forBytes: $0) } == number)
        }
    }

    @Test("a decomposed spelling is the course its precomposed twin is, and keeps the first spelling")
    func canonicalEquivalence() {
        var courses = NumberedNames()
        let first = courses.number(for: "Caf\u{E9}")
        let decomposed = Array("Cafe\u{301}".utf8)
        #expect(decomposed.withUnsafeBytes { courses.number(forBytes: $0) } == first)
        #expect(courses.number(of: "Cafe\u{301}") == first && courses.count == 1)
        #expect(courses[first].unicodeScalars.count == 4)
    }

    @Test("bytes that are not UTF-8 name the course String(decoding:) names")
    func invalidBytes() {
        var courses = NumberedNames()
        let bytes: [UInt8] = [0x43, 0xFF, 0x6F]
        let decoded = String(decoding: bytes, as: UTF8.self)
        let number = courses.number(for: decoded)
        #expect(bytes.withUnsafeBytes { courses.number(forBytes: $0) } == number)
        #expect(courses.count == 1 && courses[number] == "C\u{FFFD}o")
    }

    @Test("names read back in order keep their numbers, and a name listed twice is refused")
    func fromList() {
        let listed = ["Course B", "Course A", "Caf\u{E9}"]
        let courses = NumberedNames(listed)
        #expect(courses?.names == listed)
        #expect(courses?.number(of: "Course A") == 1)
        #expect(NumberedNames(["Course A", "Course B", "Course A"]) == nil)
        #expect(NumberedNames(["Caf\u{E9}", "Cafe\u{301}"]) == nil)
    }

    @Test("listed and completed courses kept as one list answer as an array and a dictionary kept apart, and read back")
    func listedAndCompleted() {
        var keys = CourseKeys(), listed: [Int32] = [], completed: [Int32: Int32] = [:]
        var generator = SeededGenerator(state: 5)
        for step in 0..<3_000 {
            let course = Int32.random(in: 0..<9, using: &generator)
            switch Int.random(in: 0..<4, using: &generator) {
            case 0:   // an award with its course (the fold of points.jsonl)
                keys.list(course)
                if !listed.contains(course) { listed.append(course) }
            case 1:   // a revoke of it
                keys.unlist(course)
                listed.removeAll { $0 == course }
            case 2:   // a completion applied
                keys[course] = Int32(step)
                completed[course] = Int32(step)
            default:  // a completion moved away
                keys[course] = nil
                completed[course] = nil
            }
            #expect(keys.listed == listed && keys.listedCount == listed.count && keys.count == completed.count)
            for number in Int32(0)..<9 {
                #expect(keys[number] == completed[number] && keys.contains(number) == (completed[number] != nil))
                #expect(keys.lists(number) == listed.contains(number))
            }
            // As index.bin writes and reads them back.
            var loaded = CourseKeys()
            for entry in keys.entries {
                let added = loaded.appendLoaded(course: entry.course, listed: entry.isListed, event: entry.event)
                #expect(added)
            }
            #expect(loaded == keys && loaded.entries == keys.entries)
        }
        // What no state holds is refused: a course twice, listed after one that is not, neither.
        var damaged = CourseKeys()
        let fine = [damaged.appendLoaded(course: 1, listed: true, event: -1), damaged.appendLoaded(course: 2, listed: false, event: 3)]
        let refused = [damaged.appendLoaded(course: 1, listed: false, event: 4), damaged.appendLoaded(course: 3, listed: true, event: 4),
                       damaged.appendLoaded(course: 4, listed: false, event: -1)]
        #expect(fine == [true, true] && refused == [false, false, false])
        // Equal as lists: the same courses in another order are not.
        var one = CourseKeys(), other = CourseKeys()
        one.list(1)
        one.list(2)
        other.list(2)
        other.list(1)
        #expect(one != other)
    }

    @Test("completed courses by number set, read and forget as a dictionary does; equal in any order")
    func courseKeys() {
        var keys = CourseKeys(), simple: [Int32: Int32] = [:]
        var generator = SeededGenerator(state: 11)
        for step in 0..<2_000 {
            let course = Int32.random(in: 0..<12, using: &generator)
            let event: Int32? = Int.random(in: 0..<4, using: &generator) == 0 ? nil : Int32(step)
            keys[course] = event
            simple[course] = event
            #expect(keys.count == simple.count)
            for number in Int32(0)..<12 {
                #expect(keys[number] == simple[number] && keys.contains(number) == (simple[number] != nil))
            }
        }
        var reversed = CourseKeys()
        for entry in keys.entries.reversed() { reversed[entry.course] = entry.event }
        #expect(reversed == keys)
        if let some = keys.entries.first {
            reversed[some.course] = -5
            #expect(reversed != keys)
        }
    }

    /// A tracked table holding `ids` in this order.
    static func tracked(_ ids: [String]) -> TrackedTable {
        var table = TrackedTable()
        for (n, id) in ids.enumerated() {
            table.set(State.Tracked(status: .applied, account: 0, seq: n + 1, offset: -1, firstSeq: n + 1),
                      for: .text(id), at: nil)
        }
        return table
    }

    @Test("two states' completed courses and emails' events compare by name and id, each numbered its own way")
    func sameAcrossNumberings() {
        var one = NumberedNames(), other = NumberedNames()
        let a1 = one.number(for: "A"), b1 = one.number(for: "B")
        let b2 = other.number(for: "B"), a2 = other.number(for: "A")
        #expect(a1 != a2)
        let mine = State.Numbering(courses: one, activities: NumberedNames(), tracked: Self.tracked(["e1", "e2", "e3"]))
        let theirs = State.Numbering(courses: other, activities: NumberedNames(), tracked: Self.tracked(["e3", "e2", "e1"]))
        var my = CourseKeys(), their = CourseKeys()
        my[a1] = 0     // e1
        my[b1] = 1     // e2
        their[b2] = 1  // e2
        their[a2] = 2  // e1
        #expect(my.same(as: their, mine, theirs))
        #expect(my != their)   // by number they differ: `==` is for one numbering
        their[a2] = 0  // e3
        #expect(!my.same(as: their, mine, theirs))
        their[a2] = nil
        #expect(!my.same(as: their, mine, theirs))

        var table = AccountTable(), otherTable = AccountTable()
        table.list[table.findOrAdd("s@example.org")].courses = my
        otherTable.list[otherTable.findOrAdd("s@example.org")].courses[b2] = 1
        otherTable.list[otherTable.findOrAdd("s@example.org")].courses[a2] = 2
        #expect(table.same(as: otherTable, mine, theirs))
        #expect(!table.same(as: otherTable, mine, mine))

        // An email's events are filed in the order each state tracks them, so by number
        // they are in ascending order on both sides.
        var emails = EmailEvents(), otherEmails = EmailEvents()
        emails.file(0, under: "s@example.org")        // e1
        emails.file(1, under: "t@example.org")        // e2
        otherEmails.file(1, under: "t@example.org")   // e2
        otherEmails.file(2, under: "s@example.org")   // e1
        #expect(emails.same(as: otherEmails, mine, theirs) && emails["s@example.org"] != otherEmails["s@example.org"])
        var more = emails
        more.file(2, under: "s@example.org")          // e1, e3
        #expect(!more.same(as: otherEmails, mine, theirs))
        var swapped = EmailEvents()
        swapped.file(0, under: "s@example.org")       // e3
        swapped.file(1, under: "t@example.org")
        swapped.file(2, under: "s@example.org")       // e1: the other order
        #expect(!more.same(as: swapped, mine, theirs))
    }

    @Test("two tracked events' grants compare by activity and course name, each numbered its own way")
    func grantsAcrossNumberings() {
        var courses = NumberedNames(), otherCourses = NumberedNames()
        var activities = NumberedNames(), otherActivities = NumberedNames()
        let a1 = courses.number(for: "A"), b1 = courses.number(for: "B")
        let b2 = otherCourses.number(for: "B"), a2 = otherCourses.number(for: "A")
        let learn1 = activities.number(for: "LEARN"), bonus1 = activities.number(for: "BONUS")
        let bonus2 = otherActivities.number(for: "BONUS"), learn2 = otherActivities.number(for: "LEARN")
        #expect(a1 != a2 && learn1 != learn2)
        let mine = State.Numbering(courses: courses, activities: activities, tracked: Self.tracked(["e1"]))
        let theirs = State.Numbering(courses: otherCourses, activities: otherActivities, tracked: Self.tracked(["e1"]))
        // Event e1, entry 0 of each table, with the same grants numbered each way.
        var my = Self.tracked(["e1"]), their = my
        my.add(State.StoredGrant(at: 5, points: 20, activity: learn1, course: a1), to: 0)
        my.add(State.StoredGrant(at: 6, points: 3, activity: bonus1, course: -1), to: 0)
        their.add(State.StoredGrant(at: 5, points: 20, activity: learn2, course: a2), to: 0)
        their.add(State.StoredGrant(at: 6, points: 3, activity: bonus2, course: -1), to: 0)
        #expect(my.same(as: their, mine, theirs))
        #expect(my != their)   // by number they differ
        #expect(mine.grant(my.grants(of: 0)[0]) == State.Grant(at: Timestamp(milliseconds: 5), points: 20, activity: "LEARN",
                                                             course: "A"))

        var otherCourse = my
        otherCourse.takeGrant(from: 0) { $0.activity == learn1 }
        otherCourse.add(State.StoredGrant(at: 5, points: 20, activity: learn1, course: b1), to: 0)
        #expect(!otherCourse.same(as: their, mine, theirs))   // course B, and after the bonus
        var reordered = their
        let bonus = reordered.takeGrant(from: 0) { $0.activity == bonus2 }
        #expect(bonus?.points == 3 && reordered.grantCount(of: 0) == 1)
        #expect(!my.same(as: reordered, mine, theirs))
        reordered.add(State.StoredGrant(at: 6, points: 3, activity: bonus2, course: b2), to: 0)
        #expect(!my.same(as: reordered, mine, theirs))        // the bonus now with a course
        var taken = my
        #expect(taken.takeGrant(from: 0) { $0.points == 99 } == nil && taken.grantCount(of: 0) == 2)
        #expect(taken.takeGrant(from: 0) { _ in true }?.points == 20 && taken.takeGrant(from: 0) { _ in true }?.points == 3)
        #expect(taken.grantCount(of: 0) == 0 && taken.grants(of: 0).isEmpty)
    }
}
