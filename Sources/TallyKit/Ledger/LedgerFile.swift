import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One append-only JSON-lines file: sequence numbers, an optional hash chain, buffered
/// appends that become durable together, and the tail repair that crash recovery needs.
///
/// Lines are staged in memory and written with one `write` per batch, then fsynced by
/// `sync()`. A big batch hands each 256 KiB of staged lines to a writer thread
/// (`handOff`), so that copying it into the page cache (a tenth of a big sync) overlaps
/// the encoding of the next lines, and starts their writeback every 4 MiB; anything that
/// reads the file, cuts it or syncs it waits for that write first (`drain`). Nothing here
/// ever rewrites a byte before `size` at open: the only edit is `truncate(to:)`, which
/// recovery uses to cut a tail that no commit covered.
public final class LedgerFile {
    public let path: String
    public let isChained: Bool
    /// Bytes on disk (after `flush`), or being written (see `handOff`) — the length a commit
    /// record stores, once `sync` has made them durable.
    public private(set) var size: Int
    /// The sequence number of the last line, staged or written.
    public private(set) var lastSeq: Int
    /// Hex SHA-256 of the last line (without its newline); 64 zeros before the first.
    public var lastHash: String { lastDigest.hex }
    /// The SHA-256 of the last line; all zeros before the first (whose hex is `genesis`).
    /// Kept as bytes, not as its hex: a chained ledger made and freed a string per line.
    private var lastDigest = SHA256Digest()
    private var staged: [UInt8] = []
    private let fd: Int32

    public static let genesis = String(repeating: "0", count: 64)

