import Core
import Synchronization

/// ECS (task sets) and ELBv2 (listener weights) as the ECS platform reaches them; wired by the Emulator
/// (`CodeDeployService.connect(ecs:loadBalancers:)`), none until then.
final class ECSLinks: Sendable {
    private let value = Mutex<(ecs: (any ECSDeploymentControl)?, lb: any LoadBalancerTargets)>((nil, NoLoadBalancers()))
    var ecs: (any ECSDeploymentControl)? { value.withLock { $0.ecs } }
    var loadBalancers: any LoadBalancerTargets { value.withLock { $0.lb } }
    func connect(_ ecs: any ECSDeploymentControl, _ lb: any LoadBalancerTargets) { value.withLock { $0 = (ecs, lb) } }
}

extension CodeDeployService {
    /// CodeDeploy's ECS blue/green deployments drive task sets in ECS and listener weights in ELBv2.
    public func connect(ecs: any ECSDeploymentControl, loadBalancers: any LoadBalancerTargets) {
        ecsLinks.connect(ecs, loadBalancers)
    }
}
