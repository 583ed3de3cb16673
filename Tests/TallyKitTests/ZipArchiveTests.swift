import Foundation
import Testing
@testable import TallyKit

/// A workbook's zip archive read with every size and offset it declares taken as hostile:
/// checked against the file before use, and a damaged archive refused with the reason —
/// never a trap, never a read that does not end.
@Suite("Zip archives of workbooks")
struct ZipArchiveTests {
    /// A zip written by hand, each entry as given: what the tests need that a zip library
    /// would not write (lying sizes, streams that do not end).
    struct Zip {
        struct Entry {
            var name: String
            /// The bytes stored for the entry, compressed or not as `method` says.
            var data: [UInt8]
            var method: UInt16 = 0
            var flags: UInt16 = 0
            var uncompressedSize: UInt64?
            /// ZIP64 values for the central directory: the 32-bit fields say 0xFFFFFFFF and
            /// the extra field carries these (uncompressed, compressed, offset), nil for the true value.
            var zip64: (uncompressed: UInt64?, compressed: UInt64?, offset: UInt64?)?
            /// Left out of the file: the directory points at nothing.
            var missing = false
        }

        var entries: [Entry]

        /// A final stored deflate block: `data` as a deflate stream zlib reads whole.
        static func deflated(_ data: [UInt8]) -> [UInt8] {
            [0x01] + le(UInt16(data.count)) + le(~UInt16(data.count)) + data
        }

        var bytes: [UInt8] {
            var out: [UInt8] = [], central: [UInt8] = []
            for entry in entries {
                let name = Array(entry.name.utf8)
                let offset = UInt64(out.count)
                let size = UInt64(entry.uncompressedSize ?? UInt64(entry.data.count))
                if !entry.missing {
                    out += Self.le(UInt32(0x0403_4B50)) + Self.le(UInt16(20)) + Self.le(entry.flags) + Self.le(entry.method)
                    out += Self.le(UInt32(0)) + Self.le(UInt32(0)) + Self.le(UInt32(entry.data.count)) + Self.le(UInt32(truncatingIfNeeded: size))
                    out += Self.le(UInt16(name.count)) + Self.le(UInt16(0)) + name + entry.data
                }
                var extra: [UInt8] = []
                var fields = (UInt32(truncatingIfNeeded: size), UInt32(entry.data.count), UInt32(offset))
                if let zip64 = entry.zip64 {
                    extra = Self.le(UInt16(1)) + Self.le(UInt16(24)) + Self.le(zip64.uncompressed ?? size)
                        + Self.le(zip64.compressed ?? UInt64(entry.data.count)) + Self.le(zip64.offset ?? offset)
                    fields = (0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF)
                }
                central += Self.le(UInt32(0x0201_4B50)) + Self.le(UInt16(45)) + Self.le(UInt16(45)) + Self.le(entry.flags) + Self.le(entry.method)
                central += Self.le(UInt32(0)) + Self.le(UInt32(0)) + Self.le(fields.1) + Self.le(fields.0)
                central += Self.le(UInt16(name.count)) + Self.le(UInt16(extra.count)) + Self.le(UInt16(0)) + Self.le(UInt16(0))
                central += Self.le(UInt16(0)) + Self.le(UInt32(0)) + Self.le(fields.2) + name + extra
            }
            let start = out.count
            out += central
            out += Self.le(UInt32(0x0605_4B50)) + Self.le(UInt16(0)) + Self.le(UInt16(0)) + Self.le(UInt16(entries.count))
            out += Self.le(UInt16(entries.count)) + Self.le(UInt32(central.count)) + Self.le(UInt32(start)) + Self.le(UInt16(0))
            return out
        }

        static func le<Integer: FixedWidthInteger>(_ value: Integer) -> [UInt8] {
            withUnsafeBytes(of: value.littleEndian) { Array($0) }
        }

        /// Written to a temporary file: its path.
        func write() throws -> String {
            let path = NSTemporaryDirectory() + "tally-zip-\(UInt64.random(in: 0...UInt64.max)).xlsx"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
    }

