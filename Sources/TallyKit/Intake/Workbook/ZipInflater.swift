import CLibZ
import Foundation

/// The bytes of one zip entry, inflated from within the file: a stored entry copied, a
/// deflated one through zlib's `inflate`. The corresponding C functions are `inflateInit2_`,
/// `inflate` and `inflateEnd`.
///
/// The compressed bytes are read only up to the size the directory gives (within the file,
/// `ZipArchive.dataStart`), so a deflate stream that does not end within them is cut short,
/// and refused as such, where a reader that fed the stream the rest of the file, then
/// nothing, would wait for its end forever. Unsafe pointers stay in this file.
enum ZipInflater {
    /// Calls `body` with each chunk of `entry`'s bytes (at most `chunk` of them), in order.
    /// Throws `WorkbookError` for an entry Tally cannot read, and what `body` throws.
    static func bytes(of entry: ZipArchive.Entry, in archive: ZipArchive, chunk: Int, _ body: (Data) throws -> Void) throws {
        if entry.flags & 1 != 0 { throw WorkbookError.encrypted }
        var offset = try archive.dataStart(of: entry)
        var remaining = entry.compressedSize
        var input = [UInt8](repeating: 0, count: chunk)
        /// The next compressed bytes, up to a chunk of them: how many.
        func next() throws -> Int {
            let count = min(chunk, remaining)
            try input.withUnsafeMutableBytes { try archive.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: $0[..<count])) }
            offset += count
            remaining -= count
            return count
        }
        switch entry.method {
        case 0:
            while remaining > 0 {
                let count = try next()
                try body(Data(input[..<count]))
            }
        case 8:
            let stream = try Stream()
            var output = [UInt8](repeating: 0, count: chunk)
            var ended = false
            while !ended {
                guard remaining > 0 else {
                    throw WorkbookError.corrupt("\(entry.path) is cut short: its deflate stream does not end within its \(entry.compressedSize) bytes")
                }
                let count = try next()
                try input.withUnsafeMutableBytes { input in
                    stream.feed(input.baseAddress!, count: count)
                    // Until the input is used up: an output chunk left room, or the stream ended.
                    repeat {
                        let produced = try output.withUnsafeMutableBytes { output in
                            try stream.inflate(into: output, ended: &ended, path: entry.path)
                        }
                        if produced > 0 { try body(Data(output[..<produced])) }
                    } while !ended && stream.outputWasFilled
                }
            }
        default:
            throw WorkbookError.corrupt("\(entry.path) is compressed by a method Tally does not read (\(entry.method); a workbook's are 0 and 8)")
        }
    }

    /// zlib's `z_stream` for a raw deflate stream, at an address of its own: zlib keeps a
    /// pointer back to it, so it must not move while in use.
    private final class Stream {
        private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        private var chunk = 0

        init() throws(WorkbookError) {
            stream.initialize(to: z_stream())
            // -MAX_WBITS: raw deflate, as zip stores it (no zlib header). Fails only for want of memory.
            let result = inflateInit2_(stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
            guard result == Z_OK else { throw .corrupt("zlib cannot start inflating (error \(result))") }
        }

        deinit {
            inflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
        }

        /// The next compressed bytes; `inflate` reads them, which must stay where they are until it has.
        func feed(_ bytes: UnsafeMutableRawPointer, count: Int) {
            stream.pointee.next_in = bytes.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_in = uInt(count)
        }

        /// Inflates what was fed into `output`: how many bytes it wrote. `ended` is set at the stream's end.
        func inflate(into output: UnsafeMutableRawBufferPointer, ended: inout Bool, path: String) throws(WorkbookError) -> Int {
            chunk = output.count
            stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(output.count)
            let result = CLibZ.inflate(stream, Z_NO_FLUSH)
            switch result {
            case Z_STREAM_END: ended = true
            case Z_OK, Z_BUF_ERROR: break   // more input wanted (or no progress until it comes)
            default:
                throw .corrupt("\(path) cannot be inflated (zlib: \(stream.pointee.msg.map { String(cString: $0) } ?? "error \(result)"))")
            }
            return output.count - Int(stream.pointee.avail_out)
        }

        /// The last `inflate` filled its output: there may be more from the same input.
        var outputWasFilled: Bool { stream.pointee.avail_out == 0 && chunk > 0 }
    }
}
