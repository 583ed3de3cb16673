/// Reads CSV and TSV exports row by row, streaming, into events or rejected rows.
///
/// The header row finds the columns (aliases, or `[[sources]] columns`). The date order is
/// the configured one, else what the file's own dates show: a first number above 12 in any
/// slash date means day-first for the whole file.
public struct TableIntake: Sendable {
    public struct Settings: Sendable {
        public var mapper: RowMapper.Settings
        /// True when `date_order` was configured for this file: no detection then.
        public var dateOrderConfigured: Bool
        public var overrides: [Column: String]
        public var limits: TableLimits
        public init(mapper: RowMapper.Settings = .init(), dateOrderConfigured: Bool = false,
                    overrides: [Column: String] = [:], limits: TableLimits = .init()) {
            self.mapper = mapper
            self.dateOrderConfigured = dateOrderConfigured
            self.overrides = overrides
            self.limits = limits
        }
    }

    public var settings: Settings
    /// Whether plain completion rows of a CSV or a sheet are read as bytes (see
    /// `CompletionRow`); off only in tests that hold that path to the ordinary one.
    var readsPlainRowsAsBytes = true
    /// Whether a workbook's sheet is read in one pass (see `readInOnePass`); off only in
    /// tests that hold that path to the passes it replaces.
    var readsWorkbooksInOnePass = true
    /// Whether a CSV's rows past the header are read on a thread of their own (see
    /// `CSVRowBatch`) when plain rows are read as bytes; off only in tests that hold that
    /// read to the one-thread loop.
    var readsCSVOnAThread = true
    /// Records per batch handed from that thread; small only in tests, to cross many batches.
    var csvBatchRows = CSVRowBatch.rows
    /// A CSV of fewer bytes is read on the calling thread, by the one-thread loop: for a
    /// small file, starting a thread and handing batches across cost more than its rows (a
    /// burst of a thousand one-row files spent a sixth of its time creating threads and
    /// waking them). Zero in tests that hold the thread to that loop.
    var csvThreadFrom = 256 << 10
    /// What a one-pass read may hold back while the date order is undecided, in bytes of
    /// cell text plus a row's and a cell's keep (see `readInOnePass`).
    var heldBackBytes = 64 << 20
    /// How many rows the date scan reads past the header, at most, for a date only one
    /// order can read; changed only in tests.
    var dateScanRows = 100_000
    public init(settings: Settings) { self.settings = settings }

    /// Reads a CSV, TSV or UTF-16 text table.
    public func read(path: String, file: String, sha256: String, kind: FileKind, modified: Timestamp,
                     emit: (IntakeItem) throws -> Void) throws {
        try read(path: path, file: file, sha256: sha256, kind: kind, modified: modified, decided: { _ in false }, emit: emit)
    }

    /// The same; `decided` is offered each plain completion row as bytes first (see
    /// `CompletionRow`): when it returns true the row is done, else its event is made from
    /// the bytes already read and emitted.
    func read(path: String, file: String, sha256: String, kind: FileKind, modified: Timestamp,
              decided: (borrowing CompletionRow) throws -> Bool, emit: (IntakeItem) throws -> Void) throws {
        let table = CSVTable(intake: self, path: path, file: file, kind: kind)
        try read(table, file: file, sha256: sha256, modified: modified, decided: decided, emit: emit)
    }

    /// Reads any table: the header row finds the columns, then each row becomes an event or
    /// a rejected row. The table is read twice when the date order must be found first; a
    /// workbook's sheet once (`readInOnePass`).
    public func read<Table: TableSource>(_ table: Table, file: String, sha256: String, modified: Timestamp,
                                         emit: (IntakeItem) throws -> Void) throws {
        try read(table, file: file, sha256: sha256, modified: modified, decided: { _ in false }, emit: emit)
    }

