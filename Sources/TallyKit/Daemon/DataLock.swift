#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one-writer rule: an exclusive `flock` on `data/.lock`, held for the life of the process.
///
/// `flock` is released by the kernel when the process dies, even by `kill -9`, so a crashed
/// Tally never leaves a stale lock behind (a PID file would).
public final class DataLock {
    private let fd: Int32
    public let path: String

    /// Takes the lock, or throws `.held` at once when another process holds it.
    /// The corresponding C function is `flock` with `LOCK_EX | LOCK_NB`.
    public init(directory: String) throws(LockError) {
        path = directory + "/.lock"
        do { try FileSystem.createDirectory(directory) } catch { throw .unavailable("\(error)") }
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .unavailable(SystemError("open", path: path).description) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { throw .held(path) }
            throw .unavailable(SystemError("flock", path: path, code: code).description)
        }
    }

    deinit { close(fd) }
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
