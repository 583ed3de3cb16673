import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Runs the `[site] publish` command after a render: `/bin/sh -c COMMAND` in the working
/// directory, with a time limit. Its failure is reported, never thrown: a site that could
/// not be uploaded this time must not stop the points from being counted.
///
/// The command runs in a process group of its own, so a timeout kills everything it
/// started (an `rsync` under the shell), and its output goes to a temporary file, so a
/// chatty or stuck child can never block Tally on a full pipe.
public struct Publisher: Sendable {
    public var command: String?
    public var timeout: Duration

    public init(command: String?, timeout: Duration = .seconds(300)) {
        self.command = command
        self.timeout = timeout
    }

    /// What happened, in a sentence fit for the log.
    public struct Result: Sendable, CustomStringConvertible {
        public var succeeded: Bool
        public var description: String
    }

    /// Runs the command; nil when none is configured.
    public func run() async -> Result? {
        guard let command, !command.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        let started = ContinuousClock.now
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("tally-publish-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log").path
        defer { unlink(outputPath) }
        let pid: pid_t
        do { pid = try spawn(command, output: outputPath) } catch {
            return Result(succeeded: false, description: "publish command could not start: \(error)")
        }
        let (status, timedOut) = await Self.wait(for: pid, timeout: timeout)
        let tail = String(decoding: ((try? FileSystem.readFile(outputPath, limit: Int.max)) ?? []).suffix(2048), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let elapsed = ContinuousClock.now - started
        let ms = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        let detail = tail.isEmpty ? "" : ": \(tail)"
        if timedOut {
            return Result(succeeded: false, description: "publish command killed after \(timeout) without finishing" + detail)
        }
        let exited = status & 0x7f == 0, code = (status >> 8) & 0xff
        if exited && code == 0 { return Result(succeeded: true, description: "published in \(ms) ms") }
        let how = exited ? "exit code \(code)" : "signal \(status & 0x7f)"
        return Result(succeeded: false, description: "publish command failed with \(how) after \(ms) ms" + detail)
    }

    /// Waits for `pid` on a thread of its own, and kills its whole group once `timeout` has
    /// passed: the exit status, and whether it was killed. Neither the wait nor the timer
    /// needs a thread of Swift's shared pool, so a busy pool (other work blocking it) can
    /// neither stretch the time limit nor be held up by a slow command.
    /// The corresponding C functions are `waitpid` and `kill`.
    private static func wait(for pid: pid_t, timeout: Duration) async -> (status: Int32, timedOut: Bool) {
        let watch = Watch()
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
            watch.expire { kill(-pid, SIGKILL) }   // the whole group, unless it was reaped already
        }
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                continuation.resume(returning: (status, watch.finish()))
            }
        }
    }

    /// Whether a command ended or was timed out first: the two threads that race to say
    /// so take turns under a lock.
    private final class Watch: @unchecked Sendable {
        private let lock = NSLock()
        private var ended = false
        private var expired = false

        /// The timer: runs `kill` unless the command has ended (and been reaped).
        func expire(_ kill: () -> Void) {
            lock.lock()
            defer { lock.unlock() }
            guard !ended else { return }
            expired = true
            kill()
        }

        /// The waiter, once the command is reaped: whether the timer killed it.
        func finish() -> Bool {
            lock.lock()
            defer { lock.unlock() }
            ended = true
            return expired
        }
    }

    /// Starts `/bin/sh -c command` in a new process group, output to `output`.
    /// The corresponding C function is `posix_spawn`.
    private func spawn(_ command: String, output: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let arguments = ["/bin/sh", "-c", command]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/bin/sh", &actions, &attributes, &argv, environ)
        guard result == 0 else { throw SystemError("posix_spawn", path: "/bin/sh", code: result) }
        return pid
    }
}

extension Optional where Wrapped == Publisher.Result {
    /// Logs a publish result: info when it worked, error when it did not, nothing when none ran.
    public func log(to logger: Logger) {
        guard let result = self else { return }
        if result.succeeded { logger.info("\(result.description)") } else { logger.error("\(result.description)") }
    }
}
