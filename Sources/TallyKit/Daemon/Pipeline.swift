import Foundation

/// Reading a file and scoring its events, on two cores.
///
/// Reading (scanning bytes, mapping rows, normalising emails and dates, hashing content ids)
/// and scoring (deciding, folding into the state, encoding ledger lines) each take about
/// half the time of a big file. `Pipeline.run` reads on a thread of its own and hands the
/// items over in batches through a small bounded queue, so both halves run at once and a
/// reader that races ahead waits instead of filling memory. Scoring stays on the calling
/// thread, in file order, exactly as before: the ledgers get the same bytes.
///
/// Failures stop both sides: an error thrown by `consume` (a failed write, an injected
/// fault) makes the reader's next `emit` throw, and an error of the reader reaches the
/// caller after the items before it were consumed — as when one thread did both.
enum Pipeline {
    static let batchSize = 512
    static let depth = 8

    static func run<Item: Sendable>(
        produce: @escaping @Sendable (_ emit: (Item) throws -> Void) throws -> Void,
        consume: (Item) throws -> Void
    ) throws {
        let queue = Handoff<Item>(depth: depth)
        let reader = Thread {
            var batch: [Item] = []
            batch.reserveCapacity(batchSize)
            do {
                try produce { item in
                    batch.append(item)
                    if batch.count >= batchSize {
                        try queue.put(batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty { try queue.put(batch) }
                queue.finish(nil)
            } catch is Handoff<Item>.Cancelled {
                queue.finish(nil)
            } catch {
                // What was emitted before the error is handed over before it.
                if !batch.isEmpty { try? queue.put(batch) }
                queue.finish(error)
            }
        }
        reader.stackSize = 8 << 20
        reader.start()
        do {
            while let batch = try queue.take() {
                for item in batch { try consume(item) }
            }
        } catch {
            queue.cancel()
            queue.waitUntilFinished()
            throw error
        }
    }
}

/// A bounded queue of batches between one producer thread and one consumer.
private final class Handoff<Item: Sendable>: @unchecked Sendable {
    struct Cancelled: Error {}

    private let condition = NSCondition()
    private var batches: [[Item]] = []
    private let depth: Int
    private var finished = false
    private var failure: (any Error)?
    private var cancelled = false

    init(depth: Int) { self.depth = depth }

    /// Waits for room; throws `Cancelled` once the consumer gave up.
    func put(_ batch: [Item]) throws {
        condition.lock()
        defer { condition.unlock() }
        while batches.count >= depth && !cancelled { condition.wait() }
        if cancelled { throw Cancelled() }
        batches.append(batch)
        condition.broadcast()
    }

    /// The producer is done, with the error that stopped it, if any.
    func finish(_ error: (any Error)?) {
        condition.lock()
        finished = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch; nil at the end; the producer's error after its last batch.
    func take() throws -> [Item]? {
        condition.lock()
        defer { condition.unlock() }
        while batches.isEmpty && !finished { condition.wait() }
        if !batches.isEmpty {
            let batch = batches.removeFirst()
            condition.broadcast()
            return batch
        }
        if let failure { throw failure }
        return nil
    }

    /// The consumer stops: the producer's next `put` throws.
    func cancel() {
        condition.lock()
        cancelled = true
        batches.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    func waitUntilFinished() {
        condition.lock()
        while !finished { condition.wait() }
        condition.unlock()
    }
}
