import Core
import Foundation

/// Who calls a task set operation: a client through the API (EXTERNAL services only, as AWS allows), or AWS
/// CodeDeploy inside the emulator (CODE_DEPLOY services only).
enum TaskSetCaller: Sendable {
    case api
    case codeDeploy
}

/// CreateTaskSet, DescribeTaskSets, UpdateTaskSet, DeleteTaskSet, UpdateServicePrimaryTaskSet.
extension ECSService {
    static let taskSetControllerMessage =
        "Amazon ECS only supports task set management on services configured to use external deployment controllers."

    /// The task set operations for AWS CodeDeploy in this emulator: `operation` is the API's name (CreateTaskSet,
    /// DescribeTaskSets, UpdateTaskSet, DeleteTaskSet, UpdateServicePrimaryTaskSet), `input` and the answer the
    /// API's JSON. They work on CODE_DEPLOY services; a task set CodeDeploy creates has startedBy CODE_DEPLOY.
    public func codeDeployTaskSetCall(_ operation: String, account: String, region: String, input: [String: JSON]) async throws -> [String: JSON] {
        let scope = Scope(account: account, region: region)
        let i = Input(object: input)
        switch operation {
        case "CreateTaskSet": return try await createTaskSet(scope, i, caller: .codeDeploy)
        case "DescribeTaskSets": return try await describeTaskSets(scope, i, caller: .codeDeploy)
        case "UpdateTaskSet": return try await updateTaskSet(scope, i, caller: .codeDeploy)
        case "DeleteTaskSet": return try await deleteTaskSet(scope, i, caller: .codeDeploy)
        case "UpdateServicePrimaryTaskSet": return try await updateServicePrimaryTaskSet(scope, i, caller: .codeDeploy)
        default: throw AWSError("UnknownOperationException", "\(operation) is not a task set operation.")
        }
    }

    func createTaskSet(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        try await createTaskSet(Scope(r), input, caller: .api)
    }

    func describeTaskSets(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        try await describeTaskSets(Scope(r), input, caller: .api)
    }

    func updateTaskSet(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        try await updateTaskSet(Scope(r), input, caller: .api)
    }

    func deleteTaskSet(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        try await deleteTaskSet(Scope(r), input, caller: .api)
    }

    func updateServicePrimaryTaskSet(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        try await updateServicePrimaryTaskSet(Scope(r), input, caller: .api)
    }

    // MARK: Finding

    /// The cluster and ACTIVE service a task set request names, checked for its deployment controller.
    func taskSetService(_ scope: Scope, _ input: Input, caller: TaskSetCaller) async throws -> (Cluster, ServiceEntry) {
        let cluster = try activeCluster(try input.required("cluster"), scope)
        guard let entry = await findService(try input.required("service"), cluster, scope), entry.service.status != "INACTIVE" else {
            throw ECSError.serviceNotFound()
        }
        guard entry.service.status == "ACTIVE" else { throw ECSError.serviceNotActive() }
        let controller = TaskSetMath.controllerType(entry.service)
        switch caller {
        case .api: guard controller == "EXTERNAL" else { throw ECSError.invalid(Self.taskSetControllerMessage) }
        case .codeDeploy: guard controller == "CODE_DEPLOY" else { throw ECSError.invalid("The service does not use the CODE_DEPLOY deployment controller.") }
        }
        return (cluster, entry)
    }

    static func taskSetIndex(_ ident: String, in sets: [TaskSet]) -> Int? {
        let id = TaskSetMath.id(fromIdentifier: ident)
        return sets.firstIndex { $0.id == id && (!ident.hasPrefix("arn:") || $0.taskSetArn == ident) }
    }

    static func taskSetArn(_ service: ECSServiceRecord, id: String) -> String {
        let cluster = service.clusterArn.split(separator: "/").last.map(String.init) ?? "default"
        let prefix = service.serviceArn.components(separatedBy: ":service/").first ?? service.serviceArn
        return "\(prefix):task-set/\(cluster)/\(service.serviceName)/\(id)"
    }

