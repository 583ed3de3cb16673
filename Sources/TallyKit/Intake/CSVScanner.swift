/// The byte-level CSV state machine behind `CSVReader`: one buffer, field offsets, no Strings.
///
/// Why a resumable machine: a record may straddle any number of refills (and the tests use a
/// 7-byte buffer to make sure it can), so the scan stops at the end of the bytes it has,
/// keeps its phase, and continues after the refill without rescanning. Only the unfinished
/// record is kept across a refill; a record longer than `maxRowBytes` is not kept at all but
/// skipped to its end (quotes still honoured) with its first 4096 bytes saved for the ledger.
/// The scanner owns three allocations; `CSVReader` frees them with `deallocate()`.
struct CSVScanner {
    enum Phase: UInt8 { case recordStart, fieldStart, unquoted, quoted, quoteAtEdge, afterClose, finished }

    static let rawLimit = 4096

    // MARK: Buffer
    private(set) var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var filled = 0
    private var pos = 0
    /// The offset in the stream of `buffer[0]`: lets a CR and the LF after it be recognised
    /// as one line break even when a refill falls between them.
    private var origin = 0
    private var atEOF = false
    private let readSize: Int
    private let maxCapacity: Int

    // MARK: Settings
    private(set) var delimiter: UInt8 = ASCII.comma
    private var unquotedStops = ByteTriple(ASCII.comma, ASCII.lf, ASCII.cr)
    private let quotedStops = ByteTriple(ASCII.quote, ASCII.lf, ASCII.cr)
    let maxRowBytes: Int
    let maxFields: Int

    // MARK: The record being scanned
    private var phase = Phase.recordStart
    private(set) var recordStart = 0
    private(set) var recordEnd = 0
    private var fieldStart = 0
    private var escaped = false
    private(set) var fieldCount = 0
    private(set) var spans: UnsafeMutablePointer<CSVFieldSpan>
    private var spanCapacity: Int
    private var line = 1
    private(set) var recordLine = 1
    private(set) var recordNumber = 0
    private var lastCR = -2
    private(set) var overlong = false
    private(set) var unterminated = false
    private(set) var prefix: UnsafeMutablePointer<UInt8>
    private(set) var prefixCount = 0
    private(set) var prefixIsCut = false
    private(set) var failure: CSVError?

    init(limits: TableLimits, bufferSize: Int) {
        maxRowBytes = min(max(limits.maxRowBytes, 1), Int.max / 4)
        maxFields = min(max(limits.maxFields, 1), Int.max / 4)
        readSize = max(bufferSize, 1)
        capacity = readSize
        // Room for a BOM and `maxRowBytes` + 1 bytes: enough to see that a record is too long.
        maxCapacity = max(readSize, maxRowBytes + 4)
        buffer = .allocate(capacity: capacity)
        spanCapacity = min(maxFields, 256)
        spans = .allocate(capacity: spanCapacity)
        prefix = .allocate(capacity: Self.rawLimit)
    }

    func deallocate() {
        buffer.deallocate()
        spans.deallocate()
        prefix.deallocate()
    }

    mutating func use(delimiter: UInt8) {
        self.delimiter = delimiter
        unquotedStops = ByteTriple(delimiter, ASCII.lf, ASCII.cr)
    }

    // MARK: Priming and delimiter detection

