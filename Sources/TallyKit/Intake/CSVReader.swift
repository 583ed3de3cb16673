#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Limits and errors

/// How large one record of a table may be before it is rejected on its own.
///
/// Limits keep a hostile or broken export (a stray quote that swallows the rest of the file,
/// a row of a million commas) from costing more than a bounded amount of memory; the rows
/// around it are still read.
public struct TableLimits: Sendable, Equatable {
    /// A record with more bytes than this (line ending excluded) is rejected.
    public var maxRowBytes: Int
    /// A record with more fields than this is rejected.
    public var maxFields: Int

    public init(maxRowBytes: Int = 1 << 20, maxFields: Int = 1024) {
        self.maxRowBytes = maxRowBytes
        self.maxFields = maxFields
    }
}

/// A table file that cannot be read at all, as opposed to one bad record in it.
///
/// Bad records are not errors: they come out of `forEachRecord` with a `rejection`, so one
/// broken row never costs the rest of the file.
public enum CSVError: Error, CustomStringConvertible, Sendable {
    /// `open` failed; `errno` says why.
    case cannotOpen(path: String, errno: Int32)
    /// `read` failed part-way; `errno` says why.
    case cannotRead(path: String, errno: Int32)

    public var description: String {
        switch self {
        case let .cannotOpen(path, code):
            "Cannot open the table \(path): \(Self.message(code)). Check that the file exists and that Tally may read it."
        case let .cannotRead(path, code):
            "Cannot read the table \(path): \(Self.message(code)). Check that it is a regular file and try again."
        }
    }

    private static func message(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}

// MARK: - Reader

/// Reads CSV (RFC 4180 and what real exports do) record by record from a file or from bytes,
/// in bounded memory.
///
/// Exports can be gigabytes, so the reader streams through one reusable buffer (256 KiB,
/// growing only while a long record needs it, never past `maxRowBytes`), keeps field
/// boundaries as offsets into it, and makes a `String` only when a caller asks for a field.
///
/// - Quoted fields may hold the delimiter, `""` and CR/LF/CRLF; records end at CRLF, LF or
///   a lone CR; a final record needs no line ending; a UTF-8 BOM is skipped.
/// - Lenient like Python's csv and Excel: a quote inside an unquoted field is a literal
///   character, and text after a closing quote is kept (`"ab"c` reads as `abc`).
/// - Blank lines are skipped and not counted: they are not records, so they take no record
///   number (they still count as physical lines for `CSVRecord.line`).
/// - A record over a limit, or with a quote still open at the end of the file, is delivered
///   with a `rejection` and no fields, and reading carries on after it.
///
/// Not `Sendable` and not reentrant: it is a cursor over a buffer. Calling `forEachRecord`
/// again continues after the last record delivered; to read a file twice, open it twice.
public final class CSVReader {
    /// The delimiter in use: named by a first line `sep=;` (Excel's), else given, else
    /// detected from the first records (`,` `;` or tab; see `DelimiterSniffer`).
    public let delimiter: UInt8

    private let source: any ByteSource
    private var scanner: CSVScanner

    package static let defaultBufferSize = 256 * 1024

    /// Opens the file at `path`. Throws only if it cannot be opened or read.
    public convenience init(path: String, delimiter: UInt8? = nil, limits: TableLimits = .init()) throws(CSVError) {
        try self.init(path: path, delimiter: delimiter, limits: limits, bufferSize: Self.defaultBufferSize)
    }

    package convenience init(path: String, delimiter: UInt8? = nil, limits: TableLimits = .init(),
                             bufferSize: Int, hints: DelimiterSniffer.Hints = .init()) throws(CSVError) {
        let source = try FileByteSource(path: path)
        self.init(source: source, delimiter: delimiter, limits: limits, bufferSize: bufferSize, hints: hints)
        if let failure = scanner.failure { throw failure }
    }

    /// Reads bytes already in memory.
    public convenience init(bytes: [UInt8], delimiter: UInt8? = nil, limits: TableLimits = .init()) {
        self.init(bytes: bytes, delimiter: delimiter, limits: limits, bufferSize: Self.defaultBufferSize)
    }

    package convenience init(bytes: [UInt8], delimiter: UInt8? = nil, limits: TableLimits = .init(), bufferSize: Int) {
        self.init(source: ArrayByteSource(bytes), delimiter: delimiter, limits: limits, bufferSize: bufferSize)
    }

