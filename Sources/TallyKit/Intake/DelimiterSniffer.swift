/// Chooses a table's delimiter — `,` `;` or tab — from its first records, when neither the
/// caller nor a `sep=` line names it.
///
/// Why more than the header: writers quote only the fields that hold their own delimiter, so
/// a header may hold any number of the others unquoted — a Google Forms question "Rate it
/// (1 = poor; 5 = great)" in a comma file, `Name, Vorname` in a German Excel semicolon file,
/// "(friend, ad, other)" in Excel's tab-separated "Unicode Text". Counted in the header
/// alone, those won and split every header wrong. The delimiter is the one that splits
/// the header and the records after it into the same number of fields (two or more, quotes
/// respected); between several, the one whose header holds a recognised email header, then
/// the one met most in the header; on a tie comma (tab, for UTF-16 text), and comma when
/// none splits it.
///
/// Bounded: it looks at most at `windowBytes` (and never past `maxRowBytes`), and splits no
/// more than `sampleRecords` records after the header. What it answers depends only on
/// those bytes, so the buffer size and how `read` splits the file never change it.
package enum DelimiterSniffer {
    /// The most bytes looked at.
    static let windowBytes = 64 << 10
    /// The records after the header that are split, at most.
    static let sampleRecords = 8

    /// What the caller knows of the file.
    package struct Hints: Sendable {
        /// UTF-16 text: Excel's "Unicode Text" is always tab-separated, so tab wins any tie.
        package var prefersTab = false
        /// A configured email header (`[sources.columns] email`), recognised as the built-in
        /// ones are.
        package var emailHeader: String? = nil
        /// How many records after the header to split; 0 when the delimiter is known.
        var samples = DelimiterSniffer.sampleRecords

        package init(prefersTab: Bool = false, emailHeader: String? = nil) {
            self.prefersTab = prefersTab
            self.emailHeader = emailHeader
        }
    }

    /// How one candidate splits the first records.
    struct Shape {
        /// Fields of the header (so far, when its end is not in the bytes).
        var header = 0
        /// Records after the header split, and how many of them have `header` fields.
        var sampled = 0
        var matching = 0

        var isConsistent: Bool { header >= 2 && matching == sampled }
    }

    /// The delimiter of the table whose first bytes are `p[0..<count]`; `atEnd` says that
    /// they are all the file has (its last record then needs no line break).
    static func sniff(_ p: UnsafePointer<UInt8>, count: Int, atEnd: Bool = true, hints: Hints = .init()) -> UInt8 {
        guard hints.samples > 0 else { return ASCII.comma }
        let order = hints.prefersTab ? [ASCII.tab, ASCII.comma, ASCII.semicolon] : [ASCII.comma, ASCII.semicolon, ASCII.tab]
        let shapes = order.map { shape(p, count: count, atEnd: atEnd, delimiter: $0, samples: hints.samples) }
        // Candidates that split every record as they split the header; failing any, those
        // that split the header at all (a ragged file).
        var pool = order.indices.filter { shapes[$0].isConsistent }
        if hints.prefersTab, pool.first == 0 { return ASCII.tab }
        if pool.isEmpty { pool = order.indices.filter { shapes[$0].header >= 2 } }
        if pool.count > 1 {
            let named = pool.filter { headerNamesEmail(p, count: count, delimiter: order[$0], hints: hints) }
            if !named.isEmpty { pool = named }
        }
        // The most fields in the header; a tie is the first candidate's (comma, or tab for
        // UTF-16 text), and a header nothing splits comma's.
        guard !pool.isEmpty else { return ASCII.comma }
        let most = pool.map { shapes[$0].header }.max() ?? 0
        let best = pool.filter { shapes[$0].header == most }
        return best.count == 1 ? order[best[0]] : order[0]
    }

    /// Splits the header and up to `samples` records after it by `delimiter`, as the scanner
    /// would: blank lines skipped, quotes opened only at a field's start, `""` inside them.
    static func shape(_ p: UnsafePointer<UInt8>, count: Int, atEnd: Bool, delimiter: UInt8, samples: Int) -> Shape {
        var result = Shape()
        var i = 0, fields = 0, records = 0
        var inRecord = false, inQuotes = false, atFieldStart = true
        func endRecord() -> Bool {
            if records == 0 {
                result.header = fields
            } else {
                result.sampled += 1
                if fields == result.header { result.matching += 1 }
            }
            records += 1
            inRecord = false
            return records > samples
        }
        while i < count {
            let c = p[i]
            i += 1
            if inQuotes {
                guard c == ASCII.quote else { continue }
                if i == count && !atEnd { return result }   // `"` or `""`: the window ends before it says
                if i < count && p[i] == ASCII.quote { i += 1 } else { inQuotes = false }
                continue
            }
            if !inRecord {
                if c == ASCII.lf || c == ASCII.cr { continue }
                inRecord = true
                fields = 1
                atFieldStart = true
            }
            switch c {
            case delimiter:
                fields += 1
                atFieldStart = true
            case ASCII.lf, ASCII.cr:
                if endRecord() { return result }
            case ASCII.quote where atFieldStart:
                inQuotes = true
                atFieldStart = false
            default:
                atFieldStart = false
            }
        }
        if inRecord {
            // The last record: whole at the end of the file (unless a quote is left open),
            // else only the header's fields so far count, for the tie-break.
            if atEnd && !inQuotes {
                _ = endRecord()
            } else if records == 0 {
                result.header = fields
            }
        }
        return result
    }

    /// Whether the header split by `delimiter` has a field that names the email column: a
    /// built-in alias (`HeaderMap`), or the configured header.
    static func headerNamesEmail(_ p: UnsafePointer<UInt8>, count: Int, delimiter: UInt8, hints: Hints) -> Bool {
        let wanted = hints.emailHeader.map { HeaderMap.key($0) }
        for field in headerFields(p, count: count, delimiter: delimiter) {
            let key = HeaderMap.key(field)
            if HeaderMap.builtInRoles[key]?.0 == .email || (key == wanted && !key.isEmpty) { return true }
        }
        return false
    }

    /// The header's fields split by `delimiter`, unquoted (`"ab"c` is `abc`, as the scanner
    /// reads it).
    static func headerFields(_ p: UnsafePointer<UInt8>, count: Int, delimiter: UInt8) -> [String] {
        var i = 0
        while i < count, p[i] == ASCII.lf || p[i] == ASCII.cr { i += 1 }
        var fields: [String] = []
        var field: [UInt8] = []
        var inQuotes = false, atFieldStart = true
        while i < count {
            let c = p[i]
            i += 1
            if inQuotes {
                if c == ASCII.quote {
                    if i < count && p[i] == ASCII.quote { i += 1 } else {
                        inQuotes = false
                        continue
                    }
                }
                field.append(c)
                continue
            }
            if c == delimiter || c == ASCII.lf || c == ASCII.cr {
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
                if c != delimiter { return fields }
                atFieldStart = true
                continue
            }
            if c == ASCII.quote && atFieldStart {
                inQuotes = true
            } else {
                field.append(c)
            }
            atFieldStart = false
        }
        fields.append(String(decoding: field, as: UTF8.self))
        return fields
    }

    /// Excel's first line `sep=;` (any one of `,` `;` tab `|`), which names the delimiter and
    /// is no record.
    enum SeparatorLine: Equatable {
        /// The bytes do not start with one.
        case none
        /// One, of `length` bytes with its line break; `endsWithCR` when that is a lone CR
        /// so far (the scanner must not count an LF after it as a line of its own).
        case line(delimiter: UInt8, length: Int, endsWithCR: Bool)
        /// The bytes so far could start one: more are needed.
        case undecided
    }

    static func separatorLine(_ p: UnsafePointer<UInt8>, count: Int, atEnd: Bool) -> SeparatorLine {
        let prefix: [UInt8] = Array("sep=".utf8)
        for (index, byte) in prefix.enumerated() {
            guard index < count else { return atEnd ? .none : .undecided }
            guard p[index] | 0x20 == byte else { return .none }
        }
        guard count > 4 else { return atEnd ? .none : .undecided }
        let delimiter = p[4]
        guard [ASCII.comma, ASCII.semicolon, ASCII.tab, UInt8(ascii: "|")].contains(delimiter) else { return .none }
        guard count > 5 else { return atEnd ? .line(delimiter: delimiter, length: 5, endsWithCR: false) : .undecided }
        switch p[5] {
        case ASCII.lf: return .line(delimiter: delimiter, length: 6, endsWithCR: false)
        case ASCII.cr:
            guard count > 6 else { return atEnd ? .line(delimiter: delimiter, length: 6, endsWithCR: true) : .undecided }
            return p[6] == ASCII.lf ? .line(delimiter: delimiter, length: 7, endsWithCR: false)
                : .line(delimiter: delimiter, length: 6, endsWithCR: true)
        default: return .none
        }
    }
}
