import Testing
@testable import TallyKit

/// The accounts' own hash table against a `[String: Int]` doing the same work.
struct AccountTableTests {
    @Test("finding, adding and remembering give the indices a dictionary gives, through growth")
    func sameAsDictionary() {
        var table = AccountTable(), simple: [String: Int] = [:]
        // Ids of equal length that differ late, an empty id, non-ASCII and decomposed ones.
        var ids = (0..<3000).map { "student\(String(format: "%06d", $0))@school.example.org" }
        ids += ["", "é@x.org", "e\u{301}@x.org", "Z"]
        for (n, id) in ids.enumerated() {
            #expect(table.index(of: id) == simple[id], "\(id)")
            if n % 2 == 0 {
                let index = table.findOrAdd(id)
                if simple[id] == nil { simple[id] = simple.count }
                #expect(index == simple[id])
            } else {
                table.append(id, State.Account())
                simple[id] = simple.count
            }
            // Earlier students again, found by `find` and `findOrAdd` alike.
            let earlier = ids[n / 3]
            #expect(table.find(earlier) == simple[earlier])
            if simple[earlier] != nil { #expect(table.findOrAdd(earlier) == simple[earlier]) }
        }
        #expect(table.count == simple.count)
        for (id, index) in simple { #expect(table.index(of: id) == index && table.ids[index] == id) }
        #expect(table.index(of: "nobody@example.org") == nil)
        var copy = table
        #expect(copy.find("nobody@example.org") == nil)
        #expect(copy == table)
    }

    @Test("a decomposed and a precomposed id are one student, as String equality says")
    func canonicalEquivalence() {
        var table = AccountTable()
        let first = table.findOrAdd("Jos\u{E9}@example.org")
        #expect(table.findOrAdd("Jose\u{301}@example.org") == first)
        #expect(table.count == 1)
    }

    @Test("an account earns a badge in place exactly when its figures made whole do (Scoring.earns)")
    func earnsInPlace() {
        var names = NumberedNames()
        let spellings = ["Caf\u{E9} 101", "AI 1", "AI 2", "Data", "Ethics"]
        for name in spellings { _ = names.number(for: name) }
        let badges: [Rules.Badge] = [
            .init(id: "one", name: "One", completions: 1), .init(id: "three", name: "Three", completions: 3),
            .init(id: "ai", name: "AI", courses: ["AI 1", "AI 2"]), .init(id: "cafe", name: "Cafe", courses: ["Cafe\u{301} 101"]),
            .init(id: "both", name: "Both", completions: 2, courses: ["Data"]), .init(id: "none", name: "None"),
            .init(id: "unknown", name: "Unknown", courses: ["Never met"]),
        ]
        var generator = SeededGenerator(state: 3)
        for _ in 0..<500 {
            var account = State.Account()
            for _ in 0..<Int.random(in: 0...5, using: &generator) {
                account.courses.list(Int32.random(in: 0..<Int32(spellings.count), using: &generator))
            }
            // A course only completed (moved away from the list) does not count.
            if Bool.random(using: &generator) { account.courses[4] = 9 }
            account.badges = badges.map(\.id).filter { _ in Int.random(in: 0..<4, using: &generator) == 0 }
            let figures = account.figures(names)
            for badge in badges { #expect(account.earns(badge, names) == Scoring.earns(badge, figures), "\(badge.id)") }
        }
    }
}

import Foundation