    /// Reads the sniffer's window (the file's first `DelimiterSniffer.windowBytes`, at most
    /// `maxRowBytes`, or all of a smaller file), skips a UTF-8 BOM and an Excel `sep=;`
    /// line, and returns the delimiter: the one that line names (`named`), else the one the
    /// first records suggest.
    ///
    /// The window is filled before it is looked at, and looked at once: what the sniff
    /// answers depends on the file's bytes only, never on the buffer size or on how `read`
    /// splits the file (an over-long first record included). A `sep=` line takes no record
    /// number, so the header is still record 1, as Excel, which hides that line, shows it;
    /// it is a physical line.
    mutating func prime(from source: any ByteSource, hints: DelimiterSniffer.Hints = .init())
        throws(CSVError) -> (delimiter: UInt8, named: Bool) {
        let limit = min(maxRowBytes, DelimiterSniffer.windowBytes)
        // A `sep=X` line is 7 bytes at most, with its CRLF, and one more tells it apart.
        let needed = max(limit, 8)
        while true {
            let bom = filled >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF ? 3 : 0
            let bufferFull = filled == capacity && capacity == maxCapacity
            // Past a BOM and a byte past the window: then holding no more than the window means
            // holding the whole file, however the reads came.
            guard atEOF || bufferFull || filled >= needed + 4 else {
                try refill(from: source)
                continue
            }
            switch DelimiterSniffer.separatorLine(buffer + bom, count: min(filled - bom, needed), atEnd: filled - bom <= needed) {
            case let .line(delimiter, length, endsWithCR):
                pos = bom + length
                line = 2
                if endsWithCR { lastCR = pos - 1 }
                return (delimiter, true)
            case .none, .undecided:
                pos = bom
                let window = min(filled - bom, limit)
                return (DelimiterSniffer.sniff(buffer + bom, count: window, atEnd: filled - bom <= limit, hints: hints), false)
            }
        }
    }

    // MARK: Scanning

    /// Scans to the end of the next record. True when one is complete; false when the buffer
    /// ran out first (refill, or call `finishAtEOF` at the end of the stream).
    mutating func scanRecord() -> Bool {
        let p = buffer, end = filled, origin = origin, delimiter = delimiter
        let unquotedStops = unquotedStops, quotedStops = quotedStops
        var i = pos, phase = phase, fieldStart = fieldStart, escaped = escaped
        var n = fieldCount, line = line, recordStart = recordStart
        var complete = false

        scan: while true {
            switch phase {
            case .recordStart:
                guard i < end else { break scan }
                let c = p[i]
                if c == ASCII.lf || c == ASCII.cr {
                    // A blank line, or the LF of a CRLF that ended the previous record.
                    if c == ASCII.cr {
                        line += 1
                        lastCR = origin + i
                    } else if origin + i != lastCR + 1 {
                        line += 1
                    }
                    i += 1
                    continue scan
                }
                recordStart = i
                recordLine = line
                recordNumber += 1
                n = 0
                phase = .fieldStart
                fallthrough
            case .fieldStart:
                guard i < end else { break scan }
                fieldStart = i
                escaped = false
                if p[i] == ASCII.quote {
                    i += 1
                    phase = .quoted
                    continue scan
                }
                phase = .unquoted
                fallthrough
            case .unquoted:
                let j = unquotedStops.firstIndex(in: p, from: i, to: end)
                guard j < end else {
                    i = end
                    break scan
                }
                if n < spanCapacity || growSpans(past: n) {
                    spans[n] = CSVFieldSpan(start: fieldStart - recordStart, end: j - recordStart, isEscaped: escaped)
                }
                n += 1
                i = j + 1
                let c = p[j]
                if c == delimiter {
                    phase = .fieldStart
                    continue scan
                }
                recordEnd = j
                if c == ASCII.cr { lastCR = origin + j }
                line += 1
                phase = .recordStart
                complete = true
                break scan
            case .quoted:
                let j = quotedStops.firstIndex(in: p, from: i, to: end)
                guard j < end else {
                    i = end
                    break scan
                }
                let c = p[j]
                if c == ASCII.quote {
                    guard j + 1 < end else {
                        i = j + 1
                        phase = .quoteAtEdge
                        break scan
                    }
                    if p[j + 1] == ASCII.quote {
                        escaped = true
                        i = j + 2
                    } else {
                        i = j + 1
                        phase = .afterClose
                    }
                    continue scan
                }
                // A line break inside quotes is content, but still a physical line.
                if c == ASCII.cr {
                    line += 1
                    lastCR = origin + j
                } else if origin + j != lastCR + 1 {
                    line += 1
                }
                i = j + 1
            case .quoteAtEdge:
                guard i < end else { break scan }
                if p[i] == ASCII.quote {
                    escaped = true
                    i += 1
                    phase = .quoted
                } else {
                    phase = .afterClose
                }
            case .afterClose:
                guard i < end else { break scan }
                let c = p[i]
                guard c == delimiter || c == ASCII.lf || c == ASCII.cr else {
                    // `"ab"c` reads as `abc`, as Python's csv and Excel do.
                    escaped = true
                    phase = .unquoted
                    continue scan
                }
                if n < spanCapacity || growSpans(past: n) {
                    spans[n] = escaped
                        ? CSVFieldSpan(start: fieldStart - recordStart, end: i - recordStart, isEscaped: true)
                        : CSVFieldSpan(start: fieldStart + 1 - recordStart, end: i - 1 - recordStart, isEscaped: false)
                }
                n += 1
                i += 1
                if c == delimiter {
                    phase = .fieldStart
                    continue scan
                }
                recordEnd = i - 1
                if c == ASCII.cr { lastCR = origin + i - 1 }
                line += 1
                phase = .recordStart
                complete = true
                break scan
            case .finished:
                break scan
            }
        }
        self.pos = i
        self.phase = phase
        self.fieldStart = fieldStart
        self.escaped = escaped
        self.fieldCount = n
        self.line = line
        self.recordStart = recordStart
        return complete
    }

