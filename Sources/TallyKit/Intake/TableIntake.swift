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
    public init(settings: Settings) { self.settings = settings }

    public func read(path: String, file: String, sha256: String, kind: FileKind, modified: Timestamp,
                     emit: (IntakeItem) throws -> Void) throws {
        let delimiter: UInt8? = kind == .tsv ? 0x09 : nil
        let head = try open(path, file: file, kind: kind, delimiter: delimiter)
        guard let headers = try headerRow(head) else {
            throw IntakeError.notATable(file: file, reason: "the file is empty")
        }
        let map = HeaderMap(headers: headers, overrides: settings.overrides)
        var mapperSettings = settings.mapper
        if !settings.dateOrderConfigured, let column = map.index(of: .completedAt) {
            mapperSettings.dateOrder = try detectDateOrder(path, file: file, kind: kind, delimiter: head.delimiter, column: column)
                ?? mapperSettings.dateOrder
        }
        let mapper = RowMapper(map: map, settings: mapperSettings, file: file, sha256: sha256, fallbackTime: modified)
        if let problem = mapper.headerProblem(headers: headers) { throw IntakeError.notATable(file: file, reason: problem) }
        var columns: [(Column, Int)] = []
        for column in Column.allCases { if let index = map.index(of: column) { columns.append((column, index)) } }

        // Each pass opens the file afresh: the reader streams and never rewinds.
        let reader = try open(path, file: file, kind: kind, delimiter: head.delimiter)
        try reader.forEachRecord { record in
            if record.number == 1 { return true }
            if let reason = record.rejection {
                try emit(.rejected(row: record.number, reason: reason, raw: record.raw))
                return true
            }
            let result = mapper.event(row: record.number) { wanted in
                for (column, index) in columns where column == wanted { return record.string(at: index) }
                return nil
            }
            switch result {
            case .success(let event): try emit(.event(event))
            case .failure(let rejection): try emit(.rejected(row: record.number, reason: rejection.reason, raw: record.raw))
            }
            return true
        }
    }

    /// A reader over the file; UTF-16 text is transcoded to UTF-8 on the way in.
    func open(_ path: String, file: String, kind: FileKind, delimiter: UInt8?) throws -> CSVReader {
        do {
            if kind == .utf16Text {
                return CSVReader(source: UTF16ByteSource(wrapping: try FileByteSource(path: path)), delimiter: delimiter,
                                 limits: settings.limits, bufferSize: CSVReader.defaultBufferSize)
            }
            return try CSVReader(path: path, delimiter: delimiter, limits: settings.limits)
        } catch {
            throw IntakeError.unreadable(file: file, reason: error.description)
        }
    }

    /// The header row's fields, or nil for a file with no rows at all.
    func headerRow(_ reader: CSVReader) throws -> [String]? {
        var headers: [String]?
        try reader.forEachRecord { record in
            headers = (0..<record.count).map { record.string(at: $0) }
            return false
        }
        return headers
    }

    /// Scans the date column for a date that only one order can read.
    func detectDateOrder(_ path: String, file: String, kind: FileKind, delimiter: UInt8, column: Int) throws -> DateOrder? {
        let reader = try open(path, file: file, kind: kind, delimiter: delimiter)
        var found: DateOrder?
        var scanned = 0
        try reader.forEachRecord { record in
            guard record.number > 1, record.rejection == nil else { return true }
            scanned += 1
            let stop = scanned > 100_000
            var evidence: DateOrder?
            record.withBytes(at: column) { bytes in
                evidence = DateParser.evidence(utf8: bytes)
            }
            if let evidence {
                found = evidence
                return false
            }
            return !stop
        }
        return found
    }
}
