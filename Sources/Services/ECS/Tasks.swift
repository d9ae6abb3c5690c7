import Core
import Foundation

/// RunTask, StartTask, StopTask, DescribeTasks, ListTasks.
extension ECSService {
    /// Where tasks run: a launch type, or a capacity provider strategy (the request's, else the cluster's default).
    struct Placement {
        var launchType: String?
        var capacityProvider: String?
        var strategy: [CapacityProviderStrategyItem]?

        /// FARGATE for a Fargate launch type or a FARGATE/FARGATE_SPOT provider.
        var isFargate: Bool { launchType == "FARGATE" || capacityProvider.map(ECSService.builtInCapacityProviders.contains) == true }
    }

    func placement(_ input: Input, cluster: Cluster) throws -> Placement {
        let launchType = try input.string("launchType")
        let strategy = try input.decode("capacityProviderStrategy", as: [CapacityProviderStrategyItem].self)
        if launchType != nil && strategy != nil && !(strategy?.isEmpty ?? true) {
            throw ECSError.invalid("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
        }
        if let launchType {
            guard ["EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES"].contains(launchType) else {
                throw ECSError.validation(launchType, at: "launchType", "Member must satisfy enum value set: [EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES]")
            }
            return Placement(launchType: launchType)
        }
        let chosen = (strategy?.isEmpty == false ? strategy : nil) ?? (cluster.defaultCapacityProviderStrategy.isEmpty ? nil : cluster.defaultCapacityProviderStrategy)
        if let chosen {
            for item in chosen where !cluster.capacityProviders.contains(item.capacityProvider) {
                throw ECSError.invalid("The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.")
            }
            // The provider with a base, else the heaviest: tasks here all go to one provider.
            let pick = chosen.first { ($0.base ?? 0) > 0 } ?? chosen.max { ($0.weight ?? 0) < ($1.weight ?? 0) } ?? chosen[0]
            return Placement(capacityProvider: pick.capacityProvider, strategy: chosen)
        }
        return Placement(launchType: "EC2")
    }

    /// awsvpc needs a network configuration with subnets; ids are checked for their form only (there is no EC2).
    static func checkNetwork(_ network: JSON?, definition: TaskDefinition) throws {
        guard definition.networkMode == "awsvpc" else {
            if network != nil {
                throw ECSError.invalid("Network Configuration is not valid for the given networkMode of this task definition.")
            }
            return
        }
        guard let vpc = network?["awsvpcConfiguration"] else {
            throw ECSError.invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
        }
        let subnets = vpc["subnets"]?.array?.compactMap(\.string) ?? []
        guard !subnets.isEmpty else { throw ECSError.invalid("subnets can not be empty.") }
        guard subnets.count <= 16 else { throw ECSError.invalid("subnets can have at most 16 items.") }
        for s in subnets where !Self.isResourceID(s, prefix: "subnet-") {
            throw ECSError.invalid("Error retrieving subnet information for [\(s)]: The subnet ID '\(s)' is malformed (Service: AmazonEC2; Status Code: 400; Error Code: InvalidSubnetID.Malformed)")
        }
        let groups = vpc["securityGroups"]?.array?.compactMap(\.string) ?? []
        guard groups.count <= 5 else { throw ECSError.invalid("securityGroups can have at most 5 items.") }
        for g in groups where !Self.isResourceID(g, prefix: "sg-") {
            throw ECSError.invalid("Error retrieving security group information for [\(g)]: The security group ID '\(g)' is malformed (Service: AmazonEC2; Status Code: 400; Error Code: InvalidGroupId.Malformed)")
        }
        if let ip = vpc["assignPublicIp"]?.string, ip != "ENABLED" && ip != "DISABLED" {
            throw ECSError.validation(ip, at: "networkConfiguration.awsvpcConfiguration.assignPublicIp", "Member must satisfy enum value set: [ENABLED, DISABLED]")
        }
    }

    /// `subnet-` / `sg-` followed by 8 or 17 hex digits, as EC2 makes them.
    static func isResourceID(_ s: String, prefix: String) -> Bool {
        guard s.hasPrefix(prefix) else { return false }
        let hex = s.dropFirst(prefix.count)
        return (hex.count == 8 || hex.count == 17) && hex.allSatisfy(\.isHexDigit)
    }

    static func checkCompatibility(_ definition: TaskDefinition, _ p: Placement) throws {
        let compatibilities = definition.doc["compatibilities"]?.array?.compactMap(\.string) ?? []
        if p.isFargate && !compatibilities.contains("FARGATE") {
            throw ECSError.client("Task definition does not support launch_type FARGATE.")
        }
        if p.launchType == "EC2" && !compatibilities.contains("EC2") {
            throw ECSError.client("Task definition does not support launch_type EC2.")
        }
        if p.launchType == "EXTERNAL" {
            // External instances are not modelled: an EXTERNAL task has nowhere to run.
            throw ECSError.invalid("No Container Instances were found in your cluster.")
        }
    }

    func runTask(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        let cluster = try activeCluster(try input.string("cluster"), scope)
        let definition = try usableTaskDefinition(try input.required("taskDefinition"), scope)
        let count = try input.int("count") ?? 1
        guard (1...10).contains(count) else { throw ECSError.invalid("The value for the count parameter must be between 1 and 10.") }
        let p = try placement(input, cluster: cluster)
        try Self.checkNetwork(input.json("networkConfiguration"), definition: definition)
        try Self.checkCompatibility(definition, p)
        var tags = try input.tags() ?? []
        switch try input.string("propagateTags") {
        case "TASK_DEFINITION": tags = definition.tags + tags
        case nil, "NONE", "SERVICE": break
        case let other?: throw ECSError.validation(other, at: "propagateTags", "Member must satisfy enum value set: [TASK_DEFINITION, SERVICE, NONE]")
        }
        if let group = try input.string("group"), group.count > 255 { throw ECSError.invalid("Group name is too long.") }
        let overrides = input.json("overrides") ?? .object(["containerOverrides": .array([]), "inferenceAcceleratorOverrides": .array([])])
        let factory = TaskFactory(
            scope: scope, clusterArn: cluster.clusterArn, definition: definition, launchType: p.launchType,
            capacityProviderName: p.capacityProvider, platformVersion: try input.string("platformVersion"),
            overrides: overrides, startedBy: try input.string("startedBy"), group: try input.string("group"), tags: tags,
            enableExecuteCommand: try input.bool("enableExecuteCommand") ?? false, serviceArn: nil, deploymentId: nil,
            networkConfiguration: input.json("networkConfiguration"))
        let now = clock.now()
        let created = (0..<count).map { _ in factory.make(now: now) }
        if p.launchType == "EC2" {
            // Placed on the cluster's container instances (InstanceScheduler.swift).
            let constraints = try input.decode("placementConstraints", as: [TaskPlacement.Constraint].self) ?? []
            var strategy = try input.decode("placementStrategy", as: [TaskPlacement.Strategy].self) ?? []
            try TaskPlacement.validate(constraints: constraints, strategy: strategy)
            let fromDefinition = (try? definition.doc["placementConstraints"]?.decode([TaskPlacement.Constraint].self)) ?? []
            if strategy.isEmpty { strategy = [.init(type: "random", field: nil)] }
            switch try await scheduler.runOnInstances(created, cluster: cluster.clusterArn, constraints: constraints + fromDefinition,
                                                      strategy: strategy) {
            case .noInstances:
                throw ECSError.invalid("No Container Instances were found in your cluster.")
            case .placed(let tasks, let failures):
                return ["tasks": try JSON.encode(tasks), "failures": try JSON.encode(failures)]
            }
        }
        try await scheduler.add(tasks: created)
        return ["tasks": try JSON.encode(created.map(\.task)), "failures": .array([])]
    }

    func startTask(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        let cluster = try activeCluster(try input.string("cluster"), scope)
        let definition = try usableTaskDefinition(try input.required("taskDefinition"), scope)
        guard let instances = try input.strings("containerInstances"), !instances.isEmpty else {
            throw ECSError.validation(nil, at: "containerInstances", "Member must not be null")
        }
        guard instances.count <= 10 else { throw ECSError.invalid("Container instances cannot be longer than 10.") }
        try Self.checkNetwork(input.json("networkConfiguration"), definition: definition)
        try Self.checkCompatibility(definition, Placement(launchType: "EC2"))
        var tags = try input.tags() ?? []
        if try input.string("propagateTags") == "TASK_DEFINITION" { tags = definition.tags + tags }
        let overrides = input.json("overrides") ?? .object(["containerOverrides": .array([]), "inferenceAcceleratorOverrides": .array([])])
        let factory = TaskFactory(
            scope: scope, clusterArn: cluster.clusterArn, definition: definition, launchType: "EC2", capacityProviderName: nil,
            platformVersion: nil, overrides: overrides, startedBy: try input.string("startedBy"), group: try input.string("group"),
            tags: tags, enableExecuteCommand: try input.bool("enableExecuteCommand") ?? false, serviceArn: nil, deploymentId: nil)
        let now = clock.now()
        let (tasks, failures) = try await scheduler.startOnInstances({ factory.make(now: now) }, instances: instances,
                                                                     cluster: cluster.clusterArn, scope: scope)
        return ["tasks": try JSON.encode(tasks), "failures": try JSON.encode(failures)]
    }

    func stopTask(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        let cluster = try activeCluster(try input.string("cluster"), scope)
        let ident = try input.required("task")
        guard let t = await scheduler.findTask(ident, cluster: cluster.clusterArn) else {
            throw ECSError.invalid("The referenced task was not found.")
        }
        let reason = try input.string("reason") ?? "Task stopped by user"
        guard let stopped = try await scheduler.stopTask(t.taskArn, reason: reason, code: "UserInitiated") else {
            throw ECSError.invalid("The referenced task was not found.")
        }
        await scheduler.poke()
        return ["task": try JSON.encode(stopped)]
    }

    func describeTasks(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        let cluster = try activeClusterOrInactive(try input.string("cluster"), scope)
        guard let idents = try input.strings("tasks") else { throw ECSError.validation(nil, at: "tasks", "Member must not be null") }
        guard idents.count <= 100 else { throw ECSError.invalid("Tasks cannot be longer than 100.") }
        if idents.isEmpty { throw ECSError.invalid("Tasks cannot be empty.") }
        let withTags = (try input.strings("include") ?? []).contains("TAGS")
        var found: [JSON] = []
        var failures: [Failure] = []
        for ident in idents {
            if var t = await scheduler.findTask(ident, cluster: cluster.clusterArn) {
                if !withTags { t.tags = [] }
                var doc = try JSON.encode(t).object ?? [:]
                if !withTags { doc["tags"] = nil }
                found.append(.object(doc))
            } else {
                failures.append(Failure(arn: ident.hasPrefix("arn:") ? ident : scope.arn("task/\(cluster.clusterName)/\(ident)"), reason: "MISSING"))
            }
        }
        return ["tasks": .array(found), "failures": try JSON.encode(failures)]
    }

    /// DescribeTasks and DescribeServices read the tasks of a cluster that is already deleted too.
    func activeClusterOrInactive(_ ident: String?, _ scope: Scope) throws -> Cluster {
        guard let c = try findCluster(ident, scope) else { throw ECSError.clusterNotFound() }
        return c
    }

    func listTasks(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        let cluster = try activeCluster(try input.string("cluster"), scope)
        let desired = try input.string("desiredStatus") ?? "RUNNING"
        guard ["RUNNING", "PENDING", "STOPPED"].contains(desired) else {
            throw ECSError.validation(desired, at: "desiredStatus", "Member must satisfy enum value set: [RUNNING, PENDING, STOPPED]")
        }
        if try input.string("family") != nil && input.has("serviceName") {
            throw ECSError.invalid("Cannot specify both family and serviceName.")
        }
        let family = try input.string("family")
        let serviceArn: String?
        if let name = try input.string("serviceName") {
            serviceArn = scope.arn("service/\(cluster.clusterName)/\(Self.serviceName(name))")
        } else { serviceArn = nil }
        let startedBy = try input.string("startedBy")
        let launchType = try input.string("launchType")
        var instanceArn: String?
        if let ident = try input.string("containerInstance") {
            // By ARN or id; an instance the cluster does not have runs no task.
            instanceArn = await scheduler.findInstance(ident, cluster: cluster.clusterArn)?.instance.containerInstanceArn ?? ""
        }
        let entries = await scheduler.taskEntries(cluster: cluster.clusterArn).filter { e in
            e.task.desiredStatus == desired
                && (family == nil || e.meta.family == family)
                && (serviceArn == nil || e.meta.serviceArn == serviceArn)
                && (startedBy == nil || e.task.startedBy == startedBy)
                && (launchType == nil || e.task.launchType == launchType)
                && (instanceArn == nil || e.task.containerInstanceArn == instanceArn)
        }
        let (page, next) = try Paging.page(entries.map(\.task.taskArn), token: try input.string("nextToken"),
                                           maxResults: try input.int("maxResults"))
        var out: [String: JSON] = ["taskArns": .array(page.map(JSON.string))]
        if let next { out["nextToken"] = .string(next) }
        return out
    }
}
