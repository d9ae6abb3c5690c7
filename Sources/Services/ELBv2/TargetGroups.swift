import Core
import Foundation

/// Create/Describe/Modify/DeleteTargetGroup and the target group attributes.
extension ELBv2Service {
    static func defaultHealthCheck(targetType: String, protocol: String?) -> HealthCheck {
        if targetType == "lambda" {
            return HealthCheck(enabled: false, protocol: "HTTP", port: "traffic-port", path: "/", intervalSeconds: 35, timeoutSeconds: 30,
                               healthyThreshold: 5, unhealthyThreshold: 2, matcher: "200")
        }
        if let p = `protocol`, ["TCP", "TLS", "UDP", "TCP_UDP"].contains(p) {
            return HealthCheck(enabled: true, protocol: "TCP", port: "traffic-port", path: nil, intervalSeconds: 30, timeoutSeconds: 10,
                               healthyThreshold: 5, unhealthyThreshold: 2, matcher: nil)
        }
        return HealthCheck(enabled: true, protocol: `protocol` ?? "HTTP", port: "traffic-port", path: "/", intervalSeconds: 30,
                           timeoutSeconds: 5, healthyThreshold: 5, unhealthyThreshold: 2, matcher: "200")
    }

    /// The health check settings of `input` over `base`, validated as AWS does.
    static func healthCheck(_ input: ELBv2Input, over base: HealthCheck) throws -> HealthCheck {
        var h = base
        if let e = input.bool("HealthCheckEnabled") { h.enabled = e }
        if let p = input["HealthCheckProtocol"] {
            guard ["HTTP", "HTTPS", "TCP"].contains(p) else { throw ELBv2Error.validation("Health check protocol '\(p)' is not supported") }
            h.protocol = p
            if p != "TCP", h.path == nil { h.path = "/" }
            if p != "TCP", h.matcher == nil { h.matcher = "200" }
        }
        if let p = input["HealthCheckPort"] {
            guard p == "traffic-port" || (Int(p).map { (1...65535).contains($0) } ?? false) else {
                throw ELBv2Error.validation("Health check port '\(p)' must be 'traffic-port' or a port between 1 and 65535")
            }
            h.port = p
        }
        if let p = input["HealthCheckPath"] {
            guard p.hasPrefix("/"), (1...1024).contains(p.count) else { throw ELBv2Error.validation("Health check path must begin with a '/' character, and can be at most 1024 characters in length") }
            h.path = p
        }
        if let i = try input.int("HealthCheckIntervalSeconds") {
            guard (5...300).contains(i) else { throw ELBv2Error.validation("Health check interval must be between 5 and 300 seconds") }
            h.intervalSeconds = i
        }
        if let t = try input.int("HealthCheckTimeoutSeconds") {
            guard (2...120).contains(t) else { throw ELBv2Error.validation("Health check timeout must be between 2 and 120 seconds") }
            h.timeoutSeconds = t
        }
        if let n = try input.int("HealthyThresholdCount") {
            guard (2...10).contains(n) else { throw ELBv2Error.validation("Healthy threshold count must be between 2 and 10") }
            h.healthyThreshold = n
        }
        if let n = try input.int("UnhealthyThresholdCount") {
            guard (2...10).contains(n) else { throw ELBv2Error.validation("Unhealthy threshold count must be between 2 and 10") }
            h.unhealthyThreshold = n
        }
        if let m = input["Matcher.HttpCode"] {
            _ = try Matcher.parse(m)
            h.matcher = m
        }
        guard h.timeoutSeconds < h.intervalSeconds else {
            throw ELBv2Error.invalidConfiguration("Health check timeout '\(h.timeoutSeconds)' must be smaller than the interval '\(h.intervalSeconds)'")
        }
        return h
    }

