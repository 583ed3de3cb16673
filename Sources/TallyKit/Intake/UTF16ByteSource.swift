/// UTF-16 text (Excel's "Unicode Text", with its byte-order mark) turned into UTF-8 as the
/// CSV reader pulls it, so a UTF-16 export streams through the same reader as any CSV.
///
/// The byte-order mark says the byte order and is dropped. Surrogate pairs that straddle a
/// refill are kept whole; an unpaired surrogate becomes U+FFFD, as invalid UTF-8 does.
package final class UTF16ByteSource: ByteSource {
    private let inner: any ByteSource
    private var bigEndian = false
    private var started = false
    private var input = [UInt8](repeating: 0, count: 64 * 1024)
    private var inputStart = 0
    private var inputEnd = 0
    private var output: [UInt8] = []
    private var outputStart = 0
    private var pendingHigh: UInt16?
    private var finished = false

    package init(wrapping inner: any ByteSource) { self.inner = inner }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws(CSVError) -> Int {
        guard buffer.count > 0 else { return 0 }
        while outputStart == output.count {
            if finished { return 0 }
            try refill()
        }
        let count = min(buffer.count, output.count - outputStart)
        output.withUnsafeBytes { source in
            guard let base = source.baseAddress else { return }
            buffer.baseAddress?.copyMemory(from: base + outputStart, byteCount: count)
        }
        outputStart += count
        return count
    }

    /// Reads more UTF-16 and transcodes every whole code unit of it.
    private func refill() throws(CSVError) {
        if inputStart > 0 {
            input.replaceSubrange(0..<(inputEnd - inputStart), with: input[inputStart..<inputEnd])
            inputEnd -= inputStart
            inputStart = 0
        }
        var n = 0
        var failure: CSVError?
        input.withUnsafeMutableBytes { raw in
            do throws(CSVError) { n = try inner.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[inputEnd...])) } catch { failure = error }
        }
        if let failure { throw failure }
        inputEnd += n
        output.removeAll(keepingCapacity: true)
        outputStart = 0
        if !started && inputEnd - inputStart >= 2 {
            started = true
            if input[0] == 0xFE && input[1] == 0xFF { bigEndian = true; inputStart = 2 }
            else if input[0] == 0xFF && input[1] == 0xFE { inputStart = 2 }
        }
        while inputEnd - inputStart >= 2 {
            let a = UInt16(input[inputStart]), b = UInt16(input[inputStart + 1])
            inputStart += 2
            append(unit: bigEndian ? a << 8 | b : b << 8 | a)
        }
        if n == 0 {
            if pendingHigh != nil { appendScalar(0xFFFD); pendingHigh = nil }
            if inputEnd - inputStart == 1 { appendScalar(0xFFFD); inputStart = inputEnd }
            finished = true
        }
    }

    private func append(unit: UInt16) {
        if let high = pendingHigh {
            pendingHigh = nil
            if (0xDC00...0xDFFF).contains(unit) {
                appendScalar(0x10000 + (UInt32(high - 0xD800) << 10) + UInt32(unit - 0xDC00))
                return
            }
            appendScalar(0xFFFD)
        }
        switch unit {
        case 0xD800...0xDBFF: pendingHigh = unit
        case 0xDC00...0xDFFF: appendScalar(0xFFFD)
        default: appendScalar(UInt32(unit))
        }
    }

    private func appendScalar(_ value: UInt32) {
        output.appendUTF8(value)
    }
}
