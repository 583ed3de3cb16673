import Foundation
import TallyKit

/// The front door's rules, without HTTP: which path is what, who may deliver to it, and the
/// captured request a delivery becomes.
///
/// The server (``ReceiveServer``) asks it twice per delivery: ``route(method:path:)`` before
/// reading any of the body, ``admit(_:headers:body:)`` once the body is in. Both are pure,
/// so every rule is tested without a socket.
public struct FrontDoor: Sendable {
    public let receive: TallyConfig.Receive
    public let kajabi: TallyConfig.Kajabi

    public init(config: TallyConfig) {
        receive = config.receive
        kajabi = config.kajabi
    }

    /// What a path is.
    public enum Route: Equatable, Sendable {
        case health
        case metrics
        case delivery(Delivery)
    }

    /// Where a delivery goes and how it proves itself.
    public struct Delivery: Equatable, Sendable {
        /// The `[kajabi.sites]` name written into the capture; nil for the main secret.
        public var site: String?
        /// The secret that checks (or, for a token, makes) the signature; nil when none is set.
        public var secret: String?
        /// True when a path token vouched for the sender: the front door signs the body itself.
        public var byToken: Bool
        /// The path as logs may show it: a token is never written down.
        public var displayPath: String
    }

    /// A request turned away: its status, and the reason for the log and the response.
    public struct Refusal: Error, Equatable, Sendable {
        public var status: Int
        public var reason: String
        public init(_ status: Int, _ reason: String) {
            self.status = status
            self.reason = reason
        }
    }

    /// The route of `path` (without its query) for `method`, or why there is none: 404 for a
    /// path that is not the front door's (a wrong token and an unknown site are just that),
    /// 405 for a wrong method.
    public func route(method: String, path: String) -> Result<Route, Refusal> {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard path.hasPrefix("/") else { return .failure(Refusal(404, "no such path")) }
        switch parts.first {
        case "healthz" where parts.count == 1:
            return method == "GET" || method == "HEAD" ? .success(.health) : .failure(Self.onlyGet)
        case "metrics" where parts.count == 1:
            return method == "GET" || method == "HEAD" ? .success(.metrics) : .failure(Self.onlyGet)
        case "kajabi":
            guard let delivery = delivery(Array(parts.dropFirst())) else {
                return .failure(Refusal(404, "no such path"))
            }
            return method == "POST" ? .success(.delivery(delivery)) : .failure(Self.onlyPost)
        default:
            return .failure(Refusal(404, "no such path"))
        }
    }

    static let onlyGet = Refusal(405, "only GET is allowed here")
    static let onlyPost = Refusal(405, "only POST is allowed here")

    /// `/kajabi`, `/kajabi/SITE` (a `[kajabi.sites]` name), `/kajabi/t/TOKEN`.
    private func delivery(_ parts: [Substring]) -> Delivery? {
        switch parts.count {
        case 0:
            return Delivery(site: nil, secret: kajabi.secret, byToken: false, displayPath: "/kajabi")
        case 1:
            guard let site = parts[0].removingPercentEncoding, let secret = kajabi.sites[site] else { return nil }
            return Delivery(site: site, secret: secret, byToken: false, displayPath: "/kajabi/" + parts[0])
        case 2 where parts[0] == "t":
            guard let name = receive.site(forToken: String(parts[1])) else { return nil }
            let site = TallyConfig.Receive.site(ofToken: name)
            // The configuration refuses a token without a secret, so this is always set.
            guard let secret = kajabi.secret(forSite: site) else { return nil }
            return Delivery(site: site, secret: secret, byToken: true, displayPath: "/kajabi/t/(\(name)'s token)")
        default:
            return nil
        }
    }

    /// The captured request a delivery becomes, or why it is refused: 401 for a missing or
    /// wrong signature (or none possible while signatures are required), 400 for a body that
    /// is not UTF-8 JSON.
    ///
    /// The signature is checked first, over the exact bytes received, so nothing a stranger
    /// sends is parsed. A token delivery is signed here with its site's secret, replacing any
    /// signature header it came with. `headers` keep their order and spelling; repeated names
    /// are joined with ", " as HTTP allows.
    public func admit(_ delivery: Delivery, headers: [(String, String)], body: [UInt8],
                      limits: JSONParser.Limits = .init()) -> Result<CapturedRequest, Refusal> {
        let signatureName = CapturedRequest.signatureHeader.lowercased()
        if !delivery.byToken {
            let signatures = headers.filter { $0.0.lowercased() == signatureName }
            // Two would be joined into one value in the capture, which no check could pass.
            guard signatures.count <= 1 else { return .failure(Refusal(401, "more than one X-Kajabi-Signature header")) }
            if let secret = delivery.secret {
                let given = signatures.first?.1
                guard given != nil else { return .failure(Refusal(401, "no X-Kajabi-Signature header")) }
                guard CapturedRequest.signature(given, matches: body, secret: secret) else {
                    return .failure(Refusal(401, "X-Kajabi-Signature does not match the body"))
                }
            } else if kajabi.requireSignature {
                return .failure(Refusal(401, "kajabi.require_signature is true and no secret is set for this path"))
            }
        }
        guard let text = String(validating: body, as: UTF8.self) else {
            return .failure(Refusal(400, "the body is not UTF-8 text"))
        }
        do {
            _ = try JSONParser.parse(body, limits: limits)
        } catch {
            return .failure(Refusal(400, "the body is not JSON: \(error.description)"))
        }
        var kept: [(String, String)] = []
        for (name, value) in headers {
            if delivery.byToken && name.lowercased() == signatureName { continue }
            if let index = kept.firstIndex(where: { $0.0.lowercased() == name.lowercased() }) {
                kept[index].1 += ", " + value
            } else {
                kept.append((name, value))
            }
        }
        if delivery.byToken, let secret = delivery.secret {
            kept.append((CapturedRequest.signatureHeader, CapturedRequest.sign(body: text, secret: secret)))
        }
        return .success(CapturedRequest(headers: kept, body: text, site: delivery.site))
    }
}
