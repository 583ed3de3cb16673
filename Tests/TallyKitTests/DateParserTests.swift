import Testing
import TallyKit

@Suite("DateParser")
struct DateParserTests {
    @Test("ISO 8601 and RFC 3339 forms", arguments: [
        ("2024-09-02", "2024-09-02T00:00:00Z"),
        ("2024-09-02T10:30:00Z", "2024-09-02T10:30:00Z"),
        ("2024-09-02t10:30:00z", "2024-09-02T10:30:00Z"),
        ("2024-09-02T10:30:00", "2024-09-02T10:30:00Z"),
        ("2024-09-02T10:30", "2024-09-02T10:30:00Z"),
        ("2024-09-02 10:30", "2024-09-02T10:30:00Z"),
        ("2024-09-02 10:30:00", "2024-09-02T10:30:00Z"),
        ("2024-09-02T10:30:00.123Z", "2024-09-02T10:30:00.123Z"),
        ("2024-09-02T10:30:00.5Z", "2024-09-02T10:30:00.500Z"),
        ("2024-09-02T10:30:00.123456789Z", "2024-09-02T10:30:00.123Z"),
        ("2024-09-02T10:30:00,25Z", "2024-09-02T10:30:00.250Z"),
        ("2024-9-2", "2024-09-02T00:00:00Z"),
        ("2024/09/02", "2024-09-02T00:00:00Z"),
        ("2024.09.02", "2024-09-02T00:00:00Z"),
    ])
    func iso(text: String, expected: String) {
        #expect(DateParser.parse(text)?.iso8601 == expected)
    }

    @Test("offsets and zone names move the instant to UTC", arguments: [
        ("2024-09-02T10:30:00+02:00", "2024-09-02T08:30:00Z"),
        ("2024-09-02T10:30:00-05:00", "2024-09-02T15:30:00Z"),
        ("2024-09-02T10:30:00-0500", "2024-09-02T15:30:00Z"),
        ("2024-09-02T10:30:00+05:30", "2024-09-02T05:00:00Z"),
        ("2024-09-02T10:30:00+02", "2024-09-02T08:30:00Z"),
        ("2024-09-02 10:30:00 -0700", "2024-09-02T17:30:00Z"),
        ("2024-09-02T00:30:00.250+01:00", "2024-09-01T23:30:00.250Z"),
        ("2024-09-02 10:30:00 UTC", "2024-09-02T10:30:00Z"),
        ("2024-09-02 10:30:00 GMT", "2024-09-02T10:30:00Z"),
        ("2024-09-02 10:30:00 Z", "2024-09-02T10:30:00Z"),
        ("2024-09-02 UTC", "2024-09-02T00:00:00Z"),
        ("2024-09-02 10:30:00 UTC+02:00", "2024-09-02T08:30:00Z"),
        ("2024/09/02 10:30:00 AM GMT+1", "2024-09-02T09:30:00Z"),
        ("2024/09/02 1:05:00 PM GMT-5", "2024-09-02T18:05:00Z"),
        ("2024/09/02 10:30:00 am gmt+0530", "2024-09-02T05:00:00Z"),
        ("2024/01/31 2:03:04 p.m. GMT-5", "2024-01-31T19:03:04Z"),
        ("2024/01/31 12:03:04 a.m. GMT", "2024-01-31T00:03:04Z"),
        ("1/31/2024 2:03:04 P.M.", "2024-01-31T14:03:04Z"),
    ])
    func offsets(text: String, expected: String) {
        #expect(DateParser.parse(text)?.iso8601 == expected)
    }

    @Test("slash dates with 24-hour and 12-hour times", arguments: [
        ("9/2/2024", "2024-09-02T00:00:00Z"),
        ("09/02/2024", "2024-09-02T00:00:00Z"),
        ("9/2/2024 10:30", "2024-09-02T10:30:00Z"),
        ("9/2/2024 10:30:00", "2024-09-02T10:30:00Z"),
        ("9/2/2024 7:05:09", "2024-09-02T07:05:09Z"),
        ("9/2/2024, 10:30:00", "2024-09-02T10:30:00Z"),
        ("09/02/2024 10:30:00 AM", "2024-09-02T10:30:00Z"),
        ("09/02/2024 10:30:00 PM", "2024-09-02T22:30:00Z"),
        ("09/02/2024 12:00:00 AM", "2024-09-02T00:00:00Z"),
        ("09/02/2024 12:15:00 PM", "2024-09-02T12:15:00Z"),
        ("9/2/2024 1:05 pm", "2024-09-02T13:05:00Z"),
        ("9/2/2024 1:05PM", "2024-09-02T13:05:00Z"),
        ("9/2/2024 1:05\u{202F}PM", "2024-09-02T13:05:00Z"),
        ("9/2/2024 10:30:00 UTC", "2024-09-02T10:30:00Z"),
        ("\u{FEFF} 9/2/2024 10:30:00\u{00A0}\r\n", "2024-09-02T10:30:00Z"),
    ])
    func slash(text: String, expected: String) {
        #expect(DateParser.parse(text)?.iso8601 == expected)
        #expect(DateParser.parse(text, order: .monthFirst)?.iso8601 == expected)
    }

    @Test("9/2/2024 10:30:00 is 2 September month-first and 9 February day-first")
    func order() {
        #expect(DateParser.parse("9/2/2024 10:30:00", order: .monthFirst)?.iso8601 == "2024-09-02T10:30:00Z")
        #expect(DateParser.parse("9/2/2024 10:30:00", order: .dayFirst)?.iso8601 == "2024-02-09T10:30:00Z")
        #expect(DateParser.parse("13/2/2024", order: .dayFirst)?.iso8601 == "2024-02-13T00:00:00Z")
        #expect(DateParser.parse("13/2/2024", order: .monthFirst) == nil)
    }

