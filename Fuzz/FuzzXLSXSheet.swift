// libFuzzer entry for an XLSX worksheet part: any bytes given to the sheet parsers (the
// hardened libxml2 reader, and the SAX path `tally sync` reads sheets with) give rows within
// the limits or a refusal, never a crash; and when both read the bytes through, they give
// the same rows (the reader is the SAX path's reference).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXLSXSheet(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let limits = WorkbookLimits(maxFields: 64, maxRowBytes: 4096)
    let strings = ["a", "b"], dateStyles = [false, true], date1904 = size % 2 == 0
    func check(_ row: WorkbookRow) {
        precondition(row.cells.count <= 64 && (row.rejection == nil || row.cells.isEmpty))
    }
    var simple: [WorkbookRow]?
    if let reader = try? XMLStreamReader(source: BytesXMLSource(bytes), name: "sheet1.xml") {
        defer { reader.close() }
        var rows: [WorkbookRow] = []
        let parser = SheetParser(reader: reader, strings: strings, dateStyles: dateStyles, date1904: date1904, limits: limits)
        if (try? parser.rows { row in check(row); rows.append(row); return true }) != nil { simple = rows }
    }
    var fast: [WorkbookRow] = []
    let read = (try? FastSheetParser.rows(source: BytesXMLSource(bytes), name: "sheet1.xml", strings: strings,
                                          dateStyles: dateStyles, date1904: date1904, limits: limits) { row in
        check(row)
        fast.append(row)
        return true
    }) != nil
    if read, let simple { precondition(fast == simple, "the SAX path read other rows than the reader") }
    return 0
}
