/// Numbers and strings: the scalars of JSON, read straight from the input bytes.
extension JSONScanner {
    // MARK: - Numbers

    /// Checks the number grammar and returns the literal: `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    mutating func number() throws(JSONError) -> String {
        let start = i
        var j = i
        if base[j] == UInt8(ascii: "-") {
            j += 1
            guard isDigit(byte(at: j)) else { throw error("expected a digit after '-', found \(found(at: j))", at: j) }
        }
        if base[j] == UInt8(ascii: "0") {
            j += 1
            if isDigit(byte(at: j)) { throw error("a number must not start with a leading zero", at: start) }
        } else {
            while isDigit(byte(at: j)) { j += 1 }
        }
        if byte(at: j) == UInt8(ascii: ".") {
            j += 1
            guard isDigit(byte(at: j)) else {
                throw error("expected a digit after the decimal point, found \(found(at: j))", at: j)
            }
            while isDigit(byte(at: j)) { j += 1 }
        }
        if byte(at: j) | 0x20 == UInt8(ascii: "e") {
            j += 1
            if byte(at: j) == UInt8(ascii: "+") || byte(at: j) == UInt8(ascii: "-") { j += 1 }
            guard isDigit(byte(at: j)) else { throw error("expected a digit in the exponent, found \(found(at: j))", at: j) }
            while isDigit(byte(at: j)) { j += 1 }
        }
        if j - start > limits.maxNumberBytes {
            throw error("a number longer than \(limits.maxNumberBytes) characters", at: start)
        }
        i = j
        return text(from: start, to: j)
    }

    @inline(__always) private func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

    // MARK: - Strings

    /// Reads a string at the cursor (on its opening quote). Strings without escapes are made
    /// straight from their bytes; the rest are decoded into a reused scratch buffer.
    mutating func string() throws(JSONError) -> String {
        let quote = i
        let start = i + 1
        // The closing quote must lie within the limit; scanning stops there, so an endless
        // string costs no more than the limit.
        let limitEnd = count - start > limits.maxStringBytes ? start + limits.maxStringBytes + 1 : count
        var j = start
        while j < limitEnd {
            let b = base[j]
            if b == UInt8(ascii: "\"") {
                i = j + 1
                return text(from: start, to: j)
            } else if b == UInt8(ascii: "\\") {
                return try escapedString(start: start, escape: j, limitEnd: limitEnd)
            } else if b < 0x20 {
                throw controlCharacter(at: j)
            } else if b < 0x80 {
                j += 1
            } else {
                j = try utf8Sequence(at: j)
            }
        }
        throw unterminated(quote: quote, limitEnd: limitEnd)
    }

    private mutating func escapedString(start: Int, escape: Int, limitEnd: Int) throws(JSONError) -> String {
        scratch.removeAll(keepingCapacity: true)
        var run = start
        var j = escape
        while j < limitEnd {
            let b = base[j]
            if b == UInt8(ascii: "\"") {
                scratch.append(contentsOf: UnsafeBufferPointer(start: base + run, count: j - run))
                i = j + 1
                return String(decoding: scratch, as: UTF8.self)
            } else if b == UInt8(ascii: "\\") {
                scratch.append(contentsOf: UnsafeBufferPointer(start: base + run, count: j - run))
                j = try unescape(at: j)
                run = j
            } else if b < 0x20 {
                throw controlCharacter(at: j)
            } else if b < 0x80 {
                j += 1
            } else {
                j = try utf8Sequence(at: j)
            }
        }
        throw unterminated(quote: start - 1, limitEnd: limitEnd)
    }

    /// Decodes the escape at `j` (a backslash) into the scratch buffer; returns the index after it.
    private mutating func unescape(at j: Int) throws(JSONError) -> Int {
        let decoded: UInt8
        switch byte(at: j + 1) {
        case UInt8(ascii: "\""): decoded = 0x22
        case UInt8(ascii: "\\"): decoded = 0x5C
        case UInt8(ascii: "/"): decoded = 0x2F
        case UInt8(ascii: "b"): decoded = 0x08
        case UInt8(ascii: "f"): decoded = 0x0C
        case UInt8(ascii: "n"): decoded = 0x0A
        case UInt8(ascii: "r"): decoded = 0x0D
        case UInt8(ascii: "t"): decoded = 0x09
        case UInt8(ascii: "u"):
            guard let unit = hex4(at: j + 2) else { throw error("invalid \\u escape: expected four hex digits", at: j) }
            var next = j + 6
            var scalar = UInt32(unit)
            if (0xD800...0xDBFF).contains(unit) {
                // A high surrogate counts only with a low one escaped right after it.
                if byte(at: next) == UInt8(ascii: "\\"), byte(at: next + 1) == UInt8(ascii: "u"),
                   let low = hex4(at: next + 2), (0xDC00...0xDFFF).contains(low) {
                    scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                    next += 6
                } else {
                    scalar = 0xFFFD
                }
            } else if (0xDC00...0xDFFF).contains(unit) {
                scalar = 0xFFFD
            }
            appendUTF8(scalar)
            return next
        default:
            guard j + 1 < count else { throw unterminated(quote: j, limitEnd: count) }
            let next = base[j + 1]
            let shown = next > 0x20 && next < 0x7F ? "'\\\(String(UnicodeScalar(next)))'" : "'\\' followed by byte 0x\(hex(next))"
            throw error("invalid escape \(shown) in a string", at: j)
        }
        scratch.append(decoded)
        return j + 2
    }

    private func hex4(at j: Int) -> UInt16? {
        guard j + 4 <= count else { return nil }
        var value: UInt16 = 0
        for position in j..<(j + 4) {
            let b = base[position]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        scratch.appendUTF8(scalar)
    }

    /// Checks the well-formed UTF-8 sequence starting at `j` (a byte of 0x80 or more; Unicode
    /// table 3-7: no overlongs, no surrogates, nothing past U+10FFFF) and returns the index after
    /// it. An ill-formed byte is refused, or stepped over when repairing: `String(decoding:)`
    /// later replaces it with U+FFFD.
    private func utf8Sequence(at j: Int) throws(JSONError) -> Int {
        let lead = base[j]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: length = 0
        }
        var valid = length > 0 && j + length <= count
        if valid {
            let second = base[j + 1]
            valid = second >= low && second <= high
            var position = j + 2
            while valid && position < j + length {
                valid = base[position] & 0xC0 == 0x80
                position += 1
            }
        }
        if valid { return j + length }
        guard limits.repairsInvalidUTF8 else { throw error("invalid UTF-8 in a string (byte 0x\(hex(lead)))", at: j) }
        return j + 1
    }

    // MARK: - Helpers

    private func controlCharacter(at j: Int) -> JSONError {
        error("control character U+00\(hex(base[j])) in a string must be escaped", at: j)
    }

    private func unterminated(quote: Int, limitEnd: Int) -> JSONError {
        limitEnd < count
            ? error("a string longer than \(limits.maxStringBytes) bytes", at: quote)
            : error("unterminated string: no closing '\"' before the end of the input", at: quote)
    }

    @inline(__always) private func text(from start: Int, to end: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: base + start, count: end - start), as: UTF8.self)
    }
}
