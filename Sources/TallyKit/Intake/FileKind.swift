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

    /// Sniffs `head` (the first few KiB of the file) and the file's name. A head that ends
    /// inside what may be a mail header block asks `readMore` for the bytes that follow (an
    /// empty answer: the end of the file), up to `headerBlockLimit`; without it, the head is
    /// taken for the whole file.
    public static func detect(head: [UInt8], name: String, readMore: () -> [UInt8] = { [] }) -> FileKind {
        let (lower, ext) = nameParts(name)
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
        // An mbox is a message, or several, each after a `From ` line: the mail reader says which.
        if ext == "eml" || ext == "mbox" || looksLikeMessage(body, readMore: readMore) { return .email }
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
        if isRosterName(lower, ext: ext) { return .roster }
        if ext == "tsv" || ext == "tab" { return .tsv }
        return .csv
    }

    private static func isRosterName(_ lower: String, ext: String) -> Bool {
        lower.hasPrefix("roster") && (ext == "csv" || ext == "tsv" || ext == "txt")
    }

    /// A file name lowercased, and its extension (after the last dot).
    private static func nameParts(_ name: String) -> (lower: String, ext: String) {
        let lower = name.lowercased()
        return (lower, lower.split(separator: ".").last.map(String.init) ?? "")
    }

    /// Why UTF-16 text (`.utf16Text`) is not read as a completions table, when it is not one:
    /// a roster (read as UTF-8 only), or JSON (what Windows PowerShell 5's `>` and `Out-File`
    /// write). Nil for a table, which is read.
    public static func utf16Refusal(head: [UInt8], name: String) -> String? {
        let (lower, ext) = nameParts(name)
        if isRosterName(lower, ext: ext) {
            return "it is a roster saved as UTF-16 (Excel's \"Unicode Text\"), and rosters are read as UTF-8: save it as \"CSV UTF-8\" and drop it again"
        }
        // The first character that is not white space, in the byte order the BOM gives.
        let littleEndian = head.starts(with: [0xFF, 0xFE])
        var index = 2
        while index + 1 < head.count {
            let unit = littleEndian ? UInt16(head[index]) | UInt16(head[index + 1]) << 8
                                    : UInt16(head[index]) << 8 | UInt16(head[index + 1])
            index += 2
            if unit == 0x20 || unit == 0x09 || unit == 0x0A || unit == 0x0D { continue }
            guard unit == 0x7B || unit == 0x5B else { return nil }   // `{` or `[`
            return "it is JSON saved as UTF-16 (what Windows PowerShell 5 writes with > or Out-File): save it as UTF-8 (Out-File -Encoding utf8, or Set-Content -Encoding utf8) and drop it again"
        }
        return nil
    }

    /// `.binary` for a NUL, or control characters more than one in a hundred;
    /// `.otherEncoding` for text that is not UTF-8; `.csv` (meaning: UTF-8 text) otherwise.
    static func sniffText(_ bytes: ArraySlice<UInt8>) -> FileKind {
        if bytes.contains(0) { return .binary }
        // Tolerate a multi-byte character cut at the end of the head.
        let sample = Array(bytes.prefix(bytes.count > 8 ? bytes.count - 4 : bytes.count))
        var iterator = sample.makeIterator()
        var decoder = UTF8()
        // A stray control character in a cell (Word's soft line break, U+000B, pasted into a
        // sheet) does not make a file binary; control characters that are more than one in a
        // hundred do.
        var scalars = 0, controls = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                scalars += 1
                if scalar.value < 0x20 && ![0x09, 0x0A, 0x0B, 0x0C, 0x0D].contains(scalar.value) { controls += 1 }
            case .emptyInput: return controls * 100 > scalars ? .binary : .csv
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

    /// An RFC 5322 header block at the start, read whole however long it is (mail that
    /// passed through Gmail or Microsoft 365 carries 5-8 KiB of `Received`, `ARC-*`,
    /// `DKIM-Signature` and `Authentication-Results` before its `From`): see
    /// `HeaderBlockSniffer`.
    static func looksLikeMessage(_ bytes: ArraySlice<UInt8>, readMore: () -> [UInt8] = { [] }) -> Bool {
        var sniffer = HeaderBlockSniffer()
        if let verdict = sniffer.feed(bytes) { return verdict }
        while sniffer.consumed <= headerBlockLimit {
            let more = readMore()
            if more.isEmpty { break }
            if let verdict = sniffer.feed(more[...]) { return verdict }
        }
        return sniffer.finish()
    }

    /// How much of a header block the sniffer reads: the mail reader's own bound
    /// (`MailLimits.maxHeaderBytes`), so that whatever it would read, the sniffer sees whole.
    /// A longer block of header lines is still called a message, and the reader then says
    /// the block is too long.
    public static let headerBlockLimit = 256 << 10

    private static func containsASCII(_ bytes: [UInt8], _ needle: String) -> Bool {
        let pattern = Array(needle.utf8)
        guard bytes.count >= pattern.count else { return false }
        for start in 0...(bytes.count - pattern.count) where bytes[start] == pattern[0] {
            if bytes[start..<(start + pattern.count)].elementsEqual(pattern) { return true }
        }
        return false
    }
}

