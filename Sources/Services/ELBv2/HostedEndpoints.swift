import Core
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Requests by Host `<name>-<id>.<region>.elb.localhost` on Cloudless's own port reach the load balancer of that DNS
/// name (the gateway hands over any Host ending `.elb.localhost`); `GET /_cloudless/elbv2/listeners`
/// lists where each listener's own port is.
extension ELBv2Service: SnapshotParticipant {
    public var hostLabels: [String] { ["elb"] }

    public func hostedResponse(_ request: AWSRequest) async -> AWSResponse {
        switch Self.hostedListener(store.snapshot, host: request.host) {
        case .noLoadBalancer: return DataPlane.plain(.notFound, "404 Not Found")
        case .noListener: return DataPlane.plain(.serviceUnavailable, "503 Service Temporarily Unavailable")
        case .listener(let arn, let port):
            return await runtime.serve(listenerARN: arn, ProxyRequest(
                method: request.method, rawPath: request.rawPath, rawQuery: request.rawQuery, headers: request.headers, body: request.body,
                sourceIP: "127.0.0.1", port: port))
        }
    }

    enum HostedListener: Equatable {
        case listener(String, port: Int)
        case noLoadBalancer, noListener
    }

    /// The listener a Host (`<dns name>[:port]`) reaches on Cloudless's port: the load balancer's HTTP listener on the
    /// Host's port, else on port 80, else its first; and the port the client is taken to have used (80 unless given).
    static func hostedListener(_ s: ELBv2Store.State, host: String) -> HostedListener {
        let parts = host.split(separator: ":", maxSplits: 1)
        let name = parts.first.map { $0.lowercased() } ?? ""
        guard let lb = s.loadBalancers.values.first(where: { $0.dnsName.lowercased() == name }) else { return .noLoadBalancer }
        let explicitPort = parts.dropFirst().first.flatMap { Int($0) }
        let listeners = s.listeners.values.filter { $0.loadBalancerArn == lb.arn && ($0.protocol == "HTTP" || $0.protocol == "HTTPS") }
            .sorted { $0.port < $1.port }
        guard let listener = listeners.first(where: { $0.port == explicitPort }) ?? listeners.first(where: { $0.port == 80 }) ?? listeners.first else {
            return .noListener
        }
        return .listener(listener.arn, port: explicitPort ?? 80)
    }

    /// Plain GETs by Host to a load balancer on Cloudless's port take the listeners' fast path too (`FastForward`).
    public var fastPath: any ConnectionFastPath { HostedFastPath(plane: runtime) }

    /// `GET /_cloudless/elbv2/listeners` (the gateway asks its `routes`).
    public var routes: any InternalRoutes { ListenerAddresses(service: self) }

    func listenerAddresses() -> AWSResponse {
        let s = store.snapshot
        let rows: [[String: Any]] = runtime.boundAddresses.map { arn, address in
            var row: [String: Any] = ["listenerArn": arn, "address": address]
            if let l = s.listeners[arn] {
                row["port"] = l.port
                row["protocol"] = l.protocol
                row["loadBalancerArn"] = l.loadBalancerArn
                if let lb = s.loadBalancers[l.loadBalancerArn] { row["dnsName"] = lb.dnsName }
            }
            return row
        }
        let data = (try? JSONSerialization.data(withJSONObject: ["listeners": rows], options: [.sortedKeys])) ?? Data()
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return AWSResponse(status: .ok, headers: headers, bytes: ByteBuffer(bytes: data))
    }

    /// Once Cloudless listens: the listeners bind their ports and the health checks start.
    public func start() async { await runtime.start() }

    /// At shutdown.
    public func stop() async { await runtime.stop() }

    public func stopForRestore() async { await runtime.stop() }

    public func resumeAfterRestore() async throws {
        try store.load()
        await runtime.start()
    }
}

struct ListenerAddresses: InternalRoutes {
    let service: ELBv2Service

    func response(to request: Request, path: Substring, query: Substring) async -> Response? {
        guard request.method == .get, path == "/_cloudless/elbv2/listeners" else { return nil }
        let r = service.listenerAddresses()
        return Response(status: r.status, headers: r.headers, body: r.body)
    }
}

struct HostedFastPath: ConnectionFastPath {
    let plane: DataPlane
    func makeHandler() -> any RemovableChannelHandler { FastForward(entry: .byHost, plane: plane) }
}
