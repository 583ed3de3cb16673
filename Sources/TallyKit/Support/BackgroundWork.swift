import Dispatch

/// Work started on another thread at once and waited for with `wait()`, which rethrows
/// what it threw: how a batch writes `index.bin` while it writes `state.json` and renders
/// the site.
final class BackgroundWork: @unchecked Sendable {
    // Written by the worker before it signals, read by the waiter after: the semaphore
    // orders the two.
    private var failure: (any Error)?
    private let done = DispatchSemaphore(value: 0)
    private var waited = false

    init(_ work: @escaping @Sendable () throws -> Void) {
        DispatchQueue.global().async {
            do { try work() } catch { self.failure = error }
            self.done.signal()
        }
    }

    /// Waits for the work to end (once; later calls return at once) and throws its error.
    func wait() throws {
        if !waited {
            done.wait()
            waited = true
        }
        if let failure { throw failure }
    }
}

/// A one-time go-ahead from one thread to the one other thread that waits for it: how the
/// `index.bin` of a batch, encoded while `state.json` is written, holds back its fsync and
/// rename until `state.json` is in place (so the files reach the disk in the order the
/// README's durability steps give).
final class Gate: @unchecked Sendable {
    // Set before the semaphore is signalled, read after it is waited for.
    private var failure: (any Error)?
    private let opened = DispatchSemaphore(value: 0)

    /// Lets the waiter go on. Call `open` or `fail` once.
    func open() { opened.signal() }

    /// Makes the waiter's `wait()` throw `error` instead.
    func fail(_ error: any Error) {
        failure = error
        opened.signal()
    }

    /// Waits for `open()` or `fail(_:)` (once), and throws the failure.
    func wait() throws {
        opened.wait()
        if let failure { throw failure }
    }
}
