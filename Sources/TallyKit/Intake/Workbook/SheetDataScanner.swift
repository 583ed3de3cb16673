/// The rows of a worksheet's `<sheetData>` read by hand, for `FastSheetParser`: the narrow
/// shape that XlsxWriter, openpyxl and their kind write — `<row r= …>`, `<c r= t= s=>`,
/// `<v>`, `<is><t>` — at the speed of a byte scan. libxml2's parse of a big sheet was most
/// of its reading thread, and that thread was the slower of the two that read a workbook.
///
/// It reads a row whole or not at all, and hands each event to `FastSheetParser`'s own
/// methods (`beginRow`, `beginCell`, `appendValue`, …), so that what a row becomes is decided
/// in one place whichever reads it. Anything it does not read exactly as libxml2 would — an
/// element or attribute it does not know, a prefix, a character reference, a carriage return
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
        var cursor = Cursor(base: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
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
    private func row(_ cursor: inout Cursor) throws(Stop) -> Bool {
        guard try cursor.next() == UInt8(ascii: "<"), try cursor.peek() != UInt8(ascii: "/") else {
            throw .unusual   // text between rows, or `</sheetData>`: libxml2's
        }
        guard try cursor.name(is: "row") else { throw .unusual }
        var values = Values()
        let isEmpty = try cursor.attributes(Self.rowAttributes, &values)
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
    private func cell(_ cursor: inout Cursor) throws(Stop) {
        var values = Values()
        let isEmpty = try cursor.attributes(Self.cellAttributes, &values)
        sheet.beginCell(reference: values.first, type: values.second, style: values.third)
        if isEmpty { return }   // no end, for the reader either: the cell is not kept
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
    private func inlineString(_ cursor: inout Cursor) throws(Stop) {
        while true {
            try text(&cursor, inline: true)
            cursor.at += 1   // the `<` `text` stopped at
            if try cursor.peek() == UInt8(ascii: "/") {
                cursor.at += 1
                try cursor.endTag("is")
                return
            }
            guard try cursor.name(is: "t") else { throw .unusual }
            var values = Values()
            if try !cursor.attributes(Self.textAttributes, &values) {
                if let space = values.first, !Cursor.equal(space, "preserve") && !Cursor.equal(space, "default") {
                    throw .unusual
                }
                try text(&cursor, inline: true)
                try cursor.closing("t")
            }
        }
    }

    /// Character data up to the next `<` (left unread), to the cell's value or its inline
    /// text: the five predefined entities decoded, as libxml2 decodes them.
    private func text(_ cursor: inout Cursor, inline: Bool) throws(Stop) {
        let start = cursor.at
        var run = start
        func flush(_ end: Int) {
            guard end > run else { return }
            let bytes = UnsafeRawBufferPointer(start: cursor.base + run, count: end - run)
            if inline { sheet.appendInline(bytes) } else { sheet.appendValue(bytes) }
        }
        while true {
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

    /// The attributes each element may have (those read first; the others are passed over).
    /// An element with any other — in a namespace, say — is libxml2's to read.
    private static let rowAttributes = names(["r", "spans", "ht", "customHeight", "hidden", "s", "customFormat",
                                              "outlineLevel", "collapsed", "thickBot", "thickTop", "ph"])
    private static let cellAttributes = names(["r", "t", "s", "cm", "vm", "ph"])
    private static let textAttributes = names(["xml:space"])

    private static func names(_ names: [String]) -> [[UInt8]] { names.map { Array($0.utf8) } }
}

extension FastSheetParser {
    /// A decoded entity's byte, to the cell's value or its inline text.
    fileprivate func appendBytes(_ bytes: UnsafeRawBufferPointer, inline: Bool) {
        if inline { appendInline(bytes) } else { appendValue(bytes) }
    }
}

/// Why a row is not read: its bytes are cut short, or are for libxml2 to read.
private enum ScanStop: Error {
    case short, unusual
}

/// The attributes read, by their place in the table given to `Cursor.attributes` (the first three).
private struct Values {
    var first: UnsafeRawBufferPointer?, second: UnsafeRawBufferPointer?, third: UnsafeRawBufferPointer?
}

/// A position in the bytes handed to the scanner; reading past them throws `short`, and
/// anything the scanner does not read as libxml2 would throws `unusual`.
private struct Cursor {
    let base: UnsafePointer<UInt8>
    let count: Int
    var at = 0

    init(base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.count = count
    }

    @inline(__always)
    func peek() throws(ScanStop) -> UInt8 {
        guard at < count else { throw .short }
        return base[at]
    }

    @inline(__always)
    mutating func next() throws(ScanStop) -> UInt8 {
        guard at < count else { throw .short }
        defer { at += 1 }
        return base[at]
    }

    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D
    }

    /// Skips XML's white space; whether there was any.
    @discardableResult
    mutating func skipSpace() throws(ScanStop) -> Bool {
        let start = at
        while try Self.isSpace(peek()) { at += 1 }
        return at > start
    }

    /// Whether the name at the cursor is `name` (then read), or another (then left unread).
    mutating func name(is name: StaticString) throws(ScanStop) -> Bool {
        var end = at
        while true {
            guard end < count else { throw .short }
            switch base[end] {
            case 0x20, 0x0A, 0x09, 0x0D, UInt8(ascii: ">"), UInt8(ascii: "/"), UInt8(ascii: "="): break
            default:
                end += 1
                continue
            }
            break
        }
        guard Self.equal(UnsafeRawBufferPointer(start: base + at, count: end - at), name) else { return false }
        at = end
        return true
    }

    /// The rest of an end tag after its `</`: the name, spaces, `>`.
    mutating func endTag(_ name: StaticString) throws(ScanStop) {
        let length = name.utf8CodeUnitCount
        guard at + length <= count else { throw .short }
        guard Self.equal(UnsafeRawBufferPointer(start: base + at, count: length), name) else { throw .unusual }
        at += length
        try skipSpace()
        guard try next() == UInt8(ascii: ">") else { throw .unusual }
    }

    /// An end tag, whole.
    mutating func closing(_ name: StaticString) throws(ScanStop) {
        guard try next() == UInt8(ascii: "<"), try next() == UInt8(ascii: "/") else { throw .unusual }
        try endTag(name)
    }

    /// The end of a start tag with no attributes: whether it was empty (`/>`).
    mutating func noAttributes() throws(ScanStop) -> Bool {
        try skipSpace()
        switch try next() {
        case UInt8(ascii: ">"): return false
        case UInt8(ascii: "/"):
            guard try next() == UInt8(ascii: ">") else { throw .unusual }
            return true
        default: throw .unusual
        }
    }

    /// A start tag's attributes after its name, up to its end: each must be one of `table`,
    /// once; the values of the first three are kept in `values`. Whether it was empty (`/>`).
    mutating func attributes(_ table: [[UInt8]], _ values: inout Values) throws(ScanStop) -> Bool {
        var seen: UInt32 = 0
        while true {
            let spaced = try skipSpace()
            switch try peek() {
            case UInt8(ascii: ">"):
                at += 1
                return false
            case UInt8(ascii: "/"):
                at += 1
                guard try next() == UInt8(ascii: ">") else { throw .unusual }
                return true
            default: break
            }
            guard spaced else { throw .unusual }
            let nameStart = at
            while true {
                let byte = try peek()
                if Self.isSpace(byte) || byte == UInt8(ascii: "=") { break }
                guard byte > 0x20 && byte < 0x80 && byte != UInt8(ascii: ">") && byte != UInt8(ascii: "/")
                        && byte != UInt8(ascii: "<") && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "'") else { throw .unusual }
                at += 1
            }
            let name = UnsafeRawBufferPointer(start: base + nameStart, count: at - nameStart)
            guard let index = table.firstIndex(where: { $0.elementsEqual(name) }) else { throw .unusual }
            guard seen & (1 << index) == 0 else { throw .unusual }   // twice: libxml2 refuses it
            seen |= 1 << index
            try skipSpace()
            guard try next() == UInt8(ascii: "=") else { throw .unusual }
            try skipSpace()
            let quote = try next()
            guard quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else { throw .unusual }
            let valueStart = at
            while true {
                let byte = try next()
                if byte == quote { break }
                // Entities, and white space libxml2 would turn into spaces, are libxml2's.
                guard byte >= 0x20 && byte < 0x80 && byte != UInt8(ascii: "<") && byte != UInt8(ascii: "&") else { throw .unusual }
            }
            let value = UnsafeRawBufferPointer(start: base + valueStart, count: at - 1 - valueStart)
            switch index {
            case 0: values.first = value
            case 1: values.second = value
            case 2: values.third = value
            default: break
            }
        }
    }

    /// A predefined entity at the cursor (`&amp;` …), read; its byte.
    mutating func entity() throws(ScanStop) -> UInt8 {
        at += 1   // the `&`
        let start = at
        while try peek() != UInt8(ascii: ";") {
            at += 1
            if at - start > 4 { throw .unusual }
        }
        let name = UnsafeRawBufferPointer(start: base + start, count: at - start)
        at += 1
        if Self.equal(name, "amp") { return UInt8(ascii: "&") }
        if Self.equal(name, "lt") { return UInt8(ascii: "<") }
        if Self.equal(name, "gt") { return UInt8(ascii: ">") }
        if Self.equal(name, "quot") { return UInt8(ascii: "\"") }
        if Self.equal(name, "apos") { return UInt8(ascii: "'") }
        throw .unusual   // a character reference, or an entity of the document's: libxml2's
    }

    /// The length of the UTF-8 sequence at the cursor, whose first byte is not ASCII; a
    /// sequence that is not well-formed UTF-8 of an XML character is libxml2's to refuse.
    func utf8Length() throws(ScanStop) -> Int {
        let lead = base[at]
        let length: Int, low: UInt8, high: UInt8
        switch lead {
        case 0xC2...0xDF: (length, low, high) = (2, 0x80, 0xBF)
        case 0xE0: (length, low, high) = (3, 0xA0, 0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (length, low, high) = (3, 0x80, 0xBF)
        case 0xED: (length, low, high) = (3, 0x80, 0x9F)
        case 0xF0: (length, low, high) = (4, 0x90, 0xBF)
        case 0xF1...0xF3: (length, low, high) = (4, 0x80, 0xBF)
        case 0xF4: (length, low, high) = (4, 0x80, 0x8F)
        default: throw .unusual
        }
        guard at + length <= count else { throw .short }
        guard (low...high).contains(base[at + 1]) else { throw .unusual }
        for offset in 2..<length where !(0x80...0xBF).contains(base[at + offset]) { throw .unusual }
        // U+FFFE and U+FFFF are not XML characters.
        if lead == 0xEF && base[at + 1] == 0xBF && base[at + 2] >= 0xBE { throw .unusual }
        return length
    }

    static func equal(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        return text.withUTF8Buffer { $0.elementsEqual(bytes) }
    }
}

