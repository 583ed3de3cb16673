#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

    /// The file's size when asked (`Int.max` when it cannot be told: the reader will say why).
    var byteCount: Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : Int.max
    }

    func forEachRow(_ body: (CSVRecord) throws -> Bool) throws {
        let reader = try intake.open(path, file: file, kind: kind, delimiter: delimiter)
        delimiter = reader.delimiter
        try reader.forEachRecord { record in try body(record) }
    }

    /// Reads the records past the header on a thread of their own, in batches (`CSVRowBatch`):
    /// each plain row (by `plain`) read there and handed to `plainRow`, any other record to
    /// `record`, in order, here, until one returns false.
    ///
    /// The same records as `forEachRow` past its first, read by the same functions: the file
    /// is opened here (a file that cannot be opened throws here, as it does there), and a
    /// failure to read it further comes after the records before it.
    func forEachRowPastHeader(plain: CompletionRow.Columns?, batchRows: Int = CSVRowBatch.rows,
                              plainRow: (borrowing CompletionRow) throws -> Bool,
                              record: (borrowing CSVRecord) throws -> Bool) throws {
        let reader = try intake.open(path, file: file, kind: kind, delimiter: delimiter)
        delimiter = reader.delimiter
        try CSVRowBatch.read(reader, plain: plain, rows: batchRows, plainRow: plainRow, record: record)
    }
}
