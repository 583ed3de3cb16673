import Foundation

/// The inflated bytes of one zip entry, pulled a chunk at a time, within `WorkbookLimits`.
///
/// `ZipInflater` pushes inflated chunks to a closure; libxml2's reader pulls bytes when it
/// wants them. A producer thread runs the extraction into a queue of at most a few chunks
/// and blocks while the reader is behind, so a sheet of any size costs a few hundred KiB.
/// The producer counts what it inflates and stops the moment a limit is passed — the size an
/// entry declares is not trusted — and a reader that stops early cancels it.
final class ZipEntryStream: XMLByteSource, @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `condition`; the archive is used by the
    // producer thread only, while the consumer waits on the queue.
    private let condition = NSCondition()
    private var chunks: [Data] = []
    private var current = Data()
    private var offset = 0
    private var done = false
    private var failure: WorkbookError?
    private var cancelled = false
    private static let depth = 4

    /// Bytes inflated so far across every stream of one workbook, shared with the caller.
    final class Budget: @unchecked Sendable {
        // @unchecked: one stream runs at a time; `used` is read and written by its producer.
        let limits: WorkbookLimits
        var used = 0
        init(limits: WorkbookLimits) { self.limits = limits }
    }

    init(archive: ZipArchive, entry: ZipArchive.Entry, budget: Budget) {
        let box = UncheckedBox(archive: archive, entry: entry)
        let thread = Thread { [self] in produce(box.archive, box.entry, budget) }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Copies up to `buffer.count` bytes; 0 at the end. Throws the producer's failure.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(WorkbookError) -> Int {
        condition.lock()
        defer { condition.unlock() }
        while offset == current.count {
            if let next = chunks.first {
                chunks.removeFirst()
                current = next
                offset = 0
                condition.broadcast()
            } else if let failure {
                throw failure
            } else if done {
                return 0
            } else {
                condition.wait()
            }
        }
        let count = min(buffer.count, current.count - offset)
        current.withUnsafeBytes { source in
            guard let base = source.baseAddress else { return }
            buffer.baseAddress?.copyMemory(from: base + offset, byteCount: count)
        }
        offset += count
        return count
    }

    /// What stopped the producer, if anything did (a limit, a damaged entry).
    var failureIfAny: WorkbookError? {
        condition.lock()
        defer { condition.unlock() }
        return failure
    }

    /// Stops the producer (the reader needs no more) and waits until it has let go of the
    /// archive, so the next entry can be read from it.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while !done { condition.wait() }
        condition.unlock()
    }

    private struct Cancelled: Error {}

    private func produce(_ archive: ZipArchive, _ entry: ZipArchive.Entry, _ budget: Budget) {
        var inflated = 0
        let compressed = max(entry.compressedSize, 1)
        let limits = budget.limits
        var outcome: WorkbookError?
        // The sizes the archive declares come first: a bomb that admits it is one stops here.
        let declaredRatio = entry.uncompressedSize / compressed
        if entry.uncompressedSize > 1 << 20 && declaredRatio > limits.maxCompressionRatio {
            finish(.limitExceeded("\(entry.path) declares \(entry.uncompressedSize) bytes from \(entry.compressedSize), more than \(limits.maxCompressionRatio) times, as a zip bomb does (max_compression_ratio)"))
            return
        }
        do {
            // The CRC-32 is not checked: computed with a byte-table loop it cost more than
            // inflating (ZIPFoundation's), and a damaged deflate stream fails on its own.
            try ZipInflater.bytes(of: entry, in: archive, chunk: 64 * 1024) { data in
                inflated += data.count
                budget.used += data.count
                if inflated > limits.maxEntryBytes {
                    throw WorkbookError.limitExceeded("\(entry.path) inflates past \(limits.maxEntryBytes) bytes (max_entry_bytes)")
                }
                if budget.used > limits.maxTotalBytes {
                    throw WorkbookError.limitExceeded("its entries inflate past \(limits.maxTotalBytes) bytes in all (max_total_bytes)")
                }
                // An entry may never inflate past ratio × its compressed size, whatever it declares.
                if inflated > 1 << 20 && inflated / compressed > limits.maxCompressionRatio {
                    throw WorkbookError.limitExceeded("\(entry.path) inflates more than \(limits.maxCompressionRatio) times its compressed size, as a zip bomb does (max_compression_ratio)")
                }
                condition.lock()
                defer { condition.unlock() }
                while chunks.count >= ZipEntryStream.depth && !cancelled { condition.wait() }
                if cancelled { throw Cancelled() }
                chunks.append(data)
                condition.broadcast()
            }
        } catch let error as WorkbookError {
            outcome = error
        } catch is Cancelled {
            outcome = nil
        } catch {
            outcome = .corrupt("\(entry.path) cannot be inflated (\(error))")
        }
        finish(outcome)
    }

    private func finish(_ outcome: WorkbookError?) {
        condition.lock()
        failure = outcome
        done = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Carries the archive and entry to the producer thread.
private struct UncheckedBox: @unchecked Sendable {
    // @unchecked: handed over once; the creating thread does not touch the archive while the
    // producer runs (it only waits on the stream).
    let archive: ZipArchive
    let entry: ZipArchive.Entry
}
