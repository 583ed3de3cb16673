#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bounds on what one message may make Tally do; the workbook limits of `[limits]` apply
/// to the parts it extracts.
public struct MailLimits: Sendable {
    /// `multipart/*` and forwarded messages inside one another.
    public var maxDepth = 10
    /// MIME parts of any kind in one message.
    public var maxParts = 500
    /// One line of the message as sent (RFC 5322 says 998 bytes; 8-bit parts run longer).
    public var maxLineBytes = 1 << 20
    /// One header block.
    public var maxHeaderBytes = 256 << 10
    /// One decoded part.
    public var maxPartBytes = 1 << 30
    /// All the decoded parts of one message kept.
    public var maxTotalBytes = 2 << 30

    public init() {}
}

/// Why a message could not be read.
public enum MailError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(String)
    case tooDeep(Int)
    case tooManyParts(Int)
    case lineTooLong(Int)
    case headerTooLarge(Int)
    case partTooLarge(part: String, limit: Int)
    case tooLarge(limit: Int)
    /// An mbox of several messages (`From ` lines between them).
    case mailbox(messages: Int)

    public var description: String {
        switch self {
        case .unreadable(let reason): return reason
        case .tooDeep(let limit): return "its parts are nested more than \(limit) deep"
        case .tooManyParts(let limit): return "it has more than \(limit) MIME parts"
        case .lineTooLong(let limit): return "it has a line longer than \(limit) bytes"
        case .headerTooLarge(let limit): return "a header block is longer than \(limit) bytes"
        case .partTooLarge(let part, let limit): return "part \(part) is over \(limit) bytes once decoded"
        case .tooLarge(let limit): return "its attachments are over \(limit) bytes once decoded"
        case .mailbox(let messages):
            return "it is an mbox of \(messages) messages, and Tally reads one message per file: split it, one message per file "
                + "(`git mailsplit -oDIR FILE`, or `formail -s sh -c 'cat > DIR/msg.$FILENO' < FILE`), and drop those"
        }
    }
}

/// One part of a message that may hold something Tally reads, decoded into a file.
public struct MailAttachment: Sendable, Equatable {
    /// The part's number, as IMAP counts them: `1`, `2`, `2.1` (a forwarded message's parts
    /// are numbered under its own).
    public var number: String
    /// Its file name, when it has one (a body part has none).
    public var name: String?
    public var contentType: MediaType
    /// Where the decoded bytes are.
    public var path: String
    public var bytes: Int
}

/// A message read: its top-level headers and the parts kept.
public struct ParsedMessage: Sendable {
    public var headers: MailHeaders
    public var attachments: [MailAttachment]
    /// Parts passed over (an image, an HTML body), for the log: "2 (image/png logo.png)".
    public var skipped: [String]
}

/// Reads an RFC 5322 message and its MIME structure in one streaming pass: nested
/// `multipart/*`, `message/rfc822` forwarded inside, base64 and quoted-printable, charsets
/// (text parts are turned into UTF-8), RFC 2047/2231 file names. Parts that may hold a table
/// or JSON are decoded into files in `directory`; the rest are read past. Memory stays at
/// one line and one buffer whatever the message's size.
public final class MIMEReader {
    private let lines: MailLineReader
    private let limits: MailLimits
    private let directory: String
    private var boundaries: [[UInt8]] = []
    private var partCount = 0
    private var keptBytes = 0
    /// For a forwarded message read on its own: its part number and depth in the outer one.
    private var rootNumber = ""
    private var rootDepth = 0
    private var attachments: [MailAttachment] = []
    private var skipped: [String] = []
    /// An mbox (the file begins with a `From ` envelope line): where its next message starts,
    /// the current one ends (see `nextLine`).
    private var mbox = false
    private var lookahead: MailLineReader.Line?
    private var previousWasEmpty = false
    private var atNextMessage = false

    public convenience init(path: String, directory: String, limits: MailLimits = MailLimits()) throws(MailError) {
        let source: FileByteSource
        do { source = try FileByteSource(path: path) } catch { throw .unreadable("\(error)") }
        self.init(source: source, directory: directory, limits: limits)
    }

    /// Reads the message from `source` (the fuzzer hands it bytes in memory).
    package init(source: ByteSource, directory: String, limits: MailLimits = MailLimits()) {
        lines = MailLineReader(source: source, maxLine: limits.maxLineBytes)
        self.limits = limits
        self.directory = directory
    }

