#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Hummingbird
import HummingbirdCore
import HTTPTypes
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import TallyKit

/// The webhook front door as a service: an HTTP/1.1 server (Hummingbird) whose only effect is
/// a file in the inbox for each delivery it accepts. `tally receive` runs it alone; `tally
/// watch --listen` runs it beside the watcher, under one graceful shutdown.
public enum ReceiveServer {
    /// Everything the server needs; ``init(settings:listen:)`` takes it from the engine's settings.
    public struct Settings: Sendable {
        /// The rules (secrets, tokens, `require_signature`), which a reload may replace.
        public var door: FrontDoor
        public var listen: ListenAddress
        public var inbox: String
        public var data: String
        public var receive: TallyConfig.Receive
        public var jsonLimits: JSONParser.Limits

        public init(settings: EngineSettings, listen: ListenAddress) {
            door = FrontDoor(config: settings.config)
            self.listen = listen
            inbox = settings.paths.inbox
            data = settings.paths.data
            receive = settings.config.receive
            jsonLimits = settings.jsonIntake.limits
        }
    }

    /// The service, ready to be run in a `ServiceGroup`. `onListening` is called with the
    /// bound port once the server accepts connections.
    /// - Parameter rules: where the server reads its rules for each request; the caller
    ///   puts new ones there when `tally.toml` is reloaded (SIGHUP). Nil: fixed rules.
    public static func service(_ settings: Settings, rules: FrontDoorRules? = nil, logger: Logger,
                               onListening: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> any Service {
        try FileSystem.createDirectory(settings.inbox)
        let writer = DeliveryWriter(inbox: settings.inbox)
        let abandoned = writer.removeAbandoned()
        if abandoned > 0 {
            logger.notice("removed \(abandoned) unacknowledged temporary file(s) a stopped front door left in \(settings.inbox)")
        }
        let responder = FrontDoorResponder(
            settings: settings, rules: rules ?? FrontDoorRules(settings.door), writer: writer, metrics: ReceiverMetrics(),
            health: ReceiverHealth(inbox: settings.inbox, data: settings.data), logger: logger)
        let receive = settings.receive
        let timeout = TimeAmount.seconds(Int64(receive.requestTimeout))
        var http = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuard(timeout: timeout, logger: logger)],
            httpDecoderConfiguration: .init(maxHeaderFieldSize: receive.maxHeaderBytes,
                                            maxHeaderListSize: receive.maxHeaderBytes, maxHeaderFieldCount: 200))
        http.idleTimeout = nil   // ConnectionGuard's deadline covers idle connections too
        let listen = settings.listen
        return Application(
            responder: responder,
            server: .http1(configuration: http),
            configuration: .init(
                address: .hostname(listen.host, port: listen.port),
                serverName: nil,
                availableConnectionsDelegate: MaximumAvailableConnections(receive.maxConnections, logger: logger)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? listen.port
                logger.notice("front door listening on http://\(ListenAddress(host: listen.host, port: port))",
                              metadata: ["port": .stringConvertible(port)])
                await onListening(port)
            },
            logger: logger)
    }
}

/// The request context: Hummingbird's core storage and the address of the peer.
struct ReceiveContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let peer: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress
    }
}

/// Health as `GET /healthz` reports it: the inbox is a writable folder, the data folder (once
/// there is one) is writable, and no delivery failed to be written in the last minute (a full
/// disk passes the first two checks).
final class ReceiverHealth: Sendable {
    let inbox: String
    let data: String
    private let lastWriteError = Mutex<(String, ContinuousClock.Instant)?>(nil)
    static let memory = Duration.seconds(60)

    init(inbox: String, data: String) {
        self.inbox = inbox
        self.data = data
    }

    func recordWrite(error: String?) { lastWriteError.withLock { $0 = error.map { ($0, .now) } } }

    /// Nil when healthy, else what is wrong.
    func problem() -> String? {
        guard FileSystem.isDirectory(inbox) else { return "the inbox \(inbox) is not a folder" }
        guard access(inbox, W_OK) == 0 else { return "the inbox \(inbox) is not writable" }
        if FileSystem.exists(data) && access(data, W_OK) != 0 { return "the data folder \(data) is not writable" }
        return lastWriteError.withLock { last in
            guard let (error, when) = last, ContinuousClock.now - when < Self.memory else { return nil }
            return "a delivery could not be written: \(error)"
        }
    }
}