    func read<Table: TableSource>(_ table: Table, file: String, sha256: String, modified: Timestamp,
                                  decided: (borrowing CompletionRow) throws -> Bool,
                                  emit: (IntakeItem) throws -> Void) throws {
        var courses = TextInterner()
        var sheetLane = SheetLane()
        if readsWorkbooksInOnePass, let workbook = table as? any SheetTable {
            let done = try readInOnePass(workbook, file: file, sha256: sha256, modified: modified) { sheetRow, mapping in
                func ordinary(_ row: WorkbookRow) throws {
                    if let reason = row.rejection {
                        try emit(.rejected(row: row.number, reason: reason, raw: row.raw))
                    } else {
                        try Self.emit(row, mapper: mapping.mapper, columns: mapping.columns, courses: &courses, emit: emit)
                    }
                }
                switch sheetRow {
                case .cells(let cells):
                    // The lane reads the cells where they lie; only a row it leaves is made text.
                    if try !sheetLane.read(plain: cells, mapper: mapping.mapper, bytes: readsPlainRowsAsBytes, courses: &courses,
                                           decided: decided, emit: emit) {
                        try ordinary(cells.text)
                    }
                case .text(let row):
                    if try row.rejection != nil || !sheetLane.read(row, mapper: mapping.mapper, bytes: readsPlainRowsAsBytes,
                                                                   courses: &courses, decided: decided, emit: emit) {
                        try ordinary(row)
                    }
                }
            }
            if done { return }
        }
        var headers: [String]?
        try table.forEachRow { row in
            // A header over a limit is no header: said as such, not as "no email column".
            if let reason = row.rejection { throw IntakeError.notATable(file: file, reason: "its header row was refused: \(reason)") }
            headers = (0..<row.count).map { row.string(at: $0) }
            return false
        }
        guard let headers else { throw IntakeError.notATable(file: file, reason: "the file is empty") }
        let map = HeaderMap(headers: headers, overrides: settings.overrides)
        var mapperSettings = settings.mapper
        if !settings.dateOrderConfigured, let column = map.index(of: .completedAt) {
            mapperSettings.dateOrder = try detectDateOrder(table, column: column, other: map.otherDate) ?? mapperSettings.dateOrder
        }
        let mapper = RowMapper(map: map, settings: mapperSettings, file: file, sha256: sha256, fallbackTime: modified)
        if let problem = mapper.headerProblem(headers: headers) { throw IntakeError.notATable(file: file, reason: problem) }
        var columns: [(Column, Int)] = []
        for column in Column.allCases { if let index = map.index(of: column) { columns.append((column, index)) } }

        let plain = readsPlainRowsAsBytes ? CompletionRow.Columns(mapper: mapper) : nil
        if readsPlainRowsAsBytes && readsCSVOnAThread, let csv = table as? CSVTable, csv.byteCount >= csvThreadFrom {
            // The rows past the header read on the second core, in the order and by the
            // functions of the loop below; here they are only decided and emitted.
            try csv.forEachRowPastHeader(plain: plain, batchRows: csvBatchRows, plainRow: { row in
                // Only a file with plain columns has rows read by them.
                if try !decided(row), let plain { try emit(.event(row.event(plain, courses: &courses))) }
                return true
            }, record: { record in
                if let reason = record.rejection {
                    try emit(.rejected(row: record.number, reason: reason, raw: record.raw))
                } else {
                    try Self.emit(record, mapper: mapper, columns: columns, courses: &courses, emit: emit)
                }
                return true
            })
            return
        }
        var first = true
        sheetLane = SheetLane()   // its columns from this mapper
        try table.forEachRow { row in
            if first {
                first = false
                return true
            }
            if let reason = row.rejection {
                try emit(.rejected(row: row.number, reason: reason, raw: row.raw))
                return true
            }
            if let plain, let record = row as? CSVRecord {
                // A plain row is read once, as bytes: decided there, or made an event from them.
                var event: Event?
                let read = try CompletionRow.read(record, columns: plain) { row in
                    if try !decided(row) {
                        event = row.event(plain, courses: &courses)
                    }
                    return true
                }
                if read {
                    if let event { try emit(.event(event)) }
                    return true
                }
            }
            if let sheetRow = row as? WorkbookRow,
               try sheetLane.read(sheetRow, mapper: mapper, bytes: readsPlainRowsAsBytes, courses: &courses,
                                  decided: decided, emit: emit) {
                return true
            }
            try Self.emit(row, mapper: mapper, columns: columns, courses: &courses, emit: emit)
            return true
        }
    }

