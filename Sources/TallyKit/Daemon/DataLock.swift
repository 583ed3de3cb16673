#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one-writer rule: an exclusive `flock` on the data directory itself and on
/// `data/.lock`, held for the life of the process.
///
/// `flock` is released by the kernel when the process dies, even by `kill -9`, so a crashed
/// Tally never leaves a stale lock behind (a PID file would). The directory's lock is the one
/// that holds: `.lock` can be deleted (it looks stale to whoever finds it after a `sync` said
/// exit 75), and the next Tally would lock a new file of that name beside a running one. The
/// `.lock` file is still locked, and kept, for a Tally before the directory's lock.
public final class DataLock {
    private let directoryFD: Int32
    private let fd: Int32
    public let path: String

    /// Takes the lock, or throws `.held` at once when another process holds it.
    /// The corresponding C function is `flock` with `LOCK_EX | LOCK_NB`.
    public init(directory: String) throws(LockError) {
        path = directory + "/.lock"
        do { try FileSystem.createDirectory(directory) } catch { throw .unavailable("\(error)") }
        directoryFD = try Self.locked(directory, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC, heldAs: path)
        do {
            fd = try Self.locked(path, flags: O_RDWR | O_CREAT | O_CLOEXEC, heldAs: path)
        } catch {
            close(directoryFD)
            throw error
        }
    }

    /// Opens `path` and locks it exclusively; `.held(heldAs)` when another process has it.
    private static func locked(_ path: String, flags: Int32, heldAs: String) throws(LockError) -> Int32 {
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else { throw .unavailable(SystemError("open", path: path).description) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { throw .held(heldAs) }
            throw .unavailable(SystemError("flock", path: path, code: code).description)
        }
        return fd
    }

    deinit {
        close(fd)
        close(directoryFD)
    }
}

public enum LockError: Error, CustomStringConvertible, Equatable {
    case held(String)
    case unavailable(String)

    public var description: String {
        switch self {
        case .held(let path): return "another Tally is using this data directory (it holds \(path)); let it finish, or stop it first"
        case .unavailable(let reason): return "cannot lock the data directory: \(reason)"
        }
    }
}
