import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes

/// Keeps one connection from holding the front door hostage.
///
/// - A whole request — head and body — must arrive within `timeout` of its first byte being
///   awaited; so must the next request on a kept-alive connection. A client that sends a
///   byte a second (slowloris) or opens a connection and says nothing is disconnected. A
///   read timeout alone would not do: every byte restarts it.
/// - A response that says `Connection: close` (a 413, for one) ends the connection once it
///   is written: the output side is shut at once, so the client reads the answer and an end of
///   stream, and whatever it is still sending is read and dropped for at most `linger` before
///   the socket is closed. Closing outright with unread bytes would make the kernel send a
///   reset, which can destroy the answer before the client reads it.
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
            arm(context, after: timeout, reason: "too slow to send its request")
        case .body:
            break
        case .end:
            requestComplete = true
            disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        switch part {
        case .head(let response):
            if response.headerFields[.connection]?.lowercased() == "close" { closing = true }
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
        if closing {
            // The answer is out: shut our side, drain theirs for a moment, then close.
            context.close(mode: .output, promise: nil)
            arm(context, after: linger, reason: nil)
        } else if requestComplete {
            arm(context, after: timeout, reason: "kept the connection idle too long")
        }
        // Else the answer came before the whole request (a refusal): the request's own
        // deadline, armed at its head, still runs.
    }

    private func arm(_ context: ChannelHandlerContext, after delay: TimeAmount, reason: String?) {
        disarm()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            if let reason { logger.debug("closing a connection that \(reason)") }
            context.close(promise: nil)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}
