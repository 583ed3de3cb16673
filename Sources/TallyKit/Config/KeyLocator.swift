/// The line of every key, table header and array entry of a TOML document, for messages.
///
/// TOMLKit parses with toml++, which knows where each node came from, but it exposes
/// positions only for syntax errors, not on its tables. So this small scanner reads the text
/// a second time, after TOMLKit has accepted it, and notes where each key path starts:
/// headers (`[a.b]`, `[[a]]`, counting array entries from 1), `key = value` lines (dotted and
/// quoted keys), and keys inside inline tables and arrays. It skips the insides of strings,
/// including multi-line ones, and comments. It is only ever asked about valid TOML, and a
/// path it does not know falls back to its nearest known parent, so a wrong guess costs a
/// line number in a message, never a decision.
struct KeyLocator {
    private var lines: [String: Int] = [:]

    init(_ text: String) {
        var scanner = Scanner(bytes: Array(text.utf8))
        scanner.scanDocument()
        lines = scanner.lines
    }

    /// The line where `path` is written, or failing that its nearest ancestor.
    func line(of path: ConfigKeyPath) -> Int? {
        var path = path
        while !path.isRoot {
            if let line = lines[path.display] { return line }
            path = path.parent
        }
        return nil
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        var line = 1
        var lines: [String: Int] = [:]
        /// How many `[[...]]` entries each array of tables has had so far.
        var arrayCounts: [String: Int] = [:]

        init(bytes: [UInt8]) { self.bytes = bytes }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        func peek(_ offset: Int) -> UInt8? {
            index + offset < bytes.count ? bytes[index + offset] : nil
        }

        mutating func advance() {
            if current == UInt8(ascii: "\n") { line += 1 }
            index += 1
        }

        mutating func scanDocument() {
            var table = ConfigKeyPath.root
            while let byte = current {
                let start = index
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                    advance()
                case UInt8(ascii: "#"):
                    skipToEndOfLine()
                case UInt8(ascii: "["):
                    table = scanHeader()
                    skipToEndOfLine()
                default:
                    let keyLine = line
                    let keys = scanKey()
                    if !keys.isEmpty {
                        note(table, keys, at: keyLine)
                        skipBlanks()
                        if current == UInt8(ascii: "=") { advance() }
                        skipValue(at: table.appending(keys))
                    }
                    skipToEndOfLine()
                }
                if index == start { advance() }
            }
        }

        /// Reads `[a.b]` or `[[a.b]]` and returns the path that later keys belong to.
        mutating func scanHeader() -> ConfigKeyPath {
            let headerLine = line
            let isArray = peek(1) == UInt8(ascii: "[")
            index += isArray ? 2 : 1
            let keys = scanKey()
            var path = ConfigKeyPath.root
            for (position, key) in keys.enumerated() {
                path = path.appending(key)
                record(path, headerLine)
                let isLast = position == keys.count - 1
                if isArray && isLast {
                    let number = (arrayCounts[path.display] ?? 0) + 1
                    arrayCounts[path.display] = number
                    path = path.appending(index: number)
                    record(path, headerLine)
                } else if let number = arrayCounts[path.display] {
                    path = path.appending(index: number)
                }
            }
            return path
        }

        /// Notes `table` + `keys` and the tables a dotted key creates on the way.
        mutating func note(_ table: ConfigKeyPath, _ keys: [String], at keyLine: Int) {
            var path = table
            for key in keys {
                path = path.appending(key)
                record(path, keyLine)
            }
        }

        mutating func record(_ path: ConfigKeyPath, _ at: Int) {
            let key = path.display
            if lines[key] == nil { lines[key] = at }
        }

        /// Reads a possibly dotted key: bare, "basic" or 'literal' segments.
        mutating func scanKey() -> [String] {
            var keys: [String] = []
            while true {
                skipBlanks()
                guard let byte = current else { break }
                if byte == UInt8(ascii: "\"") {
                    keys.append(scanBasicString())
                } else if byte == UInt8(ascii: "'") {
                    keys.append(scanLiteralString())
                } else {
                    var raw: [UInt8] = []
                    while let char = current, Scanner.isBare(char) {
                        raw.append(char)
                        index += 1
                    }
                    if raw.isEmpty { break }
                    keys.append(String(decoding: raw, as: UTF8.self))
                }
                skipBlanks()
                guard current == UInt8(ascii: ".") else { break }
                index += 1
            }
            return keys
        }

        static func isBare(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }

