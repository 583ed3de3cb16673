import TallyKit

/// The address a request came from, for the log: the peer's, unless the peer is a trusted
/// reverse proxy, in which case the nearest address in `X-Forwarded-For` that is not one of
/// the trusted proxies.
///
/// Walking the header from the right matters: a client can write anything into its own
/// `X-Forwarded-For`, and only the entries the trusted proxies appended are true.
public enum ClientAddress {
    public static func resolve(peer: String?, forwardedFor: String?, trusted: Set<IPAddress>) -> String? {
        guard let peer, let peerAddress = IPAddress(peer), trusted.contains(peerAddress),
              let forwardedFor
        else { return peer }
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() {
            guard let address = IPAddress(hop) else { return peer }   // garbage: trust only the peer
            if !trusted.contains(address) { return hop }
        }
        return hops.first ?? peer
    }
}
