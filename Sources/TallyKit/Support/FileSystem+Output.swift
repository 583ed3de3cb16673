#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension FileSystem {
    /// Writes `bytes` where a command's `-o PATH` says, without ever replacing what is not a
    /// plain file.
    ///
    /// - A regular file, or a name not there yet: replaced atomically (`writeAtomically`).
    /// - A symbolic link to a regular file: that file is replaced atomically; the link stays.
    /// - `/dev/stdout`, `/dev/stderr`, `/dev/fd/N`, `/proc/self/fd/N` (a process substitution,
    ///   `-o >(gzip > x)`), or a link to one: written to that descriptor, at its position and in
    ///   its mode, as a shell's redirection would (`>> log` is appended to, not truncated).
    /// - Anything else (a device such as `/dev/null`, a FIFO, a dangling link, any other name
    ///   under `/dev` or `/proc`): opened and written through.
    ///
    /// Renaming a temporary file over PATH, as `-o` used to for any PATH, replaced a link
    /// instead of writing where it points: as root, `-o /dev/stdout` replaced the system's
    /// `/dev/stdout` link with a regular file, breaking it for every process.
    public static func writeOutput(_ bytes: some Collection<UInt8>, to path: String) throws {
        var current = path
        for _ in 0..<40 {
            if let fd = standardDescriptor(current) {
                try writeAll(fd, bytes, path: path)
                return
            }
            if current.hasPrefix("/dev/") || current.hasPrefix("/proc/") { return try writeThrough(bytes, to: path) }
            guard let target = linkTarget(current) else { break }
            current = target.hasPrefix("/") ? target : split(current).directory + "/" + target
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            guard errno == ENOENT else { throw SystemError("stat", path: path) }
            var own = stat()
            // A link to nothing: the file is made where it points.
            if lstat(path, &own) == 0 { return try writeThrough(bytes, to: path) }
            return try writeAtomically(bytes, to: path)
        }
        guard info.st_mode & S_IFMT == S_IFREG else { return try writeThrough(bytes, to: path) }
        try writeAtomically(bytes, to: current)
    }

    /// The descriptor a name stands for: 1 for `/dev/stdout`, N for `/dev/fd/N`.
    static func standardDescriptor(_ path: String) -> Int32? {
        switch path {
        case "/dev/stdout": return 1
        case "/dev/stderr": return 2
        default:
            for prefix in ["/dev/fd/", "/proc/self/fd/"] where path.hasPrefix(prefix) {
                return Int32(path.dropFirst(prefix.count))
            }
            return nil
        }
    }

    /// What the symbolic link at `path` holds; nil when `path` is not a link. The
    /// corresponding C function is `readlink`.
    static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlink(path, &buffer, 4096)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Opens `path` (following links) and writes `bytes` into it. The corresponding C
    /// functions are `open`, `write` and `close`.
    private static func writeThrough(_ bytes: some Collection<UInt8>, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        do { try writeAll(fd, bytes, path: path) } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw SystemError("close", path: path) }
    }
}
