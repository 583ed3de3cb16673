import Dispatch

/// Work started on another thread at once and waited for with `wait()`, which rethrows
/// what it threw: how a batch writes `index.bin` while it renders the site.
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
