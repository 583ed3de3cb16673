import Foundation

/// A normalised email address: the key that ties one person's events together.
///
/// Every source spells addresses its own way — `<Bob@Example.com>`, `mailto:bob@example.com`,
/// a trailing non-breaking space from a spreadsheet, a decomposed `é` from a Mac — and two
/// spellings of one mailbox must be one student, so an `Email` can only be made by normalising.
/// Gmail ignores dots and `+tags` in the local part and treats googlemail.com as gmail.com, so
/// those are folded too; other providers may not, so their addresses keep every character.
///
/// Validation is pragmatic, not RFC 5322: it rejects what is clearly not an address someone
/// typed for themselves (no `@`, spaces, a domain without a dot) and accepts the rest.
public struct Email: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The normalised address, e.g. `bob@example.com`. This is what ledgers store.
    public let value: String

    /// Normalises `raw` and validates the result.
    ///
    /// Steps, in order: trim whitespace (including non-breaking and zero-width spaces); take
    /// the address out of `<...>` (with or without a display name before it, as in
    /// `Bob <bob@example.com>`); drop a `mailto:` prefix; lowercase; Unicode NFC; drop one
    /// trailing dot of the domain (`example.com.` is `example.com` in DNS); for gmail.com and
    /// googlemail.com drop dots and a `+tag` from the local part and use `gmail.com`.
    public init(normalising raw: some StringProtocol) throws(EmailError) {
        var text = String(raw)
        self.value = try text.withUTF8 { Email.normalise($0) }.get()
    }

    /// An address Tally normalised itself before and stored in its own binary index: taken
    /// as it is (normalising a million addresses again made a start half a second longer).
    init(normalised value: String) { self.value = value }

    /// Whether `text` looks like it holds an email address: an `@` with a dot somewhere after it.
    ///
    /// Deliberately looser than `init(normalising:)`: it guards a "name" column that holds an
    /// address from being published, where a false alarm costs little and a miss leaks one.
    public static func looksLikeEmail(_ text: some StringProtocol) -> Bool {
        // Over contiguous bytes when there are (every row's name passes here).
        if let found = text.utf8.withContiguousStorageIfAvailable({ bytes -> Bool in
            guard let at = bytes.firstIndex(of: UInt8(ascii: "@")) else { return false }
            return bytes[at...].contains(UInt8(ascii: "."))
        }) {
            return found
        }
        guard let at = text.utf8.firstIndex(of: UInt8(ascii: "@")) else { return false }
        return text.utf8[at...].contains(UInt8(ascii: "."))
    }

    public static func < (lhs: Email, rhs: Email) -> Bool { lhs.value < rhs.value }

    public var description: String { value }

    /// Decodes from a single string, normalising it again (normalising is idempotent), so a
    /// hand-edited ledger line cannot smuggle in an address that `init(normalising:)` refuses.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(normalising: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// Why a cell could not be read as an email address; the description is shown to the user
/// next to the file and row that held it.
public enum EmailError: Error, Equatable, CustomStringConvertible {
    /// The cell is empty (or holds only whitespace, `<>` or `mailto:`).
    case missing
    /// The cell holds text that is not an address; the associated value is that text, trimmed.
    case invalid(String)

    public var description: String {
        switch self {
        case .missing: return "no email address"
        case .invalid(let text): return "\"\(text)\" is not a valid email address"
        }
    }
}

