/// The order of the first two numbers in a slash date such as `9/2/2024`.
///
/// Google's US exports write month first; much of the rest of the world writes day first.
/// The raw values are what `date_order` says in `tally.toml`.
public enum DateOrder: String, Sendable, Codable, CaseIterable {
    case monthFirst = "MDY"
    case dayFirst = "DMY"
}

/// Reads the dates that exports and webhooks write, straight from UTF-8 bytes.
///
/// It runs once per row of million-row files, so it is a hand-written scanner: no
/// `DateFormatter`, no Foundation, no regular expressions, no allocation. Accepted forms
/// (a date without a zone is UTC):
///
/// - ISO 8601 / RFC 3339: `2024-09-02`, `2024-09-02T10:30:00Z`, `2024-09-02T10:30:00.123+02:00`,
///   `2024-09-02 10:30:00 -0500`, `2024-09-02 10:30`. A fraction is kept to the millisecond
///   (further digits are truncated); `,` may stand for `.`.
/// - Year first with `/` or `.`: `2024/09/02 10:30:00 AM GMT+1` (Google Forms in some locales).
/// - Slash dates, in the file's `DateOrder`: `9/2/2024`, `9/2/2024 10:30`, `9/2/2024 10:30:00`,
///   `09/02/2024 10:30:00 PM`, and `9/2/2024, 10:30:00` as browsers print it.
/// - Dotted dates, always day first: `02.09.2024`, `02.09.2024 10:30`.
/// - Two-digit years in slash and dotted dates (`9/2/24`, as Excel saves a CSV): `00`–`69` are
///   2000–2069 and `70`–`99` are 1970–1999, the POSIX `%y` rule. ISO dates need four digits.
/// - After the time: `AM`/`PM` or `a.m.`/`p.m.` (any case; hours 1–12); then a zone: `Z`, `UTC`, `GMT`, an
///   offset `+02:00`, `+0200`, `+02`, or both (`GMT+1`, `UTC-05:00`).
/// - Spaces, tabs, no-break spaces (U+00A0, and U+202F which recent ICU puts before `AM`) and a
///   leading byte-order mark are tolerated around and between the parts.
///
/// Not accepted: month names, `dd-mm-yyyy`, week dates, `24:00`. An impossible calendar date
/// (`2024-02-31`) or time is `nil`, never rolled over.
public enum DateParser {
    /// The instant `text` names, or `nil` when it is not a date this parser reads.
    /// `order` decides slash dates whose first two numbers are both 12 or less.
    public static func parse(_ text: some StringProtocol, order: DateOrder = .monthFirst) -> Timestamp? {
        if let result = text.utf8.withContiguousStorageIfAvailable({
            parse(utf8: UnsafeRawBufferPointer($0), order: order)
        }) {
            return result
        }
        var copy = String(text)
        return copy.withUTF8 { parse(utf8: UnsafeRawBufferPointer($0), order: order) }
    }

    /// The byte-level parser behind `parse(_:order:)`, for readers that hold a field as a slice
    /// of their buffer and should not make a `String` of it.
    public static func parse(utf8 bytes: UnsafeRawBufferPointer, order: DateOrder) -> Timestamp? {
        var scanner = DateScanner(bytes)
        scanner.trimEnds()

        // Spreadsheet serial numbers (`45537.4375`) land here. They are not built yet: reading
        // one needs the workbook's date system (1900 or 1904), which only a sheet reader knows,
        // so they will come as `Timestamp(spreadsheetSerial:system:)` called by that reader,
        // and text that is a bare number stays `nil` here rather than guessing.
        if scanner.isBareNumber { return nil }

        guard let (year, month, day) = scanDate(&scanner, order: order) else { return nil }
        var time = (hour: 0, minute: 0, second: 0, millisecond: 0)
        var offsetSeconds = 0

        // A `T` or a comma promises a time; spaces may precede a time or a zone.
        let promisesTime = scanner.consume(UInt8(ascii: "T")) || scanner.consume(UInt8(ascii: "t"))
            || scanner.consume(UInt8(ascii: ","))
        scanner.skipSpaces()
        if scanner.peekIsDigit {
            guard let scanned = scanTime(&scanner) else { return nil }
            time = scanned
        } else if promisesTime {
            return nil
        }
        scanner.skipSpaces()
        if !scanner.isAtEnd {
            guard let offset = scanZone(&scanner) else { return nil }
            offsetSeconds = offset
            scanner.skipSpaces()
        }
        guard scanner.isAtEnd else { return nil }
        return Timestamp(year: year, month: month, day: day, hour: time.hour, minute: time.minute,
                         second: time.second, millisecond: time.millisecond, offsetSeconds: offsetSeconds)
    }

