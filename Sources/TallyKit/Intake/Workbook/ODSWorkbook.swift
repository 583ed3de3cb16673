extension ODSWorkbook {
    public static func read(path: String, sheet: String? = nil, limits: WorkbookLimits = .init(),
                            row: (WorkbookRow) throws -> Bool) throws {
        let archive = try Workbook.open(path)
        let budget = ZipEntryStream.Budget(limits: limits)
        // A password-protected ODS is a zip whose parts are encrypted: its manifest says so.
        if let manifest = try Workbook.xml(archive, "META-INF/manifest.xml", budget: budget) {
            defer { manifest.close() }
            while try manifest.next() {
                if manifest.isElement && manifest.localName == "encryption-data" { throw WorkbookError.encrypted }
            }
        }
        guard let reader = try Workbook.xml(archive, "content.xml", budget: budget) else {
            throw WorkbookError.notAWorkbook("it has no content.xml (is it an ODS file?)")
        }
        defer { reader.close() }
        try rows(of: reader, sheet: sheet, limits: limits, row: row)
    }

}
