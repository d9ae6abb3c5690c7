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
        let s = store.snapshot
        let name = request.hostName.lowercased()
        guard let lb = s.loadBalancers.values.first(where: { $0.dnsName.lowercased() == name }) else {
            return DataPlane.plain(.notFound, "404 Not Found")
        }
        let explicitPort = request.host.split(separator: ":").dropFirst().first.flatMap { Int($0) }
        let listeners = s.listeners.values.filter { $0.loadBalancerArn == lb.arn && ($0.protocol == "HTTP" || $0.protocol == "HTTPS") }
            .sorted { $0.port < $1.port }
        guard let listener = listeners.first(where: { $0.port == explicitPort }) ?? listeners.first(where: { $0.port == 80 }) ?? listeners.first else {
            return DataPlane.plain(.serviceUnavailable, "503 Service Temporarily Unavailable")
        }
        return await runtime.serve(listenerARN: listener.arn, ProxyRequest(
            method: request.method, rawPath: request.rawPath, rawQuery: request.rawQuery, headers: request.headers, body: request.body,
            sourceIP: "127.0.0.1", port: explicitPort ?? 80))
    }

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
