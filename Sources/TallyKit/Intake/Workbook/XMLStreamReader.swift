import CLibXML2
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// libxml2's streaming `xmlTextReader` over a zip entry, one node at a time: a sheet is
/// never a tree in memory.
///
/// Hardened for input from anyone: no network (`XML_PARSE_NONET`), no entity substitution
/// and no DTD loading (neither `XML_PARSE_NOENT` nor `XML_PARSE_DTDLOAD` is set), an external
/// entity loader that loads nothing, and any `<!DOCTYPE>` refused outright — workbooks never
/// carry one, and XXE and "billion laughs" both need one. Unsafe pointers stay in this file.
final class XMLStreamReader {
    enum Node: Int32 {
        case element = 1, text = 3, cdata = 4, documentType = 10, significantWhitespace = 14, endElement = 15
    }

    private var reader: xmlTextReaderPtr?
    private let source: any XMLByteSource
    private let name: String
    private var context: Unmanaged<SourceBox>

    /// Holds the source for libxml2's read callback.
    private final class SourceBox {
        let source: any XMLByteSource
        init(_ source: any XMLByteSource) { self.source = source }
    }

    /// The corresponding C function is `xmlReaderForIO`.
    init(source: any XMLByteSource, name: String) throws(WorkbookError) {
        XMLStreamReader.refuseExternalEntities
        self.source = source
        self.name = name
        context = Unmanaged.passRetained(SourceBox(source))
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue | XML_PARSE_COMPACT.rawValue)
        reader = xmlReaderForIO({ context, buffer, length in
            guard let context, let buffer, length > 0 else { return 0 }
            let stream = Unmanaged<SourceBox>.fromOpaque(context).takeUnretainedValue().source
            do {
                return Int32(try stream.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: Int(length))))
            } catch {
                return -1
            }
        }, nil, context.toOpaque(), name, nil, options)
        guard let reader else {
            context.release()
            throw .corrupt("\(name) cannot be opened as XML")
        }
        xmlTextReaderSetStructuredErrorHandler(reader, { userData, error in
            guard let userData, let error, let message = error.pointee.message else { return }
            let box = Unmanaged<ErrorBox>.fromOpaque(userData).takeUnretainedValue()
            if box.message == nil { box.message = String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines) }
        }, Unmanaged.passUnretained(errors).toOpaque())
    }

    /// libxml2's first error message, for the reason a file is refused.
    private final class ErrorBox {
        var message: String?
    }
    private let errors = ErrorBox()

    deinit { close() }

    /// Frees the reader and stops the entry's inflation. The corresponding C function is `xmlFreeTextReader`.
    func close() {
        guard let reader else { return }
        xmlFreeTextReader(reader)
        self.reader = nil
        source.cancel()
        context.release()
    }

    /// Moves to the next node; false at the end of the document.
    /// The corresponding C function is `xmlTextReaderRead`.
    func next() throws(WorkbookError) -> Bool {
        guard let reader else { return false }
        let result = xmlTextReaderRead(reader)
        if result == 1 {
            if xmlTextReaderNodeType(reader) == Node.documentType.rawValue {
                throw .hostileXML("\(name) declares a DOCTYPE, which Tally refuses (external entities, entity expansion)")
            }
            return true
        }
        if result == 0 { return false }
        // A failure of the stream (a limit, a damaged entry) explains more than libxml2 can.
        if let failure = source.failureIfAny { throw failure }
        let message = errors.message ?? "no detail"
        if message.localizedCaseInsensitiveContains("entity") || message.localizedCaseInsensitiveContains("DTD") {
            throw .hostileXML("\(name) uses entities or a DTD, which Tally refuses (\(message))")
        }
        throw .corrupt("\(name) is not well-formed XML (\(message))")
    }

    var nodeType: Int32 { reader.map { xmlTextReaderNodeType($0) } ?? 0 }
    var isElement: Bool { nodeType == Node.element.rawValue }
    var isEndElement: Bool { nodeType == Node.endElement.rawValue }
    var isText: Bool {
        let type = nodeType
        return type == Node.text.rawValue || type == Node.cdata.rawValue || type == Node.significantWhitespace.rawValue
    }
    var isEmptyElement: Bool { reader.map { xmlTextReaderIsEmptyElement($0) == 1 } ?? false }
    var depth: Int32 { reader.map { xmlTextReaderDepth($0) } ?? 0 }

    /// The element's local name (`c` for `<x:c>`).
    var localName: String { string(reader.flatMap { xmlTextReaderConstLocalName($0) }) ?? "" }

    /// The text of a text node.
    var value: String { string(reader.flatMap { xmlTextReaderConstValue($0) }) ?? "" }

    /// An attribute by local name, in no namespace or, when given, in `namespace`.
    /// The corresponding C functions are `xmlTextReaderGetAttribute(Ns)`.
    func attribute(_ name: String, namespace: String? = nil) -> String? {
        guard let reader else { return nil }
        let raw: UnsafeMutablePointer<xmlChar>?
        if let namespace {
            raw = xmlTextReaderGetAttributeNs(reader, name, namespace)
        } else {
            raw = xmlTextReaderGetAttribute(reader, name)
        }
        guard let raw else { return nil }
        defer { free(raw) }   // xmlFree is free() unless an application replaced libxml2's allocator
        return String(cString: raw)
    }

    private func string(_ pointer: UnsafePointer<xmlChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    /// Loads no external entity and no external DTD, whatever a document asks for.
    static let refuseExternalEntities: Void = {
        xmlSetExternalEntityLoader { _, _, _ in nil }
    }()
}

/// Where an `XMLStreamReader` pulls its bytes from: a zip entry, or bytes in memory.
protocol XMLByteSource: AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(WorkbookError) -> Int
    /// What stopped the source early, if anything did.
    var failureIfAny: WorkbookError? { get }
    /// The reader needs no more bytes.
    func cancel()
}

/// XML already in memory (tests, the fuzz targets), handed out at most `piece` bytes a read.
final class BytesXMLSource: XMLByteSource {
    private let bytes: [UInt8]
    private let piece: Int
    private var offset = 0
    init(_ bytes: [UInt8], piece: Int = .max) {
        self.bytes = bytes
        self.piece = piece
    }
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(buffer.count, bytes.count - offset, piece)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            guard let base = source.baseAddress else { return }
            buffer.baseAddress?.copyMemory(from: base + offset, byteCount: count)
        }
        offset += count
        return count
    }
    var failureIfAny: WorkbookError? { nil }
    func cancel() {}
}