    /// Opens (creating when missing) the ledger at `path` and reads its last line.
    /// A torn last line (no final newline) is left for recovery to cut: see `tornTail`.
    public init(path: String, chained: Bool) throws {
        self.path = path
        self.isChained = chained
        fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemError("stat", path: path) }
        size = Int(info.st_size)
        writebackFrom = size
        lastSeq = 0
        try readTail()
    }

    deinit {
        try? drain()
        close(fd)
    }

    /// Stages a line, encoded straight into the staging buffer (no array per line): `encode`
    /// gets the next sequence number, the previous line's hash and a writer positioned at
    /// the end of what is staged, and writes the line without its newline. Returns the
    /// sequence number.
    @discardableResult
    public func append(_ encode: (_ seq: Int, _ prev: String, _ writer: inout JSONWriter) -> Void) -> Int {
        var writer = beginLine()
        encode(lastSeq + 1, lastHash, &writer)
        return endLine(&writer)
    }

    /// Starts a line: a writer over the staging buffer, positioned at its end. Write the
    /// line (numbered `lastSeq + 1`, after `lastHash`) without its newline, then hand the
    /// writer to `endLine`. The pair is `append(_:)` without a closure, for the hot path:
    /// a closure that captures a record copies it.
    func beginLine() -> JSONWriter {
        if staged.capacity == 0 { staged.reserveCapacity(Self.handOffRoom) }
        let writer = JSONWriter(adopting: staged)
        staged = []   // the writer's buffer is now the only reference: appends do not copy
        lineStart = writer.bytes.count
        return writer
    }

    /// Ends the line begun by `beginLine`: chains its hash, stages it; returns its seq.
    @discardableResult
    func endLine(_ writer: inout JSONWriter) -> Int {
        let seq = lastSeq + 1
        if isChained {
            let start = lineStart
            lastDigest = writer.bytes.withUnsafeBytes { Crypto.sha256(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        }
        writer.bytes.append(0x0A)
        staged = writer.takeBytes()
        lastSeq = seq
        if staged.count >= Self.handOffSize { try? handOff() }
        return seq
    }

    private var lineStart = 0

    /// Hands `body` `lastHash`'s 64 bytes, written on the stack.
    func withLastHash<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        lastDigest.withHex(body)
    }

    /// Bytes staged and not yet written.
    public var pending: Int { staged.count }

    /// The line (without its newline) that starts at byte `offset`, written or staged.
    /// Lines are staged and written whole, so a line never straddles the two.
    public func line(at offset: Int) throws -> [UInt8] {
        try drain()
        if offset >= size {
            let start = offset - size
            guard start < staged.count else { throw RecordError("\(path): no line at byte \(offset)") }
            let end = staged[start...].firstIndex(of: 0x0A) ?? staged.count
            return Array(staged[start..<end])
        }
        var result: [UInt8] = []
        var at = offset
        while at < size {
            let chunk = try readBytes(from: at, count: min(4096, size - at))
            if chunk.isEmpty { break }
            if let newline = chunk.firstIndex(of: 0x0A) {
                result.append(contentsOf: chunk[..<newline])
                return result
            }
            result.append(contentsOf: chunk)
            at += chunk.count
        }
        return result
    }

    /// A write handed to the writer thread: its bytes, and how it ended.
    private final class Write: @unchecked Sendable {
        var bytes: [UInt8]
        var error: (any Error)?
        let done = DispatchSemaphore(value: 0)
        init(_ bytes: [UInt8]) { self.bytes = bytes }
    }

    /// Staged lines are handed to the writer thread once they are this many bytes; the
    /// buffers hold that and room for a line more (`handOffRoom`), so they are made once and
    /// never grow. (Handed off by the megabyte, past its capacity, a buffer doubled to two:
    /// four such per chained ledger, seven megabytes at the peak of a big sync.)
    static let handOffSize = 256 << 10
    private static let handOffRoom = handOffSize + 16 << 10

    /// Where the bytes not yet sent on their way to the disk (nor fsynced) begin: `handOff`
    /// starts their writeback once `FileSystem.writebackStep` bytes lie past it.
    private(set) var writebackFrom = 0

    /// The write in flight, if any: at most one per file, so the lines staged meanwhile
    /// are never more than `handOffSize` behind.
    private var inFlight: Write?
    /// The buffer of the last write, emptied, for the next lines to be staged in.
    private var spare: [UInt8] = []
    private static let writer = DispatchQueue(label: "tally.ledger.writer")

    /// Hands what is staged to the writer thread (after the write before it has ended) and
    /// stages on in a spare buffer. `size` counts the bytes handed over at once.
    private func handOff() throws {
        try drain()
        guard !staged.isEmpty else { return }
        let write = Write(staged)
        staged = spare
        spare = []
        if staged.capacity < Self.handOffRoom { staged.reserveCapacity(Self.handOffRoom) }
        let fd = fd, path = path, start = size
        size += write.bytes.count
        // Writeback is started every `FileSystem.writebackStep` bytes, not for each hand-off.
        let writeback: (from: Int, count: Int)? = size - writebackFrom >= FileSystem.writebackStep
            ? (writebackFrom, size - writebackFrom) : nil
        if writeback != nil { writebackFrom = size }
        inFlight = write
        Self.writer.async {
            do {
                try FileSystem.writeAll(fd, write.bytes, path: path)
                // On its way to the disk now, not all at the commit's fsync.
                if let writeback { FileSystem.startWriteback(fd, from: writeback.from, count: writeback.count) }
            } catch {
                // As `flush` does: a half-written batch is cut back out of the file.
                _ = ftruncate(fd, off_t(start))
                write.error = error
            }
            write.done.signal()
        }
    }

    /// Waits for the write in flight. If it failed, its bytes are staged again, in front of
    /// what was staged since (nothing is lost; the next flush tries again), and its error
    /// is thrown.
    private func drain() throws {
        guard let write = inFlight else { return }
        write.done.wait()
        inFlight = nil
        if let error = write.error {
            size -= write.bytes.count
            writebackFrom = min(writebackFrom, size)
            staged = write.bytes + staged
            throw error
        }
        // Taken out of the write, so that the buffer is this file's alone and is emptied in
        // place: shared, `removeAll(keepingCapacity:)` would allocate another one.
        spare = write.bytes
        write.bytes = []
        spare.removeAll(keepingCapacity: true)
    }

    /// Writes what is staged (one `write` call, retried on short writes).
    public func flush() throws {
        try drain()
        guard !staged.isEmpty else { return }
        do {
            try FileSystem.writeAll(fd, staged, path: path)
        } catch {
            // A write that failed half-way (a full disk) must not leave half a batch in the
            // file: cut it back, so the file stays exactly `size` bytes and a retry is clean.
            _ = ftruncate(fd, off_t(size))
            throw error
        }
        size += staged.count
        staged.removeAll(keepingCapacity: staged.count < 4 << 20)
    }

    /// Writes all but the last few bytes of what is staged: a torn write, for crash tests.
    func flushPart() throws {
        try drain()
        let keep = min(staged.count, 40)
        try FileSystem.writeAll(fd, staged.dropLast(keep), path: path)
        size += staged.count - keep
        staged.removeFirst(staged.count - keep)
    }

    /// Makes every written line durable. The corresponding C function is `fsync`.
    public func sync() throws {
        try flush()
        guard fsync(fd) == 0 else { throw SystemError("fsync", path: path) }
        writebackFrom = size   // all of it is on the disk now
        // The batch is over: its buffers go back rather than sit idle through the snapshot,
        // the site and the wait for the next drop.
        if staged.capacity > 1 << 16 { staged = [] }
        spare = []
    }

    /// Cuts the file back to `length` bytes and re-reads its new last line: how recovery
    /// removes lines that a killed run wrote after its last commit.
    public func truncate(to length: Int) throws {
        try drain()
        staged.removeAll()
        guard ftruncate(fd, off_t(length)) == 0 else { throw SystemError("ftruncate", path: path) }
        guard fsync(fd) == 0 else { throw SystemError("fsync", path: path) }
        size = length
        writebackFrom = size
        lastSeq = 0
        lastDigest = SHA256Digest()
        try readTail()
    }

    /// The byte length of the file up to and including its last complete line: anything past
    /// it is a torn write. Equal to `size` when the file ends with a newline (or is empty).
    public private(set) var completeLength = 0

    // Reads backwards from the end, in growing windows, until the window holds the last
    // newline and the one before it (or reaches the start of the file).
    private func readTail() throws {
        completeLength = 0
        var window = 64 * 1024
        while size > 0 {
            let start = max(0, size - window)
            let bytes = try readBytes(from: start, count: size - start)
            if let last = bytes.lastIndex(of: 0x0A) {
                completeLength = start + last + 1
                if let before = bytes[..<last].lastIndex(of: 0x0A) {
                    adopt(line: Array(bytes[(before + 1)..<last]))
                    return
                }
                if start == 0 {
                    adopt(line: Array(bytes[..<last]))
                    return
                }
            } else if start == 0 {
                return
            }
            window *= 4
        }
    }

    private func adopt(line: [UInt8]) {
        lastDigest = isChained ? line.withUnsafeBytes(Crypto.sha256) : SHA256Digest()
        if let value = try? JSONParser.parse(line), let seq = value["seq"]?.int { lastSeq = seq }
    }

    private func readBytes(from offset: Int, count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 { if errno == EINTR { continue }; throw SystemError("read", path: path) }
            if n == 0 { break }
            done += n
        }
        return Array(buffer[..<done])
    }
}

