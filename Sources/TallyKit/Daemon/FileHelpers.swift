import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A duration as milliseconds for a log line: "0.8", "12", "1450".
func milliseconds(_ duration: Duration) -> String {
    let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    return ms < 10 ? String(format: "%.1f", ms) : String(Int(ms))
}

/// The hex SHA-256 of the file at `path`.
///
/// A file of `hashFileThreadFrom` bytes or more is read on a thread of its own while this
/// one hashes what it read (through a `BatchPipe`): the kernel's copy of the bytes and the
/// hash, a third and two thirds of the time alone, overlap. Nothing else of a sync can start
/// before its file's hash is known (the hash says whether the file was seen, and every
/// event line carries it), so this was one core's work while the other waited.
func hashFile(_ path: String, threadFrom: Int = hashFileThreadFrom) throws -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SystemError("open", path: path) }
    defer { close(fd) }
    var hasher = SHA256Hasher()
    // Sized to the file, up to 256 KiB, and not zeroed: a burst of one-row files each had
    // 256 KiB mapped, zero-filled page by page and unmapped.
    var info = stat()
    let size = fstat(fd, &info) == 0 ? Int(info.st_size) : 1 << 18
    if size >= threadFrom {
        try BatchPipe<FileChunk>.run(depth: 3, produce: { pipe in
            var chunk = FileChunk()
            while try chunk.fill(from: fd, path: path) {
                if !pipe.put(&chunk, emptied: FileChunk()) { return }
            }
        }, consume: { chunk in
            hasher.update(chunk.bytes)
            return true
        })
        return Crypto.hex(hasher.finalize())
    }
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

/// From what size `hashFile` reads on a second thread: below it, starting the thread costs
/// more than the overlap gains.
let hashFileThreadFrom = 8 << 20

/// 256 KiB of a file, read for `hashFile`'s reading thread; a chunk hashed goes back to it
/// to be refilled, so no more than the pipe holds are allocated per file, whatever its size.
private struct FileChunk: @unchecked Sendable {
    // @unchecked: the storage is touched by one thread at a time, as `BatchPipe` hands it over.
    private let storage: UnsafeMutableRawBufferPointer
    private let owner: Owner
    private var count = 0

    init() {
        storage = .allocate(byteCount: 1 << 18, alignment: 16)
        owner = Owner(storage)
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[0..<count]) }

    /// Reads the next bytes in (up to the chunk's size); false at the end of the file.
    mutating func fill(from fd: Int32, path: String) throws -> Bool {
        while true {
            let n = read(fd, storage.baseAddress, storage.count)
            if n < 0 { if errno == EINTR { continue }; throw SystemError("read", path: path) }
            count = n
            return n > 0
        }
    }

    /// Frees the storage with the last copy of the chunk.
    private final class Owner: @unchecked Sendable {
        let storage: UnsafeMutableRawBufferPointer
        init(_ storage: UnsafeMutableRawBufferPointer) { self.storage = storage }
        deinit { storage.deallocate() }
    }
}

extension FileKind {
    /// The first `count` bytes of the file at `path` (fewer when it is shorter; none when it
    /// cannot be read).
    static func head(path: String, count: Int) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        return next(count, of: fd)
    }

    /// The kind of the file at `path`: its first 8 KiB sniffed with its name, and, when they
    /// end inside a mail header block, as much more as the block needs (up to
    /// `headerBlockLimit`), read 64 KiB at a time.
    static func detect(path: String, name: String) -> FileKind {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return detect(head: [], name: name) }
        defer { close(fd) }
        return detect(head: next(8192, of: fd), name: name, readMore: { next(64 << 10, of: fd) })
    }

    /// Up to `count` more bytes of `fd`; none at its end or on an error.
    private static func next(_ count: Int, of fd: Int32) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, count) }
        return n > 0 ? Array(buffer[0..<n]) : []
    }
}