    static func scale(_ input: Input, default value: Double) throws -> TaskSetScale {
        struct Request: Decodable { var value: Double?; var unit: String? }
        guard let r = try input.decode("scale", as: Request.self) else { return TaskSetScale(value: value, unit: "PERCENT") }
        let scale = TaskSetScale(value: r.value ?? value, unit: r.unit ?? "PERCENT")
        try TaskSetMath.checkScale(scale)
        return scale
    }

    /// A new task set of a service; PRIMARY or ACTIVE.
    static func newTaskSet(_ service: ECSServiceRecord, id: String = Scheduler.deploymentID(), status: String,
                           taskDefinition: String, placement p: Placement, platformVersion: String?, network: JSON?,
                           loadBalancers: JSON, serviceRegistries: JSON, scale: TaskSetScale, externalId: String?,
                           startedBy: String?, tags: [Tag], now: Double) -> TaskSet {
        let t = ECSTime.round(now)
        let computed = TaskSetMath.computedDesiredCount(serviceDesired: service.desiredCount, scalePercent: scale.value)
        return TaskSet(
            id: id, taskSetArn: taskSetArn(service, id: id), serviceArn: service.serviceArn, clusterArn: service.clusterArn,
            startedBy: startedBy, externalId: externalId, status: status, taskDefinition: taskDefinition,
            computedDesiredCount: computed, pendingCount: 0, runningCount: 0, createdAt: t, updatedAt: t,
            launchType: p.launchType, capacityProviderStrategy: p.strategy,
            platformVersion: p.isFargate ? (platformVersion ?? "LATEST") : nil, platformFamily: p.isFargate ? "Linux" : nil,
            networkConfiguration: network, loadBalancers: loadBalancers, serviceRegistries: serviceRegistries, scale: scale,
            stabilityStatus: computed == 0 ? "STEADY_STATE" : "STABILIZING", stabilityStatusAt: t, tags: tags)
    }

    /// The service shows its primary task set's settings (AWS: "it returns all fields specified for a primary task
    /// set"); with no primary task set they are null.
    static func adoptPrimary(_ service: inout ECSServiceRecord) {
        guard let p = service.taskSets?.first(where: { $0.status == "PRIMARY" }) else {
            service.taskDefinition = nil
            service.launchType = nil
            service.capacityProviderStrategy = nil
            service.platformVersion = nil
            service.platformFamily = nil
            service.networkConfiguration = nil
            service.loadBalancers = .array([])
            service.serviceRegistries = .array([])
            return
        }
        service.taskDefinition = p.taskDefinition
        service.launchType = p.launchType
        service.capacityProviderStrategy = p.capacityProviderStrategy
        service.platformVersion = p.platformVersion
        service.platformFamily = p.platformFamily
        service.networkConfiguration = p.networkConfiguration
        service.loadBalancers = p.loadBalancers
        service.serviceRegistries = p.serviceRegistries
    }

    /// The task sets a new service starts with: none for EXTERNAL; for CODE_DEPLOY the PRIMARY one AWS creates from
    /// the service's own settings (scale 100 %, no externalId).
    static func initialTaskSets(_ service: ECSServiceRecord, controller: String, placement p: Placement, now: Double) throws -> [TaskSet] {
        guard controller == "CODE_DEPLOY", let td = service.taskDefinition else { return [] }
        return [newTaskSet(service, status: "PRIMARY", taskDefinition: td, placement: p, platformVersion: service.platformVersion,
                           network: service.networkConfiguration, loadBalancers: service.loadBalancers,
                           serviceRegistries: service.serviceRegistries, scale: TaskSetScale(value: 100, unit: "PERCENT"),
                           externalId: nil, startedBy: nil, tags: [], now: now)]
    }

    /// Every task set's computedDesiredCount after the service's desiredCount changed (the scheduler does the rest).
    static func recomputeTaskSets(_ service: inout ECSServiceRecord, now: Double) {
        guard var sets = service.taskSets else { return }
        for i in sets.indices where sets[i].status != "DRAINING" {
            let c = TaskSetMath.computedDesiredCount(serviceDesired: service.desiredCount, scalePercent: sets[i].scale.value)
            if c != sets[i].computedDesiredCount {
                sets[i].computedDesiredCount = c
                sets[i].updatedAt = ECSTime.round(now)
            }
        }
        service.taskSets = sets
    }

    // MARK: Operations