    /// What a slash date says about its file's order: `.dayFirst` for `13/2/2024` (the first
    /// number cannot be a month), `.monthFirst` for `2/13/2024`, `nil` when both readings are
    /// possible (`9/2/2024`), neither is, or `text` is not a slash date with the year last.
    /// Intake feeds it rows until one answers.
    public static func evidence(_ text: some StringProtocol) -> DateOrder? {
        if let result = text.utf8.withContiguousStorageIfAvailable({ evidence(utf8: UnsafeRawBufferPointer($0)) }) {
            return result
        }
        var copy = String(text)
        return copy.withUTF8 { evidence(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// The byte-level form of `evidence(_:)`.
    public static func evidence(utf8 bytes: UnsafeRawBufferPointer) -> DateOrder? {
        var scanner = DateScanner(bytes)
        scanner.trimEnds()
        let slash = UInt8(ascii: "/")
        guard let (first, _) = scanner.digits(max: 2), scanner.consume(slash),
              let (second, _) = scanner.digits(max: 2), scanner.consume(slash), scanner.peekIsDigit
        else { return nil }
        if (13...31).contains(first), (1...12).contains(second) { return .dayFirst }
        if (13...31).contains(second), (1...12).contains(first) { return .monthFirst }
        return nil
    }

    // MARK: - Parts

    private static func scanDate(_ scanner: inout DateScanner, order: DateOrder) -> (Int, Int, Int)? {
        guard let (first, firstDigits) = scanner.digits(max: 4), let separator = scanner.next(),
              separator == UInt8(ascii: "-") || separator == UInt8(ascii: "/") || separator == UInt8(ascii: ".")
        else { return nil }
        if firstDigits == 4 {
            // Year first is always year-month-day, whatever the separator.
            guard let (month, _) = scanner.digits(max: 2), scanner.consume(separator),
                  let (day, _) = scanner.digits(max: 2)
            else { return nil }
            return (first, month, day)
        }
        guard firstDigits <= 2, separator != UInt8(ascii: "-"),
              let (second, _) = scanner.digits(max: 2), scanner.consume(separator),
              let (year, yearDigits) = scanner.digits(max: 4), yearDigits == 2 || yearDigits == 4
        else { return nil }
        let fullYear = yearDigits == 4 ? year : (year < 70 ? 2000 + year : 1900 + year)
        if separator == UInt8(ascii: ".") || order == .dayFirst { return (fullYear, second, first) }
        return (fullYear, first, second)
    }

    private static func scanTime(_ scanner: inout DateScanner) -> (hour: Int, minute: Int, second: Int, millisecond: Int)? {
        let colon = UInt8(ascii: ":")
        guard var (hour, _) = scanner.digits(max: 2), scanner.consume(colon),
              let (minute, minuteDigits) = scanner.digits(max: 2), minuteDigits == 2
        else { return nil }
        var second = 0, millisecond = 0
        if scanner.consume(colon) {
            guard let (s, secondDigits) = scanner.digits(max: 2), secondDigits == 2 else { return nil }
            second = s
            if scanner.consume(UInt8(ascii: ".")) || scanner.consume(UInt8(ascii: ",")) {
                guard let ms = scanner.fractionInMilliseconds() else { return nil }
                millisecond = ms
            }
        }
        let beforeMeridiem = scanner.position
        scanner.skipSpaces()
        // `AM`, or `a.m.` as Google Sheets writes it in some locales.
        let isAM = scanner.consumeWord("am") || scanner.consumeWord("a.m.")
        let isPM = !isAM && (scanner.consumeWord("pm") || scanner.consumeWord("p.m."))
        if isAM || isPM {
            // 12-hour clock: 12 AM is midnight, 12 PM is noon, and 0 or 13 is no such time.
            guard (1...12).contains(hour) else { return nil }
            hour = hour % 12 + (isPM ? 12 : 0)
        } else {
            scanner.position = beforeMeridiem
        }
        return (hour, minute, second, millisecond)
    }

    /// `Z`, `UTC`, `GMT`, an offset, or a name followed by an offset; the offset in seconds east.
    private static func scanZone(_ scanner: inout DateScanner) -> Int? {
        if scanner.consume(UInt8(ascii: "Z")) || scanner.consume(UInt8(ascii: "z")) { return 0 }
        let named = scanner.consumeWord("utc") || scanner.consumeWord("gmt")
        guard let sign = scanner.peek, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else {
            return named ? 0 : nil
        }
        scanner.position += 1
        guard let (hours, _) = scanner.digits(max: 2) else { return nil }
        var minutes = 0
        let colon = scanner.consume(UInt8(ascii: ":"))
        if colon || scanner.peekIsDigit {
            guard let (m, minuteDigits) = scanner.digits(max: 2), minuteDigits == 2 else { return nil }
            minutes = m
        }
        guard hours <= 23, minutes <= 59 else { return nil }
        let seconds = hours * 3600 + minutes * 60
        return sign == UInt8(ascii: "-") ? -seconds : seconds
    }
}

/// A cursor over a field's bytes. Every read checks `position < end` itself, because
/// `UnsafeRawBufferPointer` does not in release builds.
private struct DateScanner {
    let bytes: UnsafeRawBufferPointer
    var position = 0
    var end: Int

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.end = bytes.count
    }

    var isAtEnd: Bool { position >= end }
    var peek: UInt8? { position < end ? bytes[position] : nil }
    var peekIsDigit: Bool { position < end && bytes[position] &- 0x30 < 10 }

    mutating func next() -> UInt8? {
        guard position < end else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func consume(_ byte: UInt8) -> Bool {
        guard position < end, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    /// Consumes `word` (lowercase ASCII) in any case.
    mutating func consumeWord(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard end - position >= count else { return false }
        let start = word.utf8Start
        for offset in 0..<count where bytes[position + offset] | 0x20 != start[offset] { return false }
        position += count
        return true
    }

    /// Up to `max` decimal digits as a number, and how many there were; `nil` when none.
    mutating func digits(max: Int) -> (value: Int, count: Int)? {
        var value = 0, count = 0
        while count < max, position < end {
            let digit = bytes[position] &- 0x30
            guard digit < 10 else { break }
            value = value * 10 + Int(digit)
            count += 1
            position += 1
        }
        return count == 0 ? nil : (value, count)
    }

    /// A decimal fraction's first three digits as milliseconds; later digits are skipped.
    mutating func fractionInMilliseconds() -> Int? {
        guard peekIsDigit else { return nil }
        var value = 0, count = 0
        while peekIsDigit {
            if count < 3 { value = value * 10 + Int(bytes[position] &- 0x30) }
            count += 1
            position += 1
        }
        for _ in count..<max(count, 3) { value *= 10 }
        return value
    }

    /// Skips ASCII space and tab, U+00A0 NO-BREAK SPACE and U+202F NARROW NO-BREAK SPACE.
    mutating func skipSpaces() {
        while let length = spaceLength(at: position) { position += length }
    }

    /// Drops a leading byte-order mark and whitespace (including CR and LF) at both ends.
    mutating func trimEnds() {
        if end - position >= 3, bytes[position] == 0xEF, bytes[position + 1] == 0xBB, bytes[position + 2] == 0xBF {
            position += 3
        }
        while let length = spaceLength(at: position) ?? newlineLength(at: position) { position += length }
        while end > position {
            let last = bytes[end - 1]
            if last == 0x20 || last == 0x09 || last == 0x0D || last == 0x0A {
                end -= 1
            } else if end - position >= 2, last == 0xA0, bytes[end - 2] == 0xC2 {
                end -= 2
            } else if end - position >= 3, last == 0xAF, bytes[end - 2] == 0x80, bytes[end - 3] == 0xE2 {
                end -= 3
            } else {
                break
            }
        }
    }

    /// Whether what is left is digits with at most one `.`, as a spreadsheet serial would be.
    var isBareNumber: Bool {
        var sawDigit = false, sawDot = false
        for index in position..<max(position, end) {
            let byte = bytes[index]
            if byte &- 0x30 < 10 {
                sawDigit = true
            } else if byte == UInt8(ascii: "."), !sawDot {
                sawDot = true
            } else {
                return false
            }
        }
        return sawDigit
    }

    private func spaceLength(at index: Int) -> Int? {
        guard index < end else { return nil }
        switch bytes[index] {
        case 0x20, 0x09: return 1
        case 0xC2 where index + 1 < end && bytes[index + 1] == 0xA0: return 2
        case 0xE2 where index + 2 < end && bytes[index + 1] == 0x80 && bytes[index + 2] == 0xAF: return 3
        default: return nil
        }
    }

    private func newlineLength(at index: Int) -> Int? {
        guard index < end, bytes[index] == 0x0D || bytes[index] == 0x0A else { return nil }
        return 1
    }
}