extension Email {
    /// Nearly every address is ASCII, and this runs once per row, so ASCII input is trimmed,
    /// unwrapped and lowercased as bytes; anything else goes through `String` and Foundation
    /// first. Both then meet in `validatedAndFolded`, so the two paths cannot disagree.
    private static func normalise(_ input: UnsafeBufferPointer<UInt8>) -> Result<String, EmailError> {
        if input.contains(where: { $0 >= 0x80 }) {
            let trimmed = trim(Substring(decoding: input, as: UTF8.self))
            guard !trimmed.isEmpty else { return .failure(.missing) }
            var text = trimmed
            if text.last == ">", let open = text.lastIndex(of: "<") {
                text = trim(text[text.index(after: open)..<text.index(before: text.endIndex)])
            }
            if text.utf8.count >= 7, text.utf8.prefix(7).elementsEqual("mailto:".utf8, by: { $0 | 0x20 == $1 }) {
                text = trim(text.dropFirst(7))
            }
            guard !text.isEmpty else { return .failure(.missing) }
            // Lowercasing can produce decomposed sequences (İ → i̇), so compose afterwards.
            var folded = text.lowercased().precomposedStringWithCanonicalMapping
            let result = folded.withUTF8 { validatedAndFolded($0[...]) }
            return result.map { .success($0) } ?? .failure(.invalid(String(trimmed)))
        }

        let trimmed = trimASCII(input[...])
        guard !trimmed.isEmpty else { return .failure(.missing) }
        var text = trimmed
        if text.last == UInt8(ascii: ">"), let open = text.lastIndex(of: UInt8(ascii: "<")) {
            text = trimASCII(text[(open + 1)..<(text.endIndex - 1)])
        }
        if text.count >= 7, text.prefix(7).elementsEqual("mailto:".utf8, by: { $0 | 0x20 == $1 }) {
            text = trimASCII(text.dropFirst(7))
        }
        guard !text.isEmpty else { return .failure(.missing) }
        let result = validatedAndFolded(text)
        return result.map { .success($0) } ?? .failure(.invalid(String(decoding: trimmed, as: UTF8.self)))
    }

    /// Validates `address` (already trimmed and unwrapped) and returns its normalised form, or
    /// `nil` when it is not an address. ASCII letters are lowercased here; other text arrives
    /// lowercased and in NFC.
    private static func validatedAndFolded(_ address: Slice<UnsafeBufferPointer<UInt8>>) -> String? {
        // Written straight into the new string's storage: one allocation per address, not two.
        var valid = true
        let folded = String(unsafeUninitializedCapacity: foldedCapacity(address.count)) { out in
            guard let count = fold(address, into: out) else {
                valid = false
                return 0
            }
            return count
        }
        return valid ? folded : nil
    }

    /// Room enough for the folded form of an address of `count` bytes (`gmail.com` may be
    /// longer than `googlemail.com`'s short spellings).
    static func foldedCapacity(_ count: Int) -> Int { count + 10 }

    /// Whether `domain` is `name` (lowercase ASCII) in any case: the lengths first, so most
    /// domains are told apart without a byte compared (a generic `elementsEqual` over the
    /// name's `UTF8View` was a few percent of the reading thread).
    @inline(__always)
    private static func isDomain(_ domain: Slice<UnsafeBufferPointer<UInt8>>, _ name: StaticString) -> Bool {
        guard domain.count == name.utf8CodeUnitCount else { return false }
        var expected = name.utf8Start
        for byte in domain {
            guard lowercased(byte) == expected.pointee else { return false }
            expected += 1
        }
        return true
    }

    /// Validates `address` and writes its normalised form to `out` (at least
    /// `foldedCapacity(address.count)` bytes); returns its length, or nil when it is not an
    /// address. The one place both the `String` and the byte paths fold an address.
    private static func fold(_ address: Slice<UnsafeBufferPointer<UInt8>>, into out: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        let atSign = UInt8(ascii: "@"), dot = UInt8(ascii: ".")
        guard let at = address.firstIndex(of: atSign),
              !address[(at + 1)...].contains(atSign)
        else { return nil }
        let local = address[..<at]
        var domain = address[(at + 1)...]
        if domain.last == dot { domain = domain.dropLast() }
        guard isValidLocal(local), isValidDomain(domain) else { return nil }

        let isGmail = isDomain(domain, "gmail.com") || isDomain(domain, "googlemail.com")
        var n = 0
        if isGmail {
            // Gmail delivers b.o.b+news@gmail.com to bob@gmail.com: one mailbox, one student.
            for byte in local {
                if byte == UInt8(ascii: "+") { break }
                if byte != dot {
                    out[n] = lowercased(byte)
                    n += 1
                }
            }
            guard n > 0 else { return nil }
            out[n] = atSign
            n += 1
            for byte in "gmail.com".utf8 {
                out[n] = byte
                n += 1
            }
        } else {
            for byte in local {
                out[n] = lowercased(byte)
                n += 1
            }
            out[n] = atSign
            n += 1
            for byte in domain {
                out[n] = lowercased(byte)
                n += 1
            }
        }
        return n <= 254 ? n : nil
    }

