import Core
import Foundation

/// RegisterTargets, DeregisterTargets and DescribeTargetHealth.
extension ELBv2Service {
    static func targets(_ input: ELBv2Input) throws -> [LoadBalancedTarget] {
        let members = input.members("Targets")
        guard !members.isEmpty else {
            throw ELBv2Error.validation("1 validation error detected: Value null at 'targets' failed to satisfy constraint: Member must not be null")
        }
        return try members.map { p in
            guard let id = input["\(p).Id"], !id.isEmpty else { throw ELBv2Error.validation("A target ID must be specified") }
            return LoadBalancedTarget(id: id, port: try input.int("\(p).Port"))
        }
    }

    /// RegisterTargets, for the API and for `LoadBalancerTargets`.
    func register(_ arn: String, _ targets: [LoadBalancedTarget], account: String?) throws {
        let now = clock.now()
        try store.update { s in
            guard var tg = s.targetGroups[arn], account == nil || tg.account == account else { throw ELBv2Error.targetGroupNotFound() }
            for t in targets {
                if tg.targetType == "lambda" {
                    guard t.port == nil else { throw ELBv2Error.invalidTarget("A port cannot be specified for a Lambda target") }
                    guard t.id.hasPrefix("arn:aws:lambda:") else { throw ELBv2Error.invalidTarget("The target ID '\(t.id)' is not a Lambda function ARN") }
                    if tg.targets.contains(where: { $0.id != t.id && $0.drainingUntil == nil }) { throw ELBv2Error.tooManyTargets() }
                } else {
                    if tg.targetType == "ip", !IPAddress.isIPv4(t.id) {
                        throw ELBv2Error.validation("The IP address '\(t.id)' is not a valid IPv4 address")
                    }
                    guard t.port != nil || tg.port != nil else { throw ELBv2Error.validation("A port must be specified") }
                    if let p = t.port, !(1...65535).contains(p) { throw ELBv2Error.validation("Port must be between 1 and 65535") }
                }
                let port = t.port ?? tg.port
                if let i = tg.targets.firstIndex(where: { $0.id == t.id && ($0.port ?? tg.port) == port }) {
                    tg.targets[i].drainingUntil = nil  // registered again while draining: back in service
                } else {
                    guard tg.targets.count < 1000 else { throw ELBv2Error.tooManyTargets() }
                    tg.targets.append(RegisteredTarget(id: t.id, port: port, drainingUntil: nil))
                }
            }
            s.targetGroups[arn] = tg
        }
        _ = now
        runtime.registered(targetGroup: arn, targets.map { $0.id })
    }

    /// DeregisterTargets: each target drains for the deregistration delay (emulator clock), then is gone.
    func deregister(_ arn: String, _ targets: [LoadBalancedTarget], account: String?) throws {
        let now = clock.now()
        try store.update { s in
            guard var tg = s.targetGroups[arn], account == nil || tg.account == account else { throw ELBv2Error.targetGroupNotFound() }
            let delay = Double(tg.attributes["deregistration_delay.timeout_seconds"] ?? "300") ?? 300
            for t in targets {
                let port = t.port ?? tg.port
                guard let i = tg.targets.firstIndex(where: { $0.id == t.id && ($0.port == port || t.port == nil) }) else {
                    throw ELBv2Error.invalidTarget("The following targets are not registered: '\(t.id)'")
                }
                if tg.targets[i].drainingUntil != nil { continue }
                // Not in use by a load balancer, or no delay: gone at once.
                if delay <= 0 || Self.loadBalancerARNs(of: arn, s).isEmpty {
                    tg.targets.remove(at: i)
                } else {
                    tg.targets[i].drainingUntil = now + delay
                }
            }
            s.targetGroups[arn] = tg
        }
    }

    func registerTargets(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        try register(try input.required("TargetGroupArn"), try Self.targets(input), account: caller.account)
        return nil
    }

    func deregisterTargets(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        try deregister(try input.required("TargetGroupArn"), try Self.targets(input), account: caller.account)
        return nil
    }

    func describeTargetHealth(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let arn = try input.required("TargetGroupArn")
        runtime.purgeDrained()
        let s = store.snapshot
        guard let tg = s.targetGroups[arn], tg.account == caller.account else { throw ELBv2Error.targetGroupNotFound() }
        let asked = input.members("Targets").compactMap { p in
            input["\(p).Id"].map { LoadBalancedTarget(id: $0, port: Int(input["\(p).Port"] ?? "")) }
        }
        let inUse = !Self.loadBalancerARNs(of: arn, s).isEmpty
        var rows: [(RegisteredTarget, TargetHealthDescription)] = []
        if asked.isEmpty {
            rows = tg.targets.map { ($0, runtime.describe(tg, $0, inUse: inUse)) }
        } else {
            for a in asked {
                if let t = tg.targets.first(where: { $0.id == a.id && (a.port == nil || $0.port == a.port) }) {
                    rows.append((t, runtime.describe(tg, t, inUse: inUse)))
                } else {
                    rows.append((RegisteredTarget(id: a.id, port: a.port ?? tg.port),
                                 TargetHealthDescription(state: .unused, reason: "Target.NotRegistered",
                                                         description: "Target is not registered to the target group")))
                }
            }
        }
        return { xml in
            xml.group("TargetHealthDescriptions") { xml in
                for (t, h) in rows {
                    xml.group("member") { xml in
                        xml.group("Target") { xml in
                            xml.element("Id", t.id)
                            if let p = t.port { xml.element("Port", p) }
                        }
                        if tg.targetType != "lambda" {
                            xml.element("HealthCheckPort", tg.healthCheck.port == "traffic-port" ? t.port.map(String.init) : tg.healthCheck.port)
                        }
                        xml.group("TargetHealth") { xml in
                            xml.element("State", h.state.rawValue)
                            xml.element("Reason", h.reason)
                            xml.element("Description", h.description)
                        }
                    }
                }
            }
        }
    }
}

/// A target's state as DescribeTargetHealth says it.
struct TargetHealthDescription: Sendable, Equatable {
    var state: LoadBalancedTargetState
    var reason: String?
    var description: String?
}

enum IPAddress {
    static func isIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in !p.isEmpty && p.count <= 3 && p.allSatisfy(\.isNumber) && Int(p)! <= 255 }
    }
}
