import Core
import Foundation

/// `AWS::ECS::Cluster`, `AWS::ECS::TaskDefinition` and `AWS::ECS::Service` for CloudFormation, over the operations
/// the API serves (CreateCluster, RegisterTaskDefinition, CreateService...), called in-process as the stack's
/// account and region. A service's create and update wait until it is stable, as CloudFormation does.
public struct ECSResources: ResourceProvider {
    let service: ECSService
    /// How long a service may take to become stable (or inactive, on delete).
    var stabilizationTimeout: Duration = .seconds(600)

    public var resourceTypes: [String] { ["AWS::ECS::Cluster", "AWS::ECS::TaskDefinition", "AWS::ECS::Service"] + Self.capacityTypes }

    static let taskDefinitionProperties: Set<String> = [
        "ContainerDefinitions", "Cpu", "EnableFaultInjection", "EphemeralStorage", "ExecutionRoleArn", "Family",
        "InferenceAccelerators", "IpcMode", "Memory", "NetworkMode", "PidMode", "PlacementConstraints", "ProxyConfiguration",
        "RequiresCompatibilities", "RuntimePlatform", "Tags", "TaskRoleArn", "Volumes",
    ]

    public func createOnlyProperties(of type: String) -> Set<String> {
        switch type {
        case "AWS::ECS::Cluster": return ["ClusterName"]
        case "AWS::ECS::TaskDefinition": return Self.taskDefinitionProperties
        case "AWS::ECS::Service": return ["Cluster", "ServiceName", "LaunchType", "Role", "SchedulingStrategy", "DeploymentController"]
        default: return capacityCreateOnly(type)
        }
    }

    public func create(_ request: ResourceRequest) async throws -> ResourceState {
        switch request.type {
        case "AWS::ECS::Cluster": return try await createCluster(request)
        case "AWS::ECS::TaskDefinition": return try await registerTaskDefinition(request)
        case "AWS::ECS::Service": return try await createService(request)
        case "AWS::ECS::CapacityProvider": return try await createCapacityProvider(request)
        case "AWS::ECS::ClusterCapacityProviderAssociations": return try await associateCapacityProviders(request)
        default: throw Self.unsupported(request.type)
        }
    }