    /// The byte path of `init(normalising:)` for the common cell — ASCII, as a table holds it —
    /// writing the normalised address to `out` (at least `foldedCapacity(raw.count)` bytes)
    /// with no `String` made. Returns its length; nil for anything else (non-ASCII text, a
    /// missing or invalid address), which the caller takes through `init(normalising:)` for
    /// its full treatment and its error. Where it answers, it answers what `init` would.
    static func normalisedASCII(_ raw: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        let input = raw.assumingMemoryBound(to: UInt8.self)
        guard !input.contains(where: { $0 >= 0x80 }) else { return nil }
        let trimmed = trimASCII(input[...])
        guard !trimmed.isEmpty else { return nil }
        var text = trimmed
        if text.last == UInt8(ascii: ">"), let open = text.lastIndex(of: UInt8(ascii: "<")) {
            text = trimASCII(text[(open + 1)..<(text.endIndex - 1)])
        }
        if text.count >= 7, text.prefix(7).elementsEqual("mailto:".utf8, by: { $0 | 0x20 == $1 }) {
            text = trimASCII(text.dropFirst(7))
        }
        guard !text.isEmpty else { return nil }
        return fold(text, into: out)
    }

    /// Non-empty, at most 64 bytes, no whitespace or control characters, and none of the
    /// bytes that never appear unquoted. Quoted local parts (`"a b"@x.org`) are legal but not
    /// something a student types into a form, so they are refused.
    private static func isValidLocal(_ local: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        guard !local.isEmpty, local.count <= 64 else { return false }
        var hasNonASCII = false
        for byte in local {
            switch byte {
            case 0...0x20, 0x7F, UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "("), UInt8(ascii: ")"),
                 UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "\\"), UInt8(ascii: ","), UInt8(ascii: ";"),
                 UInt8(ascii: ":"), UInt8(ascii: "\""):
                return false
            case 0x80...: hasNonASCII = true
            default: continue
            }
        }
        guard hasNonASCII else { return true }
        return String(decoding: local, as: UTF8.self).unicodeScalars.allSatisfy {
            !$0.properties.isWhitespace && $0.properties.generalCategory != .control
                && $0.properties.generalCategory != .format
        }
    }

    /// At least two dot-separated labels of letters, digits and inner hyphens, each at most 63
    /// bytes; non-ASCII letters, digits and combining marks are allowed so internationalised
    /// domains pass.
    private static func isValidDomain(_ domain: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        var labels = 0
        var start = domain.startIndex
        while start <= domain.endIndex {
            let end = domain[start...].firstIndex(of: UInt8(ascii: ".")) ?? domain.endIndex
            guard isValidLabel(domain[start..<end]) else { return false }
            labels += 1
            start = end + 1
        }
        return labels >= 2
    }

    private static func isValidLabel(_ label: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        let hyphen = UInt8(ascii: "-")
        guard !label.isEmpty, label.count <= 63, label.first != hyphen, label.last != hyphen else { return false }
        var hasNonASCII = false
        for byte in label {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), hyphen:
                continue
            case 0x80...: hasNonASCII = true
            default: return false
            }
        }
        guard hasNonASCII else { return true }
        return String(decoding: label, as: UTF8.self).unicodeScalars.allSatisfy { scalar in
            if scalar.isASCII { return true } // checked above
            let properties = scalar.properties
            switch properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber: return true
            default: return properties.isAlphabetic
            }
        }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    private static func trimASCII(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Slice<UnsafeBufferPointer<UInt8>> {
        let isSpace = { (byte: UInt8) in byte == 0x20 || (0x09...0x0D).contains(byte) }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
              let last = bytes.lastIndex(where: { !isSpace($0) })
        else { return bytes[bytes.endIndex...] }
        return bytes[first...last]
    }

    /// Characters that surround addresses pasted from spreadsheets and web pages: all Unicode
    /// whitespace (which includes U+00A0 NO-BREAK SPACE) plus the invisible zero-width space
    /// and byte-order mark.
    private static func trim(_ text: Substring) -> Substring {
        let isPadding = { (c: Character) in c.isWhitespace || c == "\u{200B}" || c == "\u{FEFF}" }
        guard let first = text.firstIndex(where: { !isPadding($0) }),
              let last = text.lastIndex(where: { !isPadding($0) })
        else { return text[text.endIndex...] }
        return text[first...last]
    }
}
