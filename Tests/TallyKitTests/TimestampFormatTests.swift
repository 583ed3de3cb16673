import Testing
@testable import TallyKit

/// Ledger lines write times through `Timestamp.withISO8601`, two digits at a time; it must
/// write what the digit-by-digit way wrote, for any time.
struct TimestampFormatTests {
    /// The way it was written before: each field digit by digit, a year past 9999 whole.
    static func digitwise(_ time: Timestamp) -> String {
        let ms = ((time.milliseconds % 1000) + 1000) % 1000
        let totalSeconds = (time.milliseconds - ms) / 1000
        var days = totalSeconds / 86_400
        var secs = totalSeconds % 86_400
        if secs < 0 { secs += 86_400; days -= 1 }
        let (y, m, d) = Timestamp.civilFromDays(days)
        func digits(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var text = "\(digits(max(y, 0), 4))-\(digits(m, 2))-\(digits(d, 2))T"
        text += "\(digits(Int(secs / 3600), 2)):\(digits(Int(secs / 60 % 60), 2)):\(digits(Int(secs % 60), 2))"
        if ms != 0 { text += "." + digits(Int(ms), 3) }
        return text + "Z"
    }

    @Test("times in every era, on whole seconds or not, are written as before")
    func sameAsDigitwise() {
        var generator = SystemRandomNumberGenerator()
        let year10000: Int64 = 253_402_300_800_000
        var times: [Int64] = [0, -1, 1, 999, 1000, -1000, -62_167_219_200_000, year10000 - 1, year10000, year10000 + 86_399_999,
                              1_725_278_400_000, 1_725_278_400_007, 1_725_278_400_070, 1_725_278_400_700]
        for _ in 0..<20_000 { times.append(Int64.random(in: -70_000_000_000_000...400_000_000_000_000, using: &generator)) }
        for _ in 0..<2_000 { times.append(Int64.random(in: 1_600_000_000_000...1_800_000_000_000, using: &generator) / 1000 * 1000) }
        for milliseconds in times {
            let time = Timestamp(milliseconds: milliseconds)
            #expect(time.iso8601 == Self.digitwise(time), "\(milliseconds)")
        }
        #expect(Timestamp(milliseconds: 1_725_278_400_007).iso8601 == "2024-09-02T12:00:00.007Z")
        #expect(Timestamp(milliseconds: year10000).iso8601 == "10000-01-01T00:00:00Z")
    }
}
