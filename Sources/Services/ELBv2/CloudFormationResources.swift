import Core

/// `AWS::ElasticLoadBalancingV2::LoadBalancer`, `TargetGroup`, `Listener` and `ListenerRule` for CloudFormation, over
/// the service's own operations run in-process as the stack's account and region (validation and errors are the
/// API's); what was made is then read from the store. `Ref` is the ARN for each, as AWS answers.
public struct ELBv2Resources: ResourceProvider {
    let service: ELBv2Service

    public init(service: ELBv2Service) { self.service = service }

    static let loadBalancer = "AWS::ElasticLoadBalancingV2::LoadBalancer"
    static let targetGroup = "AWS::ElasticLoadBalancingV2::TargetGroup"
    static let listener = "AWS::ElasticLoadBalancingV2::Listener"
    static let listenerRule = "AWS::ElasticLoadBalancingV2::ListenerRule"

    public var resourceTypes: [String] { [Self.loadBalancer, Self.targetGroup, Self.listener, Self.listenerRule] }

    /// CloudFormation's "Replacement" properties.
    public func createOnlyProperties(of type: String) -> Set<String> {
        switch type {
        case Self.loadBalancer: return ["Name", "Scheme", "Type"]
        case Self.targetGroup: return ["Name", "Port", "Protocol", "ProtocolVersion", "TargetType", "VpcId", "IpAddressType"]
        case Self.listener: return ["LoadBalancerArn"]
        default: return ["ListenerArn"]
        }
    }

    static let healthCheckKeys = [
        "HealthCheckEnabled", "HealthCheckIntervalSeconds", "HealthCheckPath", "HealthCheckPort", "HealthCheckProtocol",
        "HealthCheckTimeoutSeconds", "HealthyThresholdCount", "UnhealthyThresholdCount", "Matcher",
    ]

    @discardableResult
    func call(_ request: ResourceRequest, _ action: String, _ parameters: [String: String]) async throws -> ELBv2Service.Answer {
        let caller = ELBv2Service.Caller(account: request.account, region: request.region, now: service.clock.now())
        let answer = try service.perform(action, ELBv2Input(parameters), caller)
        await service.runtime.reconcile()  // listeners and health checks follow the stored state
        return answer
    }

    func name(_ request: ResourceRequest) -> String {
        request.properties["Name"]?.string ?? request.generatedName(limit: 32)
    }

    public func create(_ request: ResourceRequest) async throws -> ResourceState {
        let p = request.properties
        switch request.type {
        case Self.loadBalancer:
            let name = name(request)
            var params = CloudFormationParameters.parameters(p, ["Type", "Scheme", "IpAddressType", "Subnets", "SubnetMappings", "SecurityGroups"])
            params["Name"] = name
            params.merge(CloudFormationParameters.tags(request)) { $1 }
            try await call(request, "CreateLoadBalancer", params)
            guard let state = loadBalancerState(request, name: name) else { throw ELBv2Error.loadBalancerNotFound() }
            if let attrs = p["LoadBalancerAttributes"], !(attrs.array ?? []).isEmpty {
                var a = CloudFormationParameters.attributes(attrs)
                a["LoadBalancerArn"] = state.physicalId
                try await call(request, "ModifyLoadBalancerAttributes", a)
            }
            return state
        case Self.targetGroup:
            let name = name(request)
            var params = CloudFormationParameters.parameters(p, ["Protocol", "ProtocolVersion", "Port", "VpcId", "TargetType", "IpAddressType"]
                                                             + Self.healthCheckKeys)
            params["Name"] = name
            params.merge(CloudFormationParameters.tags(request)) { $1 }
            try await call(request, "CreateTargetGroup", params)
            guard let state = targetGroupState(request, name: name) else { throw ELBv2Error.targetGroupNotFound() }
            try await applyTargetGroupExtras(request, arn: state.physicalId, previous: nil)
            return state
        case Self.listener:
            let lb = p["LoadBalancerArn"]?.string ?? ""
            var params = CloudFormationParameters.parameters(p, ["LoadBalancerArn", "Port", "Protocol", "DefaultActions", "Certificates",
                                                                 "SslPolicy", "AlpnPolicy"])
            if params["Protocol"] == nil, let type = service.store.snapshot.loadBalancers[lb]?.type {
                params["Protocol"] = type == "network" ? "TCP" : "HTTP"
            }
            try await call(request, "CreateListener", params)
            let port = Int(params["Port"] ?? "") ?? 0
            guard let l = service.store.snapshot.listeners.values.first(where: { $0.loadBalancerArn == lb && $0.port == port }) else {
                throw ELBv2Error.listenerNotFound()
            }
            return ResourceState(physicalId: l.arn, attributes: ["ListenerArn": .string(l.arn)])
        default:
            let listener = p["ListenerArn"]?.string ?? ""
            let params = CloudFormationParameters.parameters(p, ["ListenerArn", "Priority", "Conditions", "Actions"])
            try await call(request, "CreateRule", params)
            let priority = Int(params["Priority"] ?? "") ?? -1
            guard let r = service.store.snapshot.rules.values.first(where: { $0.listenerArn == listener && $0.priority == priority }) else {
                throw ELBv2Error.ruleNotFound()
            }
            return ResourceState(physicalId: r.arn, attributes: ["RuleArn": .string(r.arn), "IsDefault": .bool(false)])
        }
    }

