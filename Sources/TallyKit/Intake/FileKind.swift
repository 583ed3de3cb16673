/// What a dropped file is, decided by its first bytes first and its name second, so that a
/// `.csv` that is really a workbook, or a `.txt` that is really JSON, is read for what it is.
public enum FileKind: String, Equatable, Sendable {
    case json
    case jsonLines = "json-lines"
    case csv
    case tsv
    case roster
    case xlsx
    case ods
    case zip
    /// An OLE compound file: a password-protected XLSX, or a legacy .xls.
    case compoundFile = "compound file"
    case email
    case utf16Text = "utf-16 text"
    /// Text that is not UTF-8 (Latin-1, Windows-1252, ...): refused with how to re-save it.
    case otherEncoding = "text, not utf-8"
    case binary

    /// Sniffs `head` (the first few KiB of the file) and the file's name.
    public static func detect(head: [UInt8], name: String) -> FileKind {
        let lower = name.lowercased()
        let ext = lower.split(separator: ".").last.map(String.init) ?? ""
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            if ext == "ods" || containsASCII(head, "application/vnd.oasis.opendocument.spreadsheet") { return .ods }
            if ext == "xlsx" || ext == "xlsm" || containsASCII(head, "xl/") || containsASCII(head, "[Content_Types].xml") { return .xlsx }
            return .zip
        }
        if head.starts(with: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) { return .compoundFile }
        if head.starts(with: [0xFF, 0xFE]) || head.starts(with: [0xFE, 0xFF]) { return .utf16Text }
        var body = head[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        // Before the text check: an old mailer's 8-bit Latin-1 body, or a 7-bit ISO-2022-JP
        // one with its escape bytes, is still a message (its parts say their charsets).
        if ext == "eml" || looksLikeMessage(body) { return .email }
        switch sniffText(body) {
        case .binary: return .binary
        case .otherEncoding: return .otherEncoding
        default: break
        }
        let first = body.first { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            if ext == "jsonl" || ext == "ndjson" { return .jsonLines }
            return firstLineIsCompleteObject(body) ? .jsonLines : .json
        }
        if ext == "jsonl" || ext == "ndjson" { return .jsonLines }
        if ext == "json" { return .json }
        if lower.hasPrefix("roster") && (ext == "csv" || ext == "tsv" || ext == "txt") { return .roster }
        if ext == "tsv" || ext == "tab" { return .tsv }
        return .csv
    }

    /// `.binary` for a NUL or control bytes, `.otherEncoding` for text that is not UTF-8,
    /// `.csv` (meaning: UTF-8 text) otherwise.
    static func sniffText(_ bytes: ArraySlice<UInt8>) -> FileKind {
        if bytes.contains(0) { return .binary }
        // Tolerate a multi-byte character cut at the end of the head.
        let sample = Array(bytes.prefix(bytes.count > 8 ? bytes.count - 4 : bytes.count))
        var iterator = sample.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if scalar.value < 0x20 && scalar.value != 0x09 && scalar.value != 0x0A && scalar.value != 0x0D && scalar.value != 0x0C {
                    return .binary
                }
            case .emptyInput: return .csv
            case .error: return .otherEncoding
            }
        }
    }

    /// `{...}` closed on the first line: one object a line, as JSON lines are written.
    static func firstLineIsCompleteObject(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let newline = bytes.firstIndex(of: 0x0A) else { return false }
        let line = bytes[bytes.startIndex..<newline]
        guard let rest = bytes[newline...].first(where: { $0 != 0x0A && $0 != 0x0D && $0 != 0x20 }),
              rest == UInt8(ascii: "{") || rest == UInt8(ascii: "[") else { return false }
        return (try? JSONParser.parse(Array(line))) != nil
    }

    /// RFC 5322 header lines at the start: the first line is a header field (`Name: value`,
    /// a name of letters, digits and dashes), and the header block holds a `From:` and
    /// one more field every message has (`Date:`, `Message-ID:`, `Received:`, `Subject:`,
    /// `MIME-Version:`, `Return-Path:`, `Delivered-To:`). A table's header row has no `:`
    /// right after its first word.
    static func looksLikeMessage(_ bytes: ArraySlice<UInt8>) -> Bool {
        // Header lines up to the first empty one, as bytes: CR LF and LF alike.
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        for index in bytes.indices.prefix(4096) where bytes[index] == 0x0A {
            var line = bytes[start..<index]
            if line.last == 0x0D { line = line.dropLast() }
            if line.isEmpty { break }
            lines.append(line)
            start = index + 1
        }
        func name(_ line: ArraySlice<UInt8>) -> String? {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon != line.startIndex,
                  line[..<colon].allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A)
                                             || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") })
            else { return nil }
            return String(decoding: line[..<colon], as: UTF8.self).lowercased()
        }
        guard let first = lines.first, name(first) != nil else { return false }
        let names = Set(lines.compactMap(name))
        let common: Set<String> = ["date", "message-id", "received", "subject", "mime-version", "return-path", "delivered-to"]
        return names.contains("from") && !names.isDisjoint(with: common)
    }

    private static func containsASCII(_ bytes: [UInt8], _ needle: String) -> Bool {
        let pattern = Array(needle.utf8)
        guard bytes.count >= pattern.count else { return false }
        for start in 0...(bytes.count - pattern.count) where bytes[start] == pattern[0] {
            if bytes[start..<(start + pattern.count)].elementsEqual(pattern) { return true }
        }
        return false
    }
}
