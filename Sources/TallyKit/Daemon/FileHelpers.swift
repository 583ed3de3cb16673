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
    var buffer = [UInt8](repeating: 0, count: 1 << 18)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue }; throw SystemError("read", path: path) }
        if n == 0 { break }
        buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
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

