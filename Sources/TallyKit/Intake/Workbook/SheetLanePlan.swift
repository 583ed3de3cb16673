import Foundation

/// The byte lane's reading of a sheet's rows — `CompletionRow.read`: the email normalised,
/// the date parsed, the content id hashed — done on the parser's thread, so that the thread
/// that scores only decides.
///
/// Why: once rows came to the lane as bytes, reading them was the largest part of the
/// scoring thread that is not scoring (a ninth of it), while the parser's thread had time
/// to spare. The caller's thread offers the file's plain columns (`offer`) when it first
/// reads a row by the lane; each batch the parser completes after that carries every row's
/// reading (`PreparedLane`), copied from what `CompletionRow.read` answered, and the rows
/// of the batches before are read on the caller's thread as before. Either way it is the
/// same function over the same cells, with the same columns.
final class SheetLanePlan: @unchecked Sendable {
    // @unchecked: `offered` is guarded by `lock`, and `Columns` never changes.
    private let lock = NSLock()
    private var offered: CompletionRow.Columns?

    /// The columns to read rows with from now on; the first offer stands.
    func offer(_ columns: CompletionRow.Columns) {
        lock.withLock { if offered == nil { offered = columns } }
    }

    var columns: CompletionRow.Columns? { lock.withLock { offered } }
}

/// The lane's readings of a batch's rows, made on the parser's thread: the fields'
/// bytes copied into one buffer, so that they live as long as the batch.
struct PreparedLane {
    /// One per row of the batch: nil where `CompletionRow.read` answered false, or where
    /// the row is not handed on as cells (rejected, past a limit).
    var rows: [Reading?] = []
    /// The bytes the readings' ranges are in.
    var bytes: [UInt8] = []

    /// A `CompletionRow` with its fields as ranges of `bytes`, and its key's digest: plain
    /// values, which the caller's thread copies without touching a reference count.
    struct Reading {
        var key: (high: UInt64, low: UInt64)
        var at: Timestamp
        var email: Range<Int>
        var name: Range<Int>?
        var course: Range<Int>
        var certificate: Range<Int>?
        /// `IdHash.hash(ascii:)` of the email (nil when not ASCII), found on this thread.
        var emailHash: UInt64?

        /// What the scoring thread may ask its tables ahead of time about this row.
        var hint: LaneHint? { emailHash.map { LaneHint(high: key.high, low: key.low, emailHash: $0) } }
    }

    /// The hints of the rows after `index` (see `LaneHints`).
    @inline(__always)
    static func hints(after index: Int, in readings: [Reading?]) -> LaneHints {
        func hint(_ distance: Int) -> LaneHint? {
            index + distance < readings.count ? readings[index + distance]?.hint : nil
        }
        let distances = LaneHints.distances
        return LaneHints(far: hint(distances.far), middle: hint(distances.middle), near: hint(distances.near))
    }

    /// Keeps `row`'s reading; false (nothing kept) for a key that is not a digest, which
    /// `CompletionRow.read` never makes, but which the caller's thread would then read itself.
    mutating func append(_ row: borrowing CompletionRow) -> Bool {
        guard case let .digest(high, low) = row.key else { return false }
        func keep(_ text: UnsafeRawBufferPointer) -> Range<Int> {
            let start = bytes.count
            bytes.append(contentsOf: text)
            return start..<bytes.count
        }
        rows.append(Reading(key: (high, low), at: row.at, email: keep(row.email), name: row.name.map(keep), course: keep(row.course),
                            certificate: row.certificate.map(keep), emailHash: IdHash.hash(ascii: row.email)))
        return true
    }

    /// The `CompletionRow` of `reading`, its fields in `bytes` (this lane's, as the caller holds them),
    /// with the hints of rows after it (see `LaneHints`).
    static func row(_ reading: Reading, number: Int, in bytes: UnsafeRawBufferPointer, ahead: LaneHints = LaneHints())
        -> CompletionRow {
        func text(_ range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[range]) }
        return CompletionRow(key: .digest(reading.key.high, reading.key.low), email: text(reading.email), name: reading.name.map(text), course: text(reading.course),
                             certificate: reading.certificate.map(text), at: reading.at, row: number,
                             emailHash: reading.emailHash, ahead: ahead)
    }
}