    @Test("dotted dates are day first, whatever the order", arguments: [DateOrder.monthFirst, .dayFirst])
    func dotted(order: DateOrder) {
        #expect(DateParser.parse("02.09.2024", order: order)?.iso8601 == "2024-09-02T00:00:00Z")
        #expect(DateParser.parse("02.09.2024 10:30", order: order)?.iso8601 == "2024-09-02T10:30:00Z")
        #expect(DateParser.parse("2.9.2024, 10:30:15", order: order)?.iso8601 == "2024-09-02T10:30:15Z")
    }

    @Test("year-first dates ignore the order", arguments: [DateOrder.monthFirst, .dayFirst])
    func yearFirst(order: DateOrder) {
        #expect(DateParser.parse("2024-09-02", order: order)?.iso8601 == "2024-09-02T00:00:00Z")
        #expect(DateParser.parse("2024/09/02 10:30:00", order: order)?.iso8601 == "2024-09-02T10:30:00Z")
    }

    @Test("two-digit years: 00-69 are 20xx, 70-99 are 19xx", arguments: [
        ("9/2/24", "2024-09-02T00:00:00Z"),
        ("9/2/24 10:30", "2024-09-02T10:30:00Z"),
        ("02.09.24", "2024-09-02T00:00:00Z"),
        ("1/1/00", "2000-01-01T00:00:00Z"),
        ("12/31/69", "2069-12-31T00:00:00Z"),
        ("1/1/70", "1970-01-01T00:00:00Z"),
        ("12/31/99", "1999-12-31T00:00:00Z"),
    ])
    func twoDigitYears(text: String, expected: String) {
        #expect(DateParser.parse(text)?.iso8601 == expected)
    }

    @Test("leap days exist only in leap years", arguments: [
        ("2024-02-29", true), ("2023-02-29", false), ("2000-02-29", true), ("1900-02-29", false),
        ("2/29/2024", true), ("29.02.2023", false),
    ])
    func leapDays(text: String, valid: Bool) {
        #expect((DateParser.parse(text) != nil) == valid)
    }

    @Test("what is not a date, or not a real one, is nil", arguments: [
        "", "   ", "yesterday", "Sep 2, 2024", "2 September 2024",
        "31/02/2024", "2/31/2024", "2024-02-30", "2024-13-01", "2024-00-10", "2024-09-00", "0000-01-01",
        "13/13/2024", "9/2/2024 24:00", "9/2/2024 10:60", "9/2/2024 10:30:61", "9/2/2024 10",
        "9/2/2024 10:3", "9/2/2024 13:00 PM", "9/2/2024 0:30 AM", "9/2/2024 AM",
        "2024-09-02T", "2024-09-02T10:30:00.Z", "2024-09-02T10:30:00+", "2024-09-02T10:30:00+02:",
        "2024-09-02T10:30:00+24:00", "2024-09-02T10:30:00+02:60", "2024-09-02T10:30:00 PST",
        "2024-09-02 10:30:00 extra", "9/2/2024,", "02-09-2024", "9-2-2024", "9/2/202", "9/2/20245",
        "9/2.2024", "2024-09/02", "20240902", "45537", "45537.4375", "2024",
        "123/2/2024", "9//2024", "2024-09-02T10:30:00ZZ",
    ])
    func invalid(text: String) {
        #expect(DateParser.parse(text) == nil)
        #expect(DateParser.parse(text, order: .dayFirst) == nil)
    }

    @Test("a substring and a byte buffer parse like a string")
    func entryPoints() {
        let line = "x,2024-09-02T10:30:00Z,y"
        let field = line.split(separator: ",")[1]
        #expect(DateParser.parse(field)?.iso8601 == "2024-09-02T10:30:00Z")
        let bytes = Array("13/2/2024 08:00".utf8)
        let parsed = bytes.withUnsafeBytes { DateParser.parse(utf8: $0, order: .dayFirst) }
        #expect(parsed?.iso8601 == "2024-02-13T08:00:00Z")
        #expect(DateParser.parse(utf8: UnsafeRawBufferPointer(start: nil, count: 0), order: .monthFirst) == nil)
    }

    @Test("a slash date shows its file's order only when one reading is impossible", arguments: [
        ("13/2/2024", DateOrder?.some(.dayFirst)),
        ("31/12/2024 10:30:00", .dayFirst),
        ("2/13/2024", .monthFirst),
        ("12/31/2024 10:30:00 PM", .monthFirst),
        (" 2/13/24", .monthFirst),
        ("9/2/2024", nil),
        ("12/12/2024", nil),
        ("13/13/2024", nil),
        ("32/1/2024", nil),
        ("13/0/2024", nil),
        ("2024/09/13", nil),
        ("2024-09-13", nil),
        ("13.02.2024", nil),
        ("13/2", nil),
        ("", nil),
    ])
    func evidence(text: String, expected: DateOrder?) {
        #expect(DateParser.evidence(text) == expected)
    }

    @Test("DateOrder reads as tally.toml writes it")
    func orderRawValues() {
        #expect(DateOrder(rawValue: "MDY") == .monthFirst)
        #expect(DateOrder(rawValue: "DMY") == .dayFirst)
        #expect(DateOrder(rawValue: "YMD") == nil)
    }
}
