import Foundation
import Testing
@testable import TallyKit
@testable import TallyReceiver

@Suite("the front door's rules")
struct FrontDoorTests {
    static let token = "tok-default-0123456789"
    static let siteToken = "tok-site1-0123456789ab"

    static func door(_ extra: String = "") throws -> FrontDoor {
        let config = try TallyConfig.load(contentsOf: """
            [kajabi]
            secret = "main-secret"
            sites = { site1 = "site-secret", "two words" = "other" }
            [receive.tokens]
            default = "\(token)"
            site1 = "\(siteToken)"
            \(extra)
            """, environment: [:])
        return FrontDoor(config: config)
    }

    static func delivery(_ door: FrontDoor, _ path: String) throws -> FrontDoor.Delivery {
        guard case .success(.delivery(let delivery)) = door.route(method: "POST", path: path) else {
            Issue.record("\(path) is not a delivery")
            throw CancellationError()
        }
        return delivery
    }

    static let body = Array(#"{"event_id": "e1", "email": "Ada@Example.org", "course": "Café ☕"}"#.utf8)
    static func signature(_ body: [UInt8], _ secret: String) -> String {
        Crypto.hex(Crypto.hmacSHA256(key: Array(secret.utf8), message: body))
    }

    @Test("paths and methods: health, metrics, /kajabi, a site, a token; everything else 404, a wrong method 405")
    func routes() throws {
        let door = try Self.door()
        #expect(door.route(method: "GET", path: "/healthz") == .success(.health))
        #expect(door.route(method: "HEAD", path: "/metrics") == .success(.metrics))
        #expect(door.route(method: "POST", path: "/healthz") == .failure(.init(405, "only GET is allowed here")))
        #expect(door.route(method: "GET", path: "/kajabi") == .failure(.init(405, "only POST is allowed here")))
        #expect(door.route(method: "POST", path: "/kajabi") == .success(.delivery(
            .init(site: nil, secret: "main-secret", byToken: false, displayPath: "/kajabi"))))
        #expect(door.route(method: "POST", path: "/kajabi/site1") == .success(.delivery(
            .init(site: "site1", secret: "site-secret", byToken: false, displayPath: "/kajabi/site1"))))
        #expect(door.route(method: "POST", path: "/kajabi/two%20words") == .success(.delivery(
            .init(site: "two words", secret: "other", byToken: false, displayPath: "/kajabi/two%20words"))))
        #expect(door.route(method: "POST", path: "/kajabi/t/\(Self.token)") == .success(.delivery(
            .init(site: nil, secret: "main-secret", byToken: true, displayPath: "/kajabi/t/(default's token)"))))
        #expect(door.route(method: "POST", path: "/kajabi/t/\(Self.siteToken)") == .success(.delivery(
            .init(site: "site1", secret: "site-secret", byToken: true, displayPath: "/kajabi/t/(site1's token)"))))
        for path in ["/", "", "/kajabi/", "/kajabi/site2", "/kajabi/t/wrong-token-0123456789", "/kajabi/t/",
                     "/kajabi/t/\(Self.token)/x", "/kajabi/site1/x", "/healthz/", "/Kajabi", "kajabi"] {
            #expect(door.route(method: "POST", path: path) == .failure(.init(404, "no such path")), "\(path)")
        }
        // A wrong token is a 404 whatever the method, like any unknown path.
        #expect(door.route(method: "GET", path: "/kajabi/t/nope") == .failure(.init(404, "no such path")))
    }

    @Test("a signed delivery is kept with its exact body and its headers, in order, repeats joined")
    func signed() throws {
        let door = try Self.door()
        let headers = [("Content-Type", "application/json"), ("X-Kajabi-Signature", Self.signature(Self.body, "main-secret")),
                       ("X-Forwarded-For", "203.0.113.7"), ("x-forwarded-for", "10.0.0.2")]
        let capture = try door.admit(Self.delivery(door, "/kajabi"), headers: headers, body: Self.body).get()
        #expect(Array(capture.body.utf8) == Self.body)
        #expect(capture.site == nil)
        #expect(capture.headers.map(\.0) == ["Content-Type", "X-Kajabi-Signature", "X-Forwarded-For"])
        #expect(capture.headers[2].1 == "203.0.113.7, 10.0.0.2")
        #expect(capture.isSigned(by: "main-secret"))
        // The capture written to the inbox decodes back to the same body bytes.
        let decoded = try #require(CapturedRequest(json: JSONParser.parse(capture.encoded())))
        #expect(Array(decoded.body.utf8) == Self.body)
    }

    @Test("a signature is checked over the exact bytes: missing, wrong, other secret and altered body are 401")
    func badSignatures() throws {
        let door = try Self.door()
        let delivery = try Self.delivery(door, "/kajabi")
        let missing = door.admit(delivery, headers: [("Content-Type", "application/json")], body: Self.body)
        #expect(missing.failure == .init(401, "no X-Kajabi-Signature header"))
        let wrong = FrontDoor.Refusal(401, "X-Kajabi-Signature does not match the body")
        for signature in ["", "zz", Self.signature(Self.body, "site-secret"), Self.signature(Self.body + [0x20], "main-secret")] {
            #expect(door.admit(delivery, headers: [("x-kajabi-signature", signature)], body: Self.body).failure == wrong)
        }
        // A site's path takes that site's secret only.
        let site = try Self.delivery(door, "/kajabi/site1")
        #expect(door.admit(site, headers: [("X-Kajabi-Signature", Self.signature(Self.body, "main-secret"))],
                           body: Self.body).failure == wrong)
        let good = door.admit(site, headers: [("X-Kajabi-Signature", "sha256=" + Self.signature(Self.body, "site-secret"))],
                              body: Self.body)
        #expect(try good.get().site == "site1")
    }

    @Test("without a secret an unsigned delivery is kept, unless signatures are required")
    func noSecret() throws {
        let open = FrontDoor(config: try TallyConfig.load(contentsOf: "", environment: [:]))
        let delivery = try Self.delivery(open, "/kajabi")
        #expect(delivery.secret == nil)
        #expect(try open.admit(delivery, headers: [], body: Self.body).get().signature == nil)

        let strict = FrontDoor(config: try TallyConfig.load(
            contentsOf: "[kajabi]\nrequire_signature = true\nsites = { s = \"x\" }", environment: [:]))
        #expect(strict.admit(try Self.delivery(strict, "/kajabi"), headers: [], body: Self.body).failure
                == .init(401, "kajabi.require_signature is true and no secret is set for this path"))
    }

    @Test("a token delivery is signed on arrival with its site's secret, replacing any signature it brought")
    func tokenSigned() throws {
        let door = try Self.door()
        let main = try door.admit(Self.delivery(door, "/kajabi/t/\(Self.token)"),
                                  headers: [("X-Kajabi-Signature", "forged"), ("User-Agent", "Kajabi")], body: Self.body).get()
        #expect(main.site == nil && main.isSigned(by: "main-secret"))
        #expect(main.headers.map(\.0) == ["User-Agent", "X-Kajabi-Signature"])
        #expect(main.signature == Self.signature(Self.body, "main-secret"))
        let site = try door.admit(Self.delivery(door, "/kajabi/t/\(Self.siteToken)"), headers: [], body: Self.body).get()
        #expect(site.site == "site1" && site.isSigned(by: "site-secret"))
    }

    @Test("two signature headers are refused, even when one is right")
    func twoSignatures() throws {
        let door = try Self.door()
        let headers = [("X-Kajabi-Signature", Self.signature(Self.body, "main-secret")), ("x-kajabi-signature", "00")]
        #expect(door.admit(try Self.delivery(door, "/kajabi"), headers: headers, body: Self.body).failure
                == .init(401, "more than one X-Kajabi-Signature header"))
    }

    @Test("logged paths never show what follows a t segment, nor a segment as long as a token")
    func loggedPaths() {
        #expect(FrontDoorResponder.shown("/kajabi/t/secret-token-123456") == "/kajabi/t/…")
        #expect(FrontDoorResponder.shown("//kajabi/t/secret-token-123456") == "//kajabi/t/…")
        #expect(FrontDoorResponder.shown("/kajabi//t/secret-token-123456/x") == "/kajabi//t/…")
        #expect(FrontDoorResponder.shown("/kajabi/site1") == "/kajabi/site1")
        // Mistyped: a capital T, or the t/ forgotten. A segment as long as a token is hidden.
        #expect(FrontDoorResponder.shown("/kajabi/T/tok_default_abcdefghijkl") == "/kajabi/T/…")
        #expect(FrontDoorResponder.shown("/kajabi/tok_default_abcdefghijkl") == "/kajabi/…")
        #expect(FrontDoorResponder.shown("/kajabi/tok_default_abcdefghijkl/x") == "/kajabi/…/x")
        #expect(FrontDoorResponder.shown("/t") == "/t")
    }

    @Test("a body that is not UTF-8 or not JSON is 400, after the signature")
    func notJSON() throws {
        let door = try Self.door()
        let delivery = try Self.delivery(door, "/kajabi")
        for (body, reason) in [([UInt8]("{\"a\": 1".utf8), "the body is not JSON: "), ([0xFF, 0xFE], "the body is not UTF-8 text"),
                               ([], "the body is not JSON: "), (Array("a=1&b=2".utf8), "the body is not JSON: ")] {
            let result = door.admit(delivery, headers: [("X-Kajabi-Signature", Self.signature(body, "main-secret"))], body: body)
            #expect(result.failure?.status == 400)
            #expect(result.failure?.reason.hasPrefix(reason) == true, "\(result)")
            // Unsigned, the same body is a 401: nothing from a stranger is parsed.
            #expect(door.admit(delivery, headers: [], body: body).failure?.status == 401)
        }
        let deep = Array((String(repeating: "[", count: 100) + String(repeating: "]", count: 100)).utf8)
        let tooDeep = door.admit(delivery, headers: [("X-Kajabi-Signature", Self.signature(deep, "main-secret"))],
                                 body: deep, limits: .init(maxDepth: 64))
        #expect(tooDeep.failure?.status == 400)
    }

    @Test("X-Forwarded-For names the client only behind a trusted proxy, read from the right")
    func clientAddress() {
        let trusted: Set<IPAddress> = [IPAddress("127.0.0.1")!, IPAddress("10.0.0.2")!]
        #expect(ClientAddress.resolve(peer: "198.51.100.9", forwardedFor: "1.2.3.4", trusted: trusted) == "198.51.100.9")
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: "203.0.113.7", trusted: trusted) == "203.0.113.7")
        #expect(ClientAddress.resolve(peer: "::ffff:127.0.0.1", forwardedFor: "203.0.113.7", trusted: trusted) == "203.0.113.7")
        // A client's own forged entry sits left of what the proxies appended.
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: "6.6.6.6, 203.0.113.7, 10.0.0.2", trusted: trusted)
                == "203.0.113.7")
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: "10.0.0.2", trusted: trusted) == "10.0.0.2")
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: "unknown", trusted: trusted) == "127.0.0.1")
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: nil, trusted: trusted) == "127.0.0.1")
        #expect(ClientAddress.resolve(peer: nil, forwardedFor: "1.2.3.4", trusted: trusted) == nil)
    }

    @Test("listen addresses and IP addresses")
    func addresses() {
        #expect(ListenAddress("127.0.0.1:8080") == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(ListenAddress("[::1]:0") == ListenAddress(host: "::1", port: 0))
        #expect(ListenAddress("localhost:80")?.description == "localhost:80")
        #expect(ListenAddress(host: "::1", port: 9).description == "[::1]:9")
        for bad in ["8080", "::1:80", "[::1]80", "[nope]:80", ":80", "host:", "host:-1", "host:65536", "a b:80", "host:８０"] {
            #expect(ListenAddress(bad) == nil, "\(bad)")
        }
        #expect(IPAddress("::1") == IPAddress("0:0:0:0:0:0:0:1"))
        #expect(IPAddress("127.0.0.1") == IPAddress("::ffff:127.0.0.1"))
        #expect(IPAddress("127.0.0.1") != IPAddress("127.0.0.2"))
        #expect(IPAddress("example.org") == nil && IPAddress("1.2.3.4:80") == nil)
    }

    @Test("random tokens are 32 URL-safe characters, accepted as tokens, and differ")
    func randomTokens() throws {
        let tokens = (0..<50).map { _ in Crypto.randomToken() }
        #expect(Set(tokens).count == 50)
        for token in tokens {
            #expect(token.count == 32)
            #expect(token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            _ = try TallyConfig.load(contentsOf: "[kajabi]\nsecret = \"s\"\n[receive.tokens]\ndefault = \"\(token)\"",
                                     environment: [:])
        }
        #expect(Crypto.randomToken(bytes: 1).count == 2 && Crypto.randomToken(bytes: 2).count == 3)
    }
}

