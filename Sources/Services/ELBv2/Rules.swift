import Core

/// Create/Describe/Modify/DeleteRule and SetRulePriorities. The listener's default actions are its `default` rule.
extension ELBv2Service {
    static func priority(_ input: ELBv2Input, _ key: String) throws -> Int {
        guard let p = try input.int(key) else { throw ELBv2Error.validation("A rule priority must be specified") }
        guard (1...50000).contains(p) else {
            throw ELBv2Error.validation("1 validation error detected: Value '\(p)' at 'priority' failed to satisfy constraint: Member must have value between 1 and 50000")
        }
        return p
    }

    func createRule(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let listenerARN = try input.required("ListenerArn")
        let priority = try Self.priority(input, "Priority")
        let conditions = try Self.conditions(input, "Conditions")
        guard !conditions.isEmpty else {
            throw ELBv2Error.validation("1 validation error detected: Value null at 'conditions' failed to satisfy constraint: Member must not be null")
        }
        let rule = try store.update { s -> Rule in
            guard let l = s.listeners[listenerARN], let lb = s.loadBalancers[l.loadBalancerArn], lb.account == caller.account else {
                throw ELBv2Error.listenerNotFound()
            }
            guard lb.type == "application" else { throw ELBv2Error.validation("Rules are supported only for application load balancers") }
            let actions = try Self.actions(input, "Actions", s, account: caller.account)
            try Self.checkProtocols(actions, listenerProtocol: l.protocol, s)
            if s.rules.values.contains(where: { $0.listenerArn == listenerARN && $0.priority == priority }) {
                throw ELBv2Error.priorityInUse(priority)
            }
            guard s.rules.values.filter({ $0.listenerArn == listenerARN }).count < 100 else {
                throw AWSError("TooManyRules", "You've reached the limit on the number of rules per load balancer")
            }
            let base = l.arn.replacingOccurrences(of: ":listener/", with: ":listener-rule/")
            let r = Rule(arn: base + "/" + ARNs.id16(), listenerArn: listenerARN, priority: priority, conditions: conditions,
                         actions: actions, tags: input.tags())
            s.rules[r.arn] = r
            return r
        }
        return { xml in xml.group("Rules") { xml in xml.group("member") { Self.write(rule, &$0) } } }
    }

    static func write(_ r: Rule, _ xml: inout XMLWriter) {
        xml.element("RuleArn", r.arn)
        xml.element("Priority", String(r.priority))
        xml.group("Conditions") { Self.write(conditions: r.conditions, &$0) }
        xml.group("Actions") { Self.write(actions: r.actions, &$0) }
        xml.element("IsDefault", false)
    }

    static func writeDefault(_ l: Listener, _ xml: inout XMLWriter) {
        xml.element("RuleArn", l.defaultRuleArn)
        xml.element("Priority", "default")
        xml.group("Conditions") { _ in }
        xml.group("Actions") { Self.write(actions: l.defaultActions, &$0) }
        xml.element("IsDefault", true)
    }

    enum RuleRow { case rule(Rule), defaultRule(Listener) }

    func describeRules(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let s = store.snapshot
        let arns = input.list("RuleArns")
        var rows: [RuleRow] = []
        if let listenerARN = input["ListenerArn"] {
            guard let l = s.listeners[listenerARN], s.loadBalancers[l.loadBalancerArn]?.account == caller.account else {
                throw ELBv2Error.listenerNotFound()
            }
            rows = s.rules.values.filter { $0.listenerArn == listenerARN }.sorted { $0.priority < $1.priority }.map { .rule($0) }
            rows.append(.defaultRule(l))
        } else if !arns.isEmpty {
            rows = try arns.map { a in
                if let r = s.rules[a], let l = s.listeners[r.listenerArn], s.loadBalancers[l.loadBalancerArn]?.account == caller.account {
                    return .rule(r)
                }
                if let l = s.listeners.values.first(where: { $0.defaultRuleArn == a }), s.loadBalancers[l.loadBalancerArn]?.account == caller.account {
                    return .defaultRule(l)
                }
                throw ELBv2Error.ruleNotFound()
            }
        } else {
            throw ELBv2Error.validation("You must specify either listener ARNs or rule ARNs")
        }
        let (page, next) = try Self.page(rows, input)
        return { xml in
            xml.group("Rules") { xml in
                for row in page {
                    xml.group("member") { xml in
                        switch row {
                        case .rule(let r): Self.write(r, &xml)
                        case .defaultRule(let l): Self.writeDefault(l, &xml)
                        }
                    }
                }
            }
            xml.element("NextMarker", next)
        }
    }

