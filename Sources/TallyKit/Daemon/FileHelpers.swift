import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A duration as milliseconds for a log line: "0.8", "12", "1450".
func milliseconds(_ duration: Duration) -> String {
    let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    return ms < 10 ? String(format: "%.1f", ms) : String(Int(ms))
}

func hashFile(_ path: String) throws -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SystemError("open", path: path) }
    defer { close(fd) }
    var hasher = SHA256Hasher()
    // Sized to the file, up to 256 KiB, and not zeroed: a burst of one-row files each had
    // 256 KiB mapped, zero-filled page by page and unmapped.
    var info = stat()
    let size = fstat(fd, &info) == 0 ? Int(info.st_size) : 1 << 18
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(min(size, (1 << 18) - 1) + 1, 4096), alignment: 16)
    defer { buffer.deallocate() }
    while true {
        let n = read(fd, buffer.baseAddress, buffer.count)
        if n < 0 { if errno == EINTR { continue }; throw SystemError("read", path: path) }
        if n == 0 { break }
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
    }
    return Crypto.hex(hasher.finalize())
}

func readHead(_ path: String, count: Int = 8192) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SystemError("open", path: path) }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: count)
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, count) }
    return n > 0 ? Array(buffer[0..<n]) : []
}