    /// Reads from any byte source, such as a transcoder in front of a file. A delimiter that
    /// is a quote or a line break cannot delimit anything, so it is ignored and detected.
    /// A first line `sep=X` names the delimiter whatever is given, and is skipped.
    package init(source: any ByteSource, delimiter: UInt8?, limits: TableLimits, bufferSize: Int,
                 hints: DelimiterSniffer.Hints = .init()) {
        var scanner = CSVScanner(limits: limits, bufferSize: bufferSize)
        let usable = delimiter.flatMap { [ASCII.quote, ASCII.lf, ASCII.cr].contains($0) ? nil : $0 }
        var hints = hints
        if usable != nil { hints.samples = 0 }
        var detected = (delimiter: ASCII.comma, named: false)
        do throws(CSVError) {
            detected = try scanner.prime(from: source, hints: hints)
        } catch {
            // Kept in the scanner: the path initialiser throws it, `forEachRecord` rethrows it.
        }
        let chosen = detected.named ? detected.delimiter : usable ?? detected.delimiter
        scanner.use(delimiter: chosen)
        self.delimiter = chosen
        self.source = source
        self.scanner = scanner
    }

    deinit { scanner.deallocate() }

    /// Calls `body` once per record, in order, until the end or until `body` returns false.
    ///
    /// The record borrows the reader's buffer: it is valid only inside the call, so copy out
    /// (with `string(at:)`) what you keep. Throws what `body` throws, or a `CSVError` if the
    /// file cannot be read further.
    public func forEachRecord(_ body: (borrowing CSVRecord) throws -> Bool) throws {
        try scanner.run(source: source, body: body)
    }
}

extension CSVScanner {
    /// The reader's loop, as one mutating call so the hot path touches no class storage.
    mutating func run(source: any ByteSource, body: (borrowing CSVRecord) throws -> Bool) throws {
        if let failure { throw failure }
        while !isFinished {
            if scanRecord() {
                saveOverlongPrefix()
                defer { recordDelivered() }
                guard try body(currentRecord()) else { return }
            } else if isAtEOF {
                guard finishAtEOF() else { return }
                saveOverlongPrefix()
                defer { recordDelivered() }
                _ = try body(currentRecord())
            } else {
                try refill(from: source)
            }
        }
    }

    /// The record just completed, with its rejection if it broke a limit.
    func currentRecord() -> CSVRecord {
        let start = buffer + recordStart
        let length = recordEnd - recordStart
        let rejection: CSVRecord.Rejection? =
            if unterminated { .unterminatedQuote }
            else if overlong || length > maxRowBytes { .tooLong(limit: maxRowBytes) }
            else if fieldCount > maxFields { .tooManyFields(count: fieldCount, limit: maxFields) }
            else { nil }
        let raw: UnsafeRawBufferPointer =
            if overlong {
                UnsafeRawBufferPointer(start: prefix, count: prefixIsCut ? UTF8Cut.whole(prefix, prefixCount) : prefixCount)
            } else if length > Self.rawLimit {
                UnsafeRawBufferPointer(start: start, count: UTF8Cut.whole(start, Self.rawLimit))
            } else {
                UnsafeRawBufferPointer(start: start, count: max(length, 0))
            }
        return CSVRecord(base: start, spans: spans, count: rejection == nil ? fieldCount : 0,
                         number: recordNumber, line: recordLine, rawBytes: raw, problem: rejection)
    }
}

// MARK: - Record

/// One record of a CSV file, borrowed from the reader's buffer for the length of one call.
///
/// A plain struct over pointers into `CSVReader`'s buffer, so handing it to the callback
/// costs nothing and no field becomes a `String` unless asked for. It is valid only inside
/// the `forEachRecord` call that delivered it: the next refill reuses the bytes. (A
/// `~Copyable` or `~Escapable` record would let the compiler enforce that, but Swift 6.3
/// crashes on closures capturing a borrowed non-copyable value, which is how callers use
/// it.) Not `Sendable` for the same reason.
public struct CSVRecord {
    /// Why a record was rejected; `rejection` gives it as a sentence.
    enum Rejection: Equatable {
        case tooLong(limit: Int)
        case tooManyFields(count: Int, limit: Int)
        case unterminatedQuote
    }

    @usableFromInline let base: UnsafePointer<UInt8>
    @usableFromInline let spans: UnsafePointer<CSVFieldSpan>
    /// What `raw` decodes, and why the record was rejected: internal so that `CSVRowBatch`
    /// can copy a record for another thread and hand on the same record from the copy.
    let rawBytes: UnsafeRawBufferPointer
    let problem: Rejection?

    /// The 1-based record number in the file; the header is record 1. Blank lines take no
    /// number; rejected records do.
    public let number: Int
    /// The 1-based physical line where the record starts (multi-line records and blank
    /// lines included), for messages that send a person to the right line.
    public let line: Int
    /// The number of fields; 0 for a rejected record.
    public let count: Int

