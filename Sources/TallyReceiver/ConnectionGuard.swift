import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes

/// Keeps one connection from holding the front door hostage.
///
/// - A deadline runs from the moment a connection opens, or its last answer is written:
///   within `timeout` the next request, head and body, must have arrived whole. A client
///   that sends a byte a second (slowloris), or connects and says nothing, or stops halfway
///   through a body, is disconnected. A read timeout alone would not do: every byte
///   restarts it. A request answered before its body is in (a 404 to a POST) keeps its
///   deadline; once the body is in, the idle deadline starts.
/// - A response that says `Connection: close` (a 413, for one) ends the connection once it
///   is written: the output side is shut at once, so the client reads the answer and an end
///   of stream, no more bytes are read from it, and the socket is closed `linger` later.
///   Closing outright with unread bytes would make the kernel send a reset, which can destroy
///   the answer before the client reads it.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    private let linger: TimeAmount
    private let logger: Logger
    private var deadline: Scheduled<Void>?
    private var requestComplete = false
    private var responseComplete = false
    private var closeAfterResponse = false
    private var closing = false

    init(timeout: TimeAmount, linger: TimeAmount = .seconds(1), logger: Logger) {
        self.timeout = timeout
        self.linger = linger
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(context, after: timeout, reason: "sent no complete request in time")
    }

    func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            requestComplete = false
            responseComplete = false
            // The deadline armed when the connection opened or went idle keeps running.
            if deadline == nil { arm(context, after: timeout, reason: "was too slow to send its request") }
        case .body:
            break
        case .end:
            requestComplete = true
            if responseComplete {
                arm(context, after: timeout, reason: "kept the connection idle too long")
            } else {
                disarm()
            }
        }
        context.fireChannelRead(data)
    }

    /// Once closing, nothing more is read: the rest of a refused body stays unread.
    func read(context: ChannelHandlerContext) {
        if !closing { context.read() }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response):
            if response.headerFields[.connection]?.lowercased() == "close" { closeAfterResponse = true }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            let written = context.eventLoop.makePromise(of: Void.self)
            if let promise { written.futureResult.cascade(to: promise) }
            written.futureResult.assumeIsolated().whenComplete { [self] result in
                guard case .success = result else { return }
                responseWritten(context)
            }
            context.write(data, promise: written)
        }
    }

    private func responseWritten(_ context: ChannelHandlerContext) {
        responseComplete = true
        if closeAfterResponse {
            // The answer is out: shut our side, stop reading theirs, close a moment later.
            closing = true
            context.close(mode: .output, promise: nil)
            arm(context, after: linger, reason: nil)
        } else if requestComplete {
            arm(context, after: timeout, reason: "kept the connection idle too long")
        }
        // Else the answer came before the whole request: the request's deadline still runs.
    }

    private func arm(_ context: ChannelHandlerContext, after delay: TimeAmount, reason: String?) {
        disarm()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            deadline = nil
            if let reason { logger.debug("closing a connection that \(reason)") }
            context.close(promise: nil)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}
