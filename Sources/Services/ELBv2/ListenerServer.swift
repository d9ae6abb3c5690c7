import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A listener's own loopback port: its Port when free on 127.0.0.1, else one the system picks. HTTP listeners serve
/// `DataPlane.serve`; TCP listeners (network load balancers) forward bytes to a target (`TCPForwarder`).
final class ListenerServer: Sendable {
    let listenerARN: String
    let requestedPort: Int
    let protocolName: String
    private let plane: DataPlane
    private let running = Mutex<(task: Task<Void, Never>?, address: String?, tcp: TCPForwarder?)>((nil, nil, nil))

    init(listenerARN: String, port: Int, protocolName: String, plane: DataPlane) {
        self.listenerARN = listenerARN
        self.requestedPort = port
        self.protocolName = protocolName
        self.plane = plane
    }

    var address: String? { running.withLock { $0.address } }

    func start() async {
        if ["TCP", "TLS", "TCP_UDP"].contains(protocolName) {
            for port in [requestedPort, 0] {
                if let f = try? await TCPForwarder.bind(port: port, listenerARN: listenerARN, plane: plane) {
                    running.withLock { $0 = (nil, "127.0.0.1:\(f.port)", f) }
                    return
                }
            }
            plane.logger.warning("could not bind listener", metadata: ["listener": "\(listenerARN)"])
            return
        }
        for port in [requestedPort, 0] {
            if let (task, bound) = await bindHTTP(port: port) {
                running.withLock { $0 = (task, "127.0.0.1:\(bound)", nil) }
                return
            }
        }
        plane.logger.warning("could not bind listener", metadata: ["listener": "\(listenerARN)"])
    }

    /// The server task and its port once it listens; nil when the port cannot be bound.
    private func bindHTTP(port: Int) async -> (Task<Void, Never>, Int)? {
        let signal = Once<Int?>()
        // The connection's task runs on its event loop, as do the connections to targets it opens: no thread hop
        // between reading the request, asking the target and writing the answer.
        let app = Application(
            responder: ListenerResponder(listenerARN: listenerARN, plane: plane),
            server: HTTPServerBuilder { [listenerARN, plane] responder in
                BelowCodecChannel(inner: EventLoopBoundChannel(inner: HTTP1Channel(responder: responder))) {
                    [FastForward(entry: .listener(listenerARN), plane: plane)]
                }
            },
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { channel in signal.fulfil(channel.localAddress?.port) },
            logger: Logger(label: "elbv2.listener", factory: { _ in SwiftLogNoOpLogHandler() }))
        let task = Task {
            do { try await app.run() } catch {}
            signal.fulfil(nil)
        }
        guard let bound = await signal.value else {
            task.cancel()
            return nil
        }
        return (task, bound)
    }

    func stop() async {
        let (task, _, tcp) = running.withLock { r in defer { r = (nil, nil, nil) }; return r }
        task?.cancel()
        await task?.value
        tcp?.close()
    }
}

/// A value set once and awaited.
final class Once<T: Sendable>: Sendable {
    private let state = Mutex<(value: T?, set: Bool, waiters: [CheckedContinuation<T, Never>])>((nil, false, []))

    func fulfil(_ value: T) {
        let waiters = state.withLock { s -> [CheckedContinuation<T, Never>] in
            guard !s.set else { return [] }
            s.value = value
            s.set = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume(returning: value) }
    }

    var value: T {
        get async {
            await withCheckedContinuation { c in
                let now = state.withLock { s -> T? in
                    if s.set { return s.value }
                    s.waiters.append(c)
                    return nil
                }
                if let now { c.resume(returning: now) }
            }
        }
    }
}

struct ListenerContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?
    let localPort: Int

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        localPort = source.channel.localAddress?.port ?? 80
    }
}

struct ListenerResponder: HTTPResponder {
    typealias Context = ListenerContext
    let listenerARN: String
    let plane: DataPlane

    func respond(to request: Request, context: ListenerContext) async throws -> Response {
        let target = request.head.path ?? "/"
        let (path, query) = target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) } ?? (target, "")
        var headers = request.headers
        if headers[DataPlane.hostField] == nil, let authority = request.head.authority { headers[DataPlane.hostField] = authority }
        let r = await plane.serve(listenerARN: listenerARN, ProxyRequest(
            method: request.method, rawPath: path, rawQuery: query, headers: headers, body: request.body,
            sourceIP: context.remoteAddress?.ipAddress ?? "127.0.0.1", port: context.localPort))
        return Response(status: r.status, headers: r.headers, body: r.body)
    }
}