    /// The byte path for a sheet's rows: each row's cells read as bytes where the parser left
    /// them (`SheetRowCells`), or a text row laid out as bytes (`SheetRowBytes`), and read as a
    /// CSV record's plain row is, with the columns found once from the file's mapper.
    private struct SheetLane {
        private var columns: CompletionRow.Columns??
        /// Whether the columns were offered to the parser's thread (`SheetLanePlan`).
        private var offered = false
        private var scratch: [UInt8] = []
        private var ends: [Int] = []

        /// Reads `row` on the byte path when it is plain: decided there, or its event emitted.
        /// False (nothing done) for any other row, which takes `RowMapper`.
        mutating func read(_ row: WorkbookRow, mapper: @autoclosure () -> RowMapper, bytes: Bool, courses: inout TextInterner,
                           decided: (borrowing CompletionRow) throws -> Bool, emit: (IntakeItem) throws -> Void) throws -> Bool {
            guard let plain = columns(mapper, bytes: bytes) else { return false }
            return try SheetRowBytes.with(row, scratch: &scratch, ends: &ends) { cells in
                try Self.read(cells, plain, courses: &courses, decided: decided, emit: emit)
            }
        }

        /// The same for a row whose cells are bytes already, straight from the parser's batch;
        /// read there already (`SheetLanePlan`) once the columns are offered to its thread.
        mutating func read(plain row: SheetRowCells, mapper: @autoclosure () -> RowMapper, bytes: Bool, courses: inout TextInterner,
                           decided: (borrowing CompletionRow) throws -> Bool, emit: (IntakeItem) throws -> Void) throws -> Bool {
            guard let plain = columns(mapper, bytes: bytes) else { return false }
            if !offered {
                row.plan?.offer(plain)
                offered = true
            }
            switch row.prepared {
            case .notPlain?: return false
            case .row(let read)?:
                try Self.take(read, plain, courses: &courses, decided: decided, emit: emit)
                return true
            case nil: return try Self.read(row, plain, courses: &courses, decided: decided, emit: emit)
            }
        }

        /// The columns of the file's plain rows, found from its mapper the first time; nil when
        /// it has none. The mapper is asked for only then: not copied per row.
        private mutating func columns(_ mapper: () -> RowMapper, bytes: Bool) -> CompletionRow.Columns? {
            if columns == nil { columns = bytes ? CompletionRow.Columns(mapper: mapper()) : .some(nil) }
            return columns ?? nil
        }

        private static func read<Row: PlainCells>(_ row: Row, _ plain: CompletionRow.Columns, courses: inout TextInterner,
                                                  decided: (borrowing CompletionRow) throws -> Bool,
                                                  emit: (IntakeItem) throws -> Void) throws -> Bool {
            try CompletionRow.read(row, columns: plain) { row in
                try take(row, plain, courses: &courses, decided: decided, emit: emit)
                return true
            }
        }

        /// A plain row decided, or its event emitted.
        private static func take(_ row: borrowing CompletionRow, _ plain: CompletionRow.Columns, courses: inout TextInterner,
                                 decided: (borrowing CompletionRow) throws -> Bool, emit: (IntakeItem) throws -> Void) throws {
            if try !decided(row) { try emit(.event(row.event(plain, courses: &courses))) }
        }
    }

    /// The event or rejection of a row past the header, through `RowMapper`.
    private static func emit<Row: TableRow>(_ row: Row, mapper: RowMapper, columns: [(Column, Int)], courses: inout TextInterner,
                                            emit: (IntakeItem) throws -> Void) throws {
        if let record = row as? CSVRecord, let problem = record.utf8Problem {
            return try emit(.rejected(row: row.number, reason: problem, raw: row.raw))
        }
        let result = mapper.event(row: row.number, otherDate: { mapper.map.otherDate.map { row.string(at: $0) } }) { wanted in
            for (column, index) in columns where column == wanted {
                return column == .course ? Self.string(row, at: index, interning: &courses) : row.string(at: index)
            }
            return nil
        }
        switch result {
        case .success(let event): try emit(.event(event))
        case .failure(let rejection):
            // A row of empty cells (Excel's `,,` for a formatted but empty row, a sheet's row
            // of one space) is skipped as a blank line is, not rejected on every export. Asked
            // only of a row that failed: such a row never names an email.
            if row.isBlank { return }
            try emit(.rejected(row: row.number, reason: rejection.reason, raw: row.raw))
        }
    }


