import Core
import Foundation

// The records ECS answers with. Member names are AWS's own, so JSONEncoder writes the API's shapes directly
// (timestamps as epoch seconds); optional members left nil are omitted, as AWS omits them.

struct Tag: Codable, Sendable, Hashable {
    var key: String?
    var value: String?
}

struct KeyValuePair: Codable, Sendable, Hashable {
    var name: String?
    var value: String?
}

struct CapacityProviderStrategyItem: Codable, Sendable, Hashable {
    var capacityProvider: String
    var weight: Int?
    var base: Int?
}

struct Failure: Codable, Sendable {
    var arn: String?
    var reason: String?
    var detail: String?
}

struct ServiceEvent: Codable, Sendable {
    var id: String
    var createdAt: Double
    var message: String
}

struct Attachment: Codable, Sendable {
    var id: String
    var type: String
    var status: String
    var details: [KeyValuePair]
}

struct NetworkBinding: Codable, Sendable {
    var bindIP: String?
    var containerPort: Int?
    var hostPort: Int?
    var `protocol`: String?
}

struct NetworkInterface: Codable, Sendable {
    var attachmentId: String?
    var privateIpv4Address: String?
}

/// A container of a task, as DescribeTasks reports it.
struct Container: Codable, Sendable {
    var containerArn: String
    var taskArn: String
    var name: String
    var image: String?
    var imageDigest: String?
    var runtimeId: String?
    var lastStatus: String
    var exitCode: Int?
    var reason: String?
    var networkBindings: [NetworkBinding]
    var networkInterfaces: [NetworkInterface]
    var healthStatus: String?
    var cpu: String?
    var memory: String?
    var memoryReservation: String?
}

/// A task, as DescribeTasks reports it.
struct ECSTask: Codable, Sendable {
    var attachments: [Attachment]
    var attributes: [KeyValuePair]?
    var availabilityZone: String?
    var capacityProviderName: String?
    var clusterArn: String
    var connectivity: String?
    var connectivityAt: Double?
    var containerInstanceArn: String?
    var containers: [Container]
    var cpu: String?
    var createdAt: Double
    var desiredStatus: String
    var enableExecuteCommand: Bool
    var executionStoppedAt: Double?
    var group: String?
    var healthStatus: String
    var lastStatus: String
    var launchType: String?
    var memory: String?
    var overrides: JSON
    var platformVersion: String?
    var platformFamily: String?
    var pullStartedAt: Double?
    var pullStoppedAt: Double?
    var startedAt: Double?
    var startedBy: String?
    var stopCode: String?
    var stoppedAt: Double?
    var stoppedReason: String?
    var stoppingAt: Double?
    var tags: [Tag]
    var taskArn: String
    var taskDefinitionArn: String
    var version: Int
    var ephemeralStorage: JSON?

    /// The 32-hex id at the end of the ARN.
    var id: String { String(taskArn.split(separator: "/").last ?? "") }
    var isStopped: Bool { lastStatus == "STOPPED" }
}

struct DeploymentCircuitBreaker: Codable, Sendable, Hashable {
    var enable: Bool
    var rollback: Bool
}

struct DeploymentConfiguration: Codable, Sendable {
    var deploymentCircuitBreaker: DeploymentCircuitBreaker?
    var maximumPercent: Int?
    var minimumHealthyPercent: Int?
    var alarms: JSON?
    var strategy: String?
    var bakeTimeInMinutes: Int?
    var lifecycleHooks: JSON?
    var linearConfiguration: JSON?
    var canaryConfiguration: JSON?
}

/// One deployment of a service: PRIMARY (the newest), ACTIVE (being replaced), INACTIVE (gone).
struct Deployment: Codable, Sendable {
    var id: String
    var status: String
    var taskDefinition: String
    var desiredCount: Int
    var pendingCount: Int
    var runningCount: Int
    var failedTasks: Int
    var createdAt: Double
    var updatedAt: Double
    var capacityProviderStrategy: [CapacityProviderStrategyItem]?
    var launchType: String?
    var platformVersion: String?
    var platformFamily: String?
    var networkConfiguration: JSON?
    var rolloutState: String?
    var rolloutStateReason: String?
}

