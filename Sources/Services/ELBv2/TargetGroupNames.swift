import Core

/// CodeDeploy's ECS deployment groups name their target groups; `LoadBalancerTargets` works with ARNs.
extension ELBv2Service {
    public func targetGroupARN(name: String, account: String, region: String) async -> String? {
        store.snapshot.targetGroups.values.first { $0.name == name && $0.account == account && $0.region == region }?.arn
    }
}
