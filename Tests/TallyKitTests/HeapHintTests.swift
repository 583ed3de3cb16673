import Foundation
import Testing
@testable import TallyKit

/// `HeapHint` reads where a string's or an array's storage is from the value's words, to
/// ask for those lines ahead of time. A wrong guess breaks nothing (it is only prefetched),
/// but it would silently lose the hint: these tests fail when the standard library's layout
/// stops being the one `HeapHint` reads.
struct HeapHintTests {
    /// Where the string's bytes really are, when it has contiguous storage.
    static func realBytes(_ string: String) -> UnsafeRawPointer? {
        string.utf8.withContiguousStorageIfAvailable { UnsafeRawPointer($0.baseAddress) } ?? nil
    }

    @Test("a native string's bytes are where its words say, at every length and in any script")
    func nativeStrings() {
        var strings: [String] = []
        for length in [16, 17, 23, 31, 32, 63, 64, 200, 5000] {
            strings.append(String(repeating: "a", count: length))
            strings.append(String(repeating: "é", count: length))
            strings.append(String(decoding: Array(repeating: UInt8(ascii: "x"), count: length), as: UTF8.self) + "@example.org")
        }
        strings.append("student\(Int.random(in: 1_000_000...9_999_999))@example.com")
        for string in strings {
            withUnsafePointer(to: string) { pointer in
                #expect(HeapHint.bytes(ofStringAt: UnsafeRawPointer(pointer)) == Self.realBytes(string),
                        "\(string.utf8.count) bytes")
            }
        }
    }

    @Test("small strings and literals have no storage to ask for")
    func noStorage() {
        let small = ["", "a", "abc@d.ef", String(repeating: "z", count: 15)]
        for string in small + ["a literal longer than fifteen bytes, kept in the binary"] {
            withUnsafePointer(to: string) { pointer in
                #expect(HeapHint.bytes(ofStringAt: UnsafeRawPointer(pointer)) == nil, "\(string)")
            }
        }
        let none: String? = nil
        withUnsafePointer(to: none) { pointer in
            #expect(HeapHint.bytes(ofStringAt: UnsafeRawPointer(pointer)) == nil)
        }
    }

    @Test("an array's elements start 32 bytes into the storage its word points at")
    func arrays() {
        for count in [1, 2, 7, 100, 10_000] {
            let numbers = (0..<count).map { Int32($0) }
            let real = numbers.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress!) }
            withUnsafePointer(to: numbers) { pointer in
                #expect(HeapHint.storage(ofArrayAt: UnsafeRawPointer(pointer)).map { $0 + 32 } == real, "\(count)")
            }
        }
    }

    @Test("an account's latest name, courses and months are found from where the account lies")
    func accountFields() throws {
        var account = State.Account()
        account.latestName = "A Student With A Long Name \(Int.random(in: 0...999))"
        for course in 0..<12 as Range<Int32> {
            account.courses.list(course)
            account.courses[course] = course * 3
        }
        account.addToMonth(20, at: Timestamp(milliseconds: 1_700_000_000_000))
        let offsets = try #require(State.Account.heapOffsets)
        let name = Self.realBytes(account.latestName!)
        let courses = account.courses.entries.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress!) }
        let months = account.months.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress!) }
        withUnsafePointer(to: account) { pointer in
            let base = UnsafeRawPointer(pointer)
            #expect(HeapHint.bytes(ofStringAt: base + offsets.latestName) == name)
            #expect(HeapHint.storage(ofArrayAt: base + offsets.courses).map { $0 + 32 } == courses)
            #expect(HeapHint.storage(ofArrayAt: base + offsets.months).map { $0 + 32 } == months)
        }
    }

    @Test("a row's hints are the readings 8, 4 and 2 rows on, none past the batch, for a row not read or without a hash")
    func laneHints() {
        func reading(_ number: Int) -> PreparedLane.Reading {
            PreparedLane.Reading(key: (UInt64(number), UInt64(number) << 1), at: Timestamp(milliseconds: 0), email: 0..<0,
                                 name: nil, course: 0..<0, certificate: nil, emailHash: UInt64(number) * 7)
        }
        var readings: [PreparedLane.Reading?] = (0..<20).map { reading($0) }
        readings[12] = nil
        let first = PreparedLane.hints(after: 0, in: readings)
        #expect(first.far?.high == 8 && first.middle?.high == 4 && first.near?.high == 2)
        #expect(first.near?.low == 4 && first.near?.emailHash == 14)
        readings[17]?.emailHash = nil
        let eighth = PreparedLane.hints(after: 8, in: readings)
        #expect(eighth.middle == nil, "row 12 was not read by the lane")
        #expect(eighth.far?.high == 16 && eighth.near?.high == 10)
        let late = PreparedLane.hints(after: 15, in: readings)
        #expect(late.far == nil && late.middle?.high == 19)
        #expect(late.near == nil, "row 17's email is not ASCII: no hash, no hint")
        #expect(PreparedLane.hints(after: 18, in: readings).near == nil)
    }
}
