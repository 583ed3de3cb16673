// libFuzzer entry for an ODS content.xml: repeated rows and columns included, any bytes give
// bounded rows or a refusal, never a crash or a million materialised cells.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzODSContent(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let limits = WorkbookLimits(maxFields: 64, maxRowBytes: 4096)
    guard let reader = try? XMLStreamReader(source: BytesXMLSource(bytes), name: "content.xml") else { return 0 }
    defer { reader.close() }
    var count = 0
    try? ODSWorkbook.rows(of: reader, sheet: nil, limits: limits) { row in
        precondition(row.cells.count <= 64)
        count += 1
        return count < 100_000
    }
    return 0
}
