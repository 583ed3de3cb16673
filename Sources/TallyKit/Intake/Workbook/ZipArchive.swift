import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A workbook's zip archive, read by Tally itself: its directory, and each entry's bytes
/// (`bytes(of:at:into:)`, which `ZipEntryStream` inflates).
///
/// Why not ZIPFoundation, which wrote and read workbooks here before: it trusts the sizes
/// and offsets an archive declares. A ZIP64 size or offset of 2^63 or more trapped it (an
/// `Int64` or `off_t` made of it), and a deflate stream that does not end before the file
/// does kept it reading nothing, forever. Here every number from the archive is checked
/// against the file's length before it is used, and an entry's compressed bytes are read
/// only from within the file: a damaged or hostile archive is refused with the reason.
/// ZIPFoundation still writes the tests' workbooks.
final class ZipArchive: Sendable {
    /// An entry as the central directory describes it, its numbers checked.
    struct Entry: Sendable {
        let path: String
        /// 0 stored, 8 deflated; any other is refused when the entry is read.
        let method: UInt16
        /// Bit 0: encrypted.
        let flags: UInt16
        /// At most the file's length (else the entry is refused when read).
        let compressedSize: Int
        /// As declared, which only the ratio check trusts; `Int.max` past it.
        let uncompressedSize: Int
        let localHeaderOffset: Int
    }

    let length: Int
    private let descriptor: Int32
    /// The entries by path; of two with the same path, the first.
    private let entries: [String: Entry]

    /// A workbook has tens of parts, and a directory of a few KiB; an archive of more is not one.
    static let maxEntries = 100_000
    static let maxDirectoryBytes = 16 << 20