    /// A sheet's mapper and columns, once its header and date order are known. A class, and
    /// the lane asks for the mapper only once: a row hands them on without copying them (a
    /// `RowMapper` copied per row was a retain and a release of each of its references, on
    /// the thread that scores).
    final class OnePassMapping {
        let mapper: RowMapper
        let columns: [(Column, Int)]
        init(_ mapper: RowMapper, _ columns: [(Column, Int)]) { self.mapper = mapper; self.columns = columns }
    }

    /// Reads a workbook's sheet once, where `read` reads it up to three times (its header,
    /// its date order, its rows) and so parses the sheet's XML from the start each time. The
    /// header is the first row; while the date order is undecided the rows are held back,
    /// and once it is decided — by the same rows `detectDateOrder` scans, in the same order —
    /// they are handled, then the rest as they come. So the events, the rejections and the
    /// refusals (a damaged sheet, a header without an email column) are those of `read`, in
    /// the same order.
    ///
    /// Returns false, having handled nothing, when the rows held back passed `heldBackBytes`
    /// before the date order was decided: memory stays bounded (rejected rows, which the
    /// date scan does not count, count here), and the caller reads the file in passes.
    ///
    /// A row is handed to `handle` as the table gives it (its cells' bytes, valid only during
    /// the call, when it can); the header and the rows held back are made text.
    func readInOnePass(_ table: any SheetTable, file: String, sha256: String, modified: Timestamp,
                       handle: (SheetRow, OnePassMapping) throws -> Void) throws -> Bool {
        var headers: [String]?
        var ready: OnePassMapping?
        var dateColumn: Int?, otherDate: Int?
        var heldBack: [WorkbookRow] = []
        var heldBytes = 0, scanned = 0
        var overflowed = false

        func decide(_ found: DateOrder?, headers: [String]) throws {
            let map = HeaderMap(headers: headers, overrides: settings.overrides)
            var mapperSettings = settings.mapper
            if let found { mapperSettings.dateOrder = found }
            let mapper = RowMapper(map: map, settings: mapperSettings, file: file, sha256: sha256, fallbackTime: modified)
            if let problem = mapper.headerProblem(headers: headers) { throw IntakeError.notATable(file: file, reason: problem) }
            var columns: [(Column, Int)] = []
            for column in Column.allCases { if let index = map.index(of: column) { columns.append((column, index)) } }
            let mapping = OnePassMapping(mapper, columns)
            ready = mapping
            for row in heldBack { try handle(.text(row), mapping) }
            heldBack = []
        }

        try table.forEachSheetRow { sheetRow in
            if let ready {
                try handle(sheetRow, ready)
                return true
            }
            let row = sheetRow.text
            guard let headers else {
                if let reason = row.rejection { throw IntakeError.notATable(file: file, reason: "its header row was refused: \(reason)") }
                let names = (0..<row.count).map { row.string(at: $0) }
                headers = names
                let map = HeaderMap(headers: names, overrides: settings.overrides)
                if !settings.dateOrderConfigured, let column = map.index(of: .completedAt) {
                    dateColumn = column
                    otherDate = map.otherDate
                } else {
                    try decide(nil, headers: names)
                }
                return true
            }
            heldBack.append(row)
            heldBytes += row.cells.reduce(96) { $0 + 32 + $1.utf8.count }
            if row.rejection == nil, let column = dateColumn {
                scanned += 1
                if let evidence = row.dateOrderEvidence(at: column, other: otherDate) {
                    try decide(evidence, headers: headers)
                } else if scanned > dateScanRows {
                    try decide(nil, headers: headers)
                }
            }
            if ready == nil && heldBytes > heldBackBytes {
                overflowed = true
                return false
            }
            return true
        }
        if overflowed { return false }
        guard let headers else { throw IntakeError.notATable(file: file, reason: "the file is empty") }
        if ready == nil { try decide(nil, headers: headers) }
        return true
    }

    /// Cell `index` as one shared string per distinct value (see `TextInterner`), taken from
    /// the bytes of a CSV record; other tables' cells are strings already.
    static func string<Row: TableRow>(_ row: Row, at index: Int, interning interner: inout TextInterner) -> String {
        guard let record = row as? CSVRecord else { return row.string(at: index) }
        return record.withBytes(at: index) { interner.string($0) }
    }