extension LedgerFile {
    /// A point to roll back to: staged and written-but-uncommitted bytes after it can be
    /// discarded, as when a file fails half-way and none of it may count.
    public struct Checkpoint: Sendable {
        let size: Int
        let staged: Int
        let lastSeq: Int
        let lastDigest: SHA256Digest
    }

    public func checkpoint() -> Checkpoint {
        Checkpoint(size: size, staged: staged.count, lastSeq: lastSeq, lastDigest: lastDigest)
    }

    /// Discards everything appended since `checkpoint`, whether still staged or already
    /// written (written but uncommitted bytes are cut from the file).
    public func rollback(to checkpoint: Checkpoint) throws {
        try drain()
        let target = checkpoint.size + checkpoint.staged
        if size >= target {
            staged.removeAll()
            if size > target {
                guard ftruncate(fd, off_t(target)) == 0 else { throw SystemError("ftruncate", path: path) }
                size = target
                writebackFrom = min(writebackFrom, size)
            }
        } else {
            staged.removeSubrange((target - size)...)
        }
        lastSeq = checkpoint.lastSeq
        lastDigest = checkpoint.lastDigest
    }

    /// Reads complete lines between two byte offsets, in order, streaming through a
    /// fixed-size buffer; `body` gets each line's bytes (without the newline) and its end offset.
    public func forEachLine(from start: Int = 0, to end: Int? = nil,
                            _ body: (_ line: UnsafeRawBufferPointer, _ endOffset: Int) throws -> Void) throws {
        try flush()
        let limit = end ?? size
        var offset = start
        var carry: [UInt8] = []
        let chunkSize = 1 << 20
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        while offset < limit {
            let want = min(chunkSize, limit - offset)
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, want, off_t(offset)) }
            if n < 0 { if errno == EINTR { continue }; throw SystemError("read", path: path) }
            if n == 0 { break }
            try chunk.withUnsafeBytes { raw in
                var lineStart = 0
                for i in 0..<n where raw[i] == 0x0A {
                    let lineEnd = offset + i + 1
                    if carry.isEmpty {
                        try body(UnsafeRawBufferPointer(rebasing: raw[lineStart..<i]), lineEnd)
                    } else {
                        carry.append(contentsOf: raw[lineStart..<i])
                        try carry.withUnsafeBytes { try body($0, lineEnd) }
                        carry.removeAll(keepingCapacity: true)
                    }
                    lineStart = i + 1
                }
                carry.append(contentsOf: raw[lineStart..<n])
            }
            offset += n
        }
    }
}
