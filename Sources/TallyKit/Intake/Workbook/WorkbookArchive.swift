import Foundation

/// Opening a workbook's zip archive and its XML parts.
extension Workbook {
    /// Opens a zip archive, or says why the file is not one (or a damaged one).
    static func open(_ path: String) throws(WorkbookError) -> ZipArchive {
        try ZipArchive(path: path)
    }

    /// An XML reader over one entry of the archive, within the limits' budget.
    static func xml(_ archive: ZipArchive, _ path: String, budget: ZipEntryStream.Budget) throws(WorkbookError) -> XMLStreamReader? {
        guard let entry = archive[path] else { return nil }
        return try XMLStreamReader(source: ZipEntryStream(archive: archive, entry: entry, budget: budget), name: path)
    }

}