    /// A reader over the file; UTF-16 text is transcoded to UTF-8 on the way in, and its
    /// delimiter is tab on a tie (Excel's "Unicode Text" is tab-separated).
    func open(_ path: String, file: String, kind: FileKind, delimiter: UInt8?) throws -> CSVReader {
        let hints = DelimiterSniffer.Hints(prefersTab: kind == .utf16Text, emailHeader: settings.overrides[.email])
        do {
            if kind == .utf16Text {
                return CSVReader(source: UTF16ByteSource(wrapping: try FileByteSource(path: path)), delimiter: delimiter,
                                 limits: settings.limits, bufferSize: CSVReader.defaultBufferSize, hints: hints)
            }
            return try CSVReader(path: path, delimiter: delimiter, limits: settings.limits, bufferSize: CSVReader.defaultBufferSize,
                                 hints: hints)
        } catch {
            throw IntakeError.unreadable(file: file, reason: error.description)
        }
    }

    /// Scans the date column for a date that only one order can read; on a row whose date
    /// cell is empty, the `other` date column that dates it (`HeaderMap.otherDate`).
    func detectDateOrder<Table: TableSource>(_ table: Table, column: Int, other: Int? = nil) throws -> DateOrder? {
        var found: DateOrder?
        var scanned = 0
        var first = true
        try table.forEachRow { row in
            if first {
                first = false
                return true
            }
            guard row.rejection == nil else { return true }
            scanned += 1
            if let evidence = row.dateOrderEvidence(at: column, other: other) {
                found = evidence
                return false
            }
            return scanned <= dateScanRows
        }
        return found
    }
}

/// One row of a table, whatever the file it came from.
public protocol TableRow {
    /// The row's number as the user's spreadsheet shows it (the header is row 1).
    var number: Int { get }
    var count: Int { get }
    func string(at index: Int) -> String
    /// Set when the row broke a limit: the row is rejected on its own, with this reason.
    var rejection: String? { get }
    /// The row as written, for `rejected.jsonl`.
    var raw: String { get }
    /// A date in this cell that only one order can read (`25/09/2024` is day-first).
    func dateOrderEvidence(at index: Int) -> DateOrder?
    /// Whether cell `index` is empty or white space only, as `nonEmpty` sees it (no such
    /// cell is empty).
    func isBlank(at index: Int) -> Bool
}

extension TableRow {
    public func isBlank(at index: Int) -> Bool { nonEmpty(string(at: index)) == nil }

    /// Whether every cell is empty or white space only (a row of no cells too).
    var isBlank: Bool { (0..<count).allSatisfy { isBlank(at: $0) } }

    /// The evidence of the date cell `index`, or, when that cell is empty, of the `other`
    /// date column that dates the row then: the rows the date order decides are read from.
    func dateOrderEvidence(at index: Int, other: Int?) -> DateOrder? {
        if let evidence = dateOrderEvidence(at: index) { return evidence }
        guard let other, isBlank(at: index) else { return nil }
        return dateOrderEvidence(at: other)
    }
}

/// A table that can be read from its first row, as many times as needed.
public protocol TableSource {
    associatedtype Row: TableRow
    func forEachRow(_ body: (Row) throws -> Bool) throws
}

/// A table of workbook rows (a sheet, `WorkbookTable`): rows that are values, which
/// `TableIntake.readInOnePass` can hold back, so the table is read once.
protocol SheetTable {
    /// Calls `body` with each row, from the header on, until it returns false.
    func forEachSheetRow(_ body: (SheetRow) throws -> Bool) throws
}

extension CSVRecord: TableRow {
    public func dateOrderEvidence(at index: Int) -> DateOrder? {
        withBytes(at: index) { DateParser.evidence(utf8: $0) }
    }

    public func isBlank(at index: Int) -> Bool {
        withBytes(at: index) { bytes in
            for byte in bytes where byte != 0x20 && !(0x09...0x0D).contains(byte) {
                // Other white space (U+00A0, U+3000) is for `nonEmpty` to tell.
                return byte < 0x80 ? false : nonEmpty(String(decoding: bytes, as: UTF8.self)) == nil
            }
            return true
        }
    }
}
