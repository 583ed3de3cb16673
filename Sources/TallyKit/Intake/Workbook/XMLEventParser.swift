import CLibXML2
import Foundation

/// libxml2's SAX2 parser over a byte source: each element and text run is handed to a
/// handler as it is parsed, with no node objects, no tree and no strings — the fast path
/// under a big sheet (`FastSheetParser`). `XMLStreamReader` reads everything else.
///
/// It is the parser `xmlTextReader` is built on, fed the same way (push mode,
/// `xmlParseChunk`, here in 64 KiB pieces) with the same options: no network, no entity
/// substitution, no DTD loading. What the reader adds per node — a tree node, an attribute
/// list, a text node, freed again after the step — is the part a sheet cannot afford: it
/// cost twice the parse itself. As the reader does, an empty element (`<c/>`) has a start
/// and no end, so a handler sees what the reader's loop saw.
///
/// Any DOCTYPE, any error libxml2 records (the reader's rule: a non-zero `xmlParseChunk`
/// or a document no longer well-formed) stops the parse with `Refused`; the caller asks
/// `XMLStreamReader` for the reason, so a refusal reads exactly as before. Unsafe pointers
/// stay in this file: a handler sees names as `Name` and bytes as views valid for the call.
final class XMLEventParser {
    /// A name in the parser's dictionary: element and attribute names compare as pointers.
    struct Name: Equatable {
        fileprivate let pointer: UnsafePointer<xmlChar>?
    }

    /// The parse stopped on something the reader would refuse; `XMLStreamReader` says why.
    struct Refused: Error {
        /// libxml2's first message, or what stopped the parse.
        let message: String
    }

    /// The attributes of an element start, valid during the handler's call only.
    struct Attributes {
        fileprivate let base: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
        fileprivate let count: Int

        /// The value of the attribute `name` in no namespace, as `xmlTextReaderGetAttribute`
        /// returns it; nil when there is none.
        func withValue<T>(of name: Name, _ body: (UnsafeRawBufferPointer?) -> T) -> T {
            guard let base else { return body(nil) }
            for index in 0..<count {
                let entry = base + index * 5   // localname, prefix, URI, value, end
                guard entry[0] == name.pointer, entry[1] == nil, entry[2] == nil,
                      let start = entry[3], let end = entry[4] else { continue }
                let value = UnsafeRawBufferPointer(start: start, count: end - start)
                // Without entity substitution the parser leaves `&` as `&#38;` in a value,
                // which the reader's tree decodes: do the same.
                guard value.contains(UInt8(ascii: "&")) else { return body(value) }
                return Self.decodingAmpersands(value).withUnsafeBytes { body($0) }
            }
            return body(nil)
        }

        private static func decodingAmpersands(_ value: UnsafeRawBufferPointer) -> [UInt8] {
            let escape = Array("&#38;".utf8)
            var out: [UInt8] = []
            out.reserveCapacity(value.count)
            var index = 0
            while index < value.count {
                if value[index] == UInt8(ascii: "&"), value.count - index >= escape.count,
                   value[index..<index + escape.count].elementsEqual(escape) {
                    out.append(UInt8(ascii: "&"))
                    index += escape.count
                } else {
                    out.append(value[index])
                    index += 1
                }
            }
            return out
        }
    }

    private var context: xmlParserCtxtPtr?
    let source: any XMLByteSource
    private let name: String

    private static let chunk = 64 * 1024

    /// The corresponding C function is `xmlCreatePushParserCtxt`.
    init(source: any XMLByteSource, name: String) {
        self.source = source
        self.name = name
    }

    deinit { close() }

    /// Parses the whole document into `handler`, until it ends or the handler asks to stop.
    /// Throws the source's failure (a limit, a damaged entry) as it is, and `Refused` for
    /// XML the reader would refuse. With `handOver`, the content of the root's child element
    /// it names goes to its scanner where the scanner can read it (`XMLContentScanner`).
    func parse(_ handler: XMLEventHandler, handOver: (element: String, scanner: any XMLContentScanner)? = nil) throws {
        var window = ByteWindow(capacity: Self.chunk)
        defer { window.deallocate() }
        let first = try window.fill(from: source)
        // The handler outlives the parse; libxml2 holds it unretained as its user data.
        try withExtendedLifetime(handler) {
            try open(firstBytes: window.pending, handler: handler)
            guard context != nil else { return }
            handler.started(with: self)
            // As the reader: the first 4 bytes create the context (encoding detection), the
            // rest follows.
            window.consume(first >= 4 ? 4 : first)
            if let handOver {
                try parse(handler, window: &window, handingOver: handOver.element, to: handOver.scanner)
            } else {
                try parse(handler, window: &window)
            }
        }
    }

    /// Feeds libxml2 what is pending and what the source has left, then ends the document.
    func parse(_ handler: XMLEventHandler, window: inout ByteWindow) throws {
        while true {
            if !window.pending.isEmpty {
                try feed(window.pending, handler)
                if handler.stopped { return }
            }
            window.consume(window.pending.count)
            if try window.fill(from: source) == 0 { break }
        }
        try check(xmlParseChunk(context, nil, 0, 1), handler)
    }

