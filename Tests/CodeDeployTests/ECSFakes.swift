@testable import CodeDeploy
import Core
import Foundation
import Synchronization

/// One CODE_DEPLOY service's task sets in memory, as ECS's ECSDeploymentControl would keep them; a new task set's
/// tasks run at once.
final class FakeECS: ECSDeploymentControl {
    struct State { var sets: [[String: JSON]] = []; var tokens: [String: String] = [:]; var calls: [String] = []; var next = 2 }
    let state = Mutex(State())
    static let serviceArn = "arn:aws:ecs:us-east-1:000000000000:service/c/svc"

    init(blueTargetGroup: String) {
        state.withLock { $0.sets = [Self.taskSet("ecs-svc/1", status: "PRIMARY", td: "web:1", tg: blueTargetGroup)] }
    }

    static func taskSet(_ id: String, status: String, td: String, tg: String) -> [String: JSON] {
        ["id": .string(id), "status": .string(status), "taskDefinition": .string(td), "computedDesiredCount": .number(2),
         "runningCount": .number(2), "pendingCount": .number(0), "launchType": .string("FARGATE"),
         "loadBalancers": .array([.object(["targetGroupArn": .string(tg), "containerName": .string("web"), "containerPort": .number(8080)])])]
    }

    var sets: [[String: JSON]] { state.withLock { $0.sets } }
    var primary: String? { sets.first { $0["status"]?.string == "PRIMARY" }?["id"]?.string }
    var ids: [String] { sets.compactMap { $0["id"]?.string } }

    func call(_ operation: String, account: String, region: String, input: [String: JSON]) async throws -> [String: JSON] {
        try state.withLock { s in
            s.calls.append(operation)
            switch operation {
            case "DescribeServices":
                return ["services": .array([.object(["serviceArn": .string(Self.serviceArn), "status": .string("ACTIVE"),
                                                     "deploymentController": .object(["type": .string("CODE_DEPLOY")]),
                                                     "taskSets": .array(s.sets.map(JSON.object))])])]
            case "DescribeTaskSets": return ["taskSets": .array(s.sets.map(JSON.object))]
            case "CreateTaskSet":
                let token = input["clientToken"]?.string ?? UUID().uuidString
                if let id = s.tokens[token], let ts = s.sets.first(where: { $0["id"]?.string == id }) { return ["taskSet": .object(ts)] }
                let id = "ecs-svc/\(s.next)"
                s.next += 1
                s.tokens[token] = id
                let tg = input["loadBalancers"]?.array?.first?["targetGroupArn"]?.string ?? ""
                let ts = Self.taskSet(id, status: "ACTIVE", td: input["taskDefinition"]?.string ?? "", tg: tg)
                s.sets.append(ts)
                return ["taskSet": .object(ts)]
            case "UpdateServicePrimaryTaskSet":
                let id = input["primaryTaskSet"]?.string
                guard s.sets.contains(where: { $0["id"]?.string == id }) else { throw AWSError("TaskSetNotFoundException", "The specified task set does not exist.") }
                for i in s.sets.indices { s.sets[i]["status"] = .string(s.sets[i]["id"]?.string == id ? "PRIMARY" : "ACTIVE") }
                return [:]
            case "DeleteTaskSet":
                let id = input["taskSet"]?.string
                guard s.sets.contains(where: { $0["id"]?.string == id }) else { throw AWSError("TaskSetNotFoundException", "The specified task set does not exist.") }
                s.sets.removeAll { $0["id"]?.string == id }
                return [:]
            default: throw AWSError("UnknownOperationException", operation)
            }
        }
    }
}

/// Listener weights and target groups in memory; every registered target is healthy.
final class FakeListeners: LoadBalancerTargets {
    let weights = Mutex<[String: [ForwardWeight]]>([:])
    let history = Mutex<[String: [[ForwardWeight]]]>([:])

    static func arn(_ name: String) -> String { "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/\(name)/0123456789abcdef" }

    func targetGroup(arn: String) async -> TargetGroupSummary? { nil }
    func register(targetGroupARN: String, targets: [LoadBalancedTarget]) async throws {}
    func deregister(targetGroupARN: String, targets: [LoadBalancedTarget]) async throws {}
    func health(targetGroupARN: String) async throws -> [LoadBalancedTarget: LoadBalancedTargetState] {
        [LoadBalancedTarget(id: "127.10.0.1", port: 8080): .healthy, LoadBalancedTarget(id: "127.10.0.2", port: 8080): .healthy]
    }
    func forwardWeights(listenerOrRuleARN: String) async throws -> [ForwardWeight] { weights.withLock { $0[listenerOrRuleARN] ?? [] } }
    func setForwardWeights(listenerOrRuleARN: String, _ w: [ForwardWeight]) async throws {
        weights.withLock { $0[listenerOrRuleARN] = w }
        history.withLock { $0[listenerOrRuleARN, default: []].append(w) }
    }
    func targetGroupARN(name: String, account: String, region: String) async -> String? {
        ["blue", "green"].contains(name) ? Self.arn(name) : nil
    }
}
