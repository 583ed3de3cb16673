/// A course-completion row of a CSV table, read straight from the reader's buffer: the
/// normalised email, name, course, certificate and time as bytes, and the content id, with
/// no `String` and no `Event` made.
///
/// Why: a cumulative export repeats yesterday's rows, so a third of a big file is rows
/// already seen. Such a row changes nothing but the ledger's sequence; its `duplicate` line
/// can be written from these bytes (see `Ledger.appendLine`), and the `Event` that
/// `RowMapper` would make — half a dozen strings to allocate, copy and free — is made only
/// for rows that go on to be scored.
///
/// Only the plain case is read here: ASCII cells with no `""` to unescape and nothing to trim, an id
/// made from the content, a name from one column. Anything else answers nil from `read`,
/// and the row takes `RowMapper.event`, which stays the definition: where this answers, it
/// answers what that would (the tests hold the two together).
struct CompletionRow {
    /// The content id (`Event.contentKey` of the same row).
    var key: EventKey
    /// The normalised address.
    var email: UnsafeRawBufferPointer
    var name: UnsafeRawBufferPointer?
    var course: UnsafeRawBufferPointer
    var certificate: UnsafeRawBufferPointer?
    var at: Timestamp
    /// The record number, as `EventSource.row`.
    var row: Int
    /// `IdHash.hash(ascii:)` of `email`, when the reading thread found it.
    var emailHash: UInt64? = nil
    /// Rows further on in the same batch, for the scoring thread to ask its tables about
    /// ahead of time (see `LaneHint`).
    var ahead = LaneHints()

    /// What the rows of a file share — where their fields are, the file's date order, time
    /// and source — found once from its header map; nil when the file's rows are not plain
    /// completions (a quiz, explicit ids, an email column missing). A class, so that handing
    /// it to every row copies nothing (a `RowMapper` per row was 3 % of a sync).
    final class Columns: Sendable {
        let email: Int
        let name: Int?
        /// First or last name columns: a row with an empty name takes the ordinary path.
        let hasNameParts: Bool
        let course: Int?
        /// The file's `[[sources]] course`, which wins over a course column.
        let fixedCourse: String?
        let certificate: Int?
        let completedAt: Int?
        /// The table has a second date column (`HeaderMap.otherDate`): a row whose date cell
        /// is empty takes the ordinary path, which reads that column.
        let hasOtherDate: Bool
        let dateOrder: DateOrder
        /// The time of a row without a date: the file's.
        let fallbackTime: Timestamp
        let file: String
        let sha256: String

        convenience init?(mapper: RowMapper) {
            self.init(map: mapper.map, settings: mapper.settings, file: mapper.source.file, sha256: mapper.source.sha256,
                      fallbackTime: mapper.fallbackTime)
        }

        init?(map: HeaderMap, settings: RowMapper.Settings, file: String, sha256: String, fallbackTime: Timestamp) {
            guard settings.quiz == nil, map.index(of: .id) == nil, let email = map.index(of: .email) else { return nil }
            guard settings.course != nil || map.index(of: .course) != nil else { return nil }
            self.email = email
            name = map.index(of: .name)
            hasNameParts = map.index(of: .firstName) != nil || map.index(of: .lastName) != nil
            course = map.index(of: .course)
            fixedCourse = settings.course
            certificate = map.index(of: .certificateURL)
            completedAt = map.index(of: .completedAt)
            hasOtherDate = map.otherDate != nil
            dateOrder = settings.dateOrder
            self.fallbackTime = fallbackTime
            self.file = file
            self.sha256 = sha256
        }
    }

