#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file mapped read-only into memory, read front to back, whose pages are handed back as
/// the reading passes them. The corresponding C functions are `mmap`, `madvise` and `munmap`.
///
/// Why not `readFile`: a 10-million-line index is over 600 MB. Read into an array, it is
/// zeroed, copied from the page cache, and held whole until the state it becomes is built
/// next to it — the peak of a start. Mapped, its pages come straight from the page cache, and
/// those already read leave the process as it goes on.
///
/// Only for files Tally replaces by rename (`index.bin`): a file cut short while mapped would
/// fault on the pages it lost.
enum MappedFile {
    /// How much is read between two hand-backs.
    private static let stride = 32 << 20

    /// Maps `path` and hands `body` its bytes and a `release` to call with how far it has read
    /// (cheap: it acts every 32 MB). An empty file is an empty buffer.
    static func withBytes<R>(of path: String,
                             _ body: (_ bytes: UnsafeBufferPointer<UInt8>, _ release: inout Release) throws -> R) throws -> R {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemError("stat", path: path) }
        let size = Int(info.st_size)
        var release = Release(base: nil, next: Int.max)
        guard size > 0 else { return try body(UnsafeBufferPointer(start: nil, count: 0), &release) }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw SystemError("mmap", path: path)
        }
        defer { munmap(base, size) }
        // Read in order: the kernel reads ahead further.
        _ = madvise(base, size, MADV_SEQUENTIAL)
        release = Release(base: base, next: stride)
        return try body(UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: size), &release)
    }

    /// Hands back the pages between where a reader started and where it is; they are read
    /// again from the file if touched. Each reader of a part of the file keeps its own; two
    /// that read the same part (the emails of `index.bin`) each hand back what they passed,
    /// and the one behind reads again what the one ahead gave up.
    struct Release {
        fileprivate let base: UnsafeMutableRawPointer?
        private var start = 0
        private var next: Int

        fileprivate init(base: UnsafeMutableRawPointer?, next: Int) {
            self.base = base
            self.next = next
        }

        /// Nothing to hand back: bytes that are not a mapping.
        static var none: Release { Release(base: nil, next: .max) }

        /// A release for a reader that starts at `position`.
        func starting(at position: Int) -> Release {
            var release = Release(base: base, next: base == nil ? .max : position + MappedFile.stride)
            release.start = position
            return release
        }

        /// Gives up the whole pages between the start and `position`, once it has moved on by 32 MB.
        @inline(__always)
        mutating func upTo(_ position: Int) {
            if position >= next { drop(position) }
        }

        private mutating func drop(_ position: Int) {
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            let from = (start + page - 1) / page * page
            let end = position / page * page
            if let base, end > from { _ = madvise(base + from, end - from, MADV_DONTNEED) }
            next = position + MappedFile.stride
        }
    }
}
