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
        // RFC 7489 §6.6.1: a message with several From headers, or several mailboxes in one,
        // names no single sender to check.
        let fromFields = headers.all("From")
        guard fromFields.count <= 1 else { return "the message has \(fromFields.count) From headers" }
        guard let from = headers.fromAddress else { return "the message has no single From address" }
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

    /// Parses `authserv-id [version]; method=result prop=value ...; ...` (RFC 8601), as
    /// tokens: comments dropped, quoted strings kept whole (a `;` or `=` inside quotes — which
    /// a sender can put in its own address — separates nothing).
    public init?(_ value: String) {
        var statements: [[String]] = [[]]
        var word = ""
        var quoted = false, escaped = false, depth = 0
        func endWord() {
            if !word.isEmpty { statements[statements.count - 1].append(word) }
            word = ""
        }
        for character in value {
            if escaped { word.append(character); escaped = false; continue }
            if character == "\\" && (quoted || depth > 0) { escaped = true; continue }
            if depth > 0 {
                if character == "(" { depth += 1 } else if character == ")" { depth -= 1 }
                continue
            }
            if quoted {
                if character == "\"" { quoted = false } else { word.append(character) }
                continue
            }
            switch character {
            case "\"": quoted = true
            case "(": endWord(); depth = 1
            case ";": endWord(); statements.append([])
            case " ", "\t", "\r", "\n": endWord()
            default: word.append(character)
            }
        }
        endWord()
        guard let id = statements.first?.first, !id.contains("=") else { return nil }
        server = id
        results = statements.dropFirst().compactMap { words in
            guard let head = words.first, let equals = head.firstIndex(of: "=") else { return nil }
            let method = head[..<equals].split(separator: "/").first.map { $0.lowercased() } ?? ""
            let result = head[head.index(after: equals)...].lowercased()
            var properties: [String: String] = [:]
            for word in words.dropFirst() {
                guard let sign = word.firstIndex(of: "=") else { continue }
                properties[word[..<sign].lowercased()] = String(word[word.index(after: sign)...])
            }
            return Result(method: method, result: result, properties: properties)
        }
    }

    /// True when the results prove mail from `domain`: DMARC passed for that domain
    /// (`header.from`), or DKIM passed with a signature of that domain, or SPF passed
    /// for an envelope sender in it.
    public func vouches(for domain: String) -> Bool {
        results.contains { result in
            guard result.result == "pass" else { return false }
            switch result.method {
            case "dmarc":
                // Only a result that names the domain it is for vouches for it.
                return result.properties["header.from"].map { $0.lowercased() == domain } ?? false
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