/// Decides, a chunk at a time, whether bytes begin with an RFC 5322 header block: by its
/// shape, not by one field found early.
///
/// Every line up to the first empty one must be a field (`Name: value`, the name of letters,
/// digits, `-` and `_`, the colon right after it) or a folded continuation of one (starting
/// with a space or a tab); an mbox's `From ` envelope line may come first. The block must
/// end in an empty line (or at the end of the file), and name at least two of the fields
/// every message carries (`From`, `To`, `Date`, `Subject`, `Message-ID`, `Received`,
/// `MIME-Version`, `Return-Path`, `Delivered-To`).
///
/// A table is not taken for mail because its first row happens to read `Subject: x`: its
/// next line (`ada@example.org,Ada`, `9/2/2024 10:30:00,…`) is not a field, and the first line
/// that is neither a field nor a continuation decides "no". Memory is one field name.
struct HeaderBlockSniffer {
    private enum Place { case lineStart, name, value }
    private var place = Place.lineStart
    private var name: [UInt8] = []
    private var lines = 0
    private var known: Set<String> = []
    /// Bytes seen so far.
    private(set) var consumed = 0

    static let evidence: Set<String> = ["from", "to", "date", "subject", "message-id", "received",
                                        "mime-version", "return-path", "delivered-to"]

    /// Takes the next bytes; returns the verdict once they settle it, nil while the block goes on.
    mutating func feed(_ bytes: ArraySlice<UInt8>) -> Bool? {
        for byte in bytes {
            consumed += 1
            switch place {
            case .lineStart:
                if byte == 0x0D { continue }   // CR LF and LF alike
                if byte == 0x0A { return lines > 0 && known.count >= 2 }   // the empty line: the block ends
                if byte == 0x20 || byte == 0x09 {
                    guard lines > 0 else { return false }   // a continuation of nothing
                    place = .value
                } else if Self.isNameByte(byte) {
                    name = [Self.lowercased(byte)]
                    place = .name
                } else {
                    return false
                }
            case .name:
                if byte == UInt8(ascii: ":") {
                    let field = String(decoding: name, as: UTF8.self)
                    if Self.evidence.contains(field) { known.insert(field) }
                    place = .value
                } else if byte == 0x20 && consumed == 5 && name == Array("from".utf8) {
                    place = .value   // an mbox envelope line, `From sender date`: not a field
                    lines -= 1
                } else if Self.isNameByte(byte) && name.count < 128 {
                    name.append(Self.lowercased(byte))
                } else {
                    return false
                }
            case .value:
                if byte == 0 { return false }
                if byte == 0x0A {
                    lines += 1
                    place = .lineStart
                }
            }
        }
        return nil
    }

    /// The verdict at the end of the file, or of what was read: a block of fields alone (no
    /// body) is a message too, if it names enough of them.
    func finish() -> Bool {
        place != .name && lines + (place == .value ? 1 : 0) > 0 && known.count >= 2
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }
}
