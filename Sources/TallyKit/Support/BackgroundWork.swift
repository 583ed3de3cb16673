import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Work started on a thread of its own at once and waited for with `wait()`, which rethrows
/// what it threw: how a batch writes `state.json` and `index.bin` while it renders the site.
///
/// A thread of its own, not a block on Dispatch's global queue: with the engine's own thread
/// busy, the queue ran the two writes one after the other on one worker (the index waited
/// for all of `state.json`), where two threads let the kernel share the cores among the three.
final class BackgroundWork: @unchecked Sendable {
    // Written by the worker before it signals, read by the waiter after: the semaphore
    // orders the two.
    private var failure: (any Error)?
    private let done = DispatchSemaphore(value: 0)
    private var waited = false

    init(_ work: @escaping @Sendable () throws -> Void) {
        let run: @Sendable () -> Void = { [self] in
            do { try work() } catch { failure = error }
            done.signal()
        }
        #if canImport(Glibc)
        let box = Unmanaged.passRetained(Job(run)).toOpaque()
        var thread = pthread_t()
        if pthread_create(&thread, nil, { box in
            Unmanaged<Job>.fromOpaque(box!).takeRetainedValue().run()
            return nil
        }, box) == 0 {
            pthread_detach(thread)
            return
        }
        Unmanaged<Job>.fromOpaque(box).release()
        #endif
        DispatchQueue.global().async(execute: run)
    }

    /// The closure a new thread runs, carried through `pthread_create`'s pointer.
    private final class Job {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
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