    func createTaskSet(_ scope: Scope, _ input: Input, caller: TaskSetCaller) async throws -> [String: JSON] {
        let (cluster, entry) = try await taskSetService(scope, input, caller: caller)
        let definition = try usableTaskDefinition(try input.required("taskDefinition"), scope)
        let p = try placement(input, cluster: cluster)
        let network = input.json("networkConfiguration")
        try Self.checkNetwork(network, definition: definition)
        let compatibilities = definition.doc["compatibilities"]?.array?.compactMap(\.string) ?? []
        if p.isFargate && !compatibilities.contains("FARGATE") {
            throw ECSError.invalid("Task definition does not support launch_type FARGATE.")
        }
        try await checkLoadBalancers(input.json("loadBalancers"), definition: definition)
        let scale = try Self.scale(input, default: caller == .codeDeploy ? 100 : 0)
        let tags = try input.tags() ?? []
        if tags.count > 50 { throw ECSError.invalid("The maximum number of tags for a resource is 50.") }
        let token = try input.string("clientToken")
        if let token, token.isEmpty || token.count > 36 || !token.unicodeScalars.allSatisfy({ (33...126).contains($0.value) }) {
            throw ECSError.invalid("The client token must be 1 to 36 ASCII characters from 33 to 126.")
        }
        let externalId = try input.string("externalId")
        let platformVersion = try input.string("platformVersion")
        let now = clock.now()
        let created = try await scheduler.changeService(entry.service.serviceArn) { e -> TaskSet in
            var sets = e.service.taskSets ?? []
            if let token, let id = e.state.taskSetClientTokens?[token], let existing = sets.first(where: { $0.id == id }) {
                return existing
            }
            guard sets.count < TaskSetMath.maximumTaskSets else {
                throw ECSError.invalid("\(sets.count) deployments exist on the service. Unable to create new TaskSet since this exceeds the maximum limit.")
            }
            let ts = Self.newTaskSet(
                e.service, status: "ACTIVE", taskDefinition: definition.arn, placement: p, platformVersion: platformVersion,
                network: network, loadBalancers: input.json("loadBalancers") ?? .array([]),
                serviceRegistries: input.json("serviceRegistries") ?? .array([]), scale: scale, externalId: externalId,
                startedBy: caller == .codeDeploy ? "CODE_DEPLOY" : nil, tags: tags, now: now)
            sets.append(ts)
            e.service.taskSets = sets
            if let token { e.state.taskSetClientTokens = (e.state.taskSetClientTokens ?? [:]).merging([token: ts.id]) { $1 } }
            e.state.steadyStateAnnounced = false
            return ts
        }
        await scheduler.poke()
        guard let created else { throw ECSError.serviceNotFound() }
        return ["taskSet": try JSON.encode(created)]
    }

    func describeTaskSets(_ scope: Scope, _ input: Input, caller: TaskSetCaller) async throws -> [String: JSON] {
        let cluster = try activeCluster(try input.required("cluster"), scope)
        guard let entry = await findService(try input.required("service"), cluster, scope), entry.service.status != "INACTIVE" else {
            throw ECSError.serviceNotFound()
        }
        let controller = TaskSetMath.controllerType(entry.service)
        guard caller == .codeDeploy ? controller == "CODE_DEPLOY" : controller != "ECS" else {
            throw ECSError.invalid(Self.taskSetControllerMessage)
        }
        let withTags = (try input.strings("include") ?? []).contains("TAGS")
        let sets = entry.service.taskSets ?? []
        var found: [TaskSet] = []
        var failures: [Failure] = []
        if let idents = try input.strings("taskSets") {
            for ident in idents {
                if let i = Self.taskSetIndex(ident, in: sets) {
                    found.append(sets[i])
                } else {
                    let arn = ident.hasPrefix("arn:") ? ident : Self.taskSetArn(entry.service, id: ident)
                    failures.append(Failure(arn: arn, reason: "MISSING"))
                }
            }
        } else {
            found = sets
        }
        let docs: [JSON] = try found.map { ts in
            var doc = try JSON.encode(ts).object ?? [:]
            if !withTags { doc["tags"] = nil }
            return .object(doc)
        }
        return ["taskSets": .array(docs), "failures": try JSON.encode(failures)]
    }