/// The front door's current rules, shared between the requests that read them and the
/// reload that replaces them.
public final class FrontDoorRules: Sendable {
    private let current: Mutex<FrontDoor>
    public init(_ door: FrontDoor) { current = Mutex(door) }
    public var door: FrontDoor { current.withLock { $0 } }
    public func replace(with door: FrontDoor) { current.withLock { $0 = door } }
}

/// Counts requests in flight and turns away those beyond the limit, so overload answers 503
/// at once instead of queueing without bound.
final class RequestGate: Sendable {
    private let count = Atomic<Int>(0)
    let limit: Int
    init(limit: Int) { self.limit = limit }

    func enter() -> Bool {
        if count.add(1, ordering: .relaxed).newValue <= limit { return true }
        count.subtract(1, ordering: .relaxed)
        return false
    }

    func leave() { count.subtract(1, ordering: .relaxed) }
}

/// Answers every request of the front door. It never throws: every outcome is an answer,
/// counted by route and status and logged without any token.
struct FrontDoorResponder: HTTPResponder {
    typealias Context = ReceiveContext

    let settings: ReceiveServer.Settings
    let rules: FrontDoorRules
    let writer: DeliveryWriter
    let metrics: ReceiverMetrics
    let health: ReceiverHealth
    let logger: Logger
    let gate: RequestGate
    let trusted: Set<IPAddress>

    init(settings: ReceiveServer.Settings, rules: FrontDoorRules, writer: DeliveryWriter, metrics: ReceiverMetrics,
         health: ReceiverHealth, logger: Logger) {
        self.settings = settings
        self.rules = rules
        self.writer = writer
        self.metrics = metrics
        self.health = health
        self.logger = logger
        gate = RequestGate(limit: settings.receive.maxRequests)
        trusted = Set(settings.receive.trustedProxies.compactMap(IPAddress.init))
    }