@Suite("the front door's writer")
struct DeliveryWriterTests {
    @Test("a delivery lands whole under a kajabi-TIME-RANDOM.json name, with no temporary file left")
    func writes() throws {
        let inbox = FileManager.default.temporaryDirectory.appendingPathComponent("tally-writer-\(UUID().uuidString)").path
        try FileSystem.createDirectory(inbox)
        defer { try? FileManager.default.removeItem(atPath: inbox) }
        let capture = CapturedRequest(headers: [("X-Kajabi-Signature", "ab")], body: "{\"a\":\"é\\n\"}", site: "s")
        let second = try #require(Timestamp(year: 2026, month: 11, day: 27, hour: 23, minute: 10, second: 34))
        let time = Timestamp(milliseconds: second.milliseconds + 512)
        let name = try DeliveryWriter(inbox: inbox).write(capture, at: time)
        #expect(name.hasPrefix("kajabi-20261127T231034.512Z-") && name.hasSuffix(".json"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: inbox) == [name])
        #expect(try FileSystem.readFile(inbox + "/" + name) == capture.encoded())
        #expect(try DeliveryWriter(inbox: inbox).write(capture, at: time) != name)
    }

    @Test("temporary files of a dead front door are removed; a live one's and other files stay")
    func abandoned() throws {
        let inbox = FileManager.default.temporaryDirectory.appendingPathComponent("tally-writer-\(UUID().uuidString)").path
        try FileSystem.createDirectory(inbox)
        defer { try? FileManager.default.removeItem(atPath: inbox) }
        // A process that has ended: a child we started and reaped.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = child.processIdentifier
        let files = [".kajabi-x.json.tmp-\(dead)", ".kajabi-y.json.tmp-1", ".kajabi-z.json.tmp-\(getpid())",
                     ".other.json.tmp-\(dead)", "kajabi-a.json"]
        for file in files { try FileSystem.writeAtomically(Array("{}".utf8), to: inbox + "/" + file, durable: false) }
        // Its own PID's too: it runs at start, before any delivery (Tally may be PID 1 each time).
        #expect(DeliveryWriter(inbox: inbox).removeAbandoned() == 2)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: inbox))
                == [".kajabi-y.json.tmp-1", ".other.json.tmp-\(dead)", "kajabi-a.json"])
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