    /// Reads the message. An mbox of one message (a `From ` envelope line first, as `mutt`
    /// and `formail` save one) is that message; an mbox of several is refused, with their
    /// count, rather than read in part: `.mailbox`.
    public func read() throws(MailError) -> ParsedMessage {
        if rootDepth == 0, let first = try lines.next() {
            if Self.isEnvelope(first.bytes) { mbox = true } else { lookahead = first }
        }
        var top = MailHeaders()
        _ = try entity(number: rootNumber, depth: rootDepth, defaultType: .textPlain, topHeaders: &top)
        if atNextMessage {
            var messages = 2
            atNextMessage = false
            while try nextLine() != nil || atNextMessage {
                if atNextMessage {
                    messages += 1
                    atNextMessage = false
                }
            }
            throw .mailbox(messages: messages)
        }
        return ParsedMessage(headers: top, attachments: attachments, skipped: skipped)
    }

    /// The next line of the message. In an mbox, a `From ` envelope line after an empty line,
    /// followed by a header field, starts the next message: this one ends there (nil), and
    /// `atNextMessage` says why. (Writers of mbox files escape a body's own `From ` lines as
    /// `>From `; the field after it guards against one that did not.)
    private func nextLine() throws(MailError) -> MailLineReader.Line? {
        guard mbox else {
            if let line = lookahead {
                lookahead = nil
                return line
            }
            return try lines.next()
        }
        guard !atNextMessage else { return nil }
        let line: MailLineReader.Line
        if let held = lookahead {
            lookahead = nil
            line = held
        } else if let read = try lines.next() {
            line = read
        } else {
            return nil
        }
        if previousWasEmpty && Self.isEnvelope(line.bytes), let next = try lines.next() {
            if Self.isField(next.bytes) {
                atNextMessage = true
                previousWasEmpty = false
                return nil
            }
            lookahead = next
        }
        previousWasEmpty = line.bytes.isEmpty
        return line
    }

    /// `From sender date`: an mbox's envelope line.
    static func isEnvelope(_ line: [UInt8]) -> Bool {
        line.count > 6 && line.starts(with: Array("From ".utf8)) && line[5] != 0x20
    }

    /// `Name: value`.
    static func isField(_ line: [UInt8]) -> Bool {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return false }
        return line[..<colon].allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    /// A delimiter line: which boundary (its index in `boundaries`) and whether it closes.
    private struct Delimiter { var level: Int; var closes: Bool }

    /// Parses the entity whose header block comes next; returns the delimiter that ended it,
    /// nil at the end of the message.
    private func entity(number: String, depth: Int, defaultType: MediaType,
                        topHeaders: inout MailHeaders) throws(MailError) -> Delimiter? {
        partCount += 1
        guard partCount <= limits.maxParts else { throw .tooManyParts(limits.maxParts) }
        guard depth <= limits.maxDepth else { throw .tooDeep(limits.maxDepth) }
        let (headers, ended) = try headerBlock()
        if depth == rootDepth { topHeaders = headers }
        if let ended { return ended }
        let type = headers["Content-Type"].flatMap(MediaType.init) ?? defaultType

        if type.isMultipart, let boundary = type.parameters["boundary"], !boundary.isEmpty {
            boundaries.append(Array(("--" + boundary).utf8))
            let level = boundaries.count - 1
            var delimiter = try skipToDelimiter()
            var index = 0
            var ignored = MailHeaders()
            while let current = delimiter, current.level == level, !current.closes {
                index += 1
                let child = number.isEmpty ? "\(index)" : "\(number).\(index)"
                delimiter = try entity(number: child, depth: depth + 1,
                                       defaultType: type.subtype == "digest" ? .rfc822 : .textPlain, topHeaders: &ignored)
            }
            boundaries.removeLast()
            // After our closing delimiter comes an epilogue, read past; without one (a
            // truncated message, or an outer boundary first) what ended us ends our parent.
            if let current = delimiter, current.level == level { return try skipToDelimiter() }
            return delimiter
        }
        if type.essence == "message/rfc822" {
            let number = number.isEmpty ? "1" : number
            if ["7bit", "8bit", "binary"].contains(headers.transferEncoding) {
                var ignored = MailHeaders()
                return try entity(number: number, depth: depth + 1, defaultType: .textPlain, topHeaders: &ignored)
            }
            // Forwarded in base64 or quoted-printable: decoded first, then read as a message
            // of its own, its parts numbered under this one, within what the limits leave.
            let path = directory + "/message-\(number).eml"
            let (_, ended) = try decode(headers: headers, charset: nil, number: number, to: path)
            var rest = limits
            rest.maxParts = limits.maxParts - partCount
            rest.maxTotalBytes = limits.maxTotalBytes - keptBytes
            let inner = try MIMEReader(path: path, directory: directory, limits: rest)
            inner.rootNumber = number
            inner.rootDepth = depth + 1
            let forwarded = try inner.read()
            attachments += forwarded.attachments
            skipped += forwarded.skipped
            partCount += inner.partCount
            keptBytes += inner.keptBytes
            return ended
        }
        return try leaf(headers: headers, type: type, number: number.isEmpty ? "1" : number)
    }