        /// Reads a one-line "basic" string, decoding the escapes a key may use.
        mutating func scanBasicString() -> String {
            index += 1
            var raw: [UInt8] = []
            while let byte = current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\n") {
                if byte == UInt8(ascii: "\\"), let next = peek(1) {
                    index += 2
                    switch next {
                    case UInt8(ascii: "n"): raw.append(UInt8(ascii: "\n"))
                    case UInt8(ascii: "t"): raw.append(UInt8(ascii: "\t"))
                    case UInt8(ascii: "r"): raw.append(UInt8(ascii: "\r"))
                    case UInt8(ascii: "b"): raw.append(8)
                    case UInt8(ascii: "f"): raw.append(12)
                    case UInt8(ascii: "u"), UInt8(ascii: "U"):
                        let width = next == UInt8(ascii: "u") ? 4 : 8
                        let end = min(index + width, bytes.count)
                        let hex = String(decoding: bytes[index..<end], as: UTF8.self)
                        if let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) {
                            raw.append(contentsOf: Array(String(Character(scalar)).utf8))
                        }
                        index = end
                    default: raw.append(next)
                    }
                } else {
                    raw.append(byte)
                    index += 1
                }
            }
            if current == UInt8(ascii: "\"") { index += 1 }
            return String(decoding: raw, as: UTF8.self)
        }

        mutating func scanLiteralString() -> String {
            index += 1
            var raw: [UInt8] = []
            while let byte = current, byte != UInt8(ascii: "'"), byte != UInt8(ascii: "\n") {
                raw.append(byte)
                index += 1
            }
            if current == UInt8(ascii: "'") { index += 1 }
            return String(decoding: raw, as: UTF8.self)
        }

        /// Skips one value, noting the entries of arrays and the keys of inline tables.
        mutating func skipValue(at path: ConfigKeyPath) {
            skipBlanks()
            guard let byte = current else { return }
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                skipString()
            case UInt8(ascii: "["):
                advance()
                var number = 0
                while let next = current, next != UInt8(ascii: "]") {
                    let start = index
                    skipSpace()
                    if current == UInt8(ascii: "]") || current == nil { break }
                    number += 1
                    record(path.appending(index: number), line)
                    skipValue(at: path.appending(index: number))
                    skipSpace()
                    if current == UInt8(ascii: ",") { advance() }
                    if index == start { advance() }
                }
                if current == UInt8(ascii: "]") { advance() }
            case UInt8(ascii: "{"):
                advance()
                while let next = current, next != UInt8(ascii: "}") {
                    let start = index
                    skipSpace()
                    let keyLine = line
                    let keys = scanKey()
                    if !keys.isEmpty {
                        note(path, keys, at: keyLine)
                        skipBlanks()
                        if current == UInt8(ascii: "=") { advance() }
                        skipValue(at: path.appending(keys))
                    }
                    skipSpace()
                    if current == UInt8(ascii: ",") { advance() }
                    if index == start { advance() }
                }
                if current == UInt8(ascii: "}") { advance() }
            default:
                // Numbers, booleans, dates: they end at a separator or the end of the line.
                while let next = current, !Scanner.endsScalar(next) { advance() }
            }
        }

        static func endsScalar(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}")
                || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "#")
        }

        /// Skips a string of any of TOML's four kinds, counting the lines it spans.
        mutating func skipString() {
            guard let quote = current else { return }
            let triple = peek(1) == quote && peek(2) == quote
            index += triple ? 3 : 1
            while let byte = current {
                if byte == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") {
                    index += 1
                    advance()
                } else if byte == quote && (!triple || (peek(1) == quote && peek(2) == quote)) {
                    index += triple ? 3 : 1
                    // A closing `"""` may be followed by up to two quotes that belong to the
                    // string.
                    while triple && current == quote { index += 1 }
                    return
                } else if byte == UInt8(ascii: "\n") && !triple {
                    return
                } else {
                    advance()
                }
            }
        }

        /// Spaces and tabs.
        mutating func skipBlanks() {
            while current == UInt8(ascii: " ") || current == UInt8(ascii: "\t") { index += 1 }
        }

        /// Whitespace, newlines and comments, as allowed between array entries.
        mutating func skipSpace() {
            while let byte = current {
                if byte == UInt8(ascii: "#") {
                    skipToEndOfLine()
                } else if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
                    || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") {
                    advance()
                } else {
                    return
                }
            }
        }

        mutating func skipToEndOfLine() {
            while let byte = current, byte != UInt8(ascii: "\n") { index += 1 }
        }
    }
}
