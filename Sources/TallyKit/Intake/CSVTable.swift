/// A CSV, TSV or UTF-16 text file as a table: each pass opens the file afresh (the reader
/// streams and never rewinds), with the delimiter the first pass detected.
final class CSVTable: TableSource {
    let intake: TableIntake
    let path: String
    let file: String
    let kind: FileKind
    private var delimiter: UInt8?

    init(intake: TableIntake, path: String, file: String, kind: FileKind) {
        self.intake = intake
        self.path = path
        self.file = file
        self.kind = kind
        delimiter = kind == .tsv ? 0x09 : nil
    }

    func forEachRow(_ body: (CSVRecord) throws -> Bool) throws {
        let reader = try intake.open(path, file: file, kind: kind, delimiter: delimiter)
        delimiter = reader.delimiter
        try reader.forEachRecord { record in try body(record) }
    }
}
