/// A point in time, in whole milliseconds since 1970-01-01T00:00:00Z.
///
/// Tally keeps its own tiny time type instead of `Foundation.Date` so that the hot path
/// (one timestamp per row of a million-row export) never goes through a `DateFormatter`,
/// and so that ledger lines print the same text on every machine.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// The instant of a civil UTC date and time; `nil` when a field is out of range.
    public init?(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0,
                 millisecond: Int = 0, offsetSeconds: Int = 0) {
        guard (1...12).contains(month), (1...Timestamp.daysIn(month: month, year: year)).contains(day),
              (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
              (0...999).contains(millisecond), (1...9999).contains(year)
        else { return nil }
        let days = Timestamp.daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offsetSeconds)
        self.milliseconds = seconds * 1000 + Int64(millisecond)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.milliseconds < b.milliseconds }

    /// The current time of the system clock.
    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(milliseconds: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }

    /// ISO 8601 in UTC: `2024-09-02T10:30:00Z`, with `.123` only when there are milliseconds.
    /// Built in a fixed byte buffer: it runs twice for every event a big export yields.
    public var iso8601: String {
        withISO8601 { String(decoding: $0, as: UTF8.self) }
    }

    /// Hands `body` the ISO 8601 bytes, built on the stack (ledger lines write them as they are).
    ///
    /// Two digits at a time, each pair by a division by ten (a multiplication, for a
    /// constant): a ledger line has one or two times, and digit by digit, through divisors
    /// computed at run time, they were a fifth of the encoder's thread.
    public func withISO8601<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let ms = Int(((milliseconds % 1000) + 1000) % 1000)
        let totalSeconds = (milliseconds - Int64(ms)) / 1000
        var days = totalSeconds / 86_400
        var secs = Int(totalSeconds % 86_400)
        if secs < 0 { secs += 86_400; days -= 1 }
        let (y, m, d) = Timestamp.civilFromDays(days)
        let year = max(y, 0)
        guard year <= 9999 else { return withWideISO8601(year: year, month: m, day: d, seconds: secs, ms: ms, body) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
            func two(_ value: Int, at index: Int) {
                buffer[index] = UInt8(truncatingIfNeeded: 48 + value / 10)
                buffer[index + 1] = UInt8(truncatingIfNeeded: 48 + value % 10)
            }
            two(year / 100, at: 0); two(year % 100, at: 2); buffer[4] = UInt8(ascii: "-")
            two(m, at: 5); buffer[7] = UInt8(ascii: "-"); two(d, at: 8); buffer[10] = UInt8(ascii: "T")
            two(secs / 3600, at: 11); buffer[13] = UInt8(ascii: ":"); two(secs / 60 % 60, at: 14)
            buffer[16] = UInt8(ascii: ":"); two(secs % 60, at: 17)
            var count = 19
            if ms != 0 {
                buffer[19] = UInt8(ascii: "."); buffer[20] = UInt8(truncatingIfNeeded: 48 + ms / 100); two(ms % 100, at: 21)
                count = 23
            }
            buffer[count] = UInt8(ascii: "Z")
            return body(UnsafeBufferPointer(rebasing: buffer[0...count]))
        }
    }

    /// `withISO8601` for a year past 9999 (which no parsed date gives): the year written whole.
    private func withWideISO8601<R>(year: Int, month: Int, day: Int, seconds: Int, ms: Int,
                                    _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        func two(_ value: Int) -> String { value < 10 ? "0" + String(value) : String(value) }
        var text = "\(year)-\(two(month))-\(two(day))T\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))"
        if ms != 0 { text += "." + (ms < 100 ? "0" : "") + two(ms) }
        text += "Z"
        return text.withUTF8(body)
    }

    /// The UTC calendar date, as `(year, month, day)`.
    public var civilDate: (year: Int, month: Int, day: Int) {
        var days = milliseconds / 86_400_000
        if milliseconds % 86_400_000 < 0 { days -= 1 }
        return Timestamp.civilFromDays(days)
    }

    public var description: String { iso8601 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days: exact for the proleptic Gregorian calendar.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64((month + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int64) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (Int(y), Int(m), Int(d))
    }
}


#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