    func modifyRule(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let arn = try input.required("RuleArn")
        let row = try store.update { s -> RuleRow in
            if var l = s.listeners.values.first(where: { $0.defaultRuleArn == arn }), s.loadBalancers[l.loadBalancerArn]?.account == caller.account {
                if !input.members("Conditions").isEmpty {
                    throw ELBv2Error.operationNotPermitted("The conditions of a default rule cannot be modified")
                }
                if !input.members("Actions").isEmpty {
                    l.defaultActions = try Self.actions(input, "Actions", s, account: caller.account)
                    try Self.checkProtocols(l.defaultActions, listenerProtocol: l.protocol, s)
                }
                s.listeners[l.arn] = l
                return .defaultRule(l)
            }
            guard var r = s.rules[arn], let l = s.listeners[r.listenerArn], s.loadBalancers[l.loadBalancerArn]?.account == caller.account else {
                throw ELBv2Error.ruleNotFound()
            }
            if !input.members("Conditions").isEmpty { r.conditions = try Self.conditions(input, "Conditions") }
            if !input.members("Actions").isEmpty {
                r.actions = try Self.actions(input, "Actions", s, account: caller.account)
                try Self.checkProtocols(r.actions, listenerProtocol: l.protocol, s)
            }
            s.rules[arn] = r
            return .rule(r)
        }
        return { xml in
            xml.group("Rules") { xml in
                xml.group("member") { xml in
                    switch row {
                    case .rule(let r): Self.write(r, &xml)
                    case .defaultRule(let l): Self.writeDefault(l, &xml)
                    }
                }
            }
        }
    }

    func deleteRule(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let arn = try input.required("RuleArn")
        try store.update { s in
            if s.listeners.values.contains(where: { $0.defaultRuleArn == arn }) {
                throw ELBv2Error.operationNotPermitted("Default rule '\(arn)' cannot be deleted")
            }
            guard let r = s.rules[arn], let l = s.listeners[r.listenerArn], s.loadBalancers[l.loadBalancerArn]?.account == caller.account else {
                throw ELBv2Error.ruleNotFound()
            }
            s.rules[arn] = nil
        }
        return nil
    }

    func setRulePriorities(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let changes = try input.members("RulePriorities").map { p in (try input.required("\(p).RuleArn"), try Self.priority(input, "\(p).Priority")) }
        guard !changes.isEmpty else { throw ELBv2Error.validation("1 validation error detected: Value null at 'rulePriorities' failed to satisfy constraint: Member must not be null") }
        let rules = try store.update { s -> [Rule] in
            var changed: [Rule] = []
            for (arn, p) in changes {
                if s.listeners.values.contains(where: { $0.defaultRuleArn == arn }) {
                    throw ELBv2Error.operationNotPermitted("The priority of a default rule cannot be changed")
                }
                guard var r = s.rules[arn], let l = s.listeners[r.listenerArn], s.loadBalancers[l.loadBalancerArn]?.account == caller.account else {
                    throw ELBv2Error.ruleNotFound()
                }
                r.priority = p
                s.rules[arn] = r
                changed.append(r)
            }
            // Priorities stay unique per listener once every change is applied.
            var seen = Set<String>()
            for r in s.rules.values where !seen.insert("\(r.listenerArn)|\(r.priority)").inserted {
                throw ELBv2Error.priorityInUse(r.priority)
            }
            return changed
        }
        return { xml in xml.group("Rules") { xml in for r in rules { xml.group("member") { Self.write(r, &$0) } } } }
    }
}
