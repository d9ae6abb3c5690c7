import Core

/// Create/Describe/Modify/DeleteListener.
extension ELBv2Service {
    func createListener(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let lbARN = try input.required("LoadBalancerArn")
        let port = try input.int("Port")
        let listener = try store.update { s -> Listener in
            guard let lb = s.loadBalancers[lbARN], lb.account == caller.account else { throw ELBv2Error.loadBalancerNotFound() }
            let proto = input["Protocol"] ?? (lb.type == "network" ? "TCP" : "HTTP")
            let allowed = lb.type == "network" ? ["TCP", "TLS", "UDP", "TCP_UDP"] : ["HTTP", "HTTPS"]
            guard allowed.contains(proto) else {
                throw ELBv2Error.validation("Listener protocol '\(proto)' is not supported for load balancers of type '\(lb.type)'")
            }
            guard let port else { throw ELBv2Error.validation("A listener port must be specified") }
            guard (1...65535).contains(port) else { throw ELBv2Error.validation("Listener port must be between 1 and 65535") }
            if proto == "HTTPS" || proto == "TLS", input.members("Certificates").isEmpty {
                throw ELBv2Error.validation("A certificate must be specified for \(proto) listeners")
            }
            let actions = try Self.actions(input, "DefaultActions", s, account: caller.account)
            try Self.checkProtocols(actions, listenerProtocol: proto, s)
            if let existing = s.listeners.values.first(where: { $0.loadBalancerArn == lbARN && $0.port == port }) {
                guard existing.protocol == proto, existing.defaultActions == actions else { throw ELBv2Error.duplicateListener() }
                return existing
            }
            let base = ARNs.loadBalancerPath(lbARN)
            let listenerID = ARNs.id16()
            let l = Listener(arn: ARNs.prefix(lb.region, lb.account) + "listener/\(base)/\(listenerID)", loadBalancerArn: lbARN, port: port,
                             protocol: proto, defaultActions: actions,
                             defaultRuleArn: ARNs.prefix(lb.region, lb.account) + "listener-rule/\(base)/\(listenerID)/\(ARNs.id16())",
                             tags: input.tags())
            s.listeners[l.arn] = l
            return l
        }
        return { xml in xml.group("Listeners") { xml in xml.group("member") { Self.write(listener, &$0) } } }
    }

    /// A network load balancer forwards to TCP target groups, an application one to HTTP(S) and lambda groups.
    static func checkProtocols(_ actions: [Action], listenerProtocol: String, _ s: ELBv2Store.State) throws {
        let layer4 = ["TCP", "TLS", "UDP", "TCP_UDP"].contains(listenerProtocol)
        for a in actions {
            if layer4 && a.type != "forward" {
                throw ELBv2Error.validation("Action type '\(a.type)' is not supported for \(listenerProtocol) listeners")
            }
            for g in a.targetGroups {
                guard let tg = s.targetGroups[g.arn] else { continue }
                let groupLayer4 = ["TCP", "TLS", "UDP", "TCP_UDP"].contains(tg.protocol ?? "")
                if layer4 != groupLayer4 || (layer4 && tg.targetType == "lambda") {
                    throw ELBv2Error.incompatibleProtocols("The target group '\(tg.arn)' has protocol '\(tg.protocol ?? "none")', incompatible with the listener's protocol '\(listenerProtocol)'")
                }
            }
        }
    }

    static func write(_ l: Listener, _ xml: inout XMLWriter) {
        xml.element("ListenerArn", l.arn)
        xml.element("LoadBalancerArn", l.loadBalancerArn)
        xml.element("Port", l.port)
        xml.element("Protocol", l.protocol)
        xml.group("DefaultActions") { Self.write(actions: l.defaultActions, &$0) }
    }

    func describeListeners(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let s = store.snapshot
        let arns = input.list("ListenerArns")
        var chosen: [Listener]
        if let lb = input["LoadBalancerArn"] {
            guard s.loadBalancers[lb]?.account == caller.account else { throw ELBv2Error.loadBalancerNotFound() }
            chosen = s.listeners.values.filter { $0.loadBalancerArn == lb }.sorted { $0.port < $1.port }
            if !arns.isEmpty { throw ELBv2Error.validation("Listener ARNs and a load balancer ARN cannot be specified at the same time") }
        } else if !arns.isEmpty {
            chosen = try arns.map { a in
                guard let l = s.listeners[a], s.loadBalancers[l.loadBalancerArn]?.account == caller.account else { throw ELBv2Error.listenerNotFound() }
                return l
            }
        } else {
            throw ELBv2Error.validation("You must specify either listener ARNs or a load balancer ARN")
        }
        let (page, next) = try Self.page(chosen, input)
        return { xml in
            xml.group("Listeners") { xml in for l in page { xml.group("member") { Self.write(l, &$0) } } }
            xml.element("NextMarker", next)
        }
    }

    func modifyListener(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let arn = try input.required("ListenerArn")
        let listener = try store.update { s -> Listener in
            guard var l = s.listeners[arn], let lb = s.loadBalancers[l.loadBalancerArn], lb.account == caller.account else {
                throw ELBv2Error.listenerNotFound()
            }
            if let port = try input.int("Port") {
                guard (1...65535).contains(port) else { throw ELBv2Error.validation("Listener port must be between 1 and 65535") }
                if s.listeners.values.contains(where: { $0.loadBalancerArn == l.loadBalancerArn && $0.port == port && $0.arn != arn }) {
                    throw ELBv2Error.duplicateListener()
                }
                l.port = port
            }
            if let p = input["Protocol"] { l.protocol = p }
            if !input.members("DefaultActions").isEmpty {
                l.defaultActions = try Self.actions(input, "DefaultActions", s, account: caller.account)
            }
            try Self.checkProtocols(l.defaultActions, listenerProtocol: l.protocol, s)
            s.listeners[arn] = l
            return l
        }
        return { xml in xml.group("Listeners") { xml in xml.group("member") { Self.write(listener, &$0) } } }
    }

    func deleteListener(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let arn = try input.required("ListenerArn")
        try store.update { s in
            guard let l = s.listeners[arn], s.loadBalancers[l.loadBalancerArn]?.account == caller.account else { throw ELBv2Error.listenerNotFound() }
            s.listeners[arn] = nil
            for r in s.rules.values where r.listenerArn == arn { s.rules[r.arn] = nil }
        }
        return nil
    }
}
