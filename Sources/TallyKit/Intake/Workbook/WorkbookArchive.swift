import Foundation
import ZIPFoundation

/// Opening a workbook's zip archive and its XML parts.
extension Workbook {
    /// Opens a zip archive, or says why the file is not one.
    static func open(_ path: String) throws(WorkbookError) -> Archive {
        do {
            return try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw .notAWorkbook("it is not a zip archive, or its end is missing (a truncated download?)")
        }
    }

    /// An XML reader over one entry of the archive, within the limits' budget.
    static func xml(_ archive: Archive, _ path: String, budget: ZipEntryStream.Budget) throws(WorkbookError) -> XMLStreamReader? {
        guard let entry = archive[path] else { return nil }
        return try XMLStreamReader(source: ZipEntryStream(archive: archive, entry: entry, budget: budget), name: path)
    }

}