    func updateTaskSet(_ scope: Scope, _ input: Input, caller: TaskSetCaller) async throws -> [String: JSON] {
        let (_, entry) = try await taskSetService(scope, input, caller: caller)
        let ident = try input.required("taskSet")
        guard input.has("scale") else { throw ECSError.validation(nil, at: "scale", "Member must not be null") }
        let scale = try Self.scale(input, default: 0)
        let now = clock.now()
        let updated = try await scheduler.changeService(entry.service.serviceArn) { e -> TaskSet in
            guard var sets = e.service.taskSets, let i = Self.taskSetIndex(ident, in: sets) else { throw ECSError.taskSetNotFound() }
            guard sets[i].status != "DRAINING" else { throw ECSError.invalid("The task set is being deleted (DRAINING) and cannot be updated.") }
            sets[i].scale = scale
            sets[i].computedDesiredCount = TaskSetMath.computedDesiredCount(serviceDesired: e.service.desiredCount, scalePercent: scale.value)
            sets[i].updatedAt = ECSTime.round(now)
            e.service.taskSets = sets
            e.state.steadyStateAnnounced = false
            return sets[i]
        }
        await scheduler.poke()
        guard let updated else { throw ECSError.taskSetNotFound() }
        return ["taskSet": try JSON.encode(updated)]
    }

    func updateServicePrimaryTaskSet(_ scope: Scope, _ input: Input, caller: TaskSetCaller) async throws -> [String: JSON] {
        let (_, entry) = try await taskSetService(scope, input, caller: caller)
        let ident = try input.required("primaryTaskSet")
        let now = clock.now()
        let primary = try await scheduler.changeService(entry.service.serviceArn) { e -> TaskSet in
            guard var sets = e.service.taskSets, let i = Self.taskSetIndex(ident, in: sets) else { throw ECSError.taskSetNotFound() }
            guard sets[i].status != "DRAINING" else { throw ECSError.invalid("A DRAINING task set cannot become the primary task set.") }
            for j in sets.indices where sets[j].status == "PRIMARY" && j != i {
                sets[j].status = "ACTIVE"
                sets[j].updatedAt = ECSTime.round(now)
            }
            if sets[i].status != "PRIMARY" {
                sets[i].status = "PRIMARY"
                sets[i].updatedAt = ECSTime.round(now)
            }
            e.service.taskSets = sets
            Self.adoptPrimary(&e.service)
            return sets[i]
        }
        await scheduler.poke()
        guard let primary else { throw ECSError.taskSetNotFound() }
        return ["taskSet": try JSON.encode(primary)]
    }

    func deleteTaskSet(_ scope: Scope, _ input: Input, caller: TaskSetCaller) async throws -> [String: JSON] {
        let (_, entry) = try await taskSetService(scope, input, caller: caller)
        let ident = try input.required("taskSet")
        let force = try input.bool("force") ?? false
        let now = clock.now()
        let deleted = try await scheduler.changeService(entry.service.serviceArn) { e -> TaskSet in
            guard var sets = e.service.taskSets, let i = Self.taskSetIndex(ident, in: sets) else { throw ECSError.taskSetNotFound() }
            if sets[i].status == "DRAINING" { return sets[i] }
            if !force {
                if sets[i].status == "PRIMARY" {
                    throw ECSError.invalid("Cannot delete the primary task set of a service. Make another task set the primary task set first, or use force.")
                }
                if sets[i].computedDesiredCount > 0 || sets[i].runningCount + sets[i].pendingCount > 0 {
                    throw ECSError.invalid("The task set cannot be deleted while it is scaled above 0. Scale it to 0 first, or use force.")
                }
            }
            let wasPrimary = sets[i].status == "PRIMARY"
            sets[i].status = "DRAINING"
            sets[i].computedDesiredCount = 0
            sets[i].updatedAt = ECSTime.round(now)
            e.service.taskSets = sets
            if wasPrimary { Self.adoptPrimary(&e.service) }
            return sets[i]
        }
        await scheduler.poke()
        guard let deleted else { throw ECSError.taskSetNotFound() }
        return ["taskSet": try JSON.encode(deleted)]
    }
}