    public func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        let p = request.properties
        let old = request.previousProperties ?? [:]
        let arn = previous.physicalId
        switch request.type {
        case Self.loadBalancer:
            if p["SecurityGroups"] != old["SecurityGroups"] {
                var params = CloudFormationParameters.parameters(p, ["SecurityGroups"])
                params["LoadBalancerArn"] = arn
                try await call(request, "SetSecurityGroups", params)
            }
            if p["LoadBalancerAttributes"] != old["LoadBalancerAttributes"], !(p["LoadBalancerAttributes"]?.array ?? []).isEmpty {
                var a = CloudFormationParameters.attributes(p["LoadBalancerAttributes"])
                a["LoadBalancerArn"] = arn
                try await call(request, "ModifyLoadBalancerAttributes", a)
            }
            try await syncTags(request, arn)
            return loadBalancerState(request, name: service.store.snapshot.loadBalancers[arn]?.name ?? name(request)) ?? previous
        case Self.targetGroup:
            if Self.healthCheckKeys.contains(where: { p[$0] != old[$0] }) {
                var params = CloudFormationParameters.parameters(p, Self.healthCheckKeys)
                params["TargetGroupArn"] = arn
                try await call(request, "ModifyTargetGroup", params)
            }
            try await applyTargetGroupExtras(request, arn: arn, previous: old)
            try await syncTags(request, arn)
            return targetGroupState(request, name: service.store.snapshot.targetGroups[arn]?.name ?? name(request)) ?? previous
        case Self.listener:
            var params = CloudFormationParameters.parameters(p, ["Port", "Protocol", "DefaultActions", "Certificates", "SslPolicy", "AlpnPolicy"])
            params["ListenerArn"] = arn
            try await call(request, "ModifyListener", params)
            return previous
        default:
            if p["Priority"] != old["Priority"], let priority = p["Priority"] {
                try await call(request, "SetRulePriorities", ["RulePriorities.member.1.RuleArn": arn,
                                                              "RulePriorities.member.1.Priority": CloudFormationParameters.text(priority)])
            }
            var params = CloudFormationParameters.parameters(p, ["Conditions", "Actions"])
            params["RuleArn"] = arn
            try await call(request, "ModifyRule", params)
            return previous
        }
    }

    public func delete(_ request: ResourceRequest, state: ResourceState) async throws {
        let (action, key, missing): (String, String, String) = switch request.type {
        case Self.loadBalancer: ("DeleteLoadBalancer", "LoadBalancerArn", "LoadBalancerNotFound")
        case Self.targetGroup: ("DeleteTargetGroup", "TargetGroupArn", "TargetGroupNotFound")
        case Self.listener: ("DeleteListener", "ListenerArn", "ListenerNotFound")
        default: ("DeleteRule", "RuleArn", "RuleNotFound")
        }
        do {
            try await call(request, action, [key: state.physicalId])
        } catch let e as AWSError where e.code == missing {
            return  // already gone
        }
    }

    public func currentProperties(_ request: ResourceRequest, state: ResourceState) async throws -> ResourceReading {
        let s = service.store.snapshot
        switch request.type {
        case Self.loadBalancer:
            guard let lb = s.loadBalancers[state.physicalId] else { return .deleted }
            return .properties(["Name": .string(lb.name), "Type": .string(lb.type), "Scheme": .string(lb.scheme),
                                "IpAddressType": .string(lb.ipAddressType), "SecurityGroups": .array(lb.securityGroups.map { .string($0) })])
        case Self.targetGroup:
            guard let tg = s.targetGroups[state.physicalId] else { return .deleted }
            var out: [String: JSON] = ["Name": .string(tg.name), "TargetType": .string(tg.targetType),
                                       "HealthCheckEnabled": .bool(tg.healthCheck.enabled),
                                       "HealthCheckIntervalSeconds": .number(Double(tg.healthCheck.intervalSeconds)),
                                       "HealthCheckTimeoutSeconds": .number(Double(tg.healthCheck.timeoutSeconds)),
                                       "HealthyThresholdCount": .number(Double(tg.healthCheck.healthyThreshold)),
                                       "UnhealthyThresholdCount": .number(Double(tg.healthCheck.unhealthyThreshold))]
            if let v = tg.protocol { out["Protocol"] = .string(v) }
            if let v = tg.port { out["Port"] = .number(Double(v)) }
            if let v = tg.vpcId { out["VpcId"] = .string(v) }
            if let v = tg.healthCheck.path { out["HealthCheckPath"] = .string(v) }
            if let v = tg.healthCheck.matcher { out["Matcher"] = .object(["HttpCode": .string(v)]) }
            return .properties(out)
        case Self.listener:
            guard let l = s.listeners[state.physicalId] else { return .deleted }
            return .properties(["LoadBalancerArn": .string(l.loadBalancerArn), "Port": .number(Double(l.port)), "Protocol": .string(l.protocol)])
        default:
            guard let r = s.rules[state.physicalId] else { return .deleted }
            return .properties(["ListenerArn": .string(r.listenerArn), "Priority": .number(Double(r.priority))])
        }
    }

    public func interruptedCreate(_ request: ResourceRequest) async throws -> ResourceState? {
        switch request.type {
        case Self.loadBalancer: return loadBalancerState(request, name: name(request))
        case Self.targetGroup: return targetGroupState(request, name: name(request))
        default: return nil  // listeners and rules are made in one write
        }
    }

    // MARK: Support

    func loadBalancerState(_ request: ResourceRequest, name: String) -> ResourceState? {
        guard let lb = service.store.snapshot.loadBalancers.values.first(where: {
            $0.name == name && $0.account == request.account && $0.region == request.region
        }) else { return nil }
        return ResourceState(physicalId: lb.arn, attributes: [
            "LoadBalancerArn": .string(lb.arn), "DNSName": .string(lb.dnsName), "LoadBalancerName": .string(lb.name),
            "LoadBalancerFullName": .string(ARNs.loadBalancerPath(lb.arn)),
            "CanonicalHostedZoneID": .string(ELBv2Service.hostedZone(lb.type)),
            "SecurityGroups": .array(lb.securityGroups.map { .string($0) }),
        ])
    }

    func targetGroupState(_ request: ResourceRequest, name: String) -> ResourceState? {
        let s = service.store.snapshot
        guard let tg = s.targetGroups.values.first(where: {
            $0.name == name && $0.account == request.account && $0.region == request.region
        }) else { return nil }
        // The load balancers whose listeners or rules forward to it (as GetAtt reads it when the resource is made).
        var lbs = Set<String>()
        for l in s.listeners.values where l.defaultActions.contains(where: { $0.targetGroups.contains { $0.arn == tg.arn } }) {
            lbs.insert(l.loadBalancerArn)
        }
        for r in s.rules.values where r.actions.contains(where: { $0.targetGroups.contains { $0.arn == tg.arn } }) {
            if let l = s.listeners[r.listenerArn] { lbs.insert(l.loadBalancerArn) }
        }
        let path = tg.arn.range(of: ":targetgroup/").map { "targetgroup/" + tg.arn[$0.upperBound...] } ?? ""
        return ResourceState(physicalId: tg.arn, attributes: [
            "TargetGroupArn": .string(tg.arn), "TargetGroupName": .string(tg.name), "TargetGroupFullName": .string(path),
            "LoadBalancerArns": .array(lbs.sorted().map { .string($0) }),
        ])
    }

    /// TargetGroupAttributes and Targets: attributes set, targets registered (and, on an update, those dropped
    /// deregistered).
    func applyTargetGroupExtras(_ request: ResourceRequest, arn: String, previous: [String: JSON]?) async throws {
        let p = request.properties
        if p["TargetGroupAttributes"] != previous?["TargetGroupAttributes"], !(p["TargetGroupAttributes"]?.array ?? []).isEmpty {
            var a = CloudFormationParameters.attributes(p["TargetGroupAttributes"])
            a["TargetGroupArn"] = arn
            try await call(request, "ModifyTargetGroupAttributes", a)
        }
        guard p["Targets"] != previous?["Targets"] else { return }
        let wanted = p["Targets"]?.array ?? []
        func key(_ t: JSON) -> String { "\(t["Id"]?.string ?? "")|\(t["Port"].map(CloudFormationParameters.text) ?? "")" }
        let wantedKeys = Set(wanted.map(key))
        let dropped = (previous?["Targets"]?.array ?? []).filter { !wantedKeys.contains(key($0)) }
        if !dropped.isEmpty {
            var params = CloudFormationParameters.targets(dropped)
            params["TargetGroupArn"] = arn
            try await call(request, "DeregisterTargets", params)
        }
        if !wanted.isEmpty {
            var params = CloudFormationParameters.targets(wanted)
            params["TargetGroupArn"] = arn
            try await call(request, "RegisterTargets", params)
        }
    }

    func syncTags(_ request: ResourceRequest, _ arn: String) async throws {
        let old = Set((request.previousProperties?["Tags"]?.array ?? []).compactMap { $0["Key"]?.string })
        let new = Set((request.properties["Tags"]?.array ?? []).compactMap { $0["Key"]?.string })
        let removed = old.subtracting(new).sorted()
        if !removed.isEmpty {
            var params = ["ResourceArns.member.1": arn]
            for (i, k) in removed.enumerated() { params["TagKeys.member.\(i + 1)"] = k }
            try await call(request, "RemoveTags", params)
        }
        var tags = CloudFormationParameters.tags(request)
        guard !tags.isEmpty, request.properties["Tags"] != request.previousProperties?["Tags"] else { return }
        tags["ResourceArns.member.1"] = arn
        try await call(request, "AddTags", tags)
    }
}