    func createTargetGroup(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let name = try input.required("Name")
        try Self.validateName(name, what: "Target group")
        let type = input["TargetType"] ?? "instance"
        guard ["ip", "instance", "lambda", "alb"].contains(type) else {
            throw ELBv2Error.validation("Value '\(type)' at 'targetType' failed to satisfy constraint: Member must satisfy enum value set: [instance, alb, ip, lambda]")
        }
        let proto = input["Protocol"]
        let port = try input.int("Port")
        if type != "lambda" {
            guard proto != nil else { throw ELBv2Error.validation("A protocol must be specified") }
            guard let port else { throw ELBv2Error.validation("A port must be specified") }
            guard (1...65535).contains(port) else { throw ELBv2Error.validation("Port must be between 1 and 65535") }
        } else if proto != nil || port != nil {
            throw ELBv2Error.validation("Protocol, port and VPC ID must not be specified for target groups with target type 'lambda'")
        }
        if let proto, !["HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP", "GENEVE"].contains(proto) {
            throw ELBv2Error.validation("Value '\(proto)' at 'protocol' failed to satisfy constraint: Member must satisfy enum value set: [HTTPS, TCP, TLS, UDP, TCP_UDP, HTTP, GENEVE]")
        }
        let health = try Self.healthCheck(input, over: Self.defaultHealthCheck(targetType: type, protocol: proto))
        let tg = try store.update { s -> TargetGroup in
            if let existing = s.targetGroups.values.first(where: { $0.name == name && $0.account == caller.account && $0.region == caller.region }) {
                guard existing.targetType == type, existing.protocol == proto, existing.port == port, existing.healthCheck == health else {
                    throw ELBv2Error.duplicateTargetGroup()
                }
                return existing
            }
            let tg = TargetGroup(arn: ARNs.prefix(caller.region, caller.account) + "targetgroup/\(name)/\(ARNs.id16())", name: name,
                                 account: caller.account, region: caller.region, targetType: type, protocol: proto, port: port,
                                 vpcId: type == "lambda" ? nil : (input["VpcId"] ?? Self.defaultVPC), healthCheck: health,
                                 attributes: TargetGroupAttributes.defaults(targetType: type, protocol: proto), targets: [], tags: input.tags())
            s.targetGroups[tg.arn] = tg
            return tg
        }
        let lbs = Self.loadBalancerARNs(of: tg.arn, store.snapshot)
        return { xml in xml.group("TargetGroups") { xml in xml.group("member") { Self.write(tg, lbs, &$0) } } }
    }

    /// The load balancers whose listeners or rules forward to the target group.
    static func loadBalancerARNs(of tgARN: String, _ s: ELBv2Store.State) -> [String] {
        var out = Set<String>()
        for l in s.listeners.values where l.defaultActions.contains(where: { $0.targetGroups.contains { $0.arn == tgARN } }) {
            out.insert(l.loadBalancerArn)
        }
        for r in s.rules.values where r.actions.contains(where: { $0.targetGroups.contains { $0.arn == tgARN } }) {
            if let l = s.listeners[r.listenerArn] { out.insert(l.loadBalancerArn) }
        }
        return out.sorted()
    }

    static func write(_ tg: TargetGroup, _ lbs: [String], _ xml: inout XMLWriter) {
        xml.element("TargetGroupArn", tg.arn)
        xml.element("TargetGroupName", tg.name)
        xml.element("Protocol", tg.protocol)
        if let p = tg.port { xml.element("Port", p) }
        xml.element("VpcId", tg.vpcId)
        let h = tg.healthCheck
        xml.element("HealthCheckProtocol", h.protocol)
        xml.element("HealthCheckPort", h.port)
        xml.element("HealthCheckEnabled", h.enabled)
        xml.element("HealthCheckIntervalSeconds", h.intervalSeconds)
        xml.element("HealthCheckTimeoutSeconds", h.timeoutSeconds)
        xml.element("HealthyThresholdCount", h.healthyThreshold)
        xml.element("UnhealthyThresholdCount", h.unhealthyThreshold)
        xml.element("HealthCheckPath", h.path)
        if let m = h.matcher { xml.group("Matcher") { $0.element("HttpCode", m) } }
        xml.group("LoadBalancerArns") { xml in for a in lbs { xml.element("member", a) } }
        xml.element("TargetType", tg.targetType)
        if tg.targetType != "lambda" {
            xml.element("ProtocolVersion", tg.protocol == "HTTP" || tg.protocol == "HTTPS" ? "HTTP1" : nil)
            xml.element("IpAddressType", "ipv4")
        }
    }

