import Core
import Foundation
import HTTPTypes

/// One health check of one target: on an idle kept-alive connection to it when there is one (so a check never
/// waits behind our own connection at a target that serves one connection at a time), else on its own.
enum HealthChecker {
    static func check(_ tg: TargetGroup, _ t: RegisteredTarget, pool: UpstreamPool?) async -> HealthCheckResult {
        let h = tg.healthCheck
        guard let trafficPort = t.port ?? tg.port else { return .failed }
        let port = h.port == "traffic-port" ? trafficPort : (Int(h.port) ?? trafficPort)
        let host = DataPlane.address(tg, t)
        if h.protocol == "TCP" {
            guard let c = try? await Upstream.connect(host: host, port: port, timeout: .seconds(Int64(h.timeoutSeconds))) else { return .failed }
            c.outbound.finish()
            try? await c.channel.close()
            return .success
        }
        let result = await Upstream.status(pool: pool, host: host, port: port, path: h.path ?? "/", timeoutSeconds: Double(h.timeoutSeconds))
        if case .responseCode(let code) = result {
            let matcher = (try? Matcher.parse(h.matcher ?? "200")) ?? Matcher(ranges: [200...200])
            return matcher.matches(code) ? .success : .responseCode(code)
        }
        return result
    }
}