    /// Makes room for field `index` if the limit allows; false when the field is over it
    /// (then it is only counted, for the rejection message).
    private mutating func growSpans(past index: Int) -> Bool {
        guard index < maxFields else { return false }
        let grown = min(max(spanCapacity * 2, index + 1), maxFields)
        let new = UnsafeMutablePointer<CSVFieldSpan>.allocate(capacity: grown)
        new.moveInitialize(from: spans, count: spanCapacity)
        spans.deallocate()
        spans = new
        spanCapacity = grown
        return true
    }

    var isFinished: Bool { phase == .finished }
    var isAtEOF: Bool { atEOF }

    /// Ends the stream: completes a final record that has no line ending, or rejects one
    /// whose quote never closed. False when there was no final record.
    mutating func finishAtEOF() -> Bool {
        let last = phase
        phase = .finished
        switch last {
        case .recordStart, .finished:
            return false
        case .fieldStart:
            appendSpan(CSVFieldSpan(start: filled - recordStart, end: filled - recordStart, isEscaped: false))
        case .unquoted:
            appendSpan(CSVFieldSpan(start: fieldStart - recordStart, end: filled - recordStart, isEscaped: escaped))
        case .quoted:
            unterminated = true
        case .quoteAtEdge, .afterClose:
            appendSpan(escaped
                ? CSVFieldSpan(start: fieldStart - recordStart, end: filled - recordStart, isEscaped: true)
                : CSVFieldSpan(start: fieldStart + 1 - recordStart, end: filled - 1 - recordStart, isEscaped: false))
        }
        recordEnd = filled
        pos = filled
        return true
    }

    private mutating func appendSpan(_ span: CSVFieldSpan) {
        if fieldCount < spanCapacity || growSpans(past: fieldCount) { spans[fieldCount] = span }
        fieldCount += 1
    }

    /// Called once the record has been delivered, before the next is scanned.
    mutating func recordDelivered() {
        if overlong {
            overlong = false
            prefixCount = 0
            prefixIsCut = false
        }
    }

    /// Saves the tail of an over-long record's first 4096 bytes before they are dropped.
    mutating func saveOverlongPrefix() {
        guard overlong else { return }
        appendPrefix(from: recordStart, to: recordEnd)
    }

    private mutating func appendPrefix(from start: Int, to end: Int) {
        let room = Self.rawLimit - prefixCount
        let count = min(room, max(end - start, 0))
        if count > 0 {
            (prefix + prefixCount).update(from: buffer + start, count: count)
            prefixCount += count
        }
        if end - start > room { prefixIsCut = true }
    }

