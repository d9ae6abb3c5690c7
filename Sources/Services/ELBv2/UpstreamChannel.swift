import NIOCore
import NIOHTTP1
import NIOPosix

/// Passes the answer's parts on a read at a time: a small answer (head, body and end in one read) reaches the
/// proxy as one element, which it relays as one buffer instead of awaiting each part.
///
/// A read that leaves the answer unfinished is acknowledged at once: a target that writes a head and then a body in
/// two small packets without TCP_NODELAY holds the body (Nagle) until the head is acknowledged, and on a connection
/// kept alive Linux delays that acknowledgement by up to 40 ms; asking for a quick ACK sends it straight away. A
/// read that ends the answer needs none (the target waits for nothing more), which saves a system call per answer.
///
/// While the listener's fast path (`FastForward`) holds the connection, the parts go to its `divert` instead of up to
/// the async channel, and it can hold the reads while its client cannot take more.
final class ReadBatcher: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias InboundOut = [HTTPClientResponsePart]
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    enum Event {
        case parts([HTTPClientResponsePart])
        /// The connection closed (after the parts it brought).
        case closed
    }

    static let quickAck = ChannelOptions.Types.SocketOption(level: .init(rawValue: CInt(IPPROTO_TCP)), name: .init(rawValue: CInt(TCP_QUICKACK)))

    private var parts: [HTTPClientResponsePart] = []
    var divert: ((Event) -> Void)?
    private var paused = false
    private var readPending = false
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        parts.append(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        var finished = false
        if case .end = parts.last { finished = true }
        if !finished { try? context.channel.syncOptions?.setOption(Self.quickAck, value: 1) }
        pass(context)
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        pass(context)
        if let divert {
            self.divert = nil
            divert(.closed)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        pass(context)
        if divert != nil { context.close(promise: nil) }  // the fast path learns of it as a close
        context.fireErrorCaught(error)
    }

    func read(context: ChannelHandlerContext) {
        if paused { readPending = true } else { context.read() }
    }

    /// The fast path's request, written below the async channel (which is idle while the fast path holds it);
    /// `written` runs once it has gone out whole.
    func send(_ head: HTTPRequestHead, written: @escaping () -> Void) {
        guard let context else { return }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.assumeIsolated().whenSuccess { written() }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func pause() { paused = true }

    func resume() {
        paused = false
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    /// Parts read but not passed on yet.
    var hasBuffered: Bool { !parts.isEmpty }

    private func pass(_ context: ChannelHandlerContext) {
        guard !parts.isEmpty else { return }
        let batch = parts
        parts = []
        if let divert { divert(.parts(batch)) } else { context.fireChannelRead(wrapInboundOut(batch)) }
    }
}

/// The connection's inbound parts, read first for the head and then for the body, never at once.
final class ResponseReader: @unchecked Sendable {
    private var iterator: NIOAsyncChannelInboundStream<[HTTPClientResponsePart]>.AsyncIterator
    /// What the last read brought and was not taken yet.
    private var buffered: ArraySlice<HTTPClientResponsePart> = []

    init(_ iterator: NIOAsyncChannelInboundStream<[HTTPClientResponsePart]>.AsyncIterator) { self.iterator = iterator }

    func next() async throws -> HTTPClientResponsePart? {
        while buffered.isEmpty {
            guard let batch = try await iterator.next() else { return nil }
            buffered = batch[...]
        }
        return buffered.popFirst()
    }

    var hasBuffered: Bool { !buffered.isEmpty }

    /// The body up to its end when all of it is already here (taken), else nil (nothing taken).
    func takeWholeBody() -> ByteBuffer? {
        guard let end = buffered.firstIndex(where: { if case .end = $0 { return true } else { return false } }) else { return nil }
        var out: ByteBuffer?
        for case .body(var buffer) in buffered[..<end] {
            if out == nil { out = buffer } else { out!.writeBuffer(&buffer) }
        }
        buffered = buffered[(end + 1)...]
        return out ?? ByteBuffer()
    }
}
