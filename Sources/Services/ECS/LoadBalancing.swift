import Core
import Foundation
import Synchronization

/// One entry of a service's or task set's `loadBalancers`, as ECS reads it.
struct LoadBalancerSpec: Decodable, Sendable {
    var targetGroupArn: String?
    var loadBalancerName: String?
    var containerName: String?
    var containerPort: Int?

    /// The entries of a `loadBalancers` document (entries that are not objects are skipped).
    static func list(_ json: JSON?) -> [LoadBalancerSpec] {
        (json?.array ?? []).compactMap { try? $0.decode(LoadBalancerSpec.self) }
    }
}

/// Elastic Load Balancing is built apart from ECS in the wiring; it is connected here once it exists.
final class LoadBalancerLink: Sendable {
    private let value = Mutex<any LoadBalancerTargets>(NoLoadBalancers())
    init() {}
    var targets: any LoadBalancerTargets { value.withLock { $0 } }
    func connect(_ t: any LoadBalancerTargets) { value.withLock { $0 = t } }
}

/// Load balancers in front of services: the wiring point, and the checks CreateService, UpdateService and
/// CreateTaskSet make of `loadBalancers` with AWS's texts. Registration, health and drain are in
/// `TaskTargets.swift`.
extension ECSService {
    /// Elastic Load Balancing v2's target groups, for services with `loadBalancers` (none until connected).
    public func connect(loadBalancers: any LoadBalancerTargets) { scheduler.loadBalancers.connect(loadBalancers) }

    /// Each entry must name an existing target group with a load balancer, of a target type the task definition's
    /// network mode can use, and a container and container port of the task definition.
    func checkLoadBalancers(_ json: JSON?, definition: TaskDefinition) async throws {
        guard let json, !json.isNull else { return }
        guard let entries = json.array else { throw Input.wrongType("loadBalancers") }
        let targets = scheduler.loadBalancers.targets
        for entry in entries {
            guard let spec = try? entry.decode(LoadBalancerSpec.self) else { throw Input.wrongType("loadBalancers") }
            if spec.targetGroupArn != nil && spec.loadBalancerName != nil {
                throw ECSError.invalid("loadBalancerName and targetGroupArn cannot both be specified. You must specify either a loadBalancerName or a targetGroupArn.")
            }
            if let name = spec.loadBalancerName {
                // Classic Load Balancers are not served.
                throw ECSError.invalid("The load balancer \(name) does not exist.")
            }
            guard let arn = spec.targetGroupArn, !arn.isEmpty else {
                throw ECSError.invalid("You must specify either a loadBalancerName or a targetGroupArn.")
            }
            guard let container = spec.containerName, !container.isEmpty else { throw ECSError.invalid("Container Name can not be blank.") }
            guard let port = spec.containerPort else { throw ECSError.invalid("Container Port can not be blank.") }
            guard let group = await targets.targetGroup(arn: arn) else {
                throw ECSError.invalid("The target group with targetGroupArn \(arn) does not exist.")
            }
            guard !group.loadBalancerARNs.isEmpty else {
                throw ECSError.invalid("The target group with targetGroupArn \(arn) does not have an associated load balancer.")
            }
            guard let spec = definition.containers.first(where: { $0.name == container }) else {
                throw ECSError.invalid("The container \(container) does not exist in the task definition.")
            }
            guard (spec.portMappings ?? []).contains(where: { $0.containerPort == port }) else {
                throw ECSError.invalid("The container \(container) did not have a container port \(port) defined.")
            }
            let mode = definition.networkMode
            if mode == "awsvpc" && group.targetType != "ip" || mode != "awsvpc" && group.targetType == "ip" {
                throw ECSError.invalid("The provided target group \(arn) has target type \(group.targetType), which is incompatible with the \(mode) network mode specified in the task definition.")
            }
        }
    }
}

/// AWS CodeDeploy drives CODE_DEPLOY services through their task sets and reads them with DescribeServices.
extension ECSService: ECSDeploymentControl {
    public func call(_ operation: String, account: String, region: String, input: [String: JSON]) async throws -> [String: JSON] {
        try await load()
        if operation == "DescribeServices" {
            return try await describeServices(Scope(account: account, region: region), Input(object: input))
        }
        return try await codeDeployTaskSetCall(operation, account: account, region: region, input: input)
    }
}
