/// The rows of a worksheet's `<sheetData>` read by hand, for `FastSheetParser`: the narrow
/// shape that XlsxWriter, openpyxl and their kind write — `<row r= …>`, `<c r= t= s=>`,
/// `<v>`, `<is><t>` — at the speed of a byte scan. libxml2's parse of a big sheet was most
/// of its reading thread, and that thread was the slower of the two that read a workbook.
///
/// It reads a row whole or not at all, and hands each event to `FastSheetParser`'s own
/// methods (`beginRow`, `beginCell`, `appendValue`, …), so that what a row becomes is decided
/// in one place whichever reads it. Anything it does not read exactly as libxml2 would — an
/// element or attribute it does not know, a prefix (but an attribute's that the root declares,
/// as Excel's `x14ac:dyDescent` on every row), a character reference, a carriage return
/// or a control character, bytes that are not UTF-8, `]]>`, a comment, CDATA — makes it give
/// up the row: the row's events are undone (`FastSheetParser.rewind`) and libxml2 reads on
/// from the row's start (`XMLContentScanner`), with its checks and its refusals, to the end
/// of the part. Where it reads, it holds to XML's rules as libxml2 does (names closed in
/// order, attributes once each, quotes, `=`, the spaces between), or gives up.
final class SheetDataScanner: XMLContentScanner {
    private let sheet: FastSheetParser
    /// Rows read by hand (the tests' proof that the scanner read what they compare).
    private(set) var rows = 0

    init(sheet: FastSheetParser) {
        self.sheet = sheet
    }

    private typealias Stop = ScanStop

