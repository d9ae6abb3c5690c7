import Core

/// ECS and CodeDeploy see target groups through Core's `LoadBalancerTargets`.
extension ELBv2Service: LoadBalancerTargets {
    public func targetGroup(arn: String) async -> TargetGroupSummary? {
        let s = store.snapshot
        guard let tg = s.targetGroups[arn] else { return nil }
        return TargetGroupSummary(arn: arn, targetType: tg.targetType, port: tg.port, loadBalancerARNs: Self.loadBalancerARNs(of: arn, s))
    }

    public func register(targetGroupARN: String, targets: [LoadBalancedTarget]) async throws {
        try register(targetGroupARN, targets, account: nil)
        await runtime.reconcile()
    }

    public func deregister(targetGroupARN: String, targets: [LoadBalancedTarget]) async throws {
        try deregister(targetGroupARN, targets, account: nil)
    }

    public func health(targetGroupARN: String) async throws -> [LoadBalancedTarget: LoadBalancedTargetState] {
        runtime.purgeDrained()
        let s = store.snapshot
        guard let tg = s.targetGroups[targetGroupARN] else { throw ELBv2Error.targetGroupNotFound() }
        let inUse = !Self.loadBalancerARNs(of: targetGroupARN, s).isEmpty
        var out: [LoadBalancedTarget: LoadBalancedTargetState] = [:]
        for t in tg.targets { out[LoadBalancedTarget(id: t.id, port: t.port)] = runtime.describe(tg, t, inUse: inUse).state }
        return out
    }

    /// The forward action of a listener's default actions or of a rule.
    private func forwardAction(_ arn: String, _ s: ELBv2Store.State) throws -> Action {
        let actions: [Action]
        if let l = s.listeners[arn] {
            actions = l.defaultActions
        } else if let l = s.listeners.values.first(where: { $0.defaultRuleArn == arn }) {
            actions = l.defaultActions
        } else if let r = s.rules[arn] {
            actions = r.actions
        } else {
            throw arn.contains(":listener-rule/") ? ELBv2Error.ruleNotFound() : ELBv2Error.listenerNotFound()
        }
        guard let a = actions.first(where: { $0.type == "forward" }) else {
            throw ELBv2Error.invalidConfiguration("The action of '\(arn)' is not a forward action")
        }
        return a
    }

    public func forwardWeights(listenerOrRuleARN: String) async throws -> [ForwardWeight] {
        try forwardAction(listenerOrRuleARN, store.snapshot).targetGroups.map { ForwardWeight(targetGroupARN: $0.arn, weight: $0.weight) }
    }

    public func setForwardWeights(listenerOrRuleARN arn: String, _ weights: [ForwardWeight]) async throws {
        guard !weights.isEmpty, weights.allSatisfy({ (0...999).contains($0.weight) }) else {
            throw ELBv2Error.validation("Target group weights must be between 0 and 999")
        }
        try store.update { s in
            for w in weights where s.targetGroups[w.targetGroupARN] == nil { throw ELBv2Error.targetGroupNotFound() }
            func apply(_ actions: inout [Action]) throws {
                guard let i = actions.firstIndex(where: { $0.type == "forward" }) else {
                    throw ELBv2Error.invalidConfiguration("The action of '\(arn)' is not a forward action")
                }
                actions[i].targetGroups = weights.map { WeightedTargetGroup(arn: $0.targetGroupARN, weight: $0.weight) }
                actions[i].singleTargetGroup = false
            }
            if var l = s.listeners[arn] ?? s.listeners.values.first(where: { $0.defaultRuleArn == arn }) {
                try apply(&l.defaultActions)
                s.listeners[l.arn] = l
            } else if var r = s.rules[arn] {
                try apply(&r.actions)
                s.rules[arn] = r
            } else {
                throw arn.contains(":listener-rule/") ? ELBv2Error.ruleNotFound() : ELBv2Error.listenerNotFound()
            }
        }
    }
}
