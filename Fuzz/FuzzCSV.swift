// libFuzzer entry for the CSV reader: any bytes, any buffer size, must never crash, hang
// or break the reader's invariants. Built by scripts/fuzz (swiftc -sanitize=fuzzer,address).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let bufferSize = size > 0 ? Int(bytes[0] % 64) + 1 : 7
    let limits = TableLimits(maxRowBytes: 256, maxFields: 16)
    var whole: [[String]] = []
    var pieces: [[String]] = []
    do {
        try CSVReader(bytes: bytes, limits: limits).forEachRecord { record in
            whole.append(record.rejection.map { ["!" + $0] } ?? record.fields)
            precondition(record.raw.utf8.count <= 4096 + 4)
            return true
        }
        try CSVReader(bytes: bytes, limits: limits, bufferSize: bufferSize).forEachRecord { record in
            pieces.append(record.rejection.map { ["!" + $0] } ?? record.fields)
            return true
        }
    } catch {
        return 0
    }
    // The buffer size must never change what is read.
    precondition(whole == pieces, "different records at buffer size \(bufferSize)")
    return 0
}
