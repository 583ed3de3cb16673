/// A JSON line that is Tally's own flat completion — `{"email","name","course","at",
/// "certificate_url"}` with plain string values — read straight from its bytes into a
/// `CompletionRow`, with no `JSONValue` parsed and no `String` made.
///
/// Why: a JSON-lines export of completions is the CSV's rows in another dress, and parsing
/// each line into a tree of values (a dictionary and five strings) only to read five strings
/// back cost more than the rest of the line's work. Only the plain case is read here: an
/// object of those keys, each at most once, whose values are ASCII strings without escapes.
/// Anything else — other keys (`kind`, `id`, `points`, a webhook's shape), numbers, escapes,
/// non-ASCII text — answers nil, and the line takes the parser and
/// `KajabiPayload.flatEvent`, which stays the definition (the tests hold the two together).
enum FlatLine {
    /// Reads `line` and calls `body` with it as a completion of `row`; returns what `body`
    /// returns, or false without calling it when the line is not plain (see the type).
    static func read(_ line: UnsafeRawBufferPointer, row: Int, fallbackTime: Timestamp,
                     _ body: (borrowing CompletionRow) throws -> Bool) rethrows -> Bool {
        guard let fields = fields(of: line), let rawEmail = fields.email, let course = fields.course else { return false }
        // `flatEvent` trims the course and name (`nonEmpty`) but not the email or the date,
        // which their own readers trim.
        guard let courseCell = CompletionRow.plainCell(course), let course = courseCell else { return false }
        var name: UnsafeRawBufferPointer?
        if let text = fields.name {
            guard let cell = CompletionRow.plainCell(text) else { return false }
            name = cell
        }
        if let text = name, CompletionRow.looksLikeEmail(text) { name = nil }
        var at = fallbackTime
        var explicitTime: Timestamp?
        if let text = fields.at {
            guard let parsed = DateParser.parse(utf8: text, order: .monthFirst) else { return false }
            at = parsed
            explicitTime = parsed
        }
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Email.foldedCapacity(rawEmail.count)) { out in
            guard let length = Email.normalisedASCII(rawEmail, into: out) else { return false }
            let email = UnsafeRawBufferPointer(start: out.baseAddress, count: length)
            let key = CompletionRow.contentKey(email: email, course: course, at: explicitTime)
            return try body(CompletionRow(key: key, email: email, name: name, course: course, certificate: nil,
                                          at: at, row: row))
        }
    }

    struct Fields {
        var email: UnsafeRawBufferPointer?
        var name: UnsafeRawBufferPointer?
        var course: UnsafeRawBufferPointer?
        var at: UnsafeRawBufferPointer?
        var certificate: UnsafeRawBufferPointer?
    }

    /// The values of a plain flat object, or nil for any other line.
    static func fields(of line: UnsafeRawBufferPointer) -> Fields? {
        let count = line.count
        var i = 0
        @inline(__always) func skipSpace() {
            while i < count, line[i] == 0x20 || line[i] == 0x09 || line[i] == 0x0D || line[i] == 0x0A { i += 1 }
        }
        /// A string without escapes, all printable ASCII; nil for anything else.
        func string() -> UnsafeRawBufferPointer? {
            guard i < count, line[i] == UInt8(ascii: "\"") else { return nil }
            i += 1
            let start = i
            while i < count {
                let byte = line[i]
                if byte == UInt8(ascii: "\"") {
                    i += 1
                    return UnsafeRawBufferPointer(rebasing: line[start..<(i - 1)])
                }
                guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\\") else { return nil }
                i += 1
            }
            return nil
        }
        var fields = Fields()
        skipSpace()
        guard i < count, line[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        skipSpace()
        if i < count, line[i] == UInt8(ascii: "}") { return nil }
        while true {
            skipSpace()
            guard let key = string() else { return nil }
            skipSpace()
            guard i < count, line[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            skipSpace()
            guard let value = string() else { return nil }
            switch Key(key) {
            case .email?: guard fields.email == nil else { return nil }; fields.email = value
            case .name?: guard fields.name == nil else { return nil }; fields.name = value
            case .course?: guard fields.course == nil else { return nil }; fields.course = value
            case .at?: guard fields.at == nil else { return nil }; fields.at = value
            case .certificate?: guard fields.certificate == nil else { return nil }; fields.certificate = value
            case nil: return nil
            }
            skipSpace()
            guard i < count else { return nil }
            if line[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard line[i] == UInt8(ascii: "}") else { return nil }
            i += 1
            skipSpace()
            return i == count ? fields : nil
        }
    }

    private enum Key {
        case email, name, course, at, certificate

        init?(_ bytes: UnsafeRawBufferPointer) {
            func equals(_ text: StaticString) -> Bool {
                bytes.count == text.utf8CodeUnitCount
                    && memcmp(bytes.baseAddress!, text.utf8Start, bytes.count) == 0
            }
            guard bytes.count > 0 else { return nil }
            if equals("email") { self = .email }
            else if equals("name") { self = .name }
            else if equals("course") { self = .course }
            else if equals("at") { self = .at }
            else if equals("certificate_url") { self = .certificate }
            else { return nil }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