    /// Reads `record` as a plain completion and calls `body` with it; returns what `body`
    /// returns, or false without calling it when the row is not plain (see the type).
    static func read<Row: PlainCells>(_ record: Row, columns: Columns,
                                      _ body: (borrowing CompletionRow) throws -> Bool) rethrows -> Bool {
        guard let rawEmail = record.bytesInPlace(at: columns.email) else { return false }
        // The date, as `RowMapper` reads it: a blank cell is no date (the file's time), or,
        // where the table has another date column, the ordinary path's to read.
        var at = columns.fallbackTime
        var explicitTime: Timestamp?
        if let index = columns.completedAt {
            guard let text = record.bytesInPlace(at: index), let cell = plainCell(text) else { return false }
            if let cell {
                guard let parsed = DateParser.parse(utf8: cell, order: columns.dateOrder) else { return false }
                at = parsed
                explicitTime = parsed
            } else if columns.hasOtherDate {
                return false
            }
        }
        var name: UnsafeRawBufferPointer?
        if let index = columns.name {
            guard let text = record.bytesInPlace(at: index), let cell = plainCell(text) else { return false }
            name = cell
        }
        if name == nil && columns.hasNameParts { return false }
        // A "name" that is an email address is not published.
        if let text = name, looksLikeEmail(text) { name = nil }
        var certificate: UnsafeRawBufferPointer?
        if let index = columns.certificate {
            guard let text = record.bytesInPlace(at: index), let cell = plainCell(text) else { return false }
            certificate = cell
        }
        if var fixed = columns.fixedCourse {
            return try fixed.withUTF8 { course in
                try read(rawEmail, UnsafeRawBufferPointer(course), name, certificate, at, explicitTime, record.number, body)
            }
        }
        guard let index = columns.course, let text = record.bytesInPlace(at: index),
              let cell = plainCell(text), let course = cell, !RowMapper.isAnswer(course) else { return false }
        return try read(rawEmail, course, name, certificate, at, explicitTime, record.number, body)
    }

    private static func read(_ rawEmail: UnsafeRawBufferPointer, _ course: UnsafeRawBufferPointer,
                             _ name: UnsafeRawBufferPointer?, _ certificate: UnsafeRawBufferPointer?,
                             _ at: Timestamp, _ explicitTime: Timestamp?, _ row: Int,
                             _ body: (borrowing CompletionRow) throws -> Bool) rethrows -> Bool {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Email.foldedCapacity(rawEmail.count)) { out in
            guard let length = Email.normalisedASCII(rawEmail, into: out) else { return false }
            let email = UnsafeRawBufferPointer(start: out.baseAddress, count: length)
            let key = contentKey(email: email, course: course, at: explicitTime)
            return try body(CompletionRow(key: key, email: email, name: name, course: course, certificate: certificate,
                                          at: at, row: row))
        }
    }

    /// The `Event` that `RowMapper.event` makes of this row, from the bytes already read (no
    /// second pass over the cells, no second hash): for a row that goes on to be scored.
    /// The course is the file's fixed course when it has one; else the course cell, interned.
    func event(_ columns: Columns, courses: inout TextInterner) -> Event {
        event(file: columns.file, sha256: columns.sha256, course: columns.fixedCourse, courses: &courses)
    }

    /// The same, for a row of `file` whose course is `fixed` when it has one.
    func event(file: String, sha256: String, course fixed: String?, courses: inout TextInterner) -> Event {
        Event(key: key, kind: .courseCompleted, email: Email(normalised: String(decoding: email, as: UTF8.self)),
              name: name.map { String(decoding: $0, as: UTF8.self) }, course: fixed ?? courses.string(course),
              at: at, source: EventSource(file: file, sha256: sha256, row: row),
              certificate: certificate.map { String(decoding: $0, as: UTF8.self) })
    }

    /// A cell as `nonEmpty` leaves it, when that needs no work: nil (not plain: non-ASCII or
    /// space at an end, for the ordinary path), .some(nil) for an empty cell, else the cell.
    static func plainCell(_ text: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer?? {
        guard let first = text.first, let last = text.last else { return .some(nil) }
        guard first > 0x20, first < 0x80, last > 0x20, last < 0x80 else { return nil }
        for byte in text where byte >= 0x80 { return nil }
        return .some(text)
    }

    /// `Email.looksLikeEmail` on bytes: an `@` with a dot somewhere after it.
    static func looksLikeEmail(_ text: UnsafeRawBufferPointer) -> Bool {
        guard let at = text.firstIndex(of: UInt8(ascii: "@")) else { return false }
        return text[at...].contains(UInt8(ascii: "."))
    }

    /// `Event.contentKey(kind: .courseCompleted, email:, course:, points: nil, at:)` from bytes.
    static func contentKey(email: UnsafeRawBufferPointer, course: UnsafeRawBufferPointer, at: Timestamp?) -> EventKey {
        let kind: StaticString = "course_completed"
        let total = kind.utf8CodeUnitCount + email.count + course.count + 20 + 5
        let digest = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: total) { buffer in
            let p = buffer.baseAddress!
            var n = 0
            @inline(__always) func append(_ bytes: UnsafeRawBufferPointer) {
                if let base = bytes.baseAddress { (p + n).update(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count) }
                n += bytes.count
                p[n] = 0x1F
                n += 1
            }
            append(UnsafeRawBufferPointer(start: kind.utf8Start, count: kind.utf8CodeUnitCount))
            append(email)
            append(course)
            append(UnsafeRawBufferPointer(start: nil, count: 0))
            if let at {
                n += JSONWriter.writeDecimal(Int(at.milliseconds), to: p + n)
            }
            p[n] = 0x1F
            n += 1
            return Crypto.sha256(UnsafeRawBufferPointer(start: p, count: n))
        }
        let (high, low) = digest.prefix128
        return .digest(high, low)
    }
}

