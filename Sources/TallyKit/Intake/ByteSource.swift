#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A stream of bytes a table reader pulls from, one buffer at a time.
///
/// The reader only ever asks for "more bytes", so anything that can produce them fits in
/// front of it: a file, bytes already in memory, and later a UTF-16 → UTF-8 transcoder that
/// wraps another source. Sources are classes because they own a position (and for files a
/// descriptor to close).
package protocol ByteSource: AnyObject {
    /// Writes up to `buffer.count` bytes at the start of `buffer` and returns how many it
    /// wrote; 0 means the end of the stream. A short count is not the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(CSVError) -> Int
}

/// The bytes of a file, read sequentially with POSIX `read`.
///
/// No Foundation and no mapping: a 1 GB export is read through the reader's buffer, so
/// memory stays flat, and a file truncated while it is read ends early instead of faulting.
/// The corresponding C functions are `open`, `read` and `close`.
package final class FileByteSource: ByteSource {
    package let path: String
    private let descriptor: Int32

    package init(path: String) throws(CSVError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        #if os(Linux)
        // A hint only: read-ahead suits a front-to-back scan. Failure changes nothing.
        _ = posix_fadvise(descriptor, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
        #endif
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws(CSVError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let count = readDescriptor(descriptor, base, buffer.count)
            if count >= 0 { return count }
            let code = errno
            if code == EINTR { continue }
            throw .cannotRead(path: path, errno: code)
        }
    }
}

/// `read(2)` under a name that a method called `read(into:)` does not shadow.
private func readDescriptor(_ descriptor: Int32, _ base: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, base, count)
}

/// Bytes already in memory, handed out in buffer-sized pieces like a file's.
///
/// Copying into the reader's buffer costs one `memcpy`, and keeps a single code path for
/// records that straddle a refill, which is what the small-buffer tests exercise.
package final class ArrayByteSource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0

    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    package func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(buffer.count, bytes.count - offset)
        guard count > 0, let target = buffer.baseAddress else { return 0 }
        bytes.withUnsafeBytes { source in
            guard let base = source.baseAddress else { return }
            target.copyMemory(from: base + offset, byteCount: count)
        }
        offset += count
        return count
    }
}
