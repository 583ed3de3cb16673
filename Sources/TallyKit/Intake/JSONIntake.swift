/// Reads JSON documents and JSON lines: lone payloads, arrays of them, captured requests.
///
/// A lone payload that cannot be read fails its file (kept in `data/failed/`); in an array
/// or JSON lines, each bad item is rejected on its own and the others still count.
public struct JSONIntake: Sendable {
    /// Who may sign deliveries, and whether an unsigned one counts.
    public struct SignaturePolicy: Sendable {
        public var secret: String?
        public var siteSecrets: [String: String]
        public var required: Bool
        public init(secret: String? = nil, siteSecrets: [String: String] = [:], required: Bool = false) {
            self.secret = secret
            self.siteSecrets = siteSecrets
            self.required = required
        }
    }

    public var policy: SignaturePolicy
    public var payloads: KajabiPayload.Settings
    public var limits: JSONParser.Limits
    public var maxDocumentBytes: Int
    public var maxLineBytes: Int

    public init(policy: SignaturePolicy, payloads: KajabiPayload.Settings, limits: JSONParser.Limits = .init(),
                maxDocumentBytes: Int = 64 << 20, maxLineBytes: Int = 1 << 20) {
        self.policy = policy
        self.payloads = payloads
        self.limits = limits
        self.maxDocumentBytes = maxDocumentBytes
        self.maxLineBytes = maxLineBytes
    }

    /// Reads a whole JSON document (one payload, a capture, or an array of either).
    public func readDocument(path: String, file: String, sha256: String, modified: Timestamp,
                             emit: (IntakeItem) throws -> Void) throws {
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path, limit: maxDocumentBytes) } catch let error as SystemError where error.code == EFBIG {
            throw IntakeError.tooLarge(file: file, bytes: fileSize(path), limit: maxDocumentBytes)
        }
        let json: JSONValue
        do { json = try JSONParser.parse(bytes, limits: limits) } catch {
            throw IntakeError.badJSON(file: file, reason: error.description)
        }
        if let items = json.array {
            for (index, item) in items.enumerated() {
                try readItem(item, file: file, sha256: sha256, row: index + 1, modified: modified, lone: false, emit: emit)
            }
        } else {
            try readItem(json, file: file, sha256: sha256, row: 1, modified: modified, lone: true, emit: emit)
        }
    }

    /// Reads JSON lines, one payload or capture a line, streaming.
    public func readLines(path: String, file: String, sha256: String, modified: Timestamp,
                          emit: (IntakeItem) throws -> Void) throws {
        try readLines(path: path, file: file, sha256: sha256, modified: modified, decided: { _ in false }, emit: emit)
    }

    /// Whether lines that are plain flat completions are read as bytes (see `FlatLine`); off
    /// only in tests that hold that path to the ordinary one.
    var readsPlainLinesAsBytes = true

    /// The same; `decided` is offered each plain flat completion as bytes first (see
    /// `FlatLine`): when it returns true the line is done, else its event is made from the
    /// bytes already read and emitted.
    func readLines(path: String, file: String, sha256: String, modified: Timestamp,
                   decided: (borrowing CompletionRow) throws -> Bool, emit: (IntakeItem) throws -> Void) throws {
        let reader: JSONLinesReader
        do { reader = try JSONLinesReader(path: path, maxLineBytes: maxLineBytes) } catch {
            throw IntakeError.unreadable(file: file, reason: "\(error)")
        }
        // Signed deliveries are captures, never flat lines; a policy that refuses unsigned
        // payloads gives every flat line its rejection through the ordinary path.
        let bytePath = readsPlainLinesAsBytes && !policy.required
        var courses = TextInterner()
        func plain(_ line: Int, _ content: UnsafeRawBufferPointer) throws -> Bool {
            guard bytePath else { return false }
            var event: Event?
            let read = try FlatLine.read(content, row: line, fallbackTime: modified) { row in
                if try !decided(row) { event = row.event(file: file, sha256: sha256, course: nil, courses: &courses) }
                return true
            }
            if let event { try emit(.event(event)) }
            return read
        }
        try reader.forEachLine(limits: limits, plain: plain) { line, result, raw in
            switch result {
            case .success(let json):
                try readItem(json, file: file, sha256: sha256, row: line, modified: modified, lone: false, emit: emit)
            case .failure(let error):
                try emit(.rejected(row: line, reason: "not valid JSON: \(error.description)", raw: rawText(raw)))
            }
            return true
        }
    }

    private func readItem(_ json: JSONValue, file: String, sha256: String, row: Int, modified: Timestamp, lone: Bool,
                          emit: (IntakeItem) throws -> Void) throws {
        var payload = json
        do {
            if let capture = CapturedRequest(json: json) {
                try check(capture)
                do { payload = try JSONParser.parse(capture.body, limits: limits) } catch {
                    throw RowRejection("the captured body is not valid JSON: \(error.description)")
                }
            } else if policy.required {
                throw RowRejection("unsigned payload refused: [kajabi] require_signature is true")
            }
            let source = EventSource(file: file, sha256: sha256, row: row)
            let items = payload.array ?? [payload]
            for item in items {
                for event in try KajabiPayload.events(in: item, source: source, settings: payloads, fallbackTime: modified) {
                    try emit(.event(event))
                }
            }
        } catch let rejection as RowRejection {
            if lone {
                if rejection.reason.hasPrefix("unknown payload shape") {
                    throw IntakeError.unknownShape(file: file, reason: rejection.reason)
                }
                if isSignatureProblem(rejection.reason) { throw IntakeError.signature(file: file, reason: rejection.reason) }
                try emit(.rejected(row: row, reason: rejection.reason, raw: String(decoding: json.serialized().prefix(4096), as: UTF8.self)))
            } else {
                try emit(.rejected(row: row, reason: rejection.reason, raw: String(decoding: json.serialized().prefix(4096), as: UTF8.self)))
            }
        }
    }

    /// Refuses a capture whose signature is wrong, or missing when one is required.
    func check(_ capture: CapturedRequest) throws(RowRejection) {
        var secret = policy.secret
        if let site = capture.site {
            guard let siteSecret = policy.siteSecrets[site] else {
                throw RowRejection("signature: the capture names site \"\(site)\", which [kajabi.sites] does not list")
            }
            secret = siteSecret
        }
        if capture.signature != nil {
            guard let secret else {
                if policy.required {
                    throw RowRejection("signature: the capture is signed but no secret is configured to check it (set KAJABI_WEBHOOK_SECRET or [kajabi] secret)")
                }
                return
            }
            guard capture.isSigned(by: secret) else {
                throw RowRejection("signature: X-Kajabi-Signature does not match the body under the configured secret (forged, or signed with another secret)")
            }
        } else if policy.required {
            throw RowRejection("signature: the capture has no X-Kajabi-Signature and [kajabi] require_signature is true")
        }
    }

    private func isSignatureProblem(_ reason: String) -> Bool {
        reason.hasPrefix("signature:") || reason.hasPrefix("unsigned payload refused")
    }
}

func rawText(_ raw: UnsafeRawBufferPointer) -> String {
    String(decoding: UnsafeRawBufferPointer(rebasing: raw.prefix(4096)), as: UTF8.self)
}

func fileSize(_ path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : 0
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
