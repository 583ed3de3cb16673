#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams a JSON-lines file (`.jsonl`, `.ndjson`): one JSON value a line, each parsed on its own.
///
/// Event lists dropped into the inbox and Tally's own ledgers can be any size, so the file is
/// read in chunks into one buffer that never holds more than the longest allowed line plus a
/// chunk: memory stays bounded whatever the file's size. A broken line does not stop the
/// reading; it is reported with its line number and reason, and the next lines are read. A line
/// longer than `maxLineBytes` is reported and skipped without being buffered whole.
///
/// Lines end at LF; a CR before it is dropped (CRLF files), a UTF-8 byte-order mark at the start
/// of the file is dropped, lines of only whitespace are skipped, and the last line needs no LF.
/// Line numbers count every line, blank ones included, from 1.
public final class JSONLinesReader {
    private enum Source {
        case file(descriptor: Int32)
        case bytes([UInt8])
    }

    private let source: Source
    /// The file read, or "(bytes)".
    public let path: String
    /// The longest line accepted, in bytes, without its line ending.
    public let maxLineBytes: Int
    /// Parser stacks, reused from line to line.
    private let stacks = JSONParseStacks()
    /// How much is read from the file at a time.
    private static let chunkBytes = 64 << 10

    /// Opens a file to read; nothing is read until `forEachLine`.
    public init(path: String, maxLineBytes: Int = 1 << 20) throws(JSONLinesError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw JSONLinesError(path: path, action: "open", errno: errno) }
        self.source = .file(descriptor: descriptor)
        self.path = path
        self.maxLineBytes = min(max(maxLineBytes, 0), Int.max / 4)
    }

    /// Reads lines from bytes in memory, as from a file.
    public init(bytes: [UInt8], maxLineBytes: Int = 1 << 20) {
        self.source = .bytes(bytes)
        self.path = "(bytes)"
        self.maxLineBytes = min(max(maxLineBytes, 0), Int.max / 4)
    }

    deinit {
        if case .file(let descriptor) = source { close(descriptor) }
    }

    /// Calls `body` for each non-blank line, in order, with its 1-based line number and either
    /// the parsed value or why it was refused: a parse error (its line, column and offset are
    /// the file's), or "the line is longer than N bytes". `raw` is the line's bytes without its
    /// line ending (for an over-long line, its first `maxLineBytes`), valid only during the call.
    /// Return false to stop. Each call reads the file from its start.
    public func forEachLine(
        limits: JSONParser.Limits = .init(),
        _ body: (_ line: Int, _ result: Result<JSONValue, JSONError>, _ raw: UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        try forEachLine(limits: limits, plain: { _, _ in false }, body)
    }

    /// The same, offering each line's bytes (BOM, CR and blank lines already dealt with) to
    /// `plain` first: a line it takes (returning true) is not parsed and not passed to `body`.
    func forEachLine(
        limits: JSONParser.Limits = .init(),
        plain: (_ line: Int, _ content: UnsafeRawBufferPointer) throws -> Bool,
        _ body: (_ line: Int, _ result: Result<JSONValue, JSONError>, _ raw: UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        switch source {
        case .bytes(let bytes):
            try bytes.withUnsafeBytes { all in
                var start = 0
                var line = 1
                while start < all.count {
                    let end = Self.newline(in: all, from: start) ?? all.count
                    let content = UnsafeRawBufferPointer(rebasing: all[start..<end])
                    guard try handle(content, line: line, offset: start, limits: limits, plain, body) else { return }
                    start = end + 1
                    line += 1
                }
            }
        case .file(let descriptor):
            try stream(descriptor, limits: limits, plain, body)
        }
    }

    private func stream(
        _ descriptor: Int32, limits: JSONParser.Limits, _ plain: (Int, UnsafeRawBufferPointer) throws -> Bool,
        _ body: (Int, Result<JSONValue, JSONError>, UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        // The buffer holds at most one unfinished line (up to the limit, plus a CR) and a chunk.
        let ceiling = maxLineBytes + 2 + Self.chunkBytes
        var capacity = min(ceiling, 4 * Self.chunkBytes)
        var buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        var start = 0  // first byte of the current line in the buffer
        var scanned = 0  // bytes before this are known to hold no LF of the current line
        var end = 0  // bytes read into the buffer
        var bufferOffset = 0  // file offset of buffer[0]
        var fileOffset = 0  // file offset of the next read
        var line = 1
        var skipping = false  // inside an over-long line already reported
        while true {
            let view = UnsafeRawBufferPointer(start: buffer, count: end)
            if let newline = Self.newline(in: view, from: scanned) {
                if !skipping {
                    let content = UnsafeRawBufferPointer(rebasing: view[start..<newline])
                    guard try handle(content, line: line, offset: bufferOffset + start, limits: limits, plain, body) else { return }
                }
                skipping = false
                start = newline + 1
                scanned = start
                line += 1
                continue
            }
            scanned = end
            if !skipping && end - start > maxLineBytes + 1 {
                // Longer than any CR could excuse: report it now, then drop bytes up to the next LF.
                let prefix = UnsafeRawBufferPointer(rebasing: view[start..<(start + maxLineBytes)])
                guard try body(line, .failure(tooLong(line: line, offset: bufferOffset + start)), prefix) else { return }
                skipping = true
            }
            if skipping {
                bufferOffset += end
                start = 0
                scanned = 0
                end = 0
            } else if start > 0 {
                memmove(buffer, buffer + start, end - start)
                bufferOffset += start
                end -= start
                scanned -= start
                start = 0
            }
            if capacity - end < Self.chunkBytes && capacity < ceiling {
                capacity = min(ceiling, capacity * 2)
                let larger = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
                larger.copyMemory(from: buffer, byteCount: end)
                buffer.deallocate()
                buffer = larger
            }
            let count = pread(descriptor, buffer + end, capacity - end, off_t(fileOffset))
            if count < 0 {
                if errno == EINTR { continue }
                throw JSONLinesError(path: path, action: "read", errno: errno)
            }
            if count == 0 {
                // The end of the file: the last line may lack its LF.
                if !skipping && end > start {
                    let content = UnsafeRawBufferPointer(start: buffer + start, count: end - start)
                    _ = try handle(content, line: line, offset: bufferOffset + start, limits: limits, plain, body)
                }
                return
            }
            end += count
            fileOffset += count
        }
    }

    /// Parses one line (without its LF) and passes it on; blank lines are skipped.
    private func handle(
        _ line: UnsafeRawBufferPointer, line number: Int, offset: Int, limits: JSONParser.Limits,
        _ plain: (Int, UnsafeRawBufferPointer) throws -> Bool,
        _ body: (Int, Result<JSONValue, JSONError>, UnsafeRawBufferPointer) throws -> Bool
    ) throws -> Bool {
        var content = line
        var offset = offset
        if offset == 0, content.starts(with: [0xEF, 0xBB, 0xBF]) {
            content = UnsafeRawBufferPointer(rebasing: content[3...])
            offset = 3
        }
        if content.last == 0x0D { content = UnsafeRawBufferPointer(rebasing: content.dropLast()) }
        guard content.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { return true }
        if content.count > maxLineBytes {
            let prefix = UnsafeRawBufferPointer(rebasing: content[..<(content.startIndex + maxLineBytes)])
            return try body(number, .failure(tooLong(line: number, offset: offset)), prefix)
        }
        if try plain(number, content) { return true }
        switch JSONParser.result(content, limits, stacks: stacks) {
        case .success(let value):
            return try body(number, .success(value), content)
        case .failure(var error):
            // The parser counted within the line; the caller wants the file's position.
            error.offset += offset
            error.line = number
            return try body(number, .failure(error), content)
        }
    }

    private func tooLong(line: Int, offset: Int) -> JSONError {
        JSONError(message: "the line is longer than \(maxLineBytes) bytes", offset: offset, line: line, column: 1)
    }

    private static func newline(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress else { return nil }
        guard let found = memchr(base + start, 0x0A, bytes.count - start) else { return nil }
        return UnsafeRawPointer(found) - base
    }
}

/// A JSON-lines file that could not be opened or read.
public struct JSONLinesError: Error, CustomStringConvertible, Equatable, Sendable {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    init(path: String, action: String, errno code: Int32) {
        self.init(path: path, message: "cannot \(action) \(path): \(String(cString: strerror(code)))")
    }

    public var description: String { message }
}