    init(base: UnsafePointer<UInt8>, spans: UnsafePointer<CSVFieldSpan>, count: Int,
         number: Int, line: Int, rawBytes: UnsafeRawBufferPointer, problem: Rejection?) {
        self.base = base
        self.spans = spans
        self.count = count
        self.number = number
        self.line = line
        self.rawBytes = rawBytes
        self.problem = problem
    }

    /// Field `index`, unquoted, `""` unescaped, decoded as UTF-8 with invalid bytes replaced
    /// by U+FFFD; `""` when there is no such field.
    public func string(at index: Int) -> String {
        withBytes(at: index) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with field `index`'s bytes, unquoted and unescaped (empty when there is
    /// no such field). The bytes are valid only inside `body`.
    ///
    /// Inlinable because it is the per-field hot path: unspecialised across modules, the
    /// generic result alone cost a third of the read time.
    @inlinable
    public func withBytes<R>(at index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard index >= 0, index < count else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        let span = spans[index]
        let start = base + span.start
        let length = span.end - span.start
        guard span.isEscaped else { return try body(UnsafeRawBufferPointer(start: start, count: length)) }
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { scratch in
            let written = Self.unescape(start, count: length, into: scratch)
            return try body(UnsafeRawBufferPointer(start: scratch.baseAddress, count: written))
        }
    }

    /// Field `index`'s bytes where they lie in the buffer (empty when there is no such field;
    /// a quoted field without its quotes); nil for a field with `""` or text after its closing
    /// quote, whose bytes need unescaping. For the byte-level row path, which takes such cells
    /// the ordinary way.
    func bytesInPlace(at index: Int) -> UnsafeRawBufferPointer? {
        guard index >= 0, index < count else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let span = spans[index]
        guard !span.isEscaped else { return nil }
        return UnsafeRawBufferPointer(start: base + span.start, count: span.end - span.start)
    }

    /// All fields as strings, such as a header row. Allocates; prefer `string(at:)` per field.
    public var fields: [String] { (0..<count).map { string(at: $0) } }

    /// Nil for a good record; else why it was rejected, as a sentence for the rejected-rows
    /// ledger.
    public var rejection: String? {
        switch problem {
        case nil: nil
        case let .tooLong(limit): "the row is longer than \(limit) bytes"
        case let .tooManyFields(count, limit): "the row has \(count) fields, more than the limit of \(limit)"
        case .unterminatedQuote: "a quoted field is not closed before the end of the file"
        }
    }

    /// The record's text as in the file, quotes and all, without its line ending, cut to at
    /// most 4096 bytes (at a character boundary), for the rejected-rows ledger.
    public var raw: String { String(decoding: rawBytes, as: UTF8.self) }

    /// Why the record is not UTF-8 text, for a rejected row; nil when it is. The file's
    /// kind is told from its first 8 KiB, so a Latin-1 byte further on reaches here: read
    /// as U+FFFD it would put "Jos� Garc�a" on the board and a course that is no course.
    /// (A plain row, all ASCII, is UTF-8 already and never asks.)
    var utf8Problem: String? {
        var parser = Unicode.UTF8.ForwardParser()
        var bytes = rawBytes.makeIterator()
        while true {
            switch parser.parseScalar(from: &bytes) {
            case .valid: continue
            case .emptyInput: return nil
            case .error:
                return "the row is not UTF-8 text (Latin-1 or Windows-1252?): save the file as \"CSV UTF-8\" (Excel) or download it as CSV (Google Sheets) and drop it again"
            }
        }
    }

    /// Copies a quoted field's bytes from its opening quote, turning `""` into `"` up to the
    /// closing quote and keeping whatever follows it as is. Returns the length written.
    @usableFromInline
    static func unescape(_ source: UnsafePointer<UInt8>, count: Int, into target: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var i = 1, written = 0
        while i < count {
            let c = source[i]
            if c == ASCII.quote {
                guard i + 1 < count, source[i + 1] == ASCII.quote else {
                    i += 1
                    break
                }
                i += 1
            }
            target[written] = c
            written += 1
            i += 1
        }
        while i < count {
            target[written] = source[i]
            written += 1
            i += 1
        }
        return written
    }
}

/// Cutting UTF-8 text without splitting a character.
enum UTF8Cut {
    /// The length of the longest prefix of `p[0..<count]` that does not end inside a
    /// multi-byte character (so a cut raw line decodes without a stray U+FFFD).
    static func whole(_ p: UnsafePointer<UInt8>, _ count: Int) -> Int {
        var lead = count - 1
        while lead >= 0, count - lead <= 4, p[lead] & 0xC0 == 0x80 { lead -= 1 }
        guard lead >= 0, count - lead <= 4 else { return count }
        let byte = p[lead]
        let needed = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
        return count - lead < needed ? lead : count
    }
}
