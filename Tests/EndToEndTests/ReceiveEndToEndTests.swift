import Foundation
import Synchronization
import Testing

/// The webhook front door, started for real on a loopback port and spoken to over TCP.
@Suite("tally receive and watch --listen")
struct ReceiveEndToEndTests {
    static let token = "tok-default-0123456789"
    static let siteToken = "tok-site1-0123456789ab"

    static func config(_ extra: String = "") -> String {
        """
        [kajabi]
        secret = "main-secret"
        sites = { site1 = "site-secret" }
        [receive.tokens]
        default = "\(token)"
        site1 = "\(siteToken)"
        \(extra)
        """
    }

    /// A Kajabi form submission for student `n`, written as Kajabi writes it (spaces, non-ASCII).
    static func payload(_ n: Int, course: String = "Data Literacy 101") -> [UInt8] {
        Array("""
        {"event_type": "form.submitted", "event_id": "evt_\(n)", "created_at": "2026-11-21T11:05:42Z",
         "data": {"form": {"id": "77", "title": "Fin du cours — \(n)"},
                  "submission": {"id": "sub_\(n)", "fields": {"email": "student\(n)@school.example",
                   "course_name": "\(course)", "completion_date": "2026-11-21T11:05:00Z", "student_name": "Zoë \(n)"}}}}
        """.utf8)
    }

    static func signed(_ body: [UInt8], _ secret: String = "main-secret") throws -> [(String, String)] {
        [("X-Kajabi-Signature", try hmacHex(body, secret: secret))]
    }

    /// The captures in the inbox, by body.
    static func captures(_ w: Workspace) throws -> [[String: Any]] {
        try w.list("inbox").map {
            try JSONSerialization.jsonObject(with: Data(contentsOf: w.root.appendingPathComponent("inbox/" + $0))) as? [String: Any] ?? [:]
        }
    }

