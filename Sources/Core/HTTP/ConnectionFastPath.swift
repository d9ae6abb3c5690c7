public import HummingbirdCore
public import Logging
public import NIOCore
import NIOHTTPTypesHTTP1

/// Requests a service answers below Hummingbird, in a NIO handler on the connection's event loop (the load balancers'
/// fast path: `FastForward` in ELBv2). The handler sits between NIO's HTTP/1 codec (it reads `HTTPServerRequestPart`s
/// and writes `HTTPServerResponsePart`s) and Hummingbird's, and passes up every request it does not take, keeping
/// answers in request order. Requests it takes skip the gateway: no request log entry, no log line, no snapshot gate.
public protocol ConnectionFastPath: Sendable {
    /// A handler for one new connection of Cloudless's port.
    func makeHandler() -> any RemovableChannelHandler
}

/// A child channel whose handlers from `handlers` sit just below Hummingbird's HTTP codec (`ConnectionFastPath`).
public struct BelowCodecChannel<Inner: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Inner.Value
    let inner: Inner
    let handlers: @Sendable () -> [any RemovableChannelHandler]

    public init(inner: Inner, handlers: @escaping @Sendable () -> [any RemovableChannelHandler]) {
        self.inner = inner
        self.handlers = handlers
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { [handlers] value in
            let made = handlers()
            guard !made.isEmpty else { return value }
            let codec = try channel.pipeline.syncOperations.handler(type: HTTP1ToHTTPServerCodec.self)
            for h in made { try channel.pipeline.syncOperations.addHandler(h, position: .before(codec)) }
            return value
        }
    }

    public func handle(value: Value, logger: Logger) async { await inner.handle(value: value, logger: logger) }
}
