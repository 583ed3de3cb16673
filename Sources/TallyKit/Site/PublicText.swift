/// How the site shows a student's name.
///
/// The default, `first-last-initial`, is what a school can publish without asking: enough
/// for a student to find themselves, not enough to identify a stranger. Whatever the style,
/// a non-public student, a missing name and a name with an `@` all show as "Anonymous".
public enum NameStyle: String, Sendable, Codable, CaseIterable {
    /// "Ada Lovelace" → "Ada L."; "Mary-Jane van der Berg" → "Mary-Jane B."; "Ada" → "Ada".
    case firstLastInitial = "first-last-initial"
    /// The name as given, with its whitespace tidied.
    case full
    /// "Ada Lovelace" → "A. L." (first and last word); "Ada" → "A.".
    case initials
    /// Everyone is "Anonymous": a board of ranks and figures only.
    case anonymous
}

/// Turns untrusted text into text the site may publish: names by the naming policy, and
/// every other string (course, level, badge, title) with anything email-like hidden.
///
/// The contract says an email never appears in the site. Names are checked by the
/// normaliser too, but course names come from free-text form fields, where students type
/// anything; so the site checks every string itself rather than trust any stage before it.
/// HTML escaping is not done here: the templates escape (`{{ }}`) at the last moment.
enum PublicText {
    /// What stands in for a student whose name may not or cannot be shown.
    static let anonymous = "Anonymous"
    /// What stands in for a word of a course, level or badge name that holds an `@`.
    static let hiddenEmail = "(email hidden)"

    /// The name to publish for a student.
    ///
    /// An ASCII name (nearly every name of an export) is read byte by byte
    /// (`asciiWords`): the general way, by Unicode scalars and with Foundation's
    /// compatibility normalisation to find a full-width `@`, took half the time of building
    /// the boards in `tally watch` (every shown row of every board, each drop). Tests hold
    /// the two to each other over every ASCII character.
    static func displayName(_ name: String?, isPublic: Bool, style: NameStyle) -> String {
        guard isPublic, style != .anonymous, let name else { return anonymous }
        guard let words = asciiWords(name) else { return displayNameByScalars(name, style: style) }
        guard !name.utf8.contains(UInt8(ascii: "@")) else { return anonymous }
        return shown(words.filter { $0.utf8.contains(where: isASCIILetterOrDigit) }, style: style)
    }

    /// `displayName` for any text, by Unicode scalars (the definition for ASCII names too).
    static func displayNameByScalars(_ name: String, style: NameStyle) -> String {
        guard !looksLikeEmail(name) else { return anonymous }
        return shown(words(of: name).filter { $0.contains(where: { $0.isLetter || $0.isNumber }) }, style: style)
    }

    /// The name `style` makes of a name's words (those holding a letter or digit).
    private static func shown(_ words: [String], style: NameStyle) -> String {
        guard let first = words.first, let last = words.last else { return anonymous }
        switch style {
        case .full:
            return words.joined(separator: " ")
        case .firstLastInitial:
            return words.count == 1 ? first : first + " " + initial(of: last) + "."
        case .initials:
            return words.count == 1 ? initial(of: first) + "." : initial(of: first) + ". " + initial(of: last) + "."
        case .anonymous:
            return anonymous
        }
    }

    /// `text` with control characters removed, whitespace collapsed, and every word that
    /// holds an at-sign (in any of its Unicode forms) replaced by "(email hidden)". ASCII
    /// text is read byte by byte, as names are.
    static func scrubbed(_ text: String) -> String {
        guard let words = asciiWords(text) else { return scrubbedByScalars(text) }
        return words.map { $0.utf8.contains(UInt8(ascii: "@")) ? hiddenEmail : $0 }.joined(separator: " ")
    }

    /// `scrubbed` for any text, by Unicode scalars (the definition for ASCII text too).
    static func scrubbedByScalars(_ text: String) -> String {
        words(of: text).map { looksLikeEmail($0) ? hiddenEmail : $0 }.joined(separator: " ")
    }

    /// True when `text` holds an at-sign, including the full-width and small forms that
    /// compatibility normalisation folds into `@`.
    static func looksLikeEmail(_ text: String) -> Bool {
        text.contains("@") || text.precomposedStringWithCompatibilityMapping.contains("@")
    }

    /// The whitespace-separated words of `text`, control and format characters dropped
    /// (a zero-width space or a stray NUL would otherwise hide inside a "word").
    static func words(of text: String) -> [String] {
        let cleaned = String(String.UnicodeScalarView(text.unicodeScalars.filter { scalar in
            switch scalar.properties.generalCategory {
            case .control: return scalar.properties.isWhitespace   // keep tabs and newlines as separators
            case .format: return false
            default: return true
            }
        }))
        return cleaned.split(whereSeparator: { $0.isWhitespace }).map(String.init)
    }

    /// The words of `text` as `words(of:)` finds them, if `text` is ASCII (else nil): the
    /// controls that are not whitespace dropped (in ASCII, no character is of the format
    /// category), the rest split at whitespace (tab, line feed, vertical tab, form feed,
    /// carriage return, space; a CR LF pair is one separator either way).
    static func asciiWords(_ text: String) -> [String]? {
        var text = text
        return text.withUTF8 { utf8 -> [String]? in
            var words: [String] = []
            var word: [UInt8] = []
            for byte in utf8 {
                switch byte {
                case 0x80...:
                    return nil
                case 0x09...0x0D, 0x20:
                    if !word.isEmpty {
                        words.append(String(decoding: word, as: UTF8.self))
                        word.removeAll(keepingCapacity: true)
                    }
                case 0x00...0x1F, 0x7F:
                    continue
                default:
                    word.append(byte)
                }
            }
            if !word.isEmpty { words.append(String(decoding: word, as: UTF8.self)) }
            return words
        }
    }

    private static func isASCIILetterOrDigit(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    /// The first letter (or digit) of a word, upper-cased: "(lovelace)" → "L".
    private static func initial(of word: String) -> String {
        let letter = word.first(where: { $0.isLetter || $0.isNumber }) ?? word.first ?? "?"
        return String(letter).uppercased()
    }
}
