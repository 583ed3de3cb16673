#if canImport(Glibc)
import Glibc
#endif

/// An inotify instance: a file descriptor the kernel writes directory events to.
///
/// A thin Swift face over `inotify_init1`, `inotify_add_watch` and `read`, in the manner of
/// swift-system's `FileDescriptor`: the raw records are parsed here and nowhere else, and
/// `wait` blocks in `poll` on the inotify descriptor and a self-pipe, so `wake()` from any
/// thread can interrupt a reader at once (closing a descriptor another thread blocks on
/// does not).
public final class Inotify: @unchecked Sendable {
    // @unchecked: the descriptors are immutable after init; `wake()` only writes a byte to
    // the pipe, which is safe from any thread; everything else is called by the one reader.

    /// What happened, as the kernel's `IN_*` bits.
    public struct Mask: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        public static let closeWrite = Mask(rawValue: UInt32(IN_CLOSE_WRITE))
        public static let movedTo = Mask(rawValue: UInt32(IN_MOVED_TO))
        public static let movedFrom = Mask(rawValue: UInt32(IN_MOVED_FROM))
        public static let create = Mask(rawValue: UInt32(IN_CREATE))
        public static let deleteSelf = Mask(rawValue: UInt32(IN_DELETE_SELF))
        public static let moveSelf = Mask(rawValue: UInt32(IN_MOVE_SELF))
        public static let ignored = Mask(rawValue: UInt32(IN_IGNORED))
        public static let overflow = Mask(rawValue: UInt32(IN_Q_OVERFLOW))
        public static let isDirectory = Mask(rawValue: UInt32(IN_ISDIR))
        public static let onlyDirectory = Mask(rawValue: UInt32(IN_ONLYDIR))
    }

    /// One event: the watch it belongs to (-1 for a queue overflow) and the name inside the
    /// watched directory, if any.
    public struct Event: Sendable, Equatable {
        public var watch: Int32
        public var mask: Mask
        public var cookie: UInt32
        public var name: String?
    }

    private let fd: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32

    /// The corresponding C function is `inotify_init1(IN_CLOEXEC | IN_NONBLOCK)`.
    public init() throws {
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { throw SystemError("inotify_init1", path: "") }
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw SystemError("pipe", path: "", code: code)
        }
        for end in pipeFDs {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        wakeRead = pipeFDs[0]
        wakeWrite = pipeFDs[1]
    }

    deinit {
        Glibc.close(fd)
        Glibc.close(wakeRead)
        Glibc.close(wakeWrite)
    }

    /// Watches `path` for `mask`. The corresponding C function is `inotify_add_watch`.
    public func addWatch(path: String, mask: Mask) throws -> Int32 {
        let watch = inotify_add_watch(fd, path, mask.rawValue)
        guard watch >= 0 else { throw SystemError("inotify_add_watch", path: path) }
        return watch
    }

    /// The corresponding C function is `inotify_rm_watch`.
    public func removeWatch(_ watch: Int32) { _ = inotify_rm_watch(fd, watch) }

    /// Blocks until events are ready (true), `wake()` was called or the timeout passed (false).
    /// The corresponding C function is `poll`.
    public func wait(timeoutMilliseconds: Int32) -> Bool {
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        let n = poll(&fds, 2, timeoutMilliseconds)
        if n > 0 && fds[1].revents != 0 {
            var drain = [UInt8](repeating: 0, count: 64)
            while read(wakeRead, &drain, drain.count) > 0 {}
        }
        return n > 0 && fds[0].revents != 0
    }

    /// Interrupts a `wait` in progress (or the next one). Safe from any thread.
    public func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    /// Reads every event queued now; empty when there is none.
    /// The corresponding C function is `read`; records are `struct inotify_event`.
    public func readEvents() throws -> [Event] {
        var events: [Event] = []
        let headerSize = MemoryLayout<inotify_event>.size
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return events }
                throw SystemError("read", path: "inotify")
            }
            if n == 0 { return events }
            buffer.withUnsafeBytes { raw in
                var offset = 0
                while offset + headerSize <= n {
                    // Records are 4-byte aligned in the kernel's buffer, but load without assuming it.
                    let watch = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                    let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                    let cookie = raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
                    let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    var name: String?
                    if length > 0 && offset + headerSize + length <= n {
                        let bytes = UnsafeRawBufferPointer(rebasing: raw[(offset + headerSize)..<(offset + headerSize + length)])
                        name = String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
                    }
                    events.append(Event(watch: watch, mask: Mask(rawValue: mask), cookie: cookie, name: name))
                    offset += headerSize + length
                }
            }
        }
    }
}
