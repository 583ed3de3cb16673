/// Who may send Tally a message: `[email] allow_from`, and optionally proof from the
/// receiving mail server (`require_auth`) that the `From` address is not forged.
public struct MailPolicy: Sendable, Equatable {
    /// Addresses (`forms@school.example`) and domains (`@school.example`), lowercased.
    public var allowFrom: [String]
    /// The `authserv-id` of the server whose `Authentication-Results` is believed.
    public var requireAuth: String?

    public init(allowFrom: [String] = [], requireAuth: String? = nil) {
        self.allowFrom = allowFrom
        self.requireAuth = requireAuth
    }

    /// Nil when the message may be read, else why not (the reason its file is refused with).
    public func refusal(for headers: MailHeaders) -> String? {
        guard let from = headers.fromAddress else { return "the message has no From address" }
        guard !allowFrom.isEmpty else {
            return "no sender is allowed: [email] allow_from is empty, so no message is read"
        }
        let domain = Self.domain(of: from)
        guard allowFrom.contains(where: { $0 == from || ($0.hasPrefix("@") && $0.dropFirst() == domain) }) else {
            return "the sender \(from) is not in [email] allow_from"
        }
        guard let server = requireAuth else { return nil }
        // RFC 8601: only results written by a server we trust count, and it adds its header
        // on top; a header further down, or by another host, may come from the sender.
        let trusted = headers.all("Authentication-Results").lazy.compactMap(AuthenticationResults.init)
            .first { $0.server.lowercased() == server.lowercased() }
        guard let trusted else {
            return "no Authentication-Results header from \(server) ([email] require_auth): the sender cannot be verified"
        }
        if trusted.vouches(for: domain) { return nil }
        return "\(server)'s Authentication-Results does not show dmarc=pass, or dkim=pass or spf=pass for \(domain), the From domain"
    }

    static func domain(of address: String) -> String {
        address.split(separator: "@").last.map { String($0).lowercased() } ?? ""
    }
}

/// One `Authentication-Results` header: the server that wrote it and its results.
public struct AuthenticationResults: Sendable, Equatable {
    public struct Result: Sendable, Equatable {
        public var method: String
        public var result: String
        /// `header.d`, `smtp.mailfrom`, ... lowercased names, values as written.
        public var properties: [String: String]
    }

    public var server: String
    public var results: [Result]

    /// Parses `authserv-id [version]; method=result prop=value ...; ...` with comments removed.
    public init?(_ value: String) {
        let text = MailHeaders.removingComments(value)
        let pieces = text.split(separator: ";", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard let first = pieces.first, let id = first.split(separator: " ").first, !id.isEmpty else { return nil }
        server = String(id)
        results = pieces.dropFirst().compactMap { piece in
            let words = piece.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" })
            guard let head = words.first, let equals = head.firstIndex(of: "=") else { return nil }
            let method = head[..<equals].split(separator: "/").first.map { $0.lowercased() } ?? ""
            let result = head[head.index(after: equals)...].lowercased()
            var properties: [String: String] = [:]
            for word in words.dropFirst() {
                guard let sign = word.firstIndex(of: "=") else { continue }
                var value = String(word[word.index(after: sign)...])
                if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 { value = String(value.dropFirst().dropLast()) }
                properties[word[..<sign].lowercased()] = value
            }
            return Result(method: method, result: result, properties: properties)
        }
    }

    /// True when the results prove mail from `domain`: DMARC passed (for that domain when
    /// the header names it), or DKIM passed with a signature of that domain, or SPF passed
    /// for an envelope sender in it.
    public func vouches(for domain: String) -> Bool {
        results.contains { result in
            guard result.result == "pass" else { return false }
            switch result.method {
            case "dmarc":
                return result.properties["header.from"].map { $0.lowercased() == domain } ?? true
            case "dkim":
                if let signer = result.properties["header.d"] { return signer.lowercased() == domain }
                if let identity = result.properties["header.i"] { return MailPolicy.domain(of: identity) == domain }
                return false
            case "spf":
                guard let sender = result.properties["smtp.mailfrom"] else { return false }
                return (sender.contains("@") ? MailPolicy.domain(of: sender) : sender.lowercased()) == domain
            default:
                return false
            }
        }
    }
}
