import Testing
@testable import TallyKit

/// Course numbers and the completed courses kept by number, against the dictionaries keyed
/// by name that they replace.
struct CourseNamesTests {
    /// Names that differ late, an empty one, non-ASCII ones and a canonically equal pair.
    static let names: [String] = (0..<300).map { "Course \($0): Practical Skills for Teams" }
        + ["", "Café", "Cafe\u{301}", "日本語の講座", "Z"]

    @Test("numbers by String and by bytes are those a [String: Int] dictionary gives, through growth")
    func sameAsDictionary() {
        var courses = CourseNames(), simple: [String: Int32] = [:]
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

    @Test("a decomposed spelling is the course its precomposed twin is, and keeps the first spelling")
    func canonicalEquivalence() {
        var courses = CourseNames()
        let first = courses.number(for: "Caf\u{E9}")
        let decomposed = Array("Cafe\u{301}".utf8)
        #expect(decomposed.withUnsafeBytes { courses.number(forBytes: $0) } == first)
        #expect(courses.number(of: "Cafe\u{301}") == first && courses.count == 1)
        #expect(courses[first].unicodeScalars.count == 4)
    }

    @Test("bytes that are not UTF-8 name the course String(decoding:) names")
    func invalidBytes() {
        var courses = CourseNames()
        let bytes: [UInt8] = [0x43, 0xFF, 0x6F]
        let decoded = String(decoding: bytes, as: UTF8.self)
        let number = courses.number(for: decoded)
        #expect(bytes.withUnsafeBytes { courses.number(forBytes: $0) } == number)
        #expect(courses.count == 1 && courses[number] == "C\u{FFFD}o")
    }

    @Test("names read back in order keep their numbers, and a name listed twice is refused")
    func fromList() {
        let listed = ["Course B", "Course A", "Caf\u{E9}"]
        let courses = CourseNames(listed)
        #expect(courses?.names == listed)
        #expect(courses?.number(of: "Course A") == 1)
        #expect(CourseNames(["Course A", "Course B", "Course A"]) == nil)
        #expect(CourseNames(["Caf\u{E9}", "Cafe\u{301}"]) == nil)
    }

    @Test("completed courses by number set, read and forget as a dictionary does; equal in any order")
    func courseKeys() {
        var keys = CourseKeys(), simple: [Int32: EventKey] = [:]
        var generator = SeededGenerator(state: 11)
        for step in 0..<2_000 {
            let course = Int32.random(in: 0..<12, using: &generator)
            let key: EventKey? = Int.random(in: 0..<4, using: &generator) == 0 ? nil : .digest(UInt64(step), 7)
            keys[course] = key
            simple[course] = key
            #expect(keys.count == simple.count)
            for number in Int32(0)..<12 {
                #expect(keys[number] == simple[number] && keys.contains(number) == (simple[number] != nil))
            }
        }
        var reversed = CourseKeys()
        for entry in keys.entries.reversed() { reversed[entry.course] = entry.key }
        #expect(reversed == keys)
        if let some = keys.entries.first {
            reversed[some.course] = .text("other")
            #expect(reversed != keys)
        }
    }

    @Test("two states' completed courses compare by name, each numbered its own way")
    func sameAcrossNumberings() {
        var one = CourseNames(), other = CourseNames()
        let a1 = one.number(for: "A"), b1 = one.number(for: "B")
        let b2 = other.number(for: "B"), a2 = other.number(for: "A")
        #expect(a1 != a2)
        var mine = CourseKeys(), theirs = CourseKeys()
        mine[a1] = .text("e1")
        mine[b1] = .text("e2")
        theirs[b2] = .text("e2")
        theirs[a2] = .text("e1")
        #expect(mine.same(as: theirs, names: one, otherNames: other))
        #expect(mine != theirs)   // by number they differ: `==` is for one numbering
        theirs[a2] = .text("e3")
        #expect(!mine.same(as: theirs, names: one, otherNames: other))
        theirs[a2] = nil
        #expect(!mine.same(as: theirs, names: one, otherNames: other))

        var table = AccountTable(), otherTable = AccountTable()
        table.list[table.findOrAdd("s@example.org")].completed = mine
        otherTable.list[otherTable.findOrAdd("s@example.org")].completed[b2] = .text("e2")
        otherTable.list[otherTable.findOrAdd("s@example.org")].completed[a2] = .text("e1")
        #expect(table.same(as: otherTable, names: one, otherNames: other))
        #expect(!table.same(as: otherTable, names: one, otherNames: one))
    }
}
