/// Lines of a message with their line breaks (CRLF, LF, or none at the end), read through
/// one buffer.
final class MailLineReader {
    struct Line {
        var bytes: [UInt8]
        var terminator: [UInt8]
    }

    private let source: ByteSource
    private let maxLine: Int
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var start = 0
    private var end = 0
    private var finished = false

    init(source: ByteSource, maxLine: Int) {
        self.source = source
        self.maxLine = maxLine
    }

    func next() throws(MailError) -> Line? {
        var scanFrom = start
        while true {
            if let newline = buffer[scanFrom..<end].firstIndex(of: 0x0A) {
                var contentEnd = newline
                var terminator: [UInt8] = [0x0A]
                if contentEnd > start && buffer[contentEnd - 1] == 0x0D {
                    contentEnd -= 1
                    terminator = [0x0D, 0x0A]
                }
                let line = Line(bytes: Array(buffer[start..<contentEnd]), terminator: terminator)
                start = newline + 1
                return line
            }
            guard end - start <= maxLine else { throw .lineTooLong(maxLine) }
            if finished {
                guard start < end else { return nil }
                let line = Line(bytes: Array(buffer[start..<end]), terminator: [])
                start = end
                return line
            }
            // Move what is left to the front, grow if a long line needs it, and refill.
            if start > 0 {
                buffer.replaceSubrange(0..<(end - start), with: buffer[start..<end])
                end -= start
                start = 0
            }
            if end == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
            scanFrom = end
            let count: Int
            do {
                count = try buffer.withUnsafeMutableBytes { raw throws(CSVError) in
                    try source.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[end...]))
                }
            } catch {
                throw .unreadable("\(error)")
            }
            if count == 0 { finished = true } else { end += count }
        }
    }
}
