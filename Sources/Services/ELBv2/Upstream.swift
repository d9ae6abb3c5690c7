import Core
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// One HTTP/1.1 exchange with a target: on an idle kept-alive connection from the pool when there is one, else on
/// a new one (pooled when the pool admits it, else one-shot with `Connection: close`). The request body streams
/// out, then the response head is awaited (up to the idle timeout) and its body streams back as the client reads it;
/// after a clean end a pooled connection goes back to the pool.
enum Upstream {
    /// Answers arrive a read at a time (`ReadBatcher`).
    typealias Connection = NIOAsyncChannel<[HTTPClientResponsePart], HTTPClientRequestPart>

    enum Failure: Error {
        case connect(String), sendFailed(String), timeout, protocolError
        /// A reused connection was found closed before any answer byte, with the request still replayable.
        case stale
    }

    /// On the caller's event loop when it runs on one (a listener's or Cloudless's connection task): the request, the
    /// exchange with the target and the answer then stay on one thread.
    static func connect(host: String, port: Int, timeout: TimeAmount) async throws -> Connection {
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.next()
        do {
            return try await ClientBootstrap(group: loop)
                .connectTimeout(timeout)
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(ReadBatcher())
                        return try Connection(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw Failure.connect("\(error)")
        }
    }

    /// The same as an `EventLoopFuture`, on `loop` (the listener's fast path, which awaits nothing).
    static func connect(host: String, port: Int, on loop: any EventLoop) -> EventLoopFuture<Connection> {
        ClientBootstrap(group: loop)
            .connectTimeout(.seconds(5))
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ReadBatcher())
                }
            }
            .connect(host: host, port: port)
            .flatMapThrowing { channel in try Connection(wrappingChannelSynchronously: channel) }
    }

    /// How a target's answer ends: its Content-Length, whether it is chunked, and whether it ends by that framing
    /// (else by the connection closing, which leaves the connection unfit to keep).
    static func framing(_ head: HTTPResponseHead, method: String) -> (length: Int?, chunked: Bool, framed: Bool) {
        let length = head.headers.first(name: "content-length").flatMap { Int($0) }
        let chunked = head.headers["transfer-encoding"].contains { $0.lowercased().contains("chunked") }
        let code = Int(head.status.code)
        return (length, chunked, length != nil || chunked || method == "HEAD" || code == 204 || code == 304 || (100..<200).contains(code))
    }

    /// Hop-by-hop headers a proxy does not pass on.
    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"]

    /// The response head and a body that streams from the target; throws `Failure`. A reused connection found
    /// closed is replaced by a new one once when the request can be sent again. A request without a body is sent
    /// once more on a new connection when the first one was closed under it before the request went out.
    /// `oneShot`: never on a new pooled connection (health checks: they only borrow idle ones). `relayed` runs once the
    /// answer's body has been passed on (at once when it came whole with its head), only when an answer is returned.
    static func exchange(pool: UpstreamPool?, host: String, port: Int, method: String, uri: String, headers: HTTPFields,
                         body: RequestBody?, timeoutSeconds: Double, oneShot: Bool = false,
                         relayed: @escaping @Sendable () -> Void = {}) async throws -> AWSResponse {
        let key = "\(host):\(port)"
        let bodiless = body == nil || (headers.value("content-length").map { $0 == "0" } ?? (headers.value("transfer-encoding") == nil))
        let request = Outgoing(method: method, uri: uri, headers: headers, bodiless: bodiless, timeoutSeconds: timeoutSeconds,
                               relayed: relayed)
        func fresh(_ body: RequestBody?) async throws -> AWSResponse {
            let c = try await connect(host: host, port: port, timeout: .seconds(5))
            let pooled = !oneShot && pool?.admit(key) == true
            let link = UpstreamLink(c, key: key, opened: pool?.now() ?? 0, pooled: pooled)
            return try await request.send(on: link, reused: false, body: body, pool: pool)
        }
        var body = body
        if let pool, let link = pool.take(key) {
            do {
                return try await request.send(on: link, reused: true, body: body, pool: pool)
            } catch Failure.stale {
                // Closed by the target between requests: once more on a new connection (a read body is not replayed).
                if bodiless { body = nil }
            }
        }
        do {
            return try await fresh(body)
        } catch Failure.sendFailed where bodiless {
            // Rarely (about once in thousands, under load) a fresh connection to a task's forwarded port is closed
            // before the request goes out, twice in a row (cause not found yet): one more attempt after a short pause.
            do {
                return try await fresh(nil)
            } catch Failure.sendFailed {
                try? await Task.sleep(for: .milliseconds(20))
                return try await fresh(nil)
            }
        }
    }

    /// Just the status code (health checks): the body is read and dropped.
    static func status(pool: UpstreamPool?, host: String, port: Int, path: String, timeoutSeconds: Double) async -> HealthCheckResult {
        let response: AWSResponse
        do {
            var headers = HTTPFields()
            headers[HTTPField.Name("Host")!] = "\(host):\(port)"
            headers[.userAgent] = "ELB-HealthChecker/2.0"
            response = try await exchange(pool: pool, host: host, port: port, method: "GET", uri: path, headers: headers, body: nil,
                                          timeoutSeconds: timeoutSeconds, oneShot: true)
        } catch Failure.timeout {
            return .timeout
        } catch {
            return .failed
        }
        try? await response.body.write(DiscardingWriter())
        return .responseCode(response.status.code)
    }
}

