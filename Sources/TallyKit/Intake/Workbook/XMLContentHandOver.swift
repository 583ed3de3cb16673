import Foundation

/// Reads the content of one element by hand, in place of libxml2, as far as it can: the
/// narrow, regular part of a document (a sheet's rows) at the speed of a byte scan, with
/// libxml2 kept for the rest and for anything the scanner does not know.
///
/// `XMLEventParser.parse(_:handOver:)` lets libxml2 read the document up to the element's
/// start tag, and checks that it stands where the scanner assumes (a child of the root, UTF-8
/// as it came, nothing refused). From there the scanner is handed the bytes; it reads whole
/// units (rows) and says how far it got. Where it meets something it does not read — its
/// element's end tag, or anything unusual — it hands back, at a point between units, and
/// libxml2 goes on from there, in the state it was left in: inside the element, where the
/// scanner's bytes are never fed to it.
protocol XMLContentScanner: AnyObject {
    /// Reads whole units from the start of `bytes` and says how many bytes they took, and why
    /// it stopped there. `atEnd`: the source has nothing after `bytes`.
    func scan(_ bytes: UnsafeRawBufferPointer, atEnd: Bool) -> (read: Int, then: XMLContentScanOutcome)
}

enum XMLContentScanOutcome {
    /// The bytes after those read are the start of a unit, cut short: more are needed.
    case needsMore
    /// libxml2 is to read on from the bytes after those read.
    case handsBack
    /// The handler wants no more (or failed: its `failure` says so).
    case stops
}

extension XMLEventParser {
    /// A unit the scanner has not read whole within this many bytes (give or take a chunk)
    /// goes to libxml2, so that the window stays small whatever a row's length.
    static let longestScannedUnit = 4 << 20

    /// Feeds libxml2 up to the end of the start tag of `element`, hands the content after it
    /// to `scanner`, and libxml2 the rest from where the scanner hands it back.
    func parse(_ handler: XMLEventHandler, window: inout ByteWindow, handingOver elementName: String,
               to scanner: any XMLContentScanner) throws {
        let element = name(elementName)
        let tag = Array("<\(elementName)".utf8)
        // Seek the tag in the bytes as they come; the bytes before it go to libxml2.
        var sourceDone = false
        seeking: while true {
            let pending = window.pending
            if let at = Self.firstIndex(of: tag, in: pending) {
                if let close = pending[(at + tag.count)...].firstIndex(of: UInt8(ascii: ">")) {
                    try feed(UnsafeRawBufferPointer(rebasing: pending[..<(close + 1)]), handler)
                    if handler.stopped { return }
                    window.consume(close + 1)
                    if hasJustOpened(element, handler) { break seeking }
                    return try parse(handler, window: &window)   // not where the scanner reads: libxml2 does
                }
                try feed(UnsafeRawBufferPointer(rebasing: pending[..<at]), handler)
                if handler.stopped { return }
                window.consume(at)
                if window.pending.count > Self.longestScannedUnit || sourceDone { return try parse(handler, window: &window) }
            } else {
                // Keep what could be the start of the tag, cut by the chunk's end.
                let keep = min(pending.count, tag.count - 1)
                try feed(UnsafeRawBufferPointer(rebasing: pending[..<(pending.count - keep)]), handler)
                if handler.stopped { return }
                window.consume(pending.count - keep)
                if sourceDone { return try parse(handler, window: &window) }
            }
            if try window.fill(from: source) == 0 { sourceDone = true }
        }
        // The scanner reads while it can.
        while true {
            let pending = window.pending
            let (read, then) = scanner.scan(pending, atEnd: sourceDone)
            window.consume(read)
            switch then {
            case .stops:
                stop(handler)
                if let failure = handler.failure { throw failure }
                return
            case .handsBack:
                resume(handler)
                return try parse(handler, window: &window)
            case .needsMore:
                if sourceDone || window.pending.count > Self.longestScannedUnit {
                    resume(handler)
                    return try parse(handler, window: &window)
                }
                if try window.fill(from: source) == 0 { sourceDone = true }
            }
        }
    }

    private static func firstIndex(of tag: [UInt8], in bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= tag.count else { return nil }
        var at = 0
        let last = bytes.count - tag.count
        while at <= last {
            guard let lt = bytes[at...last].firstIndex(of: tag[0]) else { return nil }
            if bytes[lt..<(lt + tag.count)].elementsEqual(tag) { return lt }
            at = lt + 1
        }
        return nil
    }
}

/// The bytes read from a source and not yet consumed, in one buffer that grows as a unit
/// cut short needs it to (up to what `XMLEventParser.longestScannedUnit` allows, and a chunk).
struct ByteWindow {
    private var storage: UnsafeMutableRawBufferPointer
    private var start = 0, end = 0
    private let chunk: Int

    init(capacity: Int) {
        storage = .allocate(byteCount: capacity, alignment: 16)
        chunk = capacity
    }

    /// The bytes read and not consumed, valid until the next `fill`.
    var pending: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[start..<end]) }

    mutating func consume(_ count: Int) { start += count }

    /// Reads up to a chunk more after the pending bytes (moved to the front first); 0 at the source's end.
    mutating func fill(from source: any XMLByteSource) throws(WorkbookError) -> Int {
        if start == end {
            start = 0
            end = 0
        } else if storage.count - end < chunk {
            let count = end - start
            if count + chunk > storage.count {
                let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: max(storage.count * 2, count + chunk), alignment: 16)
                larger.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: count)
                storage.deallocate()
                storage = larger
            } else {
                storage.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: count)
            }
            start = 0
            end = count
        }
        let count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: storage[end..<min(storage.count, end + chunk)]))
        end += count
        return count
    }

    func deallocate() { storage.deallocate() }
}