    /// The header block up to its empty line (or a delimiter, for a part without a body).
    private func headerBlock() throws(MailError) -> (MailHeaders, Delimiter?) {
        var block: [String] = []
        var size = 0
        while let line = try nextLine() {
            if let delimiter = delimiter(line.bytes) { return (MailHeaders(block: block), delimiter) }
            if line.bytes.isEmpty { return (MailHeaders(block: block), nil) }
            size += line.bytes.count
            guard size <= limits.maxHeaderBytes else { throw .headerTooLarge(limits.maxHeaderBytes) }
            block.append(String(decoding: line.bytes, as: UTF8.self))
        }
        return (MailHeaders(block: block), nil)
    }

    private func skipToDelimiter() throws(MailError) -> Delimiter? {
        while let line = try nextLine() {
            if let delimiter = delimiter(line.bytes) { return delimiter }
        }
        return nil
    }

    /// `--boundary` or `--boundary--` (transport padding after it allowed), innermost first.
    private func delimiter(_ line: [UInt8]) -> Delimiter? {
        guard line.count >= 2, line[0] == 0x2D, line[1] == 0x2D, !boundaries.isEmpty else { return nil }
        for level in boundaries.indices.reversed() {
            let boundary = boundaries[level]
            guard line.starts(with: boundary) else { continue }
            var rest = line[boundary.count...]
            var closes = false
            if rest.starts(with: [0x2D, 0x2D]) {
                closes = true
                rest = rest.dropFirst(2)
            }
            if rest.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return Delimiter(level: level, closes: closes) }
        }
        return nil
    }

    /// A leaf part: decoded into a file when it may hold a table or JSON, else read past.
    private func leaf(headers: MailHeaders, type: MediaType, number: String) throws(MailError) -> Delimiter? {
        let name = headers.fileName
        let keep = Self.mayHoldData(type: type, name: name, disposition: headers["Content-Disposition"])
        guard keep else {
            skipped.append("\(number) (\(type.essence)\(name.map { " " + $0 } ?? ""))")
            return try skipToDelimiter()
        }
        let path = directory + "/part-\(number)"
        // Only what may be a table is turned into UTF-8: a plain body is read only if it is
        // JSON (UTF-8 by definition), and a body in a mislabelled charset must not fail the
        // export attached beside it.
        let isData = name != nil || Self.dataTypes.contains(type.essence)
        let charset = type.type == "text" && isData ? type.parameters["charset"] : nil
        let (written, ended) = try decode(headers: headers, charset: charset, number: number, to: path)
        attachments.append(MailAttachment(number: number, name: name, contentType: type, path: path, bytes: written))
        return ended
    }

    /// Decodes the body that follows into `path`, up to the delimiter that ends it (returned,
    /// nil at the end of the message), counting it against the limits.
    private func decode(headers: MailHeaders, charset: String?, number: String,
                        to path: String) throws(MailError) -> (Int, Delimiter?) {
        let sink = try PartSink(path: path, charset: charset, part: number, limit: limits.maxPartBytes)
        let encoding = headers.transferEncoding
        var base64 = Base64Decoder()
        var decoded: [UInt8] = []
        var pendingBreak: [UInt8] = []
        var ended: Delimiter?
        while let line = try nextLine() {
            if let delimiter = delimiter(line.bytes) {
                ended = delimiter
                break
            }
            decoded.removeAll(keepingCapacity: true)
            switch encoding {
            case "base64":
                base64.decode(line.bytes, into: &decoded)
            case "quoted-printable":
                decoded += pendingBreak
                pendingBreak = QuotedPrintable.decodeLine(line.bytes[...], into: &decoded) ? line.terminator : []
            default:
                // The line break before a delimiter belongs to the delimiter: each break is
                // written only once the next line shows it is part of the content.
                decoded += pendingBreak
                decoded += line.bytes
                pendingBreak = line.terminator
            }
            try sink.write(decoded)
            guard keptBytes + sink.written <= limits.maxTotalBytes else { throw .tooLarge(limit: limits.maxTotalBytes) }
        }
        if encoding == "base64" {
            decoded.removeAll(keepingCapacity: true)
            base64.finish(into: &decoded)
            try sink.write(decoded)
        } else if ended == nil {
            try sink.write(pendingBreak)   // no delimiter owns the last line break: it is content
        }
        try sink.close()
        keptBytes += sink.written
        return (sink.written, ended)
    }

    /// A name for a part that has none, from its media type: `part-2.csv`, `part-1.json`.
    public static func defaultName(for attachment: MailAttachment) -> String {
        let extensions = [
            "text/csv": "csv", "text/comma-separated-values": "csv", "application/csv": "csv",
            "text/tab-separated-values": "tsv", "application/json": "json", "application/x-ndjson": "jsonl",
            "application/jsonl": "jsonl", "application/x-jsonlines": "jsonl",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
            "application/vnd.oasis.opendocument.spreadsheet": "ods",
        ]
        return "part-\(attachment.number).\(extensions[attachment.contentType.essence] ?? "txt")"
    }

    /// File extensions and media types of the tables and JSON Tally reads.
    static let dataExtensions: Set<String> = ["csv", "tsv", "tab", "xlsx", "xlsm", "ods", "json", "jsonl", "ndjson"]
    static let dataTypes: Set<String> = [
        "text/csv", "text/comma-separated-values", "application/csv", "text/tab-separated-values",
        "application/json", "application/x-ndjson", "application/jsonl", "application/x-jsonlines",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/vnd.oasis.opendocument.spreadsheet",
    ]

    /// An attachment named or typed as a table or JSON; or a body (no file name, not marked
    /// as an attachment) that is JSON or plain text, which may be a relayed webhook's JSON.
    static func mayHoldData(type: MediaType, name: String?, disposition: String?) -> Bool {
        if let name, let dot = name.lastIndex(of: "."),
           dataExtensions.contains(name[name.index(after: dot)...].lowercased()) { return true }
        if dataTypes.contains(type.essence) { return true }
        let isAttachment = name != nil || disposition?.lowercased().hasPrefix("attachment") == true
        return !isAttachment && type.essence == "text/plain"
    }
}