    func respond(to request: Request, context: ReceiveContext) async throws -> Response {
        let started = ContinuousClock.now
        let door = rules.door
        switch door.route(method: request.method.rawValue, path: request.uri.path) {
        case .failure(let refusal):
            log(.info, "\(request.method.rawValue) \(Self.shown(request.uri.path)) \(refusal.status): \(refusal.reason)",
                from: client(request, context))
            var headers: HTTPFields = [:]
            if refusal.status == 405 { headers[.allow] = refusal == FrontDoor.onlyPost ? "POST" : "GET, HEAD" }
            return refuse(refusal, route: Self.routeLabel(request.uri.path), headers: headers)
        case .success(.health):
            if let problem = health.problem() {
                return answer(.init(code: 503), route: "healthz", json: Self.object(["status": "failing", "reason": problem]))
            }
            return answer(.ok, route: "healthz", json: #"{"status":"ok"}"#)
        case .success(.metrics):
            var text = (try? FileSystem.readFile(settings.data + "/metrics.prom", limit: 4 << 20)) ?? []
            if let last = text.last, last != 0x0A { text.append(0x0A) }
            text += metrics.exposition()
            metrics.answered(route: "metrics", status: 200)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: text)))
        case .success(.delivery(let delivery)):
            // Only deliveries take a slot: health checks and scrapes answer even when busy.
            guard gate.enter() else {
                log(.warning, "POST \(delivery.displayPath) 503: \(gate.limit) requests in flight ([receive] max_requests)",
                    from: client(request, context))
                return answer(.init(code: 503), route: "kajabi", json: #"{"error":"busy, retry later"}"#,
                              headers: [.retryAfter: "1", .connection: "close"])
            }
            defer { gate.leave() }
            metrics.requestStarted()
            defer { metrics.requestEnded() }
            return await deliver(request, delivery, door: door, context: context, started: started)
        }
    }

    private func deliver(_ request: Request, _ delivery: FrontDoor.Delivery, door: FrontDoor, context: ReceiveContext,
                         started: ContinuousClock.Instant) async -> Response {
        let limit = settings.receive.maxBodyBytes
        let from = client(request, context)
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        if let declared, declared > limit {
            log(.warning, "POST \(delivery.displayPath) 413: \(declared) bytes declared, over \(limit)", from: from)
            return refuse(.init(413, "the body is over \(limit) bytes"), route: "kajabi", headers: [.connection: "close"])
        }
        var body: [UInt8] = []
        body.reserveCapacity(min(declared ?? 16 << 10, limit))
        do {
            for try await chunk in request.body {
                guard body.count + chunk.readableBytes <= limit else {
                    log(.warning, "POST \(delivery.displayPath) 413: the body went over \(limit) bytes", from: from)
                    return refuse(.init(413, "the body is over \(limit) bytes"), route: "kajabi", headers: [.connection: "close"])
                }
                body.append(contentsOf: chunk.readableBytesView)
            }
        } catch {
            log(.info, "POST \(delivery.displayPath): the body was cut off (\(error)); nothing written", from: from)
            return refuse(.init(400, "the body was cut off"), route: "kajabi", headers: [.connection: "close"])
        }
        if let declared, declared != body.count {
            return refuse(.init(400, "the body was cut off"), route: "kajabi", headers: [.connection: "close"])
        }

        var headers: [(String, String)] = []
        if let authority = request.head.authority { headers.append(("Host", authority)) }
        for field in request.headers { headers.append((field.name.rawName, field.value)) }
        let capture: CapturedRequest
        switch door.admit(delivery, headers: headers, body: body, limits: settings.jsonLimits) {
        case .failure(let refusal):
            if refusal.status == 401 {
                metrics.refusedSignature()
                log(.warning, "POST \(delivery.displayPath) 401: \(refusal.reason); nothing written", from: from)
            } else {
                log(.info, "POST \(delivery.displayPath) \(refusal.status): \(refusal.reason); nothing written", from: from)
            }
            return refuse(refusal, route: "kajabi")
        case .success(let admitted):
            capture = admitted
        }

        do {
            let name = try await NIOThreadPool.singleton.runIfActive { [writer] in try writer.write(capture) }
            health.recordWrite(error: nil)
            metrics.delivered(bytes: body.count, after: ContinuousClock.now - started)
            log(.info, "POST \(delivery.displayPath) 200: \(body.count) bytes → \(name)", from: from)
            return answer(.ok, route: "kajabi", json: Self.object(["status": "ok", "file": name]))
        } catch {
            health.recordWrite(error: "\(error)")
            log(.error, "POST \(delivery.displayPath) 500: could not write the delivery: \(error)", from: from)
            return answer(.internalServerError, route: "kajabi",
                          json: Self.object(["error": "could not store the delivery; retry later"]))
        }
    }

    // MARK: Answers

    private func refuse(_ refusal: FrontDoor.Refusal, route: String, headers: HTTPFields = [:]) -> Response {
        answer(.init(code: refusal.status), route: route, json: Self.object(["error": refusal.reason]), headers: headers)
    }

    private func answer(_ status: HTTPResponse.Status, route: String, json: String, headers: HTTPFields = [:]) -> Response {
        metrics.answered(route: route, status: status.code)
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: json + "\n")))
    }

    static func object(_ members: KeyValuePairs<String, String>) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        for (key, value) in members { writer.field(key, value) }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// The `route` label of a refused request's count: which door it knocked on.
    static func routeLabel(_ path: String) -> String {
        if path == "/kajabi" || path.hasPrefix("/kajabi/") { return "kajabi" }
        return path == "/healthz" ? "healthz" : path == "/metrics" ? "metrics" : "other"
    }

    /// A path as the log shows it: whatever follows a `t` segment, in either case (a token,
    /// or a mistyped one such as `//kajabi/T/TOKEN`), is never written down, nor any segment
    /// as long as a token (16 characters or more: `/kajabi/TOKEN`, its `t/` forgotten).
    static func shown(_ path: String) -> String {
        let segments = path.prefix(200).split(separator: "/", omittingEmptySubsequences: false)
        if let t = segments.firstIndex(where: { $0 == "t" || $0 == "T" }), t + 1 < segments.endIndex {
            return segments[...t].joined(separator: "/") + "/…"
        }
        return segments.map { $0.count >= 16 ? "…" : $0 }.joined(separator: "/")
    }

    private func client(_ request: Request, _ context: ReceiveContext) -> String? {
        // Every X-Forwarded-For line, joined as one list (proxies may each add their own line).
        let forwarded = request.headers.filter { $0.name.canonicalName == "x-forwarded-for" }.map(\.value)
        return ClientAddress.resolve(peer: context.peer, forwardedFor: forwarded.isEmpty ? nil : forwarded.joined(separator: ", "),
                                     trusted: trusted)
    }

    /// One line per answered request, naming the client (also as `client` metadata for
    /// `--log-format json`).
    private func log(_ level: Logger.Level, _ message: String, from client: String?) {
        guard let client else { return logger.log(level: level, "\(message)") }
        logger.log(level: level, "\(message) (from \(client))", metadata: ["client": .string(client)])
    }
}
