import Core
import NIOCore
import NIOPosix

/// A network load balancer's TCP listener: each connection is joined to a target chosen by the listener's forward
/// action (same event loop, bytes passed both ways with back-pressure, half-closes passed on).
final class TCPForwarder: Sendable {
    let channel: any Channel
    let port: Int

    private init(channel: any Channel, port: Int) {
        self.channel = channel
        self.port = port
    }

    static func bind(port: Int, listenerARN: String, plane: DataPlane) async throws -> TCPForwarder {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { child in
                guard let (host, targetPort) = plane.tcpTarget(listenerARN: listenerARN) else { return child.close() }
                return ClientBootstrap(group: child.eventLoop)
                    .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                    .connectTimeout(.seconds(5))
                    .connect(host: host, port: targetPort)
                    .flatMap { peer in
                        child.eventLoop.makeCompletedFuture {
                            let (a, b) = GlueHandler.matchedPair()
                            try child.pipeline.syncOperations.addHandler(a)
                            try peer.pipeline.syncOperations.addHandler(b)
                        }
                    }
                    .flatMapError { _ in child.close() }
            }
            .bind(host: "127.0.0.1", port: port).get()
        return TCPForwarder(channel: channel, port: channel.localAddress?.port ?? port)
    }

    func close() { channel.close(promise: nil) }
}

extension DataPlane {
    /// Where a new TCP connection goes: the default forward action's weighted group, then a target.
    func tcpTarget(listenerARN: String) -> (String, Int)? {
        let s = store.snapshot
        guard let l = s.listeners[listenerARN], let a = l.defaultActions.first(where: { $0.type == "forward" }),
              let i = WeightedChoice.pick(a.targetGroups.map(\.weight), roll: Double.random(in: 0..<1)),
              let tg = s.targetGroups[a.targetGroups[i].arn], let t = pick(tg, sticky: nil), let port = t.port ?? tg.port else { return nil }
        return (tg.targetType == "ip" || IPAddress.isIPv4(t.id) ? t.id : "127.0.0.1", port)
    }
}

/// Joins two channels on one event loop (the shape of SwiftNIO's connect-proxy example).
final class GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    static func matchedPair() -> (GlueHandler, GlueHandler) {
        let a = GlueHandler(), b = GlueHandler()
        a.partner = b
        b.partner = a
        return (a, b)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    private func partnerWrite(_ data: NIOAny) { context?.write(data, promise: nil) }
    private func partnerFlush() { context?.flush() }
    private func partnerWriteEOF() { context?.close(mode: .output, promise: nil) }
    private func partnerCloseFull() { context?.close(promise: nil) }
    private var partnerWritable: Bool { context?.channel.isWritable ?? false }

    private func partnerBecameWritable() {
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { partner?.partnerWrite(data) }
    func channelReadComplete(context: ChannelHandlerContext) { partner?.partnerFlush() }
    func channelInactive(context: ChannelHandlerContext) { partner?.partnerCloseFull() }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, case .inputClosed = e { partner?.partnerWriteEOF() }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { partner?.partnerCloseFull() }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
    }

    func read(context: ChannelHandlerContext) {
        if partner?.partnerWritable ?? false { context.read() } else { pendingRead = true }
    }
}
