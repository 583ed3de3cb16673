import Foundation

/// What makes two course names one course: the name in Unicode NFC, case-folded, with every
/// run of whitespace (space, tab, newlines, no-break and the other Unicode spaces) one
/// space and none at either end, and the invisible format characters (zero-width space,
/// joiners, word joiner, byte-order mark) dropped. `Data Literacy 101`, `data literacy 101`,
/// `Data  Literacy 101` and `Data Literacy\u{A0}101` fold to `data literacy 101`.
///
/// Why a fold and not the name as written: "which course did you finish?" is a free-text
/// answer, a Kajabi tag maps to one spelling and a form to another, and the contract awards
/// a course once per student. The fold is the course's identity everywhere it is one (the
/// student's completed courses, the state's numbering, `[points.courses]`, badges, the
/// site's boards); what is shown is the first spelling met, and what is recorded (an event's
/// `course`, and its content id) stays as written.
///
/// Nearly every course name is ASCII and the byte lane asks once per new spelling, so ASCII
/// is folded as bytes into a stack buffer (and not copied at all when already folded); only
/// other text goes through `String` and Foundation. Tests hold the two ways to each other.
public enum CourseName {
    /// The folded form of `name`: the key two spellings of one course share.
    public static func key(_ name: String) -> String {
        var name = name
        return name.withUTF8 { withKey(UnsafeRawBufferPointer($0)) { String(decoding: $0, as: UTF8.self) } }
    }

    /// Whether `a` and `b` name one course.
    public static func same(_ a: String, _ b: String) -> Bool {
        a == b || key(a) == key(b)
    }

    /// Calls `body` with the folded form of the UTF-8 `bytes` (which it must not keep).
    /// Bytes that are not UTF-8 fold as `String(decoding:as:)` reads them.
    static func withKey<Result>(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        switch asciiState(bytes) {
        case .folded:
            return body(bytes)
        case .needsFolding:
            return withUnsafeTemporaryAllocation(byteCount: max(bytes.count, 1), alignment: 1) { buffer in
                body(UnsafeRawBufferPointer(rebasing: buffer[0..<foldASCII(bytes, into: buffer)]))
            }
        case .notASCII:
            var folded = foldByScalars(String(decoding: bytes, as: UTF8.self))
            return folded.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        }
    }

    // MARK: ASCII, as bytes

    private enum ASCIIState { case folded, needsFolding, notASCII }

    /// One pass: whether `bytes` are ASCII, and if so whether they are folded already (no
    /// capital, no whitespace but single spaces between words).
    private static func asciiState(_ bytes: UnsafeRawBufferPointer) -> ASCIIState {
        var folded = true
        var previousSpace = true   // a space first is not folded
        for byte in bytes {
            if byte >= 0x80 { return .notASCII }
            if byte == 0x20 {
                if previousSpace { folded = false }
                previousSpace = true
            } else {
                if isASCIIWhitespace(byte) || (byte &- 0x41) < 26 { folded = false }
                previousSpace = false
            }
        }
        if previousSpace && !bytes.isEmpty { folded = false }
        return folded ? .folded : .needsFolding
    }

    /// Folds ASCII `bytes` into `out` (room for as many bytes); returns the count written.
    private static func foldASCII(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int {
        var count = 0
        var pendingSpace = false
        for byte in bytes {
            if isASCIIWhitespace(byte) {
                pendingSpace = count > 0
                continue
            }
            if pendingSpace {
                out[count] = 0x20
                count += 1
                pendingSpace = false
            }
            out[count] = (byte &- 0x41) < 26 ? byte | 0x20 : byte
            count += 1
        }
        return count
    }

    /// Space, tab, line feed, vertical tab, form feed, carriage return: Unicode's White_Space
    /// among ASCII.
    @inline(__always)
    private static func isASCIIWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    // MARK: Any text, by scalars

    /// The fold by Unicode scalars: the definition, for ASCII too.
    static func foldByScalars(_ name: String) -> String {
        var spaced = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in name.unicodeScalars {
            if isInvisible(scalar) { continue }
            if scalar.properties.isWhitespace {
                pendingSpace = !spaced.isEmpty
                continue
            }
            if pendingSpace {
                spaced.append(" ")
                pendingSpace = false
            }
            spaced.append(scalar)
        }
        // Case folding may decompose (`İ` → `i̇`), so compose afterwards.
        return String(spaced).folding(options: [.caseInsensitive], locale: nil).precomposedStringWithCanonicalMapping
    }

    /// Zero-width space, non-joiner and joiner, word joiner, and the byte-order mark (a
    /// zero-width no-break space): format characters that show as nothing.
    private static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x200B...0x200D, 0x2060, 0xFEFF: return true
        default: return false
        }
    }
}
