import Foundation

/// Batches of rows made on a thread of their own and read, in order, on the caller's: the
/// hand-off that lets a table be read on the second core while the rows before are scored.
///
/// At most `depth` batches wait, so memory stays flat whatever the file's size. A batch the
/// caller has read goes back to the producer (`recycle`, `put`) to be refilled, so its
/// buffers are allocated once per read rather than once per batch, and are not made on
/// one thread to be freed on the other (which, for strings, fragmented two malloc arenas).
///
/// When the caller stops (false) or throws, the producer is stopped at its next batch and
/// its thread is waited for, so nothing it holds (a file) outlives `run`. A failure of the
/// producer comes after the batches made before it, as it would on one thread.
///
/// A CSV's rows (`CSVRowBatch`) and a sheet's (`SheetRowPipe`) both cross through it.
final class BatchPipe<Batch>: @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `condition`, and a batch is touched by
    // one thread at a time (the producer until `put`, the caller from `next` to `recycle`).
    private let condition = NSCondition()
    private var ready: [Batch] = []
    private var spares: [Batch] = []
    private var finished = false
    private var failure: (any Error)?
    private var cancelled = false
    private let depth: Int

    private init(depth: Int) { self.depth = max(depth, 1) }

    /// Runs `produce` on a new thread and calls `consume` here with each batch it puts, in
    /// order, until `consume` returns false; then rethrows what `produce` threw, if anything.
    static func run(depth: Int, produce: @escaping @Sendable (BatchPipe) throws -> Void,
                    consume: (inout Batch) throws -> Bool) throws {
        let pipe = BatchPipe(depth: depth)
        let thread = Thread {
            var outcome: (any Error)?
            do { try produce(pipe) } catch { outcome = error }
            pipe.finish(outcome)
        }
        // The size of a main thread's stack: the rows are read as they would be there.
        thread.stackSize = 8 << 20
        thread.start()
        defer { pipe.cancelAndWait() }
        while var batch = try pipe.next() {
            if try !consume(&batch) { return }
            pipe.recycle(consume batch)
        }
    }

    // MARK: The producer's side

    /// Queues `batch`, waiting while `depth` batches wait already, and puts in its place a
    /// batch the caller has read (to be emptied and refilled), else `emptied`; false (nothing
    /// queued) once the caller wants no more. The swap is made under the lock, so the batch
    /// queued is referenced only by the queue: the caller's thread never copies it.
    func put(_ batch: inout Batch, emptied: @autoclosure () -> Batch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while ready.count >= depth && !cancelled { condition.wait() }
        if cancelled { return false }
        ready.append(batch)
        batch = spares.popLast() ?? emptied()
        condition.broadcast()
        return true
    }

    private func finish(_ outcome: (any Error)?) {
        condition.lock()
        failure = outcome
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    // MARK: The caller's side

    /// The next batch; nil at the end; the producer's failure once the batches before it are read.
    private func next() throws -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !finished { condition.wait() }
        if !ready.isEmpty {
            condition.broadcast()
            return ready.removeFirst()
        }
        if let failure { throw failure }
        return nil
    }

    private func recycle(_ batch: consuming Batch) {
        condition.lock()
        defer { condition.unlock() }
        // More than the batches in flight are never wanted again.
        if spares.count <= depth { spares.append(batch) }
    }

    /// Stops the producer (if it still runs) and waits until its thread is done.
    private func cancelAndWait() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }
}