    static let workbookXML = Array(#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="S" sheetId="1"/></sheets></workbook>"#.utf8)
    static let sheetXML = Array(#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c t="inlineStr"><is><t>Email</t></is></c></row><row r="2"><c t="inlineStr"><is><t>z@example.com</t></is></c></row></sheetData></worksheet>"#.utf8)

    /// A workbook whose sheet entry is `sheet`; its workbook part deflated.
    static func workbook(sheet: Zip.Entry) -> Zip {
        Zip(entries: [Zip.Entry(name: "xl/workbook.xml", data: Zip.deflated(workbookXML), method: 8), sheet])
    }

    /// The rows of the workbook, or its refusal, read on a thread of its own: a read that has
    /// not ended in 20 seconds is reported as such rather than waited for.
    static func read(_ zip: Zip) throws -> Result<[[String]], WorkbookError>? {
        let path = try zip.write()
        defer { unlink(path) }
        final class Box: @unchecked Sendable { var result: Result<[[String]], WorkbookError>? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Thread {
            var rows: [[String]] = []
            do {
                try XLSXWorkbook.read(path: path) { rows.append($0.cells); return true }
                box.result = .success(rows)
            } catch let error as WorkbookError {
                box.result = .failure(error)
            } catch {
                box.result = .failure(.corrupt("\(error)"))
            }
            done.signal()
        }.start()
        guard done.wait(timeout: .now() + 20) == .success else { return nil }
        return box.result
    }

    static func refusal(_ zip: Zip, sourceLocation: SourceLocation = #_sourceLocation) throws -> WorkbookError? {
        switch try read(zip) {
        case nil:
            Issue.record("the read did not end", sourceLocation: sourceLocation)
            return nil
        case .success(let rows)?:
            Issue.record("read \(rows), expected a refusal", sourceLocation: sourceLocation)
            return nil
        case .failure(let error)?:
            return error
        }
    }

    @Test("stored and deflated entries, and ZIP64 sizes that tell the truth, are read")
    func truthfulArchives() throws {
        let expected: [[String]] = [["Email"], ["z@example.com"]]
        for sheet in [Zip.Entry(name: "xl/worksheets/sheet1.xml", data: Self.sheetXML),
                      Zip.Entry(name: "xl/worksheets/sheet1.xml", data: Zip.deflated(Self.sheetXML), method: 8, uncompressedSize: UInt64(Self.sheetXML.count)),
                      Zip.Entry(name: "xl/worksheets/sheet1.xml", data: Zip.deflated(Self.sheetXML), method: 8, uncompressedSize: UInt64(Self.sheetXML.count),
                                zip64: (nil, nil, nil))] {
            #expect(try Self.read(Self.workbook(sheet: sheet)) == .success(expected))
        }
    }

    @Test("a ZIP64 size or offset past the file, up to 2^64 - 1, is refused as damage, never a trap", arguments: [
        UInt64.max, UInt64(1) << 63, UInt64(1) << 40, UInt64(UInt32.max) + 1,
    ])
    func zip64PastTheFile(value: UInt64) throws {
        func sheet(_ zip64: (UInt64?, UInt64?, UInt64?)) -> Zip.Entry {
            Zip.Entry(name: "xl/worksheets/sheet1.xml", data: Zip.deflated(Self.sheetXML), method: 8,
                      uncompressedSize: UInt64(Self.sheetXML.count), zip64: zip64)
        }
        for zip64 in [(nil, value, nil), (nil, nil, value)] as [(UInt64?, UInt64?, UInt64?)] {
            let error = try Self.refusal(Self.workbook(sheet: sheet(zip64)))
            #expect(error?.description.contains("lies past the end of the file") == true, "\(String(describing: error))")
        }
        // A declared inflated size is only believed by the ratio check, which it fails.
        let error = try Self.refusal(Self.workbook(sheet: sheet((value, nil, nil))))
        guard case .limitExceeded(let reason)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(reason.contains("max_compression_ratio"))
    }

    @Test("a deflate stream that does not end within its entry is refused as cut short, at once")
    func endlessDeflateStream() throws {
        // A stored block, not the last, longer than the rest of the file: zlib waits for more.
        let endless = [0x00] + Zip.le(UInt16(0xFFFF)) + Zip.le(UInt16(0)) + Self.sheetXML
        let started = ContinuousClock.now
        let error = try Self.refusal(Self.workbook(sheet: Zip.Entry(name: "xl/worksheets/sheet1.xml", data: endless, method: 8)))
        #expect(error?.description.contains("is cut short") == true, "\(String(describing: error))")
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test("damaged archives are refused with the reason", arguments: [
        ("no local header", Zip.Entry(name: "xl/worksheets/sheet1.xml", data: Self.sheetXML, missing: true), "has no local header"),
        ("unknown method", Zip.Entry(name: "xl/worksheets/sheet1.xml", data: Self.sheetXML, method: 12), "compressed by a method"),
        ("not deflate", Zip.Entry(name: "xl/worksheets/sheet1.xml", data: [0xFF, 0xFF, 0xFF, 0xFF], method: 8), "cannot be inflated"),
        ("encrypted", Zip.Entry(name: "xl/worksheets/sheet1.xml", data: Self.sheetXML, flags: 1), "password-protected"),
    ])
    func damaged(label: String, sheet: Zip.Entry, reason: String) throws {
        let error = try Self.refusal(Self.workbook(sheet: sheet))
        #expect(error?.description.contains(reason) == true, "\(label): \(String(describing: error))")
    }

    @Test("an end record that points past the file, or to a ZIP64 record that is not there, is refused")
    func badEndRecords() throws {
        var bytes = Self.workbook(sheet: Zip.Entry(name: "xl/worksheets/sheet1.xml", data: Self.sheetXML)).bytes
        // The directory's offset, the end record's last field but the comment length.
        let offset = bytes.count - 6
        for value in [UInt32(bytes.count), 0xFFFF_FFFF] {
            bytes.replaceSubrange(offset..<(offset + 4), with: Zip.le(value))
            let path = NSTemporaryDirectory() + "tally-zip-\(UInt64.random(in: 0...UInt64.max)).xlsx"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            defer { unlink(path) }
            #expect(throws: WorkbookError.self) { try XLSXWorkbook.read(path: path) { _ in true } }
        }
        #expect(throws: WorkbookError.notAWorkbook("it is not a zip archive, or its end is missing (a truncated download?)")) {
            let path = NSTemporaryDirectory() + "tally-zip-\(UInt64.random(in: 0...UInt64.max)).xlsx"
            try Data(Array(bytes.prefix(40))).write(to: URL(fileURLWithPath: path))
            defer { unlink(path) }
            try XLSXWorkbook.read(path: path) { _ in true }
        }
    }
}
