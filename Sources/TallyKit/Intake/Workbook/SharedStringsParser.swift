/// The fast path of `XLSXWorkbook.sharedStrings`: each `<si>`'s text runs joined, phonetic
/// runs skipped, `_xHHHH_` escapes decoded — from libxml2's SAX events, one `String` per
/// string. A Google Sheets export keeps every distinct cell text here, so this part can be
/// as big as the sheet.
final class SharedStringsParser: XMLEventHandler {
    // `@exclusivity(unchecked)`: as in `FastSheetParser`, touched by one callback at a time.
    @exclusivity(unchecked) private var strings: [String] = []
    @exclusivity(unchecked) private var current: [UInt8] = []
    @exclusivity(unchecked) private var inText = false, inPhonetic = false
    @exclusivity(unchecked) private var names = (si: XMLEventParser.Name?.none, t: XMLEventParser.Name?.none, rPh: XMLEventParser.Name?.none)

    static func strings(source: any XMLByteSource, name: String) throws -> [String] {
        let parser = XMLEventParser(source: source, name: name)
        defer { parser.close() }
        let handler = SharedStringsParser()
        try parser.parse(handler)
        return handler.strings
    }

    override func started(with parser: XMLEventParser) {
        names = (parser.name("si"), parser.name("t"), parser.name("rPh"))
    }

    override func start(_ name: XMLEventParser.Name, _ attributes: XMLEventParser.Attributes, isEmpty: Bool) -> Bool {
        if name == names.si {
            current.removeAll(keepingCapacity: true)
            if isEmpty { strings.append("") }
        } else if name == names.t {
            inText = !isEmpty
        } else if name == names.rPh {
            inPhonetic = !isEmpty
        }
        return true
    }

    override func end(_ name: XMLEventParser.Name) -> Bool {
        if name == names.si {
            strings.append(FastSheetParser.unescaped(current))
        } else if name == names.t {
            inText = false
        } else if name == names.rPh {
            inPhonetic = false
        }
        return true
    }

    override func text(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if inText && !inPhonetic { current.append(contentsOf: bytes) }
        return true
    }
}
