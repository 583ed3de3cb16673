/// Bounds on what reading a workbook (XLSX, ODS) may cost, whatever the file claims.
///
/// A zip entry's declared size can lie, so the limits are enforced on the bytes actually
/// inflated: reading stops as soon as one is passed, and the file is refused with the
/// limit it broke. Defaults fit a year of form exports with room to spare; `[limits]` in
/// `tally.toml` changes them.
public struct WorkbookLimits: Sendable, Equatable {
    /// Inflated bytes of any one zip entry (a sheet, the shared strings).
    public var maxEntryBytes: Int
    /// Inflated bytes of all the entries read from one workbook.
    public var maxTotalBytes: Int
    /// Inflated bytes per compressed byte of an entry: far above what real sheets reach
    /// (≈10–30), far below a zip bomb's (≈1000).
    public var maxCompressionRatio: Int
    /// Cells in one row: a wider row is rejected on its own, like a CSV row.
    public var maxFields: Int
    /// Bytes of one row's cell text.
    public var maxRowBytes: Int

    public init(maxEntryBytes: Int = 1 << 30, maxTotalBytes: Int = 2 << 30, maxCompressionRatio: Int = 200,
                maxFields: Int = 1024, maxRowBytes: Int = 1 << 20) {
        self.maxEntryBytes = maxEntryBytes
        self.maxTotalBytes = maxTotalBytes
        self.maxCompressionRatio = maxCompressionRatio
        self.maxFields = maxFields
        self.maxRowBytes = maxRowBytes
    }
}
