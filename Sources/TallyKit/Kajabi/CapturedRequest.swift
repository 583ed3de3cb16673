/// A captured webhook delivery: `{"headers": {...}, "body": "<raw body text>"}`, and the
/// HMAC-SHA256 signature that proves it came from someone holding the site's secret.
///
/// Kajabi itself signs nothing; a relay, `tally receive` or `tally sign` adds
/// `X-Kajabi-Signature`, the lowercase hex HMAC-SHA256 of the exact body bytes.
public struct CapturedRequest: Equatable, Sendable {
    public static let signatureHeader = "X-Kajabi-Signature"

    public var headers: [(String, String)]
    public var body: String
    /// The `[kajabi.sites]` name whose secret signs it, when the capture names one.
    public var site: String?

    public init(headers: [(String, String)], body: String, site: String? = nil) {
        self.headers = headers
        self.body = body
        self.site = site
    }

    public static func == (a: CapturedRequest, b: CapturedRequest) -> Bool {
        a.body == b.body && a.site == b.site && a.headers.elementsEqual(b.headers, by: { $0 == $1 })
    }

    /// A capture when `json` has exactly the capture's shape, else nil.
    public init?(json: JSONValue) {
        guard let object = json.object, let headers = object["headers"]?.object, let body = object["body"]?.string else {
            return nil
        }
        self.headers = headers.compactMap { key, value in value.text.map { (key, $0) } }
        self.body = body
        self.site = object["site"]?.string
    }

    /// The value of a header, by name in any case.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.0.lowercased() == wanted }?.1
    }

    public var signature: String? { header(Self.signatureHeader) }

    /// The lowercase hex HMAC-SHA256 of `body` under `secret`.
    public static func sign(body: String, secret: String) -> String {
        Crypto.hex(Crypto.hmacSHA256(key: Array(secret.utf8), message: Array(body.utf8)))
    }

    /// True when the signature header matches the body under `secret`; compared in constant time.
    public func isSigned(by secret: String) -> Bool {
        Self.signature(signature, matches: body.utf8, secret: secret)
    }

    /// True when `header` (an `X-Kajabi-Signature` value, hex, optionally `sha256=`-prefixed)
    /// is the HMAC-SHA256 of `body` under `secret`; compared in constant time.
    public static func signature(_ header: String?, matches body: some Sequence<UInt8>, secret: String) -> Bool {
        guard let given = header?.trimmingCharacters(in: .whitespaces),
              let givenBytes = Crypto.bytes(fromHex: given.hasPrefix("sha256=") ? String(given.dropFirst(7)) : given)
        else { return false }
        return Crypto.constantTimeEquals(Crypto.hmacSHA256(key: Array(secret.utf8), message: body), givenBytes)
    }

    /// The capture as Tally writes it: headers in order, then the body.
    public func encoded() -> [UInt8] {
        var w = JSONWriter(capacity: body.utf8.count + 256)
        w.beginObject()
        if let site { w.field("site", site) }
        w.key("headers")
        w.beginObject()
        for (name, value) in headers { w.field(name, value) }
        w.endObject()
        w.field("body", body)
        w.endObject()
        w.bytes.append(0x0A)
        return w.bytes
    }
}

import Foundation