    func targetGroup(_ arn: String, _ caller: Caller) throws -> TargetGroup {
        guard let tg = store.snapshot.targetGroups[arn], tg.account == caller.account else { throw ELBv2Error.targetGroupNotFound() }
        return tg
    }

    func describeTargetGroups(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let s = store.snapshot
        let all = s.targetGroups.values.filter { $0.account == caller.account && $0.region == caller.region }.sorted { $0.name < $1.name }
        var chosen = all
        let arns = input.list("TargetGroupArns"), names = input.list("Names")
        if let lb = input["LoadBalancerArn"] {
            guard s.loadBalancers[lb]?.account == caller.account else { throw ELBv2Error.loadBalancerNotFound() }
            chosen = chosen.filter { Self.loadBalancerARNs(of: $0.arn, s).contains(lb) }
        }
        if !arns.isEmpty {
            chosen = try arns.map { a in try chosen.first(where: { $0.arn == a }) ?? { throw ELBv2Error.targetGroupNotFound() }() }
        } else if !names.isEmpty {
            chosen = try names.map { n in
                try chosen.first(where: { $0.name == n }) ?? { throw AWSError("TargetGroupNotFound", "Target groups '[\(n)]' not found") }()
            }
        }
        let (page, next) = try Self.page(chosen, input)
        return { xml in
            xml.group("TargetGroups") { xml in
                for tg in page { xml.group("member") { Self.write(tg, Self.loadBalancerARNs(of: tg.arn, s), &$0) } }
            }
            xml.element("NextMarker", next)
        }
    }

    func modifyTargetGroup(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let arn = try input.required("TargetGroupArn")
        let tg = try store.update { s -> TargetGroup in
            guard var tg = s.targetGroups[arn], tg.account == caller.account else { throw ELBv2Error.targetGroupNotFound() }
            tg.healthCheck = try Self.healthCheck(input, over: tg.healthCheck)
            s.targetGroups[arn] = tg
            return tg
        }
        let lbs = Self.loadBalancerARNs(of: tg.arn, store.snapshot)
        return { xml in xml.group("TargetGroups") { xml in xml.group("member") { Self.write(tg, lbs, &$0) } } }
    }

    func deleteTargetGroup(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let arn = try input.required("TargetGroupArn")
        try store.update { s in
            guard let tg = s.targetGroups[arn], tg.account == caller.account else { return }
            if !Self.loadBalancerARNs(of: arn, s).isEmpty {
                throw ELBv2Error.resourceInUse("Target group '\(arn)' is currently in use by a listener or a rule")
            }
            s.targetGroups[arn] = nil
        }
        return nil
    }

    func describeTargetGroupAttributes(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let tg = try targetGroup(try input.required("TargetGroupArn"), caller)
        return { xml in Self.writeAttributes(tg.attributes, &xml) }
    }

    func modifyTargetGroupAttributes(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let arn = try input.required("TargetGroupArn")
        let changes = try Self.attributeChanges(input)
        let tg = try store.update { s -> TargetGroup in
            guard var tg = s.targetGroups[arn], tg.account == caller.account else { throw ELBv2Error.targetGroupNotFound() }
            let defaults = TargetGroupAttributes.defaults(targetType: tg.targetType, protocol: tg.protocol)
            for (k, v) in changes {
                try TargetGroupAttributes.validate(key: k, value: v, defaults: defaults)
                tg.attributes[k] = v
            }
            s.targetGroups[arn] = tg
            return tg
        }
        return { xml in Self.writeAttributes(tg.attributes, &xml) }
    }
}