    /// Opens the archive at `path` and reads its directory. The corresponding C calls are
    /// `open`, `fstat` and `pread`.
    init(path: String) throws(WorkbookError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .notAWorkbook("it cannot be opened (\(String(cString: strerror(errno))))") }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            close(descriptor)
            throw .notAWorkbook("it cannot be read (\(String(cString: strerror(errno))))")
        }
        self.descriptor = descriptor
        length = Int(status.st_size)
        do {
            entries = try Self.directory(descriptor: descriptor, length: length)
        } catch {
            close(descriptor)
            throw error
        }
    }

    deinit { close(descriptor) }

    subscript(path: String) -> Entry? { entries[path] }

    /// Reads `buffer.count` bytes at `offset`: the whole of them lie within the file, or it throws.
    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(WorkbookError) {
        guard !Self.read(descriptor, length: length, into: buffer, at: offset) else { return }
        throw .corrupt("it cannot be read at \(offset) (a truncated download?)")
    }

    /// Reads `buffer.count` bytes at `offset` of the file, which must lie within its `length`; false when they do not, or cannot be read.
    private static func read(_ descriptor: Int32, length: Int, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool {
        guard offset >= 0, offset <= length, buffer.count <= length - offset else { return false }
        guard let base = buffer.baseAddress else { return true }
        var done = 0
        while done < buffer.count {
            let count = pread(descriptor, base + done, buffer.count - done, off_t(offset + done))
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            done += count
        }
        return true
    }

    /// `count` bytes at `offset` of the file, or nil.
    private static func bytes(_ descriptor: Int32, length: Int, _ count: Int, at offset: Int) -> [UInt8]? {
        guard count >= 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: count)
        let whole = bytes.withUnsafeMutableBytes { read(descriptor, length: length, into: $0, at: offset) }
        return whole ? bytes : nil
    }

    /// Where `entry`'s compressed bytes start: after its local header, which must be there,
    /// with the bytes it declares within the file.
    func dataStart(of entry: Entry) throws(WorkbookError) -> Int {
        guard let header = Self.bytes(descriptor, length: length, 30, at: entry.localHeaderOffset),
              Self.uint32(header, 0) == 0x0403_4B50 else {
            throw .corrupt("\(entry.path) has no local header where the zip directory says")
        }
        let start = entry.localHeaderOffset + 30 + Int(Self.uint16(header, 26)) + Int(Self.uint16(header, 28))
        guard start <= length, entry.compressedSize <= length - start else {
            throw .corrupt("\(entry.path) runs past the end of the file (a truncated download?)")
        }
        return start
    }

    // MARK: The directory

    /// The central directory's entries, found from the end record (and its ZIP64 record).
    private static func directory(descriptor: Int32, length: Int) throws(WorkbookError) -> [String: Entry] {
        func read(_ count: Int, at offset: Int) -> [UInt8]? { bytes(descriptor, length: length, count, at: offset) }
        let notAZip = WorkbookError.notAWorkbook("it is not a zip archive, or its end is missing (a truncated download?)")
        // The end record: its signature, searched back from the end over the longest comment.
        let tail = min(length, 22 + 0xFFFF)
        guard tail >= 22, let end = read(tail, at: length - tail) else { throw notAZip }
        guard let found = stride(from: end.count - 22, through: 0, by: -1).first(where: { uint32(end, $0) == 0x0605_4B50 }) else {
            throw notAZip
        }
        let endOffset = length - tail + found
        var count = Int(uint16(end, found + 10))
        var size = Int(uint32(end, found + 12))
        var start = Int(uint32(end, found + 16))
        if count == 0xFFFF || size == 0xFFFF_FFFF || start == 0xFFFF_FFFF {
            // ZIP64: the locator just before the end record says where the ZIP64 end record is.
            guard let locator = read(20, at: endOffset - 20), uint32(locator, 0) == 0x0706_4B50,
                  let recordOffset = int(uint64(locator, 8)), let record = read(56, at: recordOffset),
                  uint32(record, 0) == 0x0606_4B50 else {
                throw .corrupt("its zip directory is damaged (a ZIP64 end record is missing)")
            }
            guard let records = int(uint64(record, 32)), let bytes = int(uint64(record, 40)), let offset = int(uint64(record, 48)) else {
                throw .corrupt("its zip directory is damaged (a ZIP64 size past the file's)")
            }
            (count, size, start) = (records, bytes, offset)
        }
        guard start <= length, size <= length - start else {
            throw .corrupt("its zip directory lies past the end of the file (a truncated download?)")
        }
        guard count <= maxEntries, size <= maxDirectoryBytes else {
            throw .notAWorkbook("its zip directory lists \(count) parts in \(size) bytes; a workbook has tens, in a few KiB")
        }
        guard let directory = read(size, at: start) else { throw .corrupt("its zip directory cannot be read") }
        var entries: [String: Entry] = [:]
        var at = 0
        // Read as far as whole entries go, as ZIPFoundation did: a count past them ends there.
        for _ in 0..<count {
            guard at <= directory.count - 46, uint32(directory, at) == 0x0201_4B50 else { break }
            let nameLength = Int(uint16(directory, at + 28)), extraLength = Int(uint16(directory, at + 30))
            let commentLength = Int(uint16(directory, at + 32))
            let next = at + 46 + nameLength + extraLength + commentLength
            guard next <= directory.count else { break }
            let name = String(decoding: directory[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            let extra = directory[(at + 46 + nameLength)..<(at + 46 + nameLength + extraLength)]
            if entries[name] == nil {
                entries[name] = try entry(name, directory, at, extra: Array(extra), length: length)
            }
            at = next
        }
        return entries
    }

    /// The entry whose central record starts at `at`, its ZIP64 sizes and offset read from
    /// its extra field where the record's own are 0xFFFFFFFF.
    private static func entry(_ name: String, _ directory: [UInt8], _ at: Int, extra: [UInt8], length: Int) throws(WorkbookError) -> Entry {
        var uncompressed = UInt64(uint32(directory, at + 24))
        var compressed = UInt64(uint32(directory, at + 20))
        var offset = UInt64(uint32(directory, at + 42))
        if uncompressed == 0xFFFF_FFFF || compressed == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
            // The ZIP64 extended information (0x0001): the fields that overflowed, in this order.
            var field = 0
            while field + 4 <= extra.count, uint16(extra, field) != 0x0001 { field += 4 + Int(uint16(extra, field + 2)) }
            guard field + 4 <= extra.count else { throw .corrupt("\(name) has no ZIP64 sizes where its zip directory says") }
            var value = field + 4
            let end = min(extra.count, value + Int(uint16(extra, field + 2)))
            func next() throws(WorkbookError) -> UInt64 {
                guard value + 8 <= end else { throw .corrupt("\(name) has no ZIP64 sizes where its zip directory says") }
                defer { value += 8 }
                return uint64(extra, value)
            }
            if uncompressed == 0xFFFF_FFFF { uncompressed = try next() }
            if compressed == 0xFFFF_FFFF { compressed = try next() }
            if offset == 0xFFFF_FFFF { offset = try next() }
        }
        // Past the file, an offset or a compressed size is damage, whatever it claims.
        guard let localHeaderOffset = int(offset), localHeaderOffset < length,
              let compressedSize = int(compressed), compressedSize <= length else {
            throw .corrupt("\(name) lies past the end of the file, by its zip directory (a truncated download, or a hostile archive)")
        }
        return Entry(path: name, method: uint16(directory, at + 10), flags: uint16(directory, at + 8),
                     compressedSize: compressedSize, uncompressedSize: int(uncompressed) ?? .max,
                     localHeaderOffset: localHeaderOffset)
    }

    // MARK: Little-endian numbers

    private static func uint16<Bytes: RandomAccessCollection>(_ bytes: Bytes, _ at: Int) -> UInt16
        where Bytes.Element == UInt8, Bytes.Index == Int {
        UInt16(bytes[bytes.startIndex + at]) | UInt16(bytes[bytes.startIndex + at + 1]) << 8
    }

    private static func uint32<Bytes: RandomAccessCollection>(_ bytes: Bytes, _ at: Int) -> UInt32
        where Bytes.Element == UInt8, Bytes.Index == Int {
        UInt32(uint16(bytes, at)) | UInt32(uint16(bytes, at + 2)) << 16
    }

    private static func uint64<Bytes: RandomAccessCollection>(_ bytes: Bytes, _ at: Int) -> UInt64
        where Bytes.Element == UInt8, Bytes.Index == Int {
        UInt64(uint32(bytes, at)) | UInt64(uint32(bytes, at + 4)) << 32
    }

    /// A 64-bit number from the archive as an `Int`, when it is one.
    private static func int(_ value: UInt64) -> Int? { value <= UInt64(Int.max) ? Int(value) : nil }
}
