import Core
import NIOCore
import NIOHTTP1
import NIOPosix

/// One request to the Lambda Runtime API (`/2018-06-01/runtime/...`) from a function instance.
struct RuntimeRequest: Sendable {
    var method: HTTPMethod
    var path: String
    var headers: HTTPHeaders
    var body: ByteBuffer
}

struct RuntimeReply: Sendable {
    var status: HTTPResponseStatus
    var headers: [(String, String)] = []
    var body: ByteBuffer = ByteBuffer()
}

/// The Runtime API endpoint of one instance: a loopback listener on its own port, so any runtime client works as in
/// AWS (`AWS_LAMBDA_RUNTIME_API` is a bare host:port; clients in Rust or Swift accept nothing else).
final class RuntimeAPIServer: Sendable {
    let channel: any Channel
    let port: Int

    private init(channel: any Channel, port: Int) {
        self.channel = channel
        self.port = port
    }

    static func start(on group: any EventLoopGroup, handler: @escaping @Sendable (RuntimeRequest) async -> RuntimeReply) async throws -> RuntimeAPIServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try child.pipeline.syncOperations.addHandler(RuntimeHTTPHandler(handler: handler))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return RuntimeAPIServer(channel: channel, port: channel.localAddress?.port ?? 0)
    }

    func close() { channel.close(promise: nil) }
}

/// Collects a request and answers it with the instance's async handler; one request at a time per connection.
final class RuntimeHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let handler: @Sendable (RuntimeRequest) async -> RuntimeReply
    var head: HTTPRequestHead?
    var body = ByteBuffer()

    init(handler: @escaping @Sendable (RuntimeRequest) async -> RuntimeReply) { self.handler = handler }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            let request = RuntimeRequest(method: head.method, path: head.uri, headers: head.headers, body: body)
            let keepAlive = head.isKeepAlive
            let version = head.version
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let handler = self.handler
            let promise = context.eventLoop.makePromise(of: RuntimeReply.self)
            promise.completeWithTask { await handler(request) }
            promise.futureResult.whenSuccess { reply in
                let context = bound.value
                var headers = HTTPHeaders(reply.headers)
                headers.replaceOrAdd(name: "content-length", value: String(reply.body.readableBytes))
                if !reply.headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                    headers.replaceOrAdd(name: "content-type", value: "application/json")
                }
                context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: reply.status, headers: headers))), promise: nil)
                context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(reply.body))), promise: nil)
                context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in
                    if !keepAlive { bound.value.close(promise: nil) }
                }
            }
            self.head = nil
        }
    }
}