    func scan(_ bytes: UnsafeRawBufferPointer, atEnd: Bool) -> (read: Int, then: XMLContentScanOutcome) {
        guard sheet.isBetweenRows else { return (0, .handsBack) }
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return (0, atEnd ? .handsBack : .needsMore) }
        var cursor = ScanCursor(base: base.assumingMemoryBound(to: UInt8.self), count: bytes.count, prefixes: sheet.rootPrefixes)
        while true {
            let read = cursor.at
            let mark = sheet.mark
            do throws(ScanStop) {
                try cursor.skipSpace()
                let goesOn = try row(&cursor)
                rows += 1
                if !goesOn { return (cursor.at, .stops) }
            } catch {
                sheet.rewind(to: mark)
                if error == .short && !atEnd { return (read, .needsMore) }
                return (read, .handsBack)
            }
        }
    }

    /// One `<row>`, whole; false when the handler wants no more rows.
    private func row(_ cursor: inout ScanCursor) throws(Stop) -> Bool {
        guard try cursor.next() == UInt8(ascii: "<"), try cursor.peek() != UInt8(ascii: "/") else {
            throw .unusual   // text between rows, or `</sheetData>`: libxml2's
        }
        guard try cursor.name(is: "row") else { throw .unusual }
        var values = ScannedValues()
        let isEmpty = try cursor.attributes(.row, &values)
        sheet.beginRow(reference: values.first, isEmpty: isEmpty)
        if isEmpty { return true }
        while true {
            try cursor.skipSpace()
            guard try cursor.next() == UInt8(ascii: "<") else { throw .unusual }
            if try cursor.peek() == UInt8(ascii: "/") {
                cursor.at += 1
                try cursor.endTag("row")
                return sheet.endRow()
            }
            guard try cursor.name(is: "c") else { throw .unusual }
            try cell(&cursor)
        }
    }

    /// A `<c>` after its name: its attributes and content, up to its end.
    private func cell(_ cursor: inout ScanCursor) throws(Stop) {
        var values = ScannedValues()
        let isEmpty = try cursor.attributes(.cell, &values)
        sheet.beginCell(reference: values.first, type: values.second, style: values.third)
        if isEmpty { return }   // no end, for the reader either: the cell is not kept
        // The usual contents, matched whole as they are written: what the loop below reads the
        // same way one name at a time, at a fifth of the cost. From where one stops matching,
        // the general reading goes on.
        if cursor.skip("<is><t>") {
            try text(&cursor, inline: true)
            if cursor.skip("</t></is></c>") {
                sheet.endCell()
                return
            }
            try cursor.closing("t")
            try inlineString(&cursor)
        } else if cursor.skip("<v>") {
            try text(&cursor, inline: false)
            if cursor.skip("</v></c>") {
                sheet.endCell()
                return
            }
            try cursor.closing("v")
        }
        while true {
            try cursor.skipSpace()   // text outside `<v>` and `<is>` counts for nothing
            guard try cursor.next() == UInt8(ascii: "<") else { throw .unusual }
            if try cursor.peek() == UInt8(ascii: "/") {
                cursor.at += 1
                try cursor.endTag("c")
                sheet.endCell()
                return
            }
            if try cursor.name(is: "v") {
                if try !cursor.noAttributes() {
                    try text(&cursor, inline: false)
                    try cursor.closing("v")
                }
            } else if try cursor.name(is: "is") {
                if try !cursor.noAttributes() { try inlineString(&cursor) }
            } else {
                throw .unusual
            }
        }
    }

    /// The content of an `<is>` after its start tag, up to its end: `<t>` runs, and whatever
    /// text lies between them (which the reader keeps too).
    private func inlineString(_ cursor: inout ScanCursor) throws(Stop) {
        while true {
            try text(&cursor, inline: true)
            cursor.at += 1   // the `<` `text` stopped at
            if try cursor.peek() == UInt8(ascii: "/") {
                cursor.at += 1
                try cursor.endTag("is")
                return
            }
            guard try cursor.name(is: "t") else { throw .unusual }
            var values = ScannedValues()
            if try !cursor.attributes(.text, &values) {
                if let space = values.first, !ScanCursor.equal(space, "preserve") && !ScanCursor.equal(space, "default") {
                    throw .unusual
                }
                try text(&cursor, inline: true)
                try cursor.closing("t")
            }
        }
    }

    /// Character data up to the next `<` (left unread), to the cell's value or its inline
    /// text: the five predefined entities decoded, as libxml2 decodes them.
    private func text(_ cursor: inout ScanCursor, inline: Bool) throws(Stop) {
        let start = cursor.at
        var run = start
        func flush(_ end: Int) {
            guard end > run else { return }
            let bytes = UnsafeRawBufferPointer(start: cursor.base + run, count: end - run)
            if inline { sheet.appendInline(bytes) } else { sheet.appendValue(bytes) }
        }
        while true {
            cursor.skipPlainText()
            guard cursor.at < cursor.count else { throw .short }
            let byte = cursor.base[cursor.at]
            if byte >= 0x20 && byte < 0x80 {
                switch byte {
                case UInt8(ascii: "<"):
                    flush(cursor.at)
                    return
                case UInt8(ascii: "&"):
                    flush(cursor.at)
                    let decoded = try cursor.entity()
                    withUnsafeBytes(of: decoded) { sheet.appendBytes($0, inline: inline) }
                    run = cursor.at
                case UInt8(ascii: ">"):
                    // `]]>` is not allowed in text.
                    if cursor.at - start >= 2 && cursor.base[cursor.at - 1] == UInt8(ascii: "]")
                        && cursor.base[cursor.at - 2] == UInt8(ascii: "]") { throw .unusual }
                    cursor.at += 1
                default:
                    cursor.at += 1
                }
            } else if byte == 0x09 || byte == 0x0A {
                cursor.at += 1
            } else if byte >= 0x80 {
                cursor.at += try cursor.utf8Length()
            } else {
                throw .unusual   // a carriage return (libxml2 turns CR LF into LF) or a control character
            }
        }
    }
}

extension FastSheetParser {
    /// A decoded entity's byte, to the cell's value or its inline text.
    fileprivate func appendBytes(_ bytes: UnsafeRawBufferPointer, inline: Bool) {
        if inline { appendInline(bytes) } else { appendValue(bytes) }
    }
}

