import Core
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The load balancers' fast path, on each listener's own port and (by Host) on Cloudless's port. A plain GET (HTTP/1.1,
/// kept alive, no body) that the listener forwards to an ip or instance target without stickiness is relayed by NIO
/// handlers alone, on the connection's event loop: no request or response objects, no task, no async sequence on either
/// side. Its answer is passed on as it arrives, with the client's backpressure held on the target's reads. Everything
/// else goes on up the pipeline to Hummingbird's responder (`ListenerResponder`, or the gateway's `hostedResponse`,
/// then `DataPlane.serve`), which serves every case; the two share routing (`route`, `targetGroup`, `pick`), the pool
/// of kept-alive connections and its rules.
///
/// Sits between NIO's HTTP/1 codec and Hummingbird's `HTTP1ToHTTPServerCodec` (Core's `BelowCodecChannel`). Answers
/// leave in request order: a fast request waits while an earlier one is with Hummingbird (it then goes there too), and
/// requests pipelined behind a fast one wait (reads held) until its answer has ended.
final class FastForward: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Where requests come in: a listener's own port, or Cloudless's port (only Hosts of load balancers are taken).
    enum Entry {
        case listener(String)
        case byHost
    }

    let entry: Entry
    let plane: DataPlane

    /// Requests passed up whose answer has not ended yet.
    private var passedUp = 0
    private var exchange: FastExchange?
    /// Parts that came while a fast exchange was in flight, handled after it.
    private var queued = CircularBuffer<HTTPServerRequestPart>()
    /// The rest of a request the fast path took (its end) is not passed up.
    private var swallowing = false
    private var readPending = false
    private var context: ChannelHandlerContext?

    init(entry: Entry, plane: DataPlane) {
        self.entry = entry
        self.plane = plane
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    // MARK: The client's side

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if exchange != nil || !queued.isEmpty {
            queued.append(part)
            return
        }
        handle(part, context)
    }

    private func handle(_ part: HTTPServerRequestPart, _ context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            swallowing = false
            if passedUp == 0, let ex = start(head, context) {
                exchange = ex
                swallowing = true
                return
            }
            passedUp += 1
        case .body, .end:
            if swallowing {
                if case .end = part { swallowing = false }
                return
            }
        }
        context.fireChannelRead(wrapInboundOut(part))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { passedUp = max(0, passedUp - 1) }
        context.write(data, promise: promise)
    }

    /// Reads wait while a fast answer is in flight or requests behind it are queued (pipelining's backpressure).
    func read(context: ChannelHandlerContext) {
        if exchange != nil || !queued.isEmpty { readPending = true } else { context.read() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if let ex = exchange {
            if context.channel.isWritable { ex.batcher?.resume() } else { ex.batcher?.pause() }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let ex = exchange { finish(ex, clean: false) }
        queued.removeAll()
        context.fireChannelInactive()
    }

    /// The queued parts, until one starts a fast exchange again; then reads go on.
    private func resumeClient(_ context: ChannelHandlerContext) {
        var passed = false
        while exchange == nil, let part = queued.popFirst() {
            handle(part, context)
            passed = true
        }
        if passed { context.fireChannelReadComplete() }
        if exchange == nil, queued.isEmpty, readPending {
            readPending = false
            context.read()
        }
    }

    // MARK: Starting

    /// The exchange for a request the fast path takes, started; nil when it goes up to Hummingbird.
    private func start(_ head: HTTPRequestHead, _ context: ChannelHandlerContext) -> FastExchange? {
        guard head.method == .GET, head.version == .http1_1 else { return nil }
        let listenerARN: String, port: Int, sourceIP: String
        switch entry {
        case .listener(let arn):
            (listenerARN, port) = (arn, context.channel.localAddress?.port ?? 80)
            sourceIP = context.channel.remoteAddress?.ipAddress ?? "127.0.0.1"
        case .byHost:
            // As the gateway would hand it to `hostedResponse` (unsigned: a signed one is verified there).
            guard let host = head.headers.first(name: "host"), Self.isLoadBalancerHost(host), !head.uri.hasPrefix("/_cloudless/"),
                  !head.uri.hasPrefix("/_localstack/"), !head.headers.contains(name: "authorization"),
                  case .listener(let arn, let p) = ELBv2Service.hostedListener(plane.store.snapshot, host: host)
            else { return nil }
            (listenerARN, port, sourceIP) = (arn, p, "127.0.0.1")
        }
        guard head.isKeepAlive, Self.bodiless(head.headers) else { return nil }
        let s = plane.store.snapshot
        guard let (lb, action) = plane.route(s, listenerARN: listenerARN, facts: { Self.facts(head, $0, sourceIP) }),
              let action, action.type == "forward", !action.stickinessEnabled,
              let tg = DataPlane.targetGroup(action, s, groupCookie: nil), tg.targetType != "lambda",
              !tg.lbCookieStickiness
        else { return nil }
        guard let target = plane.pick(tg, sticky: nil) else {
            // Nothing to forward to: Hummingbird's path answers the 503.
            return nil
        }
        var headers = HTTPHeaders()
        for (name, value) in head.headers where !Upstream.hopByHop.contains(name.lowercased()) { headers.add(name: name, value: value) }
        headers.replaceOrAdd(name: "X-Forwarded-For", value: DataPlane.forwardedFor(head.headers.first(name: "X-Forwarded-For"), sourceIP))
        headers.replaceOrAdd(name: "X-Forwarded-Proto", value: "http")
        headers.replaceOrAdd(name: "X-Forwarded-Port", value: String(port))
        if !headers.contains(name: "X-Amzn-Trace-Id") { headers.add(name: "X-Amzn-Trace-Id", value: plane.newTraceID()) }
        let targetPort = target.port ?? tg.port ?? 80
        let ex = FastExchange(
            head: HTTPRequestHead(version: .http1_1, method: .GET, uri: head.uri, headers: headers),
            host: DataPlane.address(tg, target), port: targetPort, targetGroupARN: tg.arn, target: target,
            timeout: .milliseconds(Int64(DataPlane.idleTimeout(lb) * 1000)))
        plane.began(tg.arn, target)
        plane.fastRelayed.add(1, ordering: .relaxed)
        if let link = plane.pool.take(ex.key, onCallersLoop: true) {
            send(ex, on: link, reused: true, context)
        } else {
            connect(ex, context)
        }
        return ex
    }

    /// `<name>-<id>.<region>.elb.localhost[:port]`, as the gateway recognizes a load balancer's DNS name.
    static func isLoadBalancerHost(_ host: String) -> Bool {
        (host.split(separator: ":", maxSplits: 1).first ?? "").hasSuffix(".elb.localhost")
    }

    static func bodiless(_ headers: HTTPHeaders) -> Bool {
        !headers.contains(name: "transfer-encoding") && !headers.contains(name: "expect") && !headers.contains(name: "upgrade")
            && headers["content-length"].allSatisfy { $0 == "0" }
    }

    static func facts(_ head: HTTPRequestHead, _ lb: LoadBalancer, _ sourceIP: String) -> RequestFacts {
        let uri = head.uri
        let (path, query) = uri.firstIndex(of: "?").map { (String(uri[..<$0]), String(uri[uri.index(after: $0)...])) } ?? (uri, "")
        return RequestFacts(
            method: head.method.rawValue, path: Percent.decode(path) ?? path, host: head.headers.first(name: "Host") ?? lb.dnsName,
            headers: head.headers.map { ($0.name.lowercased(), $0.value) },
            query: Percent.parseQuery(query, plusIsSpace: true) ?? [], sourceIP: sourceIP)
    }

    // MARK: The target's side

    /// A new connection on this event loop, pooled when the pool admits it (else used once with `Connection: close`).
    private func connect(_ ex: FastExchange, _ context: ChannelHandlerContext) {
        let pooled = plane.pool.admit(ex.key)
        ex.attempts += 1
        let loop = context.eventLoop
        Upstream.connect(host: ex.host, port: ex.port, on: loop).hop(to: loop).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let connection):
                let link = UpstreamLink(connection, key: ex.key, opened: plane.pool.now(), pooled: pooled)
                guard exchange === ex, let context = self.context else {
                    plane.pool.discard(link)
                    return
                }
                send(ex, on: link, reused: false, context)
            case .failure(let error):
                if pooled { plane.pool.forget(ex.key) }
                guard exchange === ex, let context = self.context else { return }
                plane.logger.info("target did not answer", metadata: ["target": "\(ex.key)", "error": "\(error)"])
                answer(ex, DataPlane.plainHead(.badGateway, "502 Bad Gateway"), context)
            }
        }
    }

    private func send(_ ex: FastExchange, on link: UpstreamLink, reused: Bool, _ context: ChannelHandlerContext) {
        guard let batcher = try? link.connection.channel.pipeline.syncOperations.handler(type: ReadBatcher.self) else {
            plane.pool.discard(link)
            connect(ex, context)
            return
        }
        ex.link = link
        ex.reused = reused
        ex.batcher = batcher
        ex.timedOut = false
        ex.sent = false
        batcher.divert = { [unowned self, unowned ex] event in upstream(event, ex) }
        if !context.channel.isWritable { batcher.pause() }
        ex.timer = context.eventLoop.assumeIsolated().scheduleTask(in: ex.timeout) { [weak ex] in
            guard let ex, let link = ex.link else { return }
            ex.timedOut = true
            link.connection.channel.close(promise: nil)
        }
        var head = ex.head
        if !link.pooled { head.headers.replaceOrAdd(name: "connection", value: "close") }
        batcher.send(head) { [weak ex] in ex?.sent = true }
    }

    private func upstream(_ event: ReadBatcher.Event, _ ex: FastExchange) {
        guard exchange === ex, let context else { return }
        switch event {
        case .parts(let parts):
            for (i, part) in parts.enumerated() {
                guard exchange === ex else { break }  // ended, and anything after the end is not ours
                switch part {
                case .head(let head):
                    ex.timer?.cancel()
                    var headers = HTTPHeaders()
                    for (name, value) in head.headers where !Upstream.hopByHop.contains(name.lowercased()) { headers.add(name: name, value: value) }
                    if !head.isKeepAlive { plane.pool.markNoKeepAlive(ex.key) }
                    ex.framed = Upstream.framing(head, method: "GET").framed
                    ex.keep = ex.link?.pooled == true && head.isKeepAlive && ex.framed
                    ex.responded = true
                    context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: head.status, headers: headers))), promise: nil)
                case .body(let buffer):
                    context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                case .end:
                    context.write(wrapOutboundOut(.end(nil)), promise: nil)
                    // A part after the end (there should be none) leaves the connection in doubt: not kept.
                    if i != parts.count - 1 { ex.keep = false }
                    finish(ex, clean: true)
                }
            }
            context.flush()
            if exchange == nil { resumeClient(context) }
        case .closed:
            if ex.responded {
                // Closed mid-answer: an answer framed by the close has ended; any other is cut short, as is the client's.
                if ex.framed {
                    finish(ex, clean: false)
                    context.close(promise: nil)
                } else {
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                    finish(ex, clean: false)
                    resumeClient(context)
                }
                return
            }
            ex.timer?.cancel()
            if let link = ex.link { plane.pool.discard(link) }
            ex.link = nil
            ex.batcher = nil
            if ex.timedOut {
                answer(ex, DataPlane.plainHead(.gatewayTimeout, "504 Gateway Time-out"), context)
            } else if ex.reused || (!ex.sent && ex.attempts < 3) {
                // Closed before any answer: a kept-alive connection the target had let go, or (rarely) a new one
                // closed before the request went out; the GET is sent again on a new connection (the third after a
                // pause), as `Upstream.exchange` does. A new connection that took the request and closed is a 502.
                if ex.attempts == 2 {
                    context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(20)) { [weak self, weak ex] in
                        guard let self, let ex, self.exchange === ex, let context = self.context else { return }
                        self.connect(ex, context)
                    }
                } else {
                    connect(ex, context)
                }
            } else {
                answer(ex, DataPlane.plainHead(.badGateway, "502 Bad Gateway"), context)
            }
        }
    }

    /// An answer of the load balancer's own (502, 504) ends the exchange.
    private func answer(_ ex: FastExchange, _ plain: (HTTPResponseHead, ByteBuffer), _ context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(plain.0)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(plain.1))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        finish(ex, clean: false)
        resumeClient(context)
    }

    /// The exchange is over: the connection back in the pool after a clean end that keeps it, else closed.
    private func finish(_ ex: FastExchange, clean: Bool) {
        guard exchange === ex else { return }
        exchange = nil
        ex.timer?.cancel()
        if let batcher = ex.batcher {
            batcher.divert = nil
            batcher.resume()
        }
        if let link = ex.link {
            if clean && ex.keep && !(ex.batcher?.hasBuffered ?? false) { plane.pool.giveBack(link) } else { plane.pool.discard(link) }
        }
        ex.link = nil
        ex.batcher = nil
        plane.ended(ex.targetGroupARN, ex.target)
    }
}

/// One GET relayed on the fast path, and where it stands.
final class FastExchange {
    let head: HTTPRequestHead
    let host: String
    let port: Int
    let key: String
    let targetGroupARN: String
    let target: RegisteredTarget
    let timeout: TimeAmount
    var link: UpstreamLink?
    var batcher: ReadBatcher?
    var timer: Scheduled<Void>?
    var reused = false
    var timedOut = false
    /// The request has gone out whole on the current connection.
    var sent = false
    /// Connections opened for it.
    var attempts = 0
    /// The answer's head has gone to the client.
    var responded = false
    /// The answer ends by its framing (else by the target closing).
    var framed = true
    /// The connection goes back to the pool after the end.
    var keep = false

    init(head: HTTPRequestHead, host: String, port: Int, targetGroupARN: String, target: RegisteredTarget, timeout: TimeAmount) {
        self.head = head
        self.host = host
        self.port = port
        self.key = "\(host):\(port)"
        self.targetGroupARN = targetGroupARN
        self.target = target
        self.timeout = timeout
    }
}