    public func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        switch request.type {
        case "AWS::ECS::Cluster": return try await updateCluster(request, previous: previous)
        case "AWS::ECS::TaskDefinition":
            // Every change is a new revision; the old one goes.
            let state = try await registerTaskDefinition(request)
            try await delete(request, state: previous)
            return state
        case "AWS::ECS::Service": return try await updateService(request, previous: previous)
        case "AWS::ECS::CapacityProvider": return try await updateCapacityProvider(request, previous: previous)
        case "AWS::ECS::ClusterCapacityProviderAssociations": return try await associateCapacityProviders(request)
        default: throw Self.unsupported(request.type)
        }
    }

    public func delete(_ request: ResourceRequest, state: ResourceState) async throws {
        do {
            switch request.type {
            case "AWS::ECS::Cluster": _ = try await call(request, "DeleteCluster", ["cluster": .string(state.physicalId)])
            case "AWS::ECS::TaskDefinition":
                _ = try await call(request, "DeregisterTaskDefinition", ["taskDefinition": .string(state.physicalId)])
            case "AWS::ECS::Service": try await deleteService(request, state: state)
            case "AWS::ECS::CapacityProvider":
                _ = try await call(request, "DeleteCapacityProvider", ["capacityProvider": .string(state.physicalId)])
            case "AWS::ECS::ClusterCapacityProviderAssociations": try await dissociateCapacityProviders(request, state: state)
            default: throw Self.unsupported(request.type)
            }
        } catch let e as AWSError where ["ClusterNotFoundException", "ServiceNotFoundException", "ServiceNotActiveException"].contains(e.code)
            || e.message.contains("does not exist") {}
    }

    // MARK: Cluster

    func createCluster(_ request: ResourceRequest) async throws -> ResourceState {
        let p = request.properties
        let name = p["ClusterName"]?.string ?? request.generatedName(limit: 255)
        var body = Self.apiKeys(p.filter { ["CapacityProviders", "DefaultCapacityProviderStrategy", "Configuration", "ServiceConnectDefaults"].contains($0.key) }).object ?? [:]
        body["clusterName"] = .string(name)
        if let s = p["ClusterSettings"] { body["settings"] = Self.apiKeys(s) }
        let tags = Self.tags(request)
        if tags.array?.isEmpty == false { body["tags"] = tags }
        let out = try await call(request, "CreateCluster", body)
        let arn = out["cluster"]?["clusterArn"]?.string ?? ""
        try await applySystemTags(request, arn)
        return ResourceState(physicalId: name, ref: name, attributes: [
            "Arn": .string(arn), "OwnsCapacityProviders": .bool(p["CapacityProviders"] != nil || p["DefaultCapacityProviderStrategy"] != nil),
        ])
    }

    func updateCluster(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        let p = request.properties
        let cluster = JSON.string(previous.physicalId)
        _ = try await call(request, "UpdateClusterSettings", [
            "cluster": cluster,
            "settings": p["ClusterSettings"].map(Self.apiKeys) ?? .array([.object(["name": .string("containerInsights"), "value": .string("disabled")])]),
        ])
        // Only a cluster whose template names capacity providers sets them: an
        // AWS::ECS::ClusterCapacityProviderAssociations may own them instead.
        if p["CapacityProviders"] != nil || p["DefaultCapacityProviderStrategy"] != nil || previous.attributes["OwnsCapacityProviders"] == .bool(true) {
            _ = try await call(request, "PutClusterCapacityProviders", [
                "cluster": cluster, "capacityProviders": p["CapacityProviders"] ?? .array([]),
                "defaultCapacityProviderStrategy": p["DefaultCapacityProviderStrategy"].map(Self.apiKeys) ?? .array([]),
            ])
        }
        var settings: [String: JSON] = ["cluster": cluster]
        if let c = p["Configuration"] { settings["configuration"] = Self.apiKeys(c) }
        if let d = p["ServiceConnectDefaults"] { settings["serviceConnectDefaults"] = Self.apiKeys(d) }
        if settings.count > 1 { _ = try await call(request, "UpdateCluster", settings) }
        if let arn = previous.attributes["Arn"]?.string { try await syncTags(request, arn) }
        var state = previous
        state.attributes["OwnsCapacityProviders"] = .bool(p["CapacityProviders"] != nil || p["DefaultCapacityProviderStrategy"] != nil)
        return state
    }

    // MARK: TaskDefinition

    func registerTaskDefinition(_ request: ResourceRequest) async throws -> ResourceState {
        var doc = Self.apiKeys(request.properties).object ?? [:]
        if doc["family"] == nil { doc["family"] = .string(request.generatedName(limit: 255)) }
        let tags = Self.tags(request)
        doc["tags"] = tags.array?.isEmpty == false ? tags : nil
        let out = try await call(request, "RegisterTaskDefinition", doc)
        let arn = out["taskDefinition"]?["taskDefinitionArn"]?.string ?? ""
        try await applySystemTags(request, arn)
        return ResourceState(physicalId: arn, ref: arn, attributes: ["TaskDefinitionArn": .string(arn)])
    }

    // MARK: Service

    static let serviceCopied = [
        "CapacityProviderStrategy", "DeploymentConfiguration", "DeploymentController", "DesiredCount", "EnableECSManagedTags",
        "EnableExecuteCommand", "HealthCheckGracePeriodSeconds", "LaunchType", "LoadBalancers", "NetworkConfiguration",
        "PlacementConstraints", "PlacementStrategies", "PlatformVersion", "PropagateTags", "Role", "SchedulingStrategy",
        "ServiceRegistries", "TaskDefinition", "AvailabilityZoneRebalancing", "ServiceConnectConfiguration", "VolumeConfigurations",
    ]

    func createService(_ request: ResourceRequest) async throws -> ResourceState {
        let p = request.properties
        let name = p["ServiceName"]?.string ?? request.generatedName(limit: 255)
        var body = Self.apiKeys(p.filter { Self.serviceCopied.contains($0.key) }).object ?? [:]
        body["serviceName"] = .string(name)
        if let c = p["Cluster"] { body["cluster"] = c }
        if body["desiredCount"] == nil, p["SchedulingStrategy"]?.string != "DAEMON" { body["desiredCount"] = .number(1) }
        let tags = Self.tags(request)
        if tags.array?.isEmpty == false { body["tags"] = tags }
        let out = try await call(request, "CreateService", body)
        let arn = out["service"]?["serviceArn"]?.string ?? ""
        let cluster = out["service"]?["clusterArn"]?.string ?? ""
        let state = ResourceState(physicalId: arn, ref: arn, attributes: [
            "ServiceArn": .string(arn), "Name": .string(name), "Cluster": .string(cluster),
        ])
        try await applySystemTags(request, arn)
        try await waitStable(request, cluster: cluster, service: arn)
        return state
    }

    func updateService(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        let p = request.properties
        let updatable = ["CapacityProviderStrategy", "DeploymentConfiguration", "DesiredCount", "EnableECSManagedTags", "EnableExecuteCommand",
                         "HealthCheckGracePeriodSeconds", "NetworkConfiguration", "PlacementConstraints", "PlacementStrategies",
                         "PlatformVersion", "PropagateTags", "TaskDefinition", "LoadBalancers", "ServiceRegistries"]
        var body = Self.apiKeys(p.filter { updatable.contains($0.key) }).object ?? [:]
        let cluster = previous.attributes["Cluster"]?.string ?? ""
        body["cluster"] = .string(cluster)
        body["service"] = .string(previous.physicalId)
        _ = try await call(request, "UpdateService", body)
        try await syncTags(request, previous.physicalId)
        try await waitStable(request, cluster: cluster, service: previous.physicalId)
        return previous
    }

    func deleteService(_ request: ResourceRequest, state: ResourceState) async throws {
        let cluster = JSON.string(state.attributes["Cluster"]?.string ?? "")
        let service = JSON.string(state.physicalId)
        _ = try? await call(request, "UpdateService", ["cluster": cluster, "service": service, "desiredCount": .number(0)])
        do {
            _ = try await call(request, "DeleteService", ["cluster": cluster, "service": service, "force": .bool(true)])
        } catch let e as AWSError where e.code == "ServiceNotActiveException" {
            // Already DRAINING (a delete a restart interrupted): its cluster can go only once it is INACTIVE.
        }
        let deadline = StabilizationDeadline(stabilizationTimeout, clock: self.service.clock)
        while !deadline.passed {
            let out = try await call(request, "DescribeServices", ["cluster": cluster, "services": .array([service])])
            guard let s = out["services"]?.array?.first, s["status"]?.string != "INACTIVE" else { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw AWSError("NotStabilized", "Service \(state.physicalId) did not become INACTIVE in time.")
    }

    /// Wait until the service has one deployment, completed, with every desired task running.
    func waitStable(_ request: ResourceRequest, cluster: String, service: String) async throws {
        let deadline = StabilizationDeadline(stabilizationTimeout, clock: self.service.clock)
        var last = ""
        while !deadline.passed {
            let out = try await call(request, "DescribeServices", ["cluster": .string(cluster), "services": .array([.string(service)])])
            if let s = out["services"]?.array?.first {
                let deployments = s["deployments"]?.array ?? []
                let running = s["runningCount"]?.double ?? -1
                let desired = s["desiredCount"]?.double ?? -2
                if let d = deployments.first, d["rolloutState"]?.string == "FAILED" {
                    throw AWSError("NotStabilized", "Service \(service) deployment failed: \(d["rolloutStateReason"]?.string ?? "")")
                }
                if deployments.count == 1, deployments[0]["rolloutState"]?.string.map({ $0 == "COMPLETED" }) ?? true, running == desired {
                    return
                }
                last = "\(Int(running)) of \(Int(desired)) tasks running, \(deployments.count) deployments"
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw AWSError("NotStabilized", "Service \(service) did not stabilize in time (\(last)).")
    }

    // MARK: Support

    /// The stack's tags and the resource's `Tags`, as ECS takes them ([{key, value}]). ECS's API refuses the `aws:`
    /// prefix, so the stack's `aws:cloudformation:*` tags are left out here and written by `applySystemTags`.
    static func tags(_ request: ResourceRequest) -> JSON {
        var out = request.tags.filter { !$0.key.lowercased().hasPrefix("aws:") }
        for tag in request.properties["Tags"]?.array ?? [] {
            if let key = tag["Key"]?.string, let value = tag["Value"] { out[key] = value.string ?? text(value) }
        }
        return .array(out.sorted { $0.key < $1.key }.map { .object(["key": .string($0.key), "value": .string($0.value)]) })
    }

    func syncTags(_ request: ResourceRequest, _ arn: String) async throws {
        let wanted = Dictionary(uniqueKeysWithValues: (Self.tags(request).array ?? []).compactMap { t -> (String, String)? in
            guard let k = t["key"]?.string, let v = t["value"]?.string else { return nil }
            return (k, v)
        })
        let existing = try await call(request, "ListTagsForResource", ["resourceArn": .string(arn)])["tags"]?.array ?? []
        let removed = existing.compactMap { $0["key"]?.string }.filter { wanted[$0] == nil && !$0.lowercased().hasPrefix("aws:") }
        if !removed.isEmpty {
            _ = try await call(request, "UntagResource", ["resourceArn": .string(arn), "tagKeys": .array(removed.map { .string($0) })])
        }
        if !wanted.isEmpty { _ = try await call(request, "TagResource", ["resourceArn": .string(arn), "tags": Self.tags(request)]) }
    }

    static func text(_ v: JSON) -> String {
        switch v {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n == n.rounded() && abs(n) < 9e15 ? String(Int64(n)) : String(n)
        default: return ""
        }
    }

    /// Maps whose keys are the user's (container labels, log driver options...), kept as they are.
    static let userMaps: Set<String> = ["DockerLabels", "Options", "DriverOpts", "Labels", "Tags"]
    /// Property names whose API name is not simply the first letter lowered.
    static let renamed = ["EFSVolumeConfiguration": "efsVolumeConfiguration",
                          "FSxWindowsFileServerVolumeConfiguration": "fsxWindowsFileServerVolumeConfiguration",
                          "FSxWindowsFileServerAuthorizationConfig": "fsxWindowsFileServerAuthorizationConfig",
                          "IAM": "iam"]

    /// CloudFormation's property names (ContainerDefinitions[].PortMappings) as the API's (containerDefinitions[].portMappings).
    static func apiKeys(_ v: JSON) -> JSON {
        switch v {
        case .object(let o): return apiKeys(o)
        case .array(let a): return .array(a.map(apiKeys))
        default: return v
        }
    }

    static func apiKeys(_ o: [String: JSON]) -> JSON {
        var out: [String: JSON] = [:]
        for (k, v) in o {
            let name = renamed[k] ?? (k.prefix(1).lowercased() + k.dropFirst())
            out[name] = userMaps.contains(k) && k != "Tags" ? v : apiKeys(v)
        }
        return .object(out)
    }

    func call(_ request: ResourceRequest, _ operation: String, _ body: [String: JSON]) async throws -> [String: JSON] {
        if operation != "DescribeServices" { service.logger.debug("ECS: CloudFormation (\(request.stackName) \(request.logicalId)) calls \(operation)") }
        let r = InternalCall.request(account: request.account, region: request.region,
                                     target: "AmazonEC2ContainerServiceV20141113.\(operation)", body: .object(body))
        return try await InternalCall.json(try await service.handle(r))
    }

    static func unsupported(_ type: String) -> AWSError {
        AWSError("InvalidRequest", "Resource type \(type) is not served by ECS.")
    }
}

/// The end of a wait for a service: `timeout` of real time or of the emulator's clock, whichever ends first, so that a
/// test moving the clock sees a service that never stabilizes fail as it would after AWS's timeout.
struct StabilizationDeadline {
    let realEnd: ContinuousClock.Instant
    let emulatorEnd: Double
    let clock: EmulatorClock

    init(_ timeout: Duration, clock: EmulatorClock) {
        realEnd = ContinuousClock.now + timeout
        emulatorEnd = clock.now() + Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        self.clock = clock
    }

    var passed: Bool { ContinuousClock.now >= realEnd || clock.now() >= emulatorEnd }
}

extension ECSService {
    /// The CloudFormation provider.
    public var resourceProvider: ECSResources { ECSResources(service: self) }
}
