public import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore

/// Builds the Hummingbird application around the gateway: one port, HTTP/1.1, streaming bodies.
public enum HTTPServer {
    public static func application(
        gateway: Gateway, host: String, port: Int, logger: Logger,
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
                EventLoopBoundChannel(inner: HTTP1Channel(responder: responder, configuration: channelConfiguration))
            },
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}