extension MediaType {
    static let textPlain = MediaType(type: "text", subtype: "plain", parameters: [:])
    static let rfc822 = MediaType(type: "message", subtype: "rfc822", parameters: [:])
}

/// The decoded bytes of one part, written to a file through a buffer, in UTF-8 when the
/// part's charset is another.
private final class PartSink {
    private let fd: Int32
    private let path: String
    private let part: String
    private let limit: Int
    private let transcoder: Charset.Transcoder?
    private var buffer: [UInt8] = []
    private(set) var written = 0
    private var converted: [UInt8] = []

    init(path: String, charset: String?, part: String, limit: Int) throws(MailError) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .unreadable("cannot write \(path): \(String(cString: strerror(errno)))") }
        self.path = path
        self.part = part
        self.limit = limit
        transcoder = charset.flatMap { Charset.isUTF8($0) ? nil : Charset.Transcoder(from: $0) }
        buffer.reserveCapacity(1 << 16)
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    func write(_ bytes: [UInt8]) throws(MailError) {
        guard !bytes.isEmpty else { return }
        if let transcoder {
            converted.removeAll(keepingCapacity: true)
            guard transcoder.convert(bytes[...], into: &converted, final: false) else {
                throw .unreadable("part \(part) is not valid text in its charset")
            }
            try append(converted)
        } else {
            try append(bytes)
        }
    }

    private func append(_ bytes: [UInt8]) throws(MailError) {
        written += bytes.count
        guard written <= limit else { throw .partTooLarge(part: part, limit: limit) }
        buffer += bytes
        if buffer.count >= 1 << 16 { try flush() }
    }

    private func flush() throws(MailError) {
        do { try FileSystem.writeAll(fd, buffer, path: path) } catch { throw .unreadable("\(error)") }
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws(MailError) {
        if let transcoder {
            converted.removeAll(keepingCapacity: true)
            guard transcoder.convert([][...], into: &converted, final: true) else {
                throw .unreadable("part \(part) ends in the middle of a character")
            }
            try append(converted)
        }
        try flush()
    }
}
