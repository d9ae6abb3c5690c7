import Core
import Foundation

/// A task set's scale: a percentage of its service's desiredCount.
struct TaskSetScale: Codable, Sendable, Hashable {
    var value: Double
    var unit: String
}

/// A task set of an EXTERNAL or CODE_DEPLOY service, as DescribeTaskSets reports it. It lives inside its service's
/// record (`ECSServiceRecord.taskSets`), so it is saved with the service; its tasks carry its id as `startedBy` and
/// as their `TaskMeta.deploymentId`.
struct TaskSet: Codable, Sendable {
    var id: String
    var taskSetArn: String
    var serviceArn: String
    var clusterArn: String
    var startedBy: String?
    var externalId: String?
    /// PRIMARY (serving production traffic), ACTIVE, DRAINING (deleted; its tasks are stopping).
    var status: String
    var taskDefinition: String
    var computedDesiredCount: Int
    var pendingCount: Int
    var runningCount: Int
    var createdAt: Double
    var updatedAt: Double
    var launchType: String?
    var capacityProviderStrategy: [CapacityProviderStrategyItem]?
    var platformVersion: String?
    var platformFamily: String?
    var networkConfiguration: JSON?
    var loadBalancers: JSON
    var serviceRegistries: JSON
    var scale: TaskSetScale
    var stabilityStatus: String
    var stabilityStatusAt: Double
    var tags: [Tag]
}

/// The arithmetic of task sets, apart from the scheduler so that it can be tested alone.
enum TaskSetMath {
    /// The most task sets a service may have (AWS: "5 deployments exist on the service…").
    static let maximumTaskSets = 5

    /// ceil(desiredCount × scale%), as AWS computes it: 1.2 tasks are 2. A product that is an integer up to
    /// floating-point noise (3 × 33.333…%) is that integer.
    static func computedDesiredCount(serviceDesired: Int, scalePercent: Double) -> Int {
        guard serviceDesired > 0, scalePercent > 0 else { return 0 }
        let exact = Double(serviceDesired) * scalePercent / 100
        let nearest = exact.rounded()
        if abs(exact - nearest) < 1e-9 { return Int(nearest) }
        return Int(exact.rounded(.up))
    }

    /// STEADY_STATE when runningCount equals computedDesiredCount, nothing is pending, every running task is
    /// healthy and none is being stopped; STABILIZING otherwise.
    static func stability(computedDesired: Int, running: Int, pending: Int, allHealthy: Bool, stopping: Int) -> String {
        running == computedDesired && pending == 0 && allHealthy && stopping == 0 ? "STEADY_STATE" : "STABILIZING"
    }

    /// The id a task set is named by: an id (`ecs-svc/…`) or an ARN (`…:task-set/<cluster>/<service>/ecs-svc/…`).
    static func id(fromIdentifier ident: String) -> String {
        guard ident.hasPrefix("arn:"), let r = ident.range(of: ":task-set/") else { return ident }
        let parts = ident[r.upperBound...].split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 4 else { return ident }
        return parts[2...].joined(separator: "/")
    }

    /// The service ARN a task-set ARN belongs to, or nil when it is not one.
    static func serviceArn(ofTaskSetArn arn: String) -> String? {
        guard let r = arn.range(of: ":task-set/") else { return nil }
        let parts = arn[r.upperBound...].split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 4 else { return nil }
        return String(arn[..<r.lowerBound]) + ":service/\(parts[0])/\(parts[1])"
    }

    /// The scale of a request: PERCENT, 0 to 100.
    static func checkScale(_ scale: TaskSetScale) throws {
        guard scale.unit == "PERCENT" else {
            throw ECSError.validation(scale.unit, at: "scale.unit", "Member must satisfy enum value set: [PERCENT]")
        }
        guard scale.value.isFinite, (0...100).contains(scale.value) else {
            throw ECSError.invalid("The scale value must be between 0 and 100.")
        }
    }

    /// A service's deployment controller type (ECS when none is set).
    static func controllerType(_ s: ECSServiceRecord) -> String { s.deploymentController["type"]?.string ?? "ECS" }

    static func usesTaskSets(_ s: ECSServiceRecord) -> Bool { controllerType(s) != "ECS" }
}