    @Test("signed, unsigned, forged, per-site, token, wrong-token, malformed requests: their answers and the inbox; then the points")
    func answersAndFiles() throws {
        let w = try Workspace()
        try w.write("tally.toml", Self.config())
        let receiver = try Daemon(w, command: "receive", arguments: ["--listen", "127.0.0.1:0"], log: "receive.log")
        defer { receiver.kill9() }
        let client = HTTPClient(port: try #require(receiver.port()))

        let signed = try client.post("/kajabi", Self.payload(1), headers: Self.signed(Self.payload(1)))
        #expect(signed.status == 200)
        let file = try #require(try JSONSerialization.jsonObject(with: Data(signed.body)) as? [String: String])["file"]
        #expect(w.list("inbox") == [try #require(file)])
        let capture = try #require(Self.captures(w).first)
        // The body's exact bytes, and the headers as sent.
        #expect(Array((capture["body"] as? String ?? "").utf8) == Self.payload(1))
        let headers = try #require(capture["headers"] as? [String: String])
        #expect(headers["X-Kajabi-Signature"] == (try hmacHex(Self.payload(1), secret: "main-secret")))
        #expect(headers["Content-Type"] == "application/json" && headers["Host"] == "127.0.0.1")
        #expect(capture["site"] == nil)

        // Unsigned and forged: 401, nothing written.
        #expect(try client.post("/kajabi", Self.payload(2)).status == 401)
        #expect(try client.post("/kajabi", Self.payload(2), headers: Self.signed(Self.payload(2), "guess")).status == 401)
        #expect(try client.post("/kajabi", Self.payload(2), headers: Self.signed(Self.payload(3))).status == 401)
        // The site's secret on its own path only.
        #expect(try client.post("/kajabi/site1", Self.payload(2), headers: Self.signed(Self.payload(2))).status == 401)
        #expect(try client.post("/kajabi/site1", Self.payload(2), headers: Self.signed(Self.payload(2), "site-secret")).status == 200)
        #expect(try client.post("/kajabi/site9", Self.payload(9), headers: Self.signed(Self.payload(9))).status == 404)
        // Tokens: signed on arrival; a wrong one is an unknown path.
        #expect(try client.post("/kajabi/t/\(Self.token)", Self.payload(3)).status == 200)
        #expect(try client.post("/kajabi/t/\(Self.siteToken)", Self.payload(4), headers: [("X-Kajabi-Signature", "forged")]).status == 200)
        #expect(try client.post("/kajabi/t/tok-wrong-0123456789", Self.payload(5)).status == 404)
        #expect(try client.post("/kajabi/t/\(Self.token.dropLast())", Self.payload(5)).status == 404)
        // A token under a mistyped path is refused, and not written down either.
        #expect(try client.post("//kajabi/t/\(Self.token)", Self.payload(5)).status == 404)
        #expect(try client.post("/kajabi//t/\(Self.token)", Self.payload(5)).status == 404)
        // Two signatures, one good: refused, since the capture could carry only both.
        #expect(try client.post("/kajabi", Self.payload(5), headers: Self.signed(Self.payload(5)) + [("X-Kajabi-Signature", "00")]).status == 401)
        // Not JSON (signed, so that only the body is wrong), other methods and paths.
        let notJSON = Array("email=a@b.example&course=X".utf8)
        let refused = try client.post("/kajabi", notJSON, headers: Self.signed(notJSON))
        #expect(refused.status == 400 && refused.text.contains("the body is not JSON"))
        let truncated = Array(Self.payload(6).dropLast())
        #expect(try client.post("/kajabi", truncated, headers: Self.signed(truncated)).status == 400)
        let get = try client.get("/kajabi")
        #expect(get.status == 405 && get.headers["allow"] == "POST")
        #expect(try client.request("PUT", "/kajabi", body: Self.payload(7)).status == 405)
        #expect(try client.get("/").status == 404)
        #expect(try client.post("/webhooks", Self.payload(7)).status == 404)
        #expect(try client.get("/healthz").status == 200)

        #expect(w.list("inbox").count == 4)
        let tokenCaptures = try Self.captures(w).filter { ($0["body"] as? String)?.contains("evt_3") == true || ($0["body"] as? String)?.contains("evt_4") == true }
        #expect(tokenCaptures.count == 2)
        for capture in tokenCaptures {
            let headers = try #require(capture["headers"] as? [String: String])
            let body = Array((capture["body"] as? String ?? "").utf8)
            let secret = capture["site"] as? String == "site1" ? "site-secret" : "main-secret"
            #expect(headers["X-Kajabi-Signature"] == (try hmacHex(body, secret: secret)))
        }

        // The log names no token.
        #expect(!receiver.log.contains(Self.token) && !receiver.log.contains(Self.siteToken))
        #expect(receiver.log.contains("POST /kajabi 401: no X-Kajabi-Signature header; nothing written"))

        // The counts by status, after the daemon's own metrics.prom.
        try w.write("data/metrics.prom", "# TYPE tally_files_total counter\ntally_files_total 12\n")
        let metrics = try client.get("/metrics")
        #expect(metrics.status == 200 && metrics.text.hasPrefix("# TYPE tally_files_total counter\ntally_files_total 12\n"))
        for line in [#"tally_receive_requests_total{route="kajabi",status="200"} 4"#,
                     #"tally_receive_requests_total{route="kajabi",status="401"} 5"#,
                     #"tally_receive_requests_total{route="kajabi",status="404"} 4"#,
                     #"tally_receive_requests_total{route="kajabi",status="400"} 2"#,
                     #"tally_receive_requests_total{route="kajabi",status="405"} 2"#,
                     #"tally_receive_requests_total{route="other",status="404"} 3"#,
                     "tally_receive_signature_failures_total 5", "tally_receive_deliveries_total 4"] {
            #expect(metrics.text.contains(line + "\n"), "\(line)")
        }

        // SIGTERM: a clean exit.
        receiver.signal(SIGTERM)
        #expect(receiver.waitForExit(seconds: 15)?.status == 0)

        // Every written delivery counts, with signatures required.
        try w.write("tally.toml", Self.config().replacingOccurrences(of: "[kajabi]\n", with: "[kajabi]\nrequire_signature = true\n"))
        let sync = try w.tally("sync")
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(try w.xp() == ["student1@school.example": 20, "student2@school.example": 20,
                               "student3@school.example": 20, "student4@school.example": 20])
    }

    @Test("an oversized body gets 413 at once, oversized headers 400; nothing is written, and the connection is closed")
    func oversized() throws {
        let w = try Workspace()
        try w.write("tally.toml", Self.config("[receive]\nmax_body_bytes = 4096"))
        let receiver = try Daemon(w, command: "receive", arguments: ["--listen", "127.0.0.1:0"], log: "receive.log")
        defer { receiver.kill9() }
        let client = HTTPClient(port: try #require(receiver.port()))

        // Declared too long: answered before the body is sent; the rest is never awaited.
        let declared = try client.connect(timeout: 20)
        declared.send(HTTPClient.head("POST", "/kajabi", headers: [], length: 10 << 20) + "{\"a\":")
        let answer = try declared.readResponse()
        #expect(answer.status == 413 && answer.headers["connection"] == "close")
        #expect(declared.readToClose().closed)

        // Chunked, with no length: refused as it goes over.
        let chunked = try client.connect(timeout: 20)
        chunked.send(HTTPClient.head("POST", "/kajabi", headers: [("Transfer-Encoding", "chunked")], length: nil))
        let chunk = String(repeating: "x", count: 1000)
        for _ in 0..<5 { chunked.send(String(1000, radix: 16) + "\r\n" + chunk + "\r\n") }
        #expect(try chunked.readResponse().status == 413)

        // Headers over max_header_bytes (16 KiB by default): 400, and the connection closed.
        let headers = try client.connect(timeout: 20)
        headers.send(HTTPClient.head("POST", "/kajabi", headers: [("X-Padding", String(repeating: "h", count: 20_000))], length: 2) + "{}")
        #expect(try headers.readResponse().status == 400)
        #expect(headers.readToClose().closed)

        // Just under the limit is fine.
        let fits = Array(("{\"pad\": \"" + String(repeating: "y", count: 4000) + "\"}").utf8)
        #expect(try client.post("/kajabi", fits, headers: Self.signed(fits)).status == 200)
        #expect(w.list("inbox").count == 1)
        #expect(try client.get("/healthz").status == 200)
    }

    @Test("a client sending a byte at a time, or nothing, is disconnected; others are still served")
    func slowClients() throws {
        let w = try Workspace()
        try w.write("tally.toml", Self.config("[receive]\nrequest_timeout = 1"))
        let receiver = try Daemon(w, command: "receive", arguments: ["--listen", "127.0.0.1:0"], log: "receive.log")
        defer { receiver.kill9() }
        let client = HTTPClient(port: try #require(receiver.port()))

        let idle = try client.connect(timeout: 20)
        let slow = try client.connect(timeout: 20)
        let started = Date()
        var open = true
        for byte in Array("POST /kajabi HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 100) {
            guard open, Date().timeIntervalSince(started) < 20 else { break }
            open = slow.send([byte])
            usleep(250_000)
            // Closed by the server: a read sees the end at once.
            var probe = pollfd(fd: slow.fd, events: Int16(POLLIN), revents: 0)
            if poll(&probe, 1, 0) > 0 { open = false }
        }
        #expect(!open, "a byte every 250 ms kept the connection for \(Date().timeIntervalSince(started)) s")
        #expect(idle.readToClose().closed)

        // A body that trickles in after a prompt head is cut off the same way.
        let body = Self.payload(1)
        let trickle = try client.connect(timeout: 20)
        trickle.send(HTTPClient.head("POST", "/kajabi", headers: try Self.signed(body), length: body.count))
        var sent = 0
        let bodyStarted = Date()
        while sent < body.count, Date().timeIntervalSince(bodyStarted) < 20 {
            guard trickle.send([body[sent]]) else { break }
            sent += 1
            usleep(250_000)
            var probe = pollfd(fd: trickle.fd, events: Int16(POLLIN), revents: 0)
            if poll(&probe, 1, 0) > 0 { break }
        }
        #expect(sent < body.count)
        #expect(trickle.readToClose().closed)

        // Kept alive: a refusal answered before its body is in, then the body, then silence:
        // the idle deadline still ends the connection.
        let kept = try client.connect(timeout: 20)
        kept.send(HTTPClient.head("POST", "/nope", headers: [], length: 5, keepAlive: true))
        #expect(try kept.readResponse().status == 404)
        kept.send("{}   ")
        #expect(kept.readToClose().closed)
        // And a healthy keep-alive client gets several answers on one connection.
        let healthy = try client.connect(timeout: 20)
        for n in 2...3 {
            healthy.send(HTTPClient.head("POST", "/kajabi", headers: try Self.signed(Self.payload(n)), length: Self.payload(n).count, keepAlive: true))
            healthy.send(Self.payload(n))
            #expect(try healthy.readResponse().status == 200)
        }
        #expect(healthy.readToClose().closed)
        #expect(try client.post("/kajabi", Self.payload(1), headers: Self.signed(Self.payload(1))).status == 200)
        #expect(w.list("inbox").count == 3)
    }

    @Test("beyond max_requests a delivery gets 503 at once; the one in flight still completes; health still answers")
    func shedding() throws {
        let w = try Workspace()
        try w.write("tally.toml", Self.config("[receive]\nmax_requests = 1\nrequest_timeout = 60"))
        let receiver = try Daemon(w, command: "receive", arguments: ["--listen", "127.0.0.1:0"], log: "receive.log")
        defer { receiver.kill9() }
        let client = HTTPClient(port: try #require(receiver.port()))

        let body = Self.payload(1)
        let inFlight = try client.connect()
        inFlight.send(HTTPClient.head("POST", "/kajabi", headers: try Self.signed(body), length: body.count))
        inFlight.send(Array(body.prefix(10)))
        // Once it holds the only slot (the metrics say so), the next delivery is turned away.
        #expect(eventually(seconds: 20) { (try? client.get("/metrics").text.contains("tally_receive_requests_in_flight 1.0\n")) == true })
        let shed = try client.post("/kajabi", Self.payload(2), headers: Self.signed(Self.payload(2)))
        #expect(shed.status == 503 && shed.headers["retry-after"] == "1")
        #expect(try client.get("/healthz").status == 200)
        inFlight.send(Array(body.dropFirst(10)))
        #expect(try inFlight.readResponse().status == 200)
        #expect(try client.get("/healthz").status == 200)
        #expect(w.list("inbox").count == 1)
    }

    @Test("without a writable inbox, health fails and deliveries get 500, never 200")
    func brokenInbox() throws {
        let w = try Workspace()
        try w.write("tally.toml", Self.config())
        let receiver = try Daemon(w, command: "receive", arguments: ["--listen", "127.0.0.1:0"], log: "receive.log")
        defer { receiver.kill9() }
        let client = HTTPClient(port: try #require(receiver.port()))
        #expect(try client.get("/healthz").status == 200)
        try FileManager.default.removeItem(at: w.root.appendingPathComponent("inbox"))
        let health = try client.get("/healthz")
        #expect(health.status == 503 && health.text.contains("is not a folder"))
        #expect(try client.post("/kajabi", Self.payload(1), headers: Self.signed(Self.payload(1))).status == 500)
        try FileManager.default.createDirectory(at: w.root.appendingPathComponent("inbox"), withIntermediateDirectories: true)
        // The failed write keeps health failing for a while, until a delivery goes through.
        #expect(try client.get("/healthz").text.contains("a delivery could not be written"))
        #expect(try client.post("/kajabi", Self.payload(1), headers: Self.signed(Self.payload(1))).status == 200)
        #expect(try client.get("/healthz").status == 200)
    }

    @Test("SIGHUP reloads the secrets: a token delivery is signed with the new one; a broken file keeps the old")
    func reload() throws {
        let w = try Workspace()
        try w.write("tally.toml", Self.config())
        let receiver = try Daemon(w, command: "receive", arguments: ["--listen", "127.0.0.1:0"], log: "receive.log")
        defer { receiver.kill9() }
        let client = HTTPClient(port: try #require(receiver.port()))
        try w.write("tally.toml", Self.config().replacingOccurrences(of: "main-secret", with: "rotated-secret"))
        receiver.signal(SIGHUP)
        #expect(eventually { receiver.log.contains("tally.toml reloaded") })
        #expect(try client.post("/kajabi/t/\(Self.token)", Self.payload(1)).status == 200)
        let capture = try #require(Self.captures(w).first)
        let body = Array((capture["body"] as? String ?? "").utf8)
        #expect((capture["headers"] as? [String: String])?["X-Kajabi-Signature"] == (try hmacHex(body, secret: "rotated-secret")))
        #expect(try client.post("/kajabi", Self.payload(2), headers: Self.signed(Self.payload(2))).status == 401)

        try w.write("tally.toml", "[kajabi\n")
        receiver.signal(SIGHUP)
        #expect(eventually { receiver.log.contains("tally.toml not reloaded") })
        #expect(try client.post("/kajabi", Self.payload(2), headers: Self.signed(Self.payload(2), "rotated-secret")).status == 200)
    }

    @Test("watch --listen: deliveries become points in the same process; SIGTERM stops both")
    func watchListen() throws {
        let w = try Workspace()
        try w.write("tally.toml", Self.config())
        let daemon = try Daemon(w, arguments: ["--listen", "127.0.0.1:0"])
        defer { daemon.kill9() }
        let client = HTTPClient(port: try #require(daemon.port()))
        #expect(eventually { daemon.log.contains("watching") })
        for n in 1...3 {
            #expect(try client.post("/kajabi/t/\(Self.token)", Self.payload(n)).status == 200)
        }
        #expect(try client.post("/kajabi", Self.payload(3), headers: Self.signed(Self.payload(3))).status == 200)
        #expect(eventually(seconds: 30) {
            (try? w.xp()) == ["student1@school.example": 20, "student2@school.example": 20, "student3@school.example": 20]
                && w.list("inbox").isEmpty
        })
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit(seconds: 15)?.status == 0)
        #expect(try w.ledger("events").count == 4)
    }

    @Test("hundreds of deliveries, 96 at a time (more than max_requests), a kill -9 in the middle, retries of all not answered 200: each counted once")
    func crashAndRetry() throws {
        let w = try Workspace()
        try w.write("tally.toml", Self.config())
        let total = 300
        let kajabi = try KajabiSide(total: total)
        let first = try Daemon(w, arguments: ["--listen", "127.0.0.1:0"])
        defer { first.kill9() }
        let port = try #require(first.port())
        let sent = DispatchSemaphore(value: 0)
        Thread {
            kajabi.send(Array(0..<total), port: port, workers: 96)
            sent.signal()
        }.start()
        #expect(eventually(seconds: 60) { kajabi.acknowledgedCount >= total / 3 })
        first.signal(SIGKILL)
        _ = first.waitForExit(seconds: 15)
        sent.wait()
        let beforeCrash = kajabi.acknowledgedCount
        #expect(beforeCrash >= total / 3 && beforeCrash < total)

        let second = try Daemon(w, arguments: ["--listen", "127.0.0.1:0"], log: "second.log")
        defer { second.kill9() }
        let secondPort = try #require(second.port())
        for _ in 0..<5 {
            let missing = kajabi.unacknowledged
            if missing.isEmpty { break }
            kajabi.send(missing, port: secondPort, workers: 8)
        }
        #expect(kajabi.acknowledgedCount == total)

        let expected = Dictionary(uniqueKeysWithValues: (1...total).map { ("student\($0)@school.example", 20) })
        #expect(eventually(seconds: 120) { (try? w.xp()) == expected && w.list("inbox").isEmpty })
        second.signal(SIGTERM)
        #expect(second.waitForExit(seconds: 30)?.status == 0)
        let applied = try w.ledger("events").filter { $0["status"] as? String == "applied" }
        #expect(applied.count == total)
        #expect(Set(applied.compactMap { $0["email"] as? String }).count == total)
        #expect(try w.ledger("points").count == total)
    }
}

/// The sending side of the crash test: signed deliveries, sent from many threads, and which
/// of them were answered 200. A refused connection or any other answer leaves a delivery for
/// the next round, as Kajabi retries.
final class KajabiSide: Sendable {
    let bodies: [[UInt8]]
    let signatures: [String]
    private let acknowledged = Mutex<Set<Int>>([])

    init(total: Int) throws {
        bodies = (1...total).map { ReceiveEndToEndTests.payload($0) }
        signatures = try bodies.map { try hmacHex($0, secret: "main-secret") }
    }

    var acknowledgedCount: Int { acknowledged.withLock { $0.count } }
    var unacknowledged: [Int] { acknowledged.withLock { done in bodies.indices.filter { !done.contains($0) } } }

    func send(_ indices: [Int], port: Int, workers: Int) {
        let next = Mutex(0)
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            Thread { [self] in
                defer { group.leave() }
                while let slot = next.withLock({ value -> Int? in
                    guard value < indices.count else { return nil }
                    defer { value += 1 }
                    return value
                }) {
                    let index = indices[slot]
                    let answer = try? HTTPClient(port: port).post(
                        "/kajabi", bodies[index], headers: [("X-Kajabi-Signature", signatures[index])])
                    if answer?.status == 200 { _ = acknowledged.withLock { $0.insert(index) } }
                }
            }.start()
        }
        group.wait()
    }
}
