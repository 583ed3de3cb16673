/// `leaderboard.json`, written byte for byte as Foundation's `JSONEncoder` writes a
/// `Leaderboard` with `[.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]` — the format
/// the file has always had, so that a publish step comparing files sees no change — but
/// straight into bytes: the encoder's boxing, key sorting and string bridging took a quarter
/// of each drop's render in `tally watch` with 100,000 students (21 of 83 ms of CPU a drop,
/// `perf record`).
///
/// The format: two spaces of indent per level, `"key" : value`, members in key order, one
/// array element or member a line, an empty array as `[`, an empty line and `]`; strings
/// with `"`, `\` and the controls below U+0020 escaped (`\b \f \n \r \t`, else `\u00xx`),
/// everything else, `/` and U+2028 included, as it is. `LeaderboardJSONTests` hold it to
/// `JSONEncoder` over boards of every kind of string.
enum LeaderboardJSON {
    /// The file's bytes, ending with a newline (as the renderer always added one).
    static func encode(_ board: Leaderboard) -> [UInt8] {
        var out = Output()
        let rows = board.students.count + board.month.students.count
            + board.courses.reduce(0) { $0 + $1.students.count }
        out.bytes.reserveCapacity(1024 + rows * 200)
        out.open("{")
        out.key("courses", level: 1)
        out.array(board.courses, level: 1) { out, course, level in
            out.open("{")
            out.key("course", level: level + 1)
            out.string(course.course)
            out.next()
            out.key("slug", level: level + 1)
            out.string(course.slug)
            out.next()
            out.key("students", level: level + 1)
            out.entries(course.students, level: level + 1)
            out.close("}", level: level)
        }
        out.next()
        out.key("generated_at", level: 1)
        out.string(board.generatedAt)
        out.next()
        out.key("month", level: 1)
        out.open("{")
        out.key("month", level: 2)
        out.string(board.month.month)
        out.next()
        out.key("name", level: 2)
        out.string(board.month.name)
        out.next()
        out.key("students", level: 2)
        out.entries(board.month.students, level: 2)
        out.close("}", level: 1)
        out.next()
        out.key("students", level: 1)
        out.entries(board.students, level: 1)
        out.next()
        out.key("title", level: 1)
        out.string(board.title)
        out.close("}", level: 0)
        out.bytes.append(UInt8(ascii: "\n"))
        return out.bytes
    }

    private struct Output {
        var bytes: [UInt8] = []

        mutating func literal(_ text: StaticString) {
            text.withUTF8Buffer { bytes.append(contentsOf: $0) }
        }

        mutating func indent(_ level: Int) {
            bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * level))
        }

        /// `{` or `[` and the line break after it.
        mutating func open(_ bracket: StaticString) {
            literal(bracket)
            bytes.append(UInt8(ascii: "\n"))
        }

        /// The line break, the indent of `level` and `}` or `]`.
        mutating func close(_ bracket: StaticString, level: Int) {
            bytes.append(UInt8(ascii: "\n"))
            indent(level)
            literal(bracket)
        }

        /// The comma and line break between two members or elements.
        mutating func next() {
            literal(",\n")
        }

        /// A member's key at `level`, up to its value.
        mutating func key(_ name: StaticString, level: Int) {
            indent(level)
            bytes.append(UInt8(ascii: "\""))
            literal(name)
            literal("\" : ")
        }

        mutating func int(_ value: Int) {
            bytes.append(contentsOf: String(value).utf8)
        }

        mutating func string(_ text: String) {
            bytes.append(UInt8(ascii: "\""))
            var text = text
            text.withUTF8 { utf8 in
                var plainFrom = 0
                for (i, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plainFrom..<i]))
                    escape(byte)
                    plainFrom = i + 1
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plainFrom...]))
            }
            bytes.append(UInt8(ascii: "\""))
        }

        private mutating func escape(_ byte: UInt8) {
            switch byte {
            case 0x22: literal("\\\"")
            case 0x5C: literal("\\\\")
            case 0x08: literal("\\b")
            case 0x0C: literal("\\f")
            case 0x0A: literal("\\n")
            case 0x0D: literal("\\r")
            case 0x09: literal("\\t")
            default:
                let hex: StaticString = "0123456789abcdef"
                literal("\\u00")
                hex.withUTF8Buffer { digits in
                    bytes.append(digits[Int(byte >> 4)])
                    bytes.append(digits[Int(byte & 0x0F)])
                }
            }
        }

        /// An array whose elements `element` writes (each from its opening bracket, at the
        /// indent of `level + 1`), after the key that names it at `level`. Empty, it is `[`,
        /// an empty line and `]`, as the encoder writes it.
        mutating func array<T>(_ elements: [T], level: Int, _ element: (inout Output, T, Int) -> Void) {
            open("[")
            for (n, value) in elements.enumerated() {
                if n > 0 { next() }
                indent(level + 1)
                element(&self, value, level + 1)
            }
            close("]", level: level)
        }

        mutating func entries(_ entries: [Leaderboard.Entry], level: Int) {
            array(entries, level: level) { out, entry, level in
                out.open("{")
                out.key("badges", level: level + 1)
                out.array(entry.badges, level: level + 1) { out, badge, _ in out.string(badge) }
                out.next()
                out.key("courses", level: level + 1)
                out.int(entry.courses)
                out.next()
                out.key("level", level: level + 1)
                if let reached = entry.level { out.string(reached) } else { out.literal("null") }
                out.next()
                out.key("name", level: level + 1)
                out.string(entry.name)
                out.next()
                out.key("rank", level: level + 1)
                out.int(entry.rank)
                out.next()
                out.key("xp", level: level + 1)
                out.int(entry.xp)
                out.close("}", level: level)
            }
        }
    }
}
