import Testing
@testable import TallyKit

/// Timestamp's ISO 8601 text: what every ledger line says.
struct TimestampTests {
    @Test("ISO 8601 in UTC, milliseconds only when there are some, before 1970 too", arguments: [
        (Int64(0), "1970-01-01T00:00:00Z"),
        (1_725_273_000_000, "2024-09-02T10:30:00Z"),
        (1_725_273_000_123, "2024-09-02T10:30:00.123Z"),
        (1_725_273_000_007, "2024-09-02T10:30:00.007Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (-2_208_988_800_000, "1900-01-01T00:00:00Z"),
        (253_402_300_799_000, "9999-12-31T23:59:59Z"),
    ])
    func iso(milliseconds: Int64, text: String) {
        #expect(Timestamp(milliseconds: milliseconds).iso8601 == text)
        #expect(DateParser.parse(text)?.milliseconds == milliseconds)
    }
}
