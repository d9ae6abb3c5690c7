public import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore

/// Builds the Hummingbird application around the gateway: one port, HTTP/1.1, streaming bodies.
public enum HTTPServer {
    /// `fastPaths`: services that answer some requests below Hummingbird (`ConnectionFastPath`).
    public static func application(
        gateway: Gateway, host: String, port: Int, logger: Logger, fastPaths: [any ConnectionFastPath] = [],
        onRunning: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        var http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [ExpectContinueHandler()])
        // Larger than AWS's 8 KiB so oversized headers get an AWS-shaped error from the gateway
        // instead of a dropped connection.
        http1.httpDecoder = .init(maxHeaderFieldSize: 256 * 1024, maxHeaderListSize: 1024 * 1024, maxHeaderFieldCount: 2000)
        let channelConfiguration = http1
        return Application(
            responder: gateway,
            server: HTTPServerBuilder { responder in
                BelowCodecChannel(
                    inner: EventLoopBoundChannel(inner: LargeReadChannel(inner: HTTP1Channel(responder: responder, configuration: channelConfiguration))),
                    handlers: { fastPaths.map { $0.makeHandler() } })
            },
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}

/// Lets a connection's reads grow to 1 MiB while a large body streams in (NIO stops at 64 KiB): a 64 MiB upload
/// then takes 64 reads, pipeline passes and file writes instead of 1024. Small requests keep small buffers (the
/// allocator doubles only after a read fills its buffer, and halves again after two short reads).
struct LargeReadChannel<Inner: ServerChildChannel>: ServerChildChannel {
    typealias Value = Inner.Value
    static var maximumRead: Int { 1 << 20 }
    let inner: Inner

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.setOption(ChannelOptions.recvAllocator,
                          value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: Self.maximumRead))
            .flatMap { inner.setup(channel: channel, logger: logger) }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
