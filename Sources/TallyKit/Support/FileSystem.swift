#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(CLinux) && os(Linux)
import CLinux
#endif

/// A failed system call, with the path it was about and `errno`'s message.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var path: String
    public var code: Int32

    public init(_ operation: String, path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(code)))"
    }
}

/// Small wrappers over the POSIX calls Tally's durability depends on.
///
/// Foundation's `FileManager` hides `fsync`, and without it a rename is not durable: after a
/// power cut the new name may point at an empty file. Every write that the contract calls
/// atomic goes through `FileSystem.writeAtomically`.
public enum FileSystem {
    /// Replaces `path` with `bytes`: written to a dot-named temporary file in the same
    /// directory, fsynced, renamed over `path`, then the directory fsynced. A reader sees the
    /// old file or the new one, never a mix; a crash leaves at most a stray `.NAME.tmp-*`.
    ///
    /// The corresponding C functions are `open`, `write`, `fsync`, `rename`.
    ///
    /// `durable: false` skips the fsyncs: readers still never see a half-written file, but a
    /// power cut may lose the new content. For files made again from the snapshot anyway
    /// (the site), where an fsync per page would cost more than the page.
    public static func writeAtomically(_ bytes: some Collection<UInt8>, to path: String, durable: Bool = true) throws {
        try writeAtomically(to: path, durable: durable) { write in try write(bytes) }
    }

    /// Writes atomically, as above, what `produce` hands in piece by piece to the function it
    /// is given: a snapshot of a hundred thousand students is written as it is encoded, and
    /// never held whole in memory next to the state it is made from.
    public static func writeAtomically(to path: String, durable: Bool = true,
                                       _ produce: (_ write: (any Collection<UInt8>) throws -> Void) throws -> Void) throws {
        let (directory, name) = split(path)
        let temporary = directory + "/." + name + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError("open", path: temporary) }
        do {
            var written = 0, sent = 0
            try produce { bytes in
                try writeAll(fd, bytes, path: temporary)
                written += bytes.count
                if durable && written - sent >= writebackStep {
                    startWriteback(fd, from: sent, count: written - sent)
                    sent = written
                }
            }
            guard !durable || fsync(fd) == 0 else { throw SystemError("fsync", path: temporary) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw SystemError("rename", path: path, code: code)
        }
        if durable { try syncDirectory(directory) }
    }

    /// How many bytes a file written piece by piece gathers before their writeback is started:
    /// each start submits its range to the disk on the calling thread (on a virtual machine,
    /// a notification of the virtual disk each time), so it is started every few megabytes.
    static let writebackStep = 4 << 20

    /// Asks the kernel to start writing `count` bytes of `fd` from `offset` to the disk now,
    /// without waiting; on other systems, nothing. It makes nothing durable: a file written
    /// piece by piece and then fsynced (a ledger's batch, a snapshot) has its pieces on the
    /// way while the next are made, and the fsync waits only for the rest. (A big batch's
    /// commit spent most of its half-second waiting for 600 MB that could have gone already.)
    static func startWriteback(_ fd: Int32, from offset: Int, count: Int) {
        #if canImport(CLinux) && os(Linux)
        _ = tally_start_writeback(fd, Int64(offset), Int64(count))
        #endif
    }

    /// Writes every byte, retrying short writes and `EINTR`.
    public static func writeAll(_ fd: Int32, _ bytes: some Collection<UInt8>, path: String) throws {
        let done: Bool? = try bytes.withContiguousStorageIfAvailable { buffer in
            try writeAll(fd, UnsafeRawBufferPointer(buffer), path: path)
            return true
        }
        if done == nil {
            let copy = Array(bytes)
            try copy.withUnsafeBytes { try writeAll(fd, $0, path: path) }
        }
    }

    public static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("write", path: path)
            }
            offset += n
        }
    }

    /// Makes a rename or a new file in `directory` durable. The corresponding C function is `fsync`.
    public static func syncDirectory(_ directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SystemError("fsync", path: directory) }
    }

    /// The process that is writing `name`, when it is the temporary file of an atomic write
    /// (`.NAME.tmp-PID`, as `writeAtomically` names them); nil for any other name.
    public static func temporaryWriter(of name: String) -> Int32? {
        guard name.hasPrefix("."), let marker = name.range(of: ".tmp-", options: .backwards),
              let pid = Int32(name[marker.upperBound...]), pid > 0
        else { return nil }
        return pid
    }

    /// True when no process `pid` exists (`kill(pid, 0)` fails with `ESRCH`): its temporary
    /// files were left by a crash and were never renamed into place.
    public static func isGone(_ pid: Int32) -> Bool { kill(pid, 0) != 0 && errno == ESRCH }

    /// Creates `path` and its parents if they are missing (`mkdir -p`). A folder it creates
    /// is made durable (its parent fsynced), so a file renamed into it after a crash-free
    /// return — a delivery the front door has acknowledged — cannot vanish with its folder.
    public static func createDirectory(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            let parent = current.isEmpty ? "/" : current
            current += "/" + component
            if mkdir(current, 0o755) == 0 {
                try syncDirectory(parent)
            } else if errno != EEXIST {
                throw SystemError("mkdir", path: current)
            }
        }
    }

    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The whole content of a small file (configuration, templates, a payload under the size limit).
    public static func readFile(_ path: String, limit: Int = 64 << 20) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        defer { close(fd) }
        // Read straight into the result, sized by fstat (grown if the file grows meanwhile).
        var info = stat()
        let expected = fstat(fd, &info) == 0 ? Int(info.st_size) : 0
        guard expected <= limit else { throw SystemError("read", path: path, code: EFBIG) }
        var result = [UInt8](repeating: 0, count: max(expected + 1, 1 << 12))
        var count = 0
        while true {
            if count == result.count { result.append(contentsOf: repeatElement(0, count: result.count)) }
            let n = result.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("read", path: path)
            }
            if n == 0 { break }
            count += n
            if count > limit { throw SystemError("read", path: path, code: EFBIG) }
        }
        result.removeSubrange(count...)
        return result
    }

    /// Copies `source` to `target` in fixed-size chunks (a 1 GB export never sits in memory),
    /// through a temporary name, fsynced, then renamed: the copy appears whole or not at all.
    public static func copy(_ source: String, to target: String) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw SystemError("open", path: source) }
        defer { close(input) }
        let (directory, name) = split(target)
        let temporary = directory + "/." + name + ".tmp-\(getpid())"
        let output = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw SystemError("open", path: temporary) }
        do {
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if n < 0 { if errno == EINTR { continue }; throw SystemError("read", path: source) }
                if n == 0 { break }
                try buffer.withUnsafeBytes { try writeAll(output, UnsafeRawBufferPointer(rebasing: $0[0..<n]), path: temporary) }
            }
            guard fsync(output) == 0 else { throw SystemError("fsync", path: temporary) }
        } catch {
            close(output)
            unlink(temporary)
            throw error
        }
        close(output)
        guard rename(temporary, target) == 0 else { throw SystemError("rename", path: target) }
        try syncDirectory(directory)
    }

    /// `(directory, name)` of a path; the directory is `.` for a bare name.
    public static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}
