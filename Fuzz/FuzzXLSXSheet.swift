// libFuzzer entry for an XLSX worksheet part: any bytes given to the sheet parser (through
// the hardened libxml2 reader) give rows within the limits or a refusal, never a crash.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXLSXSheet(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let limits = WorkbookLimits(maxFields: 64, maxRowBytes: 4096)
    guard let reader = try? XMLStreamReader(source: BytesXMLSource(bytes), name: "sheet1.xml") else { return 0 }
    defer { reader.close() }
    let parser = SheetParser(reader: reader, strings: ["a", "b"], dateStyles: [false, true], date1904: size % 2 == 0, limits: limits)
    try? parser.rows { row in
        precondition(row.cells.count <= 64 && (row.rejection == nil || row.cells.isEmpty))
        return true
    }
    return 0
}
