import Core
import Foundation
import Logging

/// Elastic Load Balancing v2 over the Query protocol (`Version=2015-12-01`): load balancers, target groups, listeners
/// and rules, stored in `elbv2.sqlite`; each listener serves real traffic on a loopback port (`ListenerServers`) and
/// by Host `<name>-<id>.<region>.elb.localhost` on Cloudless's own port, and health checks run on the emulator's clock.
public struct ELBv2Service: AWSService {
    public let signingName = "elasticloadbalancing"
    public let wireProtocol = WireProtocol.query
    public static let apiVersion = "2015-12-01"
    static let xmlns = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
    public var queryNamespace: String? { Self.xmlns }
    let store: ELBv2Store
    let clock: EmulatorClock
    let runtime: DataPlane

    /// `functions` runs the `lambda` targets.
    public init(directory: String, clock: EmulatorClock, functions: any FunctionInvoker, logger: Logger) throws {
        store = try ELBv2Store(directory: directory)
        self.clock = clock
        runtime = DataPlane(store: store, clock: clock, functions: functions, logger: logger)
    }

    public func reset() async throws {
        try store.reset()
        await runtime.reconcile()
    }

    public func operationName(for request: AWSRequest) -> String {
        request.queryValue("Action") ?? "-"
    }

    struct Caller {
        var account: String
        var region: String
        var now: Double
    }

    typealias Answer = ((inout XMLWriter) -> Void)?

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        let parameters = try await QueryProtocol.parameters(request)
        guard let action = parameters["Action"] else { throw AWSError("MissingAction", "Missing Action") }
        let caller = Caller(account: request.caller.accountID, region: request.caller.region, now: clock.now())
        let answer = try perform(action, ELBv2Input(parameters), caller)
        // Listeners and health checks follow the stored state.
        if !action.hasPrefix("Describe") { await runtime.reconcile() }
        // Every ELBv2 operation has an output shape: an empty one still answers `<ActionResult/>`.
        return QueryProtocol.response(action: action, xmlns: Self.xmlns, requestID: request.requestID, result: answer ?? { _ in })
    }

    func perform(_ action: String, _ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        switch action {
        case "CreateLoadBalancer": return try createLoadBalancer(input, caller)
        case "DescribeLoadBalancers": return try describeLoadBalancers(input, caller)
        case "DeleteLoadBalancer": return try deleteLoadBalancer(input, caller)
        case "DescribeLoadBalancerAttributes": return try describeLoadBalancerAttributes(input, caller)
        case "ModifyLoadBalancerAttributes": return try modifyLoadBalancerAttributes(input, caller)
        case "SetSecurityGroups": return try setSecurityGroups(input, caller)
        case "CreateTargetGroup": return try createTargetGroup(input, caller)
        case "DescribeTargetGroups": return try describeTargetGroups(input, caller)
        case "ModifyTargetGroup": return try modifyTargetGroup(input, caller)
        case "DeleteTargetGroup": return try deleteTargetGroup(input, caller)
        case "DescribeTargetGroupAttributes": return try describeTargetGroupAttributes(input, caller)
        case "ModifyTargetGroupAttributes": return try modifyTargetGroupAttributes(input, caller)
        case "RegisterTargets": return try registerTargets(input, caller)
        case "DeregisterTargets": return try deregisterTargets(input, caller)
        case "DescribeTargetHealth": return try describeTargetHealth(input, caller)
        case "CreateListener": return try createListener(input, caller)
        case "DescribeListeners": return try describeListeners(input, caller)
        case "ModifyListener": return try modifyListener(input, caller)
        case "DeleteListener": return try deleteListener(input, caller)
        case "CreateRule": return try createRule(input, caller)
        case "DescribeRules": return try describeRules(input, caller)
        case "ModifyRule": return try modifyRule(input, caller)
        case "DeleteRule": return try deleteRule(input, caller)
        case "SetRulePriorities": return try setRulePriorities(input, caller)
        case "AddTags": return try addTags(input, caller)
        case "RemoveTags": return try removeTags(input, caller)
        case "DescribeTags": return try describeTags(input, caller)
        default:
            throw AWSError("InvalidAction", "Could not find operation \(action) for version \(input["Version"] ?? "NO_VERSION_SPECIFIED")")
        }
    }

    /// Marker/PageSize paging over `items` (the marker is the index of the next item).
    static func page<T>(_ items: [T], _ input: ELBv2Input) throws -> ([T], String?) {
        let size = try input.int("PageSize") ?? 400
        guard (1...400).contains(size) else {
            throw ELBv2Error.validation("1 validation error detected: Value '\(size)' at 'pageSize' failed to satisfy constraint: Member must have value less than or equal to 400")
        }
        var start = 0
        if let m = input["Marker"] {
            guard let i = Int(m), i >= 0 else { throw ELBv2Error.validation("Invalid marker '\(m)'") }
            start = min(i, items.count)
        }
        let end = min(start + size, items.count)
        return (Array(items[start..<end]), end < items.count ? String(end) : nil)
    }
}
