/// Elastic Load Balancing's target groups as other services see them. ECS registers a service's tasks in the target
/// groups its `loadBalancers` name, reads their health for deployments and waits for them to drain before a stop;
/// CodeDeploy shifts a listener's weights between the blue and green target groups. Core declares it; ELBv2
/// implements it; the Emulator wires it. ARNs carry the account and region.
public struct LoadBalancedTarget: Sendable, Hashable {
    /// An IP address (target type `ip`), an instance id (`instance`: for a local task, its address) or a function ARN.
    public var id: String
    /// The port traffic goes to; nil takes the target group's port.
    public var port: Int?

    public init(id: String, port: Int?) {
        self.id = id
        self.port = port
    }
}

/// A target's state as DescribeTargetHealth gives it.
public enum LoadBalancedTargetState: String, Sendable {
    case initial, healthy, unhealthy, unused, draining, unavailable
}

/// What a caller needs to know of a target group.
public struct TargetGroupSummary: Sendable {
    public var arn: String
    /// `ip`, `instance` or `lambda`.
    public var targetType: String
    public var port: Int?
    /// The load balancers whose listeners or rules forward to it (empty: ECS refuses such a group for a service).
    public var loadBalancerARNs: [String]

    public init(arn: String, targetType: String, port: Int?, loadBalancerARNs: [String]) {
        self.arn = arn
        self.targetType = targetType
        self.port = port
        self.loadBalancerARNs = loadBalancerARNs
    }
}

/// One entry of a listener's forward action: a target group and its weight (0–999).
public struct ForwardWeight: Sendable, Hashable {
    public var targetGroupARN: String
    public var weight: Int

    public init(targetGroupARN: String, weight: Int) {
        self.targetGroupARN = targetGroupARN
        self.weight = weight
    }
}

public protocol LoadBalancerTargets: Sendable {
    /// The target group `arn` names, or nil when it does not exist.
    func targetGroup(arn: String) async -> TargetGroupSummary?
    /// RegisterTargets: registering a registered target again changes nothing. Throws AWS's errors (TargetGroupNotFound…).
    func register(targetGroupARN: String, targets: [LoadBalancedTarget]) async throws
    /// DeregisterTargets: each target drains for the group's deregistration delay (new requests go elsewhere, those in
    /// flight finish), then is gone from `health`.
    func deregister(targetGroupARN: String, targets: [LoadBalancedTarget]) async throws
    /// DescribeTargetHealth for every target still registered or draining.
    func health(targetGroupARN: String) async throws -> [LoadBalancedTarget: LoadBalancedTargetState]
    /// The target groups and weights of a listener's default forward action (or of one rule, given its ARN).
    func forwardWeights(listenerOrRuleARN: String) async throws -> [ForwardWeight]
    /// Replace the target groups and weights of a listener's default forward action (or of one rule's).
    func setForwardWeights(listenerOrRuleARN: String, _ weights: [ForwardWeight]) async throws
    /// The ARN of the target group `name` names in that account and region (CodeDeploy names them), or nil.
    func targetGroupARN(name: String, account: String, region: String) async -> String?
}

extension LoadBalancerTargets {
    /// Fakes and implementations that never look names up find none.
    public func targetGroupARN(name: String, account: String, region: String) async -> String? { nil }
}

/// Used while no load balancer service is wired: no target group exists.
public struct NoLoadBalancers: LoadBalancerTargets {
    public init() {}
    public func targetGroup(arn: String) async -> TargetGroupSummary? { nil }
    public func register(targetGroupARN: String, targets: [LoadBalancedTarget]) async throws { throw Self.notFound(targetGroupARN) }
    public func deregister(targetGroupARN: String, targets: [LoadBalancedTarget]) async throws { throw Self.notFound(targetGroupARN) }
    public func health(targetGroupARN: String) async throws -> [LoadBalancedTarget: LoadBalancedTargetState] { throw Self.notFound(targetGroupARN) }
    public func forwardWeights(listenerOrRuleARN: String) async throws -> [ForwardWeight] {
        throw AWSError("ListenerNotFound", "One or more listeners not found", status: .badRequest)
    }
    public func setForwardWeights(listenerOrRuleARN: String, _ weights: [ForwardWeight]) async throws {
        throw AWSError("ListenerNotFound", "One or more listeners not found", status: .badRequest)
    }
    public func targetGroupARN(name: String, account: String, region: String) async -> String? { nil }
    static func notFound(_ arn: String) -> AWSError {
        AWSError("TargetGroupNotFound", "One or more target groups not found", status: .badRequest)
    }
}