    /// Feeds `bytes` to libxml2. The corresponding C function is `xmlParseChunk`.
    func feed(_ bytes: UnsafeRawBufferPointer, _ handler: XMLEventHandler) throws {
        guard let context, let base = bytes.baseAddress, !bytes.isEmpty else { return }
        try check(xmlParseChunk(context, base.assumingMemoryBound(to: CChar.self), Int32(bytes.count), 0), handler)
    }

    /// Whether libxml2 has just read the start tag of `element`, a child of the root, with
    /// no prefix, and everything fed to it, UTF-8 as it came, and nothing wrong so far: then
    /// the element's content is bytes a scanner may read as they are, up to its end tag.
    func hasJustOpened(_ element: Name, _ handler: XMLEventHandler) -> Bool {
        guard let context, let input = context.pointee.input, element.pointer != nil,
              handler.lastStart == element, !handler.lastStartHadPrefix, !handler.lastStartDeclared,
              context.pointee.nameNr == 2, context.pointee.inputNr == 1,
              context.pointee.instate == XML_PARSER_CONTENT, context.pointee.wellFormed == 1,
              context.pointee.disableSAX == 0, context.pointee.charset == Int32(XML_CHAR_ENCODING_UTF8.rawValue),
              input.pointee.cur == input.pointee.end, input.pointee.buf?.pointee.encoder == nil,
              !handler.stopped, handler.failure == nil, !handler.doctype, handler.firstMessage == nil else { return false }
        return true
    }

    /// The scanner has handed the rest of the content back, at a point between nodes.
    func resume(_ handler: XMLEventHandler) {
        handler.textRun = 0
        handler.emptyEnd = false
    }

    /// The scanner's handler asked to stop (or failed).
    func stop(_ handler: XMLEventHandler) {
        handler.stopped = true
        if let context { xmlStopParser(context) }
    }

    /// A name as the parser's dictionary holds it. The corresponding C function is `xmlDictLookup`.
    func name(_ text: String) -> Name {
        guard let dictionary = context?.pointee.dict else { return Name(pointer: nil) }
        return Name(pointer: xmlDictLookup(dictionary, text, -1))
    }

    /// Frees the parser and stops the entry's inflation. The corresponding C function is `xmlFreeParserCtxt`.
    func close() {
        guard let context else { return }
        xmlFreeParserCtxt(context)
        self.context = nil
        source.cancel()
    }

    private func check(_ result: Int32, _ handler: XMLEventHandler) throws {
        if let failure = handler.failure { throw failure }
        if handler.doctype {
            throw Refused(message: "\(name) declares a DOCTYPE")
        }
        if handler.stopped { return }   // the handler's wish: libxml2 calls that an error
        if result != 0 || context?.pointee.wellFormed == 0 {
            throw Refused(message: handler.firstMessage ?? "libxml2 error \(result)")
        }
    }

    /// The prefixes that namespace declarations bind to a URI (`xmlns:x14ac="…"`); not the
    /// default namespace, nor a prefix bound to nothing.
    private static func prefixes(_ namespaces: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?, count: Int) -> [[UInt8]] {
        guard let namespaces else { return [] }
        return (0..<count).compactMap { index in
            guard let prefix = namespaces[2 * index], let uri = namespaces[2 * index + 1], uri.pointee != 0 else { return nil }
            return Array(UnsafeBufferPointer(start: prefix, count: strlen(UnsafeRawPointer(prefix).assumingMemoryBound(to: CChar.self))))
        }
    }