/// A service, as DescribeServices reports it.
struct ECSServiceRecord: Codable, Sendable {
    var serviceArn: String
    var serviceName: String
    var clusterArn: String
    var loadBalancers: JSON
    var serviceRegistries: JSON
    var status: String
    var desiredCount: Int
    var runningCount: Int
    var pendingCount: Int
    var launchType: String?
    var capacityProviderStrategy: [CapacityProviderStrategyItem]?
    var platformVersion: String?
    var platformFamily: String?
    var taskDefinition: String?
    var deploymentConfiguration: DeploymentConfiguration
    /// EXTERNAL and CODE_DEPLOY services: their task sets (TaskSets.swift); nil for ECS-controlled services.
    var taskSets: [TaskSet]?
    var deployments: [Deployment]
    var roleArn: String?
    var events: [ServiceEvent]
    var createdAt: Double
    var placementConstraints: JSON
    var placementStrategy: JSON
    var networkConfiguration: JSON?
    var healthCheckGracePeriodSeconds: Int?
    var schedulingStrategy: String
    var deploymentController: JSON
    var tags: [Tag]
    var createdBy: String?
    var enableECSManagedTags: Bool
    var propagateTags: String
    var enableExecuteCommand: Bool
    var availabilityZoneRebalancing: String?
    var currentServiceDeployment: String?
}

/// What the scheduler remembers about a service beyond what AWS shows: the deployment to roll back to, the
/// launch back-off, and whether the steady state was already announced.
struct ServiceSchedulerState: Codable, Sendable {
    /// The task definition of the last deployment that COMPLETED (where a circuit-breaker rollback returns).
    var lastCompletedTaskDefinition: String?
    var lastCompletedDeploymentId: String?
    /// Tasks of the service that stopped in a row without becoming healthy.
    var consecutiveFailures: Int = 0
    /// No new task before this time (emulator clock): AWS's growing back-off while tasks keep failing.
    var launchNotBefore: Double = 0
    var steadyStateAnnounced: Bool = false
    var lastSteadyStateEvent: Double = 0
    var unableToPlaceEventAt: Double = 0
    /// The Cloud Map namespace of its Service Connect configuration (ListServicesByNamespace).
    var serviceConnectNamespace: String?
    /// Each live deployment's service deployment ARN.
    var serviceDeployments: [String: String] = [:]
    /// CreateTaskSet's clientToken → the id of the task set it created (idempotent retries).
    var taskSetClientTokens: [String: String]?
    /// The clientToken CreateService was called with (a retry with it answers the same service).
    var clientToken: String?

    init() {}

    /// Every member is optional when read back: a state saved by an older Cloudless lacks the newer ones.
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        lastCompletedTaskDefinition = try c.decodeIfPresent(String.self, forKey: .lastCompletedTaskDefinition)
        lastCompletedDeploymentId = try c.decodeIfPresent(String.self, forKey: .lastCompletedDeploymentId)
        consecutiveFailures = try c.decodeIfPresent(Int.self, forKey: .consecutiveFailures) ?? 0
        launchNotBefore = try c.decodeIfPresent(Double.self, forKey: .launchNotBefore) ?? 0
        steadyStateAnnounced = try c.decodeIfPresent(Bool.self, forKey: .steadyStateAnnounced) ?? false
        lastSteadyStateEvent = try c.decodeIfPresent(Double.self, forKey: .lastSteadyStateEvent) ?? 0
        unableToPlaceEventAt = try c.decodeIfPresent(Double.self, forKey: .unableToPlaceEventAt) ?? 0
        serviceConnectNamespace = try c.decodeIfPresent(String.self, forKey: .serviceConnectNamespace)
        serviceDeployments = try c.decodeIfPresent([String: String].self, forKey: .serviceDeployments) ?? [:]
        taskSetClientTokens = try c.decodeIfPresent([String: String].self, forKey: .taskSetClientTokens)
        clientToken = try c.decodeIfPresent(String.self, forKey: .clientToken)
    }
}

struct Cluster: Codable, Sendable {
    var clusterArn: String
    var clusterName: String
    var configuration: JSON?
    var status: String
    var registeredContainerInstancesCount: Int
    var runningTasksCount: Int
    var pendingTasksCount: Int
    var activeServicesCount: Int
    var statistics: [KeyValuePair]?
    var tags: [Tag]?
    var settings: [KeyValuePair]?
    var capacityProviders: [String]
    var defaultCapacityProviderStrategy: [CapacityProviderStrategyItem]
    var attachments: JSON?
    var attachmentsStatus: String?
    var serviceConnectDefaults: JSON?
}

extension Array where Element == Tag {
    var dictionary: [String: String] {
        var d: [String: String] = [:]
        for t in self { if let k = t.key { d[k] = t.value ?? "" } }
        return d
    }
}

enum ECSTime {
    /// Seconds with millisecond precision, as ECS's timestamps come.
    static func round(_ t: Double) -> Double { (t * 1000).rounded(.down) / 1000 }
}