    // MARK: Refilling

    /// Keeps the unfinished record (or, past `maxRowBytes`, nothing), grows the buffer if the
    /// record needs it, and reads more. At the end of the stream `isAtEOF` becomes true.
    mutating func refill(from source: any ByteSource) throws(CSVError) {
        if let failure { throw failure }
        var keepFrom = pos
        if phase != .recordStart && phase != .finished {
            if !overlong && filled - recordStart > maxRowBytes { overlong = true }
            if overlong {
                appendPrefix(from: recordStart, to: filled)
                recordStart = pos
            } else {
                keepFrom = recordStart
            }
        }
        if keepFrom > 0 {
            let kept = filled - keepFrom
            // `update(from:count:)` copies in the safe direction when the ranges overlap.
            if kept > 0 { buffer.update(from: buffer + keepFrom, count: kept) }
            filled = kept
            pos -= keepFrom
            recordStart -= keepFrom
            fieldStart -= keepFrom
            origin += keepFrom
        }
        if capacity - filled < max(capacity / 2, 1) && capacity < maxCapacity {
            let grown = min(max(capacity * 2, 16), maxCapacity)
            let new = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
            new.initialize(from: buffer, count: filled)
            buffer.deallocate()
            buffer = new
            capacity = grown
        }
        let room = min(capacity - filled, readSize)
        guard room > 0 else { return }
        let count: Int
        do {
            count = try source.read(into: UnsafeMutableRawBufferPointer(start: buffer + filled, count: room))
        } catch {
            failure = error
            throw error
        }
        if count == 0 { atEOF = true } else { filled += count }
    }
}

/// A field's bytes as offsets from the start of its record. An escaped span runs from the
/// opening quote to the end of the field and is unescaped only when asked for.
@usableFromInline
struct CSVFieldSpan {
    @usableFromInline var start: Int
    @usableFromInline var end: Int
    @usableFromInline var isEscaped: Bool

    init(start: Int, end: Int, isEscaped: Bool) {
        self.start = start
        self.end = end
        self.isEscaped = isEscaped
    }
}

/// Byte values the CSV scanner stops at.
enum ASCII {
    static let quote = UInt8(ascii: "\"")
    static let comma = UInt8(ascii: ",")
    static let semicolon = UInt8(ascii: ";")
    static let tab = UInt8(ascii: "\t")
    static let lf = UInt8(ascii: "\n")
    static let cr = UInt8(ascii: "\r")
}

/// Three byte values searched for eight bytes at a time in a 64-bit word (SWAR).
///
/// Fields are mostly ordinary bytes; testing a word at a time is what lets the scan keep up
/// with `read`. For each target, `(x - 0x01…) & ~x & 0x80…` sets the high bit of a byte of
/// `x = word ^ target` that is zero; the lowest set bit is always a true match.
struct ByteTriple {
    private let a, b, c: UInt64
    private let byteA, byteB, byteC: UInt8
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    init(_ a: UInt8, _ b: UInt8, _ c: UInt8) {
        self.a = Self.ones &* UInt64(a)
        self.b = Self.ones &* UInt64(b)
        self.c = Self.ones &* UInt64(c)
        (byteA, byteB, byteC) = (a, b, c)
    }

    /// The index of the first byte in `from..<end` equal to one of the three, or `end`.
    @inline(__always)
    func firstIndex(in p: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        var i = start
        while i &+ 8 <= end {
            let word = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
            let x = word ^ a, y = word ^ b, z = word ^ c
            let hits = (((x &- Self.ones) & ~x) | ((y &- Self.ones) & ~y) | ((z &- Self.ones) & ~z)) & Self.highs
            if hits != 0 { return i &+ (hits.trailingZeroBitCount &>> 3) }
            i &+= 8
        }
        while i < end {
            let v = p[i]
            if v == byteA || v == byteB || v == byteC { return i }
            i &+= 1
        }
        return end
    }
}
