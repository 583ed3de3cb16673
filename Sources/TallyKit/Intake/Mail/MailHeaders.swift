import Foundation

/// The header fields of a message or of one MIME part, unfolded, in their order.
///
/// Names are compared ignoring case. Values are kept as written (raw, for
/// `Authentication-Results` and addresses); ``decoded(_:)`` applies RFC 2047 for display
/// text such as a subject.
public struct MailHeaders: Sendable, Equatable {
    public var fields: [(name: String, value: String)]

    public init(_ fields: [(name: String, value: String)] = []) { self.fields = fields }

    public static func == (a: MailHeaders, b: MailHeaders) -> Bool {
        a.fields.elementsEqual(b.fields) { $0.name == $1.name && $0.value == $1.value }
    }

    /// The first (topmost) value of `name`.
    public subscript(_ name: String) -> String? {
        let wanted = name.lowercased()
        return fields.first { $0.name.lowercased() == wanted }?.value
    }

    /// Every value of `name`, topmost first.
    public func all(_ name: String) -> [String] {
        let wanted = name.lowercased()
        return fields.filter { $0.name.lowercased() == wanted }.map(\.value)
    }

    /// Parses an unfolded header block: `Name: value` lines, continuation lines (starting
    /// with a space or tab) joined to the line before. Lines without a colon are dropped.
    public init(block lines: [String]) {
        var fields: [(name: String, value: String)] = []
        for line in lines {
            if let first = line.first, first == " " || first == "\t", !fields.isEmpty {
                fields[fields.count - 1].value += line
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, !name.contains(" ") else { continue }
            fields.append((name, String(line[line.index(after: colon)...])))
        }
        self.fields = fields.map { ($0.name, $0.value.trimmingCharacters(in: .whitespaces)) }
    }

    /// The `Content-Type` of this part: `text/plain` when absent, as RFC 2045 says.
    public var contentType: MediaType {
        self["Content-Type"].flatMap(MediaType.init) ?? MediaType(type: "text", subtype: "plain", parameters: [:])
    }

    /// The attachment's file name: `Content-Disposition`'s `filename`, else `Content-Type`'s
    /// `name`, with RFC 2231 and (as many mailers write them) RFC 2047 encodings undone.
    public var fileName: String? {
        let disposition = self["Content-Disposition"].flatMap { MediaType.parameters(of: $0) }
        let name = disposition?["filename"] ?? contentType.parameters["name"]
        return name.map(MailHeaders.decodeWords).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `Content-Transfer-Encoding`, lowercased; `7bit` when absent.
    public var transferEncoding: String {
        (self["Content-Transfer-Encoding"] ?? "7bit").trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// `Message-ID` without its angle brackets.
    public var messageID: String? {
        guard var id = self["Message-ID"]?.trimmingCharacters(in: .whitespaces), !id.isEmpty else { return nil }
        if id.hasPrefix("<"), let close = id.firstIndex(of: ">") { id = String(id[id.index(after: id.startIndex)..<close]) }
        return id.isEmpty ? nil : id
    }

    /// The address of `From` (the part in angle brackets, or the whole value), lowercased.
    public var fromAddress: String? {
        self["From"].flatMap(MailHeaders.address)
    }

    /// The address in a `From`-style value: `"Forms" <forms@school.example>`, `forms@school.example
    /// (Forms)`, `=?utf-8?Q?...?= <forms@school.example>`.
    ///
    /// Quoted text (a display name, a quoted local part) is skipped when looking for the angle
    /// brackets, so `"<forms@school.example>" <x@evil.example>` is `x@evil.example`, and a
    /// value with more than one mailbox, or a quoted local part, gives nil: no single sender.
    static func address(_ value: String) -> String? {
        var outside = ""          // the value with quoted strings blanked out
        var quoted = false, escaped = false
        for character in MailHeaders.removingComments(value) {
            if escaped { escaped = false; outside.append(" "); continue }
            if quoted && character == "\\" { escaped = true; outside.append(" "); continue }
            if character == "\"" { quoted.toggle(); outside.append("\""); continue }
            outside.append(quoted ? " " : character)
        }
        guard !quoted else { return nil }
        let text = Array(MailHeaders.removingComments(value))
        let blank = Array(outside)
        guard blank.count == text.count, blank.filter({ $0 == "<" }).count <= 1, !blank.contains(",") else { return nil }
        var candidate: String
        if let open = blank.firstIndex(of: "<"), let close = blank[open...].firstIndex(of: ">") {
            candidate = String(text[(open + 1)..<close])
        } else {
            candidate = String(text)
        }
        candidate = candidate.trimmingCharacters(in: .whitespaces)
        guard candidate.contains("@"), !candidate.contains(" "), !candidate.contains("\""), !candidate.contains(",")
        else { return nil }
        return candidate.lowercased()
    }

    /// `value` without RFC 5322 comments `( ... )` (nested, with `\` escapes) outside quotes.
    static func removingComments(_ value: String) -> String {
        var out = ""
        var depth = 0, quoted = false, escaped = false
        for character in value {
            if escaped { escaped = false; if depth == 0 { out.append(character) }; continue }
            if character == "\\" { escaped = true; if depth == 0 { out.append(character) }; continue }
            if depth == 0 && character == "\"" { quoted.toggle(); out.append(character); continue }
            if !quoted && character == "(" { depth += 1; continue }
            if !quoted && character == ")" && depth > 0 { depth -= 1; if depth == 0 { out.append(" ") }; continue }
            if depth == 0 { out.append(character) }
        }
        return out
    }

    /// Undoes RFC 2047 encoded words (`=?UTF-8?B?...?=`, `=?iso-8859-1?Q?...?=`); whitespace
    /// between two encoded words is dropped, as the RFC says. Unknown charsets stay encoded.
    public static func decodeWords(_ text: String) -> String {
        guard text.contains("=?") else { return text }
        var out = ""
        var rest = Substring(text)
        var lastWasWord = false
        while let start = rest.range(of: "=?") {
            let before = rest[..<start.lowerBound]
            let afterStart = rest[start.upperBound...]
            guard let word = encodedWord(afterStart) else {
                out += before + "=?"
                rest = afterStart
                lastWasWord = false
                continue
            }
            if !(lastWasWord && before.allSatisfy(\.isWhitespace)) { out += before }
            out += word.text
            rest = afterStart[word.end...]
            lastWasWord = true
        }
        return out + rest
    }

    /// `charset?encoding?text?=` at the start of `text`, decoded, and where it ends.
    private static func encodedWord(_ text: Substring) -> (text: String, end: Substring.Index)? {
        let parts = text.split(separator: "?", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let close = parts[2].range(of: "?=") else { return nil }
        let charset = parts[0].split(separator: "*").first.map(String.init) ?? ""   // RFC 2231 language suffix
        let encoded = parts[2][..<close.lowerBound]
        guard !encoded.contains(" ") else { return nil }
        let bytes: [UInt8]
        switch parts[1].lowercased() {
        case "b": bytes = Base64Decoder.decode(Array(encoded.utf8))
        case "q": bytes = QuotedPrintable.decodeWord(Array(encoded.utf8))
        default: return nil
        }
        guard let decoded = Charset.decode(bytes, charset: charset) else { return nil }
        return (decoded, close.upperBound)
    }
}

/// A `Content-Type` (or `Content-Disposition`) value: `type/subtype; key=value; ...`.
public struct MediaType: Sendable, Equatable {
    public var type: String
    public var subtype: String
    /// Lowercased keys; RFC 2231 continuations and charsets already joined and decoded.
    public var parameters: [String: String]

    public init(type: String, subtype: String, parameters: [String: String]) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    public init?(_ value: String) {
        let main = value.split(separator: ";", maxSplits: 1).first.map {
            MailHeaders.removingComments(String($0)).trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
        let pieces = main.split(separator: "/", maxSplits: 1).map(String.init)
        guard pieces.count == 2, !pieces[0].isEmpty, !pieces[1].isEmpty else { return nil }
        type = pieces[0]
        subtype = pieces[1].trimmingCharacters(in: .whitespaces)
        parameters = MediaType.parameters(of: value)
    }

    public var essence: String { type + "/" + subtype }
    public var isMultipart: Bool { type == "multipart" }

    /// The parameters after the first `;` of a header value, RFC 2231 included:
    /// `name*=utf-8''Caf%C3%A9.csv`, `name*0="a"; name*1="b.csv"`, `name*0*=utf-8''a%20; name*1*=b`.
    static func parameters(of value: String) -> [String: String] {
        var plain: [String: String] = [:]
        var sections: [String: [(Int, String, Bool)]] = [:]   // name → (index, raw value, encoded)
        for piece in splitParameters(value).dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            var key = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var raw = piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if raw.hasPrefix("\"") && raw.hasSuffix("\"") && raw.count >= 2 {
                raw = unquote(String(raw.dropFirst().dropLast()))
            }
            let encoded = key.hasSuffix("*")
            if encoded { key.removeLast() }
            if let star = key.lastIndex(of: "*"), let index = Int(key[key.index(after: star)...]) {
                sections[String(key[..<star]), default: []].append((index, raw, encoded))
            } else if encoded {
                sections[key, default: []].append((0, raw, true))
            } else {
                plain[key] = raw
            }
        }
        for (key, parts) in sections {
            // RFC 2231: the first encoded section says charset'language'; later ones are
            // percent-encoded in the same charset.
            var charset = "us-ascii"
            var bytes: [UInt8] = []
            for (offset, part) in parts.sorted(by: { $0.0 < $1.0 }).enumerated() {
                var text = Substring(part.1)
                if part.2 {
                    if offset == 0 {
                        let pieces = text.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                        if pieces.count == 3 {
                            charset = pieces[0].isEmpty ? "us-ascii" : String(pieces[0])
                            text = pieces[2]
                        }
                    }
                    bytes += percentDecoded(text)
                } else {
                    bytes += Array(text.utf8)
                }
            }
            plain[key] = Charset.decode(bytes, charset: charset) ?? String(decoding: bytes, as: UTF8.self)
        }
        return plain
    }

    /// Splits on `;` outside quotes.
    private static func splitParameters(_ value: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        var quoted = false, escaped = false
        for character in value {
            if escaped { escaped = false; current.append(character); continue }
            if character == "\\" && quoted { escaped = true; current.append(character); continue }
            if character == "\"" { quoted.toggle() }
            if character == ";" && !quoted {
                pieces.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        pieces.append(current)
        return pieces
    }

    private static func unquote(_ text: String) -> String {
        var out = ""
        var escaped = false
        for character in text {
            if escaped { out.append(character); escaped = false } else if character == "\\" { escaped = true } else { out.append(character) }
        }
        return out
    }

    private static func percentDecoded(_ text: Substring) -> [UInt8] {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
               let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }
}