/// A row whose cells' bytes the byte path reads where they lie: a CSV record, or a sheet's
/// row laid out in one buffer (`SheetRowBytes`).
protocol PlainCells {
    /// The row's number, as `EventSource.row`.
    var number: Int { get }
    /// Cell `index`'s text as UTF-8 (empty when there is no such cell); nil when its bytes
    /// are not the cell's text as they lie (a CSV field to unescape).
    func bytesInPlace(at index: Int) -> UnsafeRawBufferPointer?
}

extension CSVRecord: PlainCells {}

/// The cells of a sheet's row copied end to end into one buffer, so that the byte path
/// reads a workbook row as it reads a CSV record: a sheet's cells are text already (dates
/// and numbers written as `RowMapper` reads them), so each is its own bytes.
struct SheetRowBytes: PlainCells {
    let number: Int
    private let bytes: UnsafeRawBufferPointer
    /// Where each cell ends in `bytes` (it starts where the one before ends).
    private let ends: UnsafeBufferPointer<Int>

    func bytesInPlace(at index: Int) -> UnsafeRawBufferPointer? {
        guard index >= 0, index < ends.count else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let start = index == 0 ? 0 : ends[index - 1]
        return UnsafeRawBufferPointer(rebasing: bytes[start..<ends[index]])
    }

    /// Lays `row` out in `scratch` and `ends` (kept from row to row) and hands `body` the view.
    static func with<R>(_ row: WorkbookRow, scratch: inout [UInt8], ends: inout [Int],
                        _ body: (SheetRowBytes) throws -> R) rethrows -> R {
        scratch.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        for cell in row.cells {
            scratch.append(contentsOf: cell.utf8)
            ends.append(scratch.count)
        }
        return try scratch.withUnsafeBytes { bytes in
            try ends.withUnsafeBufferPointer { ends in
                try body(SheetRowBytes(number: row.number, bytes: bytes, ends: ends))
            }
        }
    }
}

/// What the scoring thread needs to know of a plain row to ask for the cache lines that
/// deciding it will read, some rows before it decides it: its id's digest and its email's
/// hash. Deciding a row is mostly waiting for lines of tables of a hundred megabytes (the
/// ids seen, the accounts); asked for ahead, those waits overlap the rows between.
struct LaneHint {
    var high: UInt64
    var low: UInt64
    var emailHash: UInt64
}

/// The hints of three rows further on, each asked a step further in (see
/// `State.prefetch`): `far`'s table slots, then, when it is `middle`, the entries its slots
/// point at, and, when it is `near`, the bytes its entries point at. Each step reads only
/// lines the step before asked for, so no step waits long.
struct LaneHints {
    var far: LaneHint?
    var middle: LaneHint?
    var near: LaneHint?

    /// How many rows ahead `far`, `middle` and `near` are: far enough that a line asked for
    /// arrives before the next step (a row is decided in a few hundred nanoseconds, a line
    /// from memory takes about a hundred), near enough that it is still there.
    static let distances = (far: 8, middle: 4, near: 2)
}