/// A request as it goes to a target, on one connection.
struct Outgoing: Sendable {
    let method: String
    let uri: String
    let headers: HTTPFields
    let bodiless: Bool
    let timeoutSeconds: Double
    let relayed: @Sendable () -> Void

    func send(on link: UpstreamLink, reused: Bool, body: RequestBody?, pool: UpstreamPool?) async throws -> AWSResponse {
        let connection = link.connection
        let channel = connection.channel
        @Sendable func drop() { if let pool { pool.discard(link) } else { link.close() } }
        let timedOut = Atomic<Bool>(false)
        let timer = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeoutSeconds * 1000))) {
            timedOut.store(true, ordering: .relaxed)
            channel.close(promise: nil)
        }
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: uri)
        var hasLength = false
        for f in headers where !Upstream.hopByHop.contains(f.name.canonicalName) {
            head.headers.add(name: f.name.rawName, value: f.value)
            if f.name.canonicalName == "content-length" { hasLength = true }
        }
        if !link.pooled { head.headers.replaceOrAdd(name: "connection", value: "close") }
        let streamed = body != nil && !hasLength && headers.value("transfer-encoding") != nil
        if streamed { head.headers.add(name: "transfer-encoding", value: "chunked") }
        // The body can be sent again as long as none of it was read.
        var bodyRead = false
        var replayable: Bool { bodiless || !bodyRead }
        // A target may answer and close as soon as it has the head (a GET needs no more): a write failing then
        // does not mean the request was not served, so the answer is read before anything is concluded. (Writing
        // the head and the end apart made such a close fail the end's write with "I/O on closed channel": the
        // request was then sent again, or answered 502.)
        var sendError: (any Error)?
        do {
            if let body, hasLength || streamed {
                try await connection.outbound.write(.head(head))
                bodyRead = true
                for try await chunk in body { try await connection.outbound.write(.body(.byteBuffer(chunk))) }
                try await connection.outbound.write(.end(nil))
            } else {
                try await connection.outbound.write(contentsOf: [.head(head), .end(nil)])
            }
            if !link.pooled { connection.outbound.finish() }
        } catch {
            sendError = error
            channel.close(promise: nil)  // what the target already sent is still read
        }
        let first: HTTPClientResponsePart?
        do { first = try await link.reader.next() } catch { first = nil }
        timer.cancel()
        guard case .head(let responseHead) = first else {
            drop()
            if timedOut.load(ordering: .relaxed) { throw Upstream.Failure.timeout }
            if reused && replayable { throw Upstream.Failure.stale }
            if let sendError { throw Upstream.Failure.sendFailed("\(sendError)") }
            throw Upstream.Failure.protocolError
        }
        var fields = HTTPFields()
        for (name, value) in responseHead.headers where !Upstream.hopByHop.contains(name.lowercased()) {
            if let n = HTTPField.Name(name) { fields.append(HTTPField(name: n, value: value)) }
        }
        if !responseHead.isKeepAlive { pool?.markNoKeepAlive(link.key) }
        let (length, chunked, framed) = Upstream.framing(responseHead, method: method)
        let keep = link.pooled && responseHead.isKeepAlive && framed && pool != nil && sendError == nil
        let code = Int(responseHead.status.code)
        let status = HTTPResponse.Status(code: code, reasonPhrase: responseHead.status.reasonPhrase)
        let reader = link.reader
        // The whole answer came in the read that brought its head: passed on as one buffer (head and body in one write
        // to the client), the connection back in the pool before the client has it. Only with a length or chunks: a
        // buffer sets Content-Length, which a bodiless answer that gave none must not get.
        if length != nil || chunked, let whole = reader.takeWholeBody() {
            if keep, !reader.hasBuffered, let pool { pool.giveBack(link) } else { drop() }
            relayed()
            return AWSResponse(status: status, headers: fields, bytes: whole)
        }
        let relayed = self.relayed
        let responseBody = ResponseBody(contentLength: length) { writer in
            var ended = false
            defer {
                if !ended { drop() }
                relayed()
            }
            while let part = try await reader.next() {
                switch part {
                case .body(let buffer): try await writer.write(buffer)
                case .end:
                    ended = true
                    if keep, let pool { pool.giveBack(link) } else { drop() }
                    try await writer.finish(nil)
                    return
                case .head: throw Upstream.Failure.protocolError
                }
            }
            try await writer.finish(nil)
        }
        return AWSResponse(status: status, headers: fields, body: responseBody)
    }
}

struct DiscardingWriter: ResponseBodyWriter {
    mutating func write(_ buffer: ByteBuffer) async throws {}
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