    private func open(firstBytes buffer: UnsafeRawBufferPointer, handler: XMLEventHandler) throws {
        let count = buffer.count
        _ = XMLStreamReader.refuseExternalEntities
        var sax = xmlSAXHandler()
        sax.initialized = XML_SAX2_MAGIC
        // The callbacks borrow the handler (`_withUnsafeGuaranteedRef`): no reference
        // counting per event.
        sax.startElementNs = { user, localName, prefix, _, namespaceCount, namespaces, attributeCount, _, attributes in
            guard let user else { return }
            Unmanaged<XMLEventHandler>.fromOpaque(user)._withUnsafeGuaranteedRef { handler in
                guard let context = handler.context else { return }
                handler.textRun = 0
                handler.lastStart = Name(pointer: localName)
                handler.lastStartHadPrefix = prefix != nil
                handler.lastStartDeclared = namespaceCount > 0
                if !handler.rootStarted {
                    handler.rootStarted = true
                    handler.rootPrefixes = XMLEventParser.prefixes(namespaces, count: Int(namespaceCount))
                }
                // Right after a start tag the input is at its `>`, or at `/>` when it is empty.
                let isEmpty = context.pointee.input?.pointee.cur?.pointee == UInt8(ascii: "/")
                handler.emptyEnd = isEmpty
                if !handler.start(Name(pointer: localName), Attributes(base: attributes, count: Int(attributeCount)), isEmpty: isEmpty) {
                    handler.stopped = true
                    xmlStopParser(context)
                }
            }
        }
        sax.endElementNs = { user, localName, _, _ in
            guard let user else { return }
            Unmanaged<XMLEventHandler>.fromOpaque(user)._withUnsafeGuaranteedRef { handler in
                handler.textRun = 0
                handler.lastStart = Name(pointer: nil)
                if handler.emptyEnd {
                    handler.emptyEnd = false
                    return
                }
                guard let context = handler.context else { return }
                if !handler.end(Name(pointer: localName)) {
                    handler.stopped = true
                    xmlStopParser(context)
                }
            }
        }
        let characters: charactersSAXFunc = { user, bytes, count in
            guard let user, let bytes else { return }
            Unmanaged<XMLEventHandler>.fromOpaque(user)._withUnsafeGuaranteedRef { handler in
                handler.emptyEnd = false
                handler.lastStart = Name(pointer: nil)
                guard let context = handler.context else { return }
                handler.textRun += Int(count)
                if handler.textRun > XMLEventHandler.maxTextNode {
                    handler.failure = Refused(message: "a text node longer than \(XMLEventHandler.maxTextNode) bytes")
                    handler.stopped = true
                    xmlStopParser(context)
                    return
                }
                if !handler.text(UnsafeRawBufferPointer(start: bytes, count: Int(count))) {
                    handler.stopped = true
                    xmlStopParser(context)
                }
            }
        }
        sax.characters = characters
        sax.ignorableWhitespace = characters
        sax.cdataBlock = characters
        sax.internalSubset = { user, _, _, _ in
            guard let user else { return }
            let handler = Unmanaged<XMLEventHandler>.fromOpaque(user).takeUnretainedValue()
            handler.doctype = true
            handler.stopped = true
            if let context = handler.context { xmlStopParser(context) }
        }
        sax.serror = { user, error in
            guard let user, let error, let message = error.pointee.message else { return }
            let handler = Unmanaged<XMLEventHandler>.fromOpaque(user).takeUnretainedValue()
            if handler.firstMessage == nil {
                handler.firstMessage = String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        let user = Unmanaged.passUnretained(handler).toOpaque()
        let start = buffer.baseAddress?.assumingMemoryBound(to: CChar.self)
        let created: xmlParserCtxtPtr? = count >= 4 ? xmlCreatePushParserCtxt(&sax, user, start, 4, name)
                                                    : xmlCreatePushParserCtxt(&sax, user, nil, 0, name)
        guard let created else { throw WorkbookError.corrupt("\(name) cannot be opened as XML") }
        context = created
        handler.context = created
        xmlCtxtUseOptions(created, Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue | XML_PARSE_COMPACT.rawValue))
        if count > 0 && count < 4 {
            // Too short for the reader's detection; the reader pushes what there is.
            try check(xmlParseChunk(created, start, Int32(count), 0), handler)
        }
    }
}

/// Receives the events of an `XMLEventParser`: subclass it and override the events. Each
/// returns false to stop the parse; a failure of the handler's own (a row callback that
/// threw) is kept in `failure` and thrown by `parse` once libxml2 has returned.
///
/// A class rather than a protocol so that libxml2's callbacks reach it through one
/// unretained pointer and a table call, with no reference counting per event.
class XMLEventHandler {
    var failure: (any Error)?
    /// The parse stopped at the handler's wish.
    @exclusivity(unchecked) fileprivate(set) var stopped = false
    @exclusivity(unchecked) fileprivate var context: xmlParserCtxtPtr?
    @exclusivity(unchecked) fileprivate var firstMessage: String?
    @exclusivity(unchecked) fileprivate var doctype = false
    /// The next end belongs to an empty element, which has none for the reader.
    @exclusivity(unchecked) fileprivate var emptyEnd = false
    /// Bytes of the text run being read: the reader's tree refuses a text node past
    /// 10,000,000 bytes (libxml2's XML_MAX_TEXT_LENGTH), so the fast path stops there too.
    @exclusivity(unchecked) fileprivate var textRun = 0
    /// The element whose start was the last event, if it was a start (`hasJustOpened`).
    @exclusivity(unchecked) fileprivate var lastStart = XMLEventParser.Name(pointer: nil)
    @exclusivity(unchecked) fileprivate var lastStartHadPrefix = false
    /// The last start tag declared a namespace (`xmlns…`): its content is not the root's scope.
    @exclusivity(unchecked) fileprivate var lastStartDeclared = false
    @exclusivity(unchecked) fileprivate var rootStarted = false
    /// The prefixes the root element declares, which every element below it may use unless
    /// one declares its own: what `SheetDataScanner` lets a row's or a cell's attribute have.
    @exclusivity(unchecked) fileprivate(set) var rootPrefixes: [[UInt8]] = []
    fileprivate static let maxTextNode = 10_000_000

    /// The parser is ready: intern the names to compare (`parser.name`).
    func started(with parser: XMLEventParser) {}
    func start(_ name: XMLEventParser.Name, _ attributes: XMLEventParser.Attributes, isEmpty: Bool) -> Bool { true }
    func end(_ name: XMLEventParser.Name) -> Bool { true }
    func text(_ bytes: UnsafeRawBufferPointer) -> Bool { true }
}
