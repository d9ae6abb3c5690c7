import Core
import Foundation

/// CreateService, UpdateService, DescribeServices, ListServices, ListServicesByNamespace, DeleteService.
extension ECSService {
    /// A service's name from its name or ARN (`…:service/<cluster>/<name>` or the old `…:service/<name>`).
    static func serviceName(_ ident: String) -> String {
        guard ident.hasPrefix("arn:"), let slash = ident.lastIndex(of: "/") else { return ident }
        return String(ident[ident.index(after: slash)...])
    }

    func serviceArn(_ ident: String, _ cluster: Cluster, _ scope: Scope) -> String {
        scope.arn("service/\(cluster.clusterName)/\(Self.serviceName(ident))")
    }

    /// The service a request names in a cluster; INACTIVE ones too (callers decide).
    func findService(_ ident: String, _ cluster: Cluster, _ scope: Scope) async -> ServiceEntry? {
        await scheduler.service(serviceArn(ident, cluster, scope))
    }

    static func deploymentConfiguration(_ c: DeploymentConfiguration?, base: DeploymentConfiguration? = nil) throws -> DeploymentConfiguration {
        var out = base ?? DeploymentConfiguration(
            deploymentCircuitBreaker: DeploymentCircuitBreaker(enable: false, rollback: false), maximumPercent: 200,
            minimumHealthyPercent: 100)
        if let c {
            if let b = c.deploymentCircuitBreaker { out.deploymentCircuitBreaker = b }
            if let m = c.maximumPercent { out.maximumPercent = m }
            if let m = c.minimumHealthyPercent { out.minimumHealthyPercent = m }
            if let a = c.alarms { out.alarms = a }
            if let s = c.strategy { out.strategy = s }
            if let b = c.bakeTimeInMinutes { out.bakeTimeInMinutes = b }
            if let h = c.lifecycleHooks { out.lifecycleHooks = h }
            if let l = c.linearConfiguration { out.linearConfiguration = l }
            if let cc = c.canaryConfiguration { out.canaryConfiguration = cc }
        }
        let minimum = out.minimumHealthyPercent ?? 100, maximum = out.maximumPercent ?? 200
        guard (0...100).contains(minimum) else {
            throw ECSError.invalid("The minimumHealthyPercent value must be between 0 and 100.")
        }
        guard maximum >= minimum else {
            throw ECSError.invalid("The maximumPercent value must be greater than or equal to the minimumHealthyPercent value.")
        }
        return out
    }

    func createService(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        let name = try input.required("serviceName")
        guard !name.isEmpty, name.count <= 255,
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw ECSError.invalid("Service name must be 1 to 255 characters long and contain only letters, numbers, hyphens and underscores.")
        }
        let cluster = try activeCluster(try input.string("cluster"), scope)
        let controller = input.json("deploymentController") ?? .object(["type": .string("ECS")])
        let controllerType = controller["type"]?.string ?? "ECS"
        guard ["ECS", "CODE_DEPLOY", "EXTERNAL"].contains(controllerType) else {
            throw ECSError.validation(controllerType, at: "deploymentController.type", "Member must satisfy enum value set: [ECS, CODE_DEPLOY, EXTERNAL]")
        }
        let strategy = try input.string("schedulingStrategy") ?? "REPLICA"
        guard strategy == "REPLICA" || strategy == "DAEMON" else {
            throw ECSError.validation(strategy, at: "schedulingStrategy", "Member must satisfy enum value set: [REPLICA, DAEMON]")
        }
        let desired = try input.int("desiredCount") ?? 0
        guard desired >= 0 else { throw ECSError.invalid("The desiredCount value must be at least 0.") }
        var definition: TaskDefinition?
        if let ident = try input.string("taskDefinition") {
            definition = try usableTaskDefinition(ident, scope)
        } else if controllerType != "EXTERNAL" {
            throw ECSError.invalid("Task Definition can not be blank.")
        }
        let p = try placement(input, cluster: cluster)
        if let definition {
            try Self.checkNetwork(input.json("networkConfiguration"), definition: definition)
            let compatibilities = definition.doc["compatibilities"]?.array?.compactMap(\.string) ?? []
            if p.isFargate && !compatibilities.contains("FARGATE") {
                throw ECSError.invalid("Task definition does not support launch_type FARGATE.")
            }
            try await checkLoadBalancers(input.json("loadBalancers"), definition: definition)
        }
        try TaskPlacement.validate(constraints: try input.decode("placementConstraints", as: [TaskPlacement.Constraint].self) ?? [],
                                   strategy: try input.decode("placementStrategy", as: [TaskPlacement.Strategy].self) ?? [])
        let config = try Self.deploymentConfiguration(try input.decode("deploymentConfiguration", as: DeploymentConfiguration.self))
        let propagate = try input.string("propagateTags") ?? "NONE"
        guard ["TASK_DEFINITION", "SERVICE", "NONE"].contains(propagate) else {
            throw ECSError.validation(propagate, at: "propagateTags", "Member must satisfy enum value set: [TASK_DEFINITION, SERVICE, NONE]")
        }
        let arn = serviceArn(name, cluster, scope)
        if let existing = await scheduler.service(arn), existing.service.status != "INACTIVE" {
            // A retry with the clientToken that created it answers the service it made.
            if let token = try input.string("clientToken"), token == existing.state.clientToken {
                return ["service": try JSON.encode(existing.service)]
            }
            throw ECSError.invalid("Creation of service was not idempotent.")
        }
        let now = clock.now()
        var service = ECSServiceRecord(
            serviceArn: arn, serviceName: name, clusterArn: cluster.clusterArn,
            loadBalancers: input.json("loadBalancers") ?? .array([]), serviceRegistries: input.json("serviceRegistries") ?? .array([]),
            status: "ACTIVE", desiredCount: desired, runningCount: 0, pendingCount: 0,
            launchType: p.launchType, capacityProviderStrategy: p.strategy,
            platformVersion: p.isFargate ? (try input.string("platformVersion") ?? "LATEST") : nil,
            platformFamily: p.isFargate ? "Linux" : nil, taskDefinition: definition?.arn, deploymentConfiguration: config,
            taskSets: nil, deployments: [], roleArn: try input.string("role"), events: [], createdAt: ECSTime.round(now),
            placementConstraints: input.json("placementConstraints") ?? .array([]),
            placementStrategy: input.json("placementStrategy") ?? .array([]),
            networkConfiguration: input.json("networkConfiguration"),
            healthCheckGracePeriodSeconds: try input.int("healthCheckGracePeriodSeconds") ?? 0,
            schedulingStrategy: strategy, deploymentController: controller, tags: try input.tags() ?? [],
            createdBy: "arn:aws:iam::\(scope.account):root", enableECSManagedTags: try input.bool("enableECSManagedTags") ?? false,
            propagateTags: propagate, enableExecuteCommand: try input.bool("enableExecuteCommand") ?? false,
            availabilityZoneRebalancing: try input.string("availabilityZoneRebalancing") ?? "ENABLED")
        if let definition, controllerType == "ECS" {
            service.deployments = [Scheduler.newDeployment(service, taskDefinition: definition.arn, now: now)]
        }
        if controllerType != "ECS" { service.taskSets = try Self.initialTaskSets(service, controller: controllerType, placement: p, now: now) }
        var state = ServiceSchedulerState()
        state.clientToken = try input.string("clientToken")
        state.serviceConnectNamespace = input.json("serviceConnectConfiguration")?["namespace"]?.string
            ?? cluster.serviceConnectDefaults?["namespace"]?.string
        try await scheduler.putService(ServiceEntry(service: service, state: state, scope: scope))
        await scheduler.poke()
        return ["service": try JSON.encode(service)]
    }

    func updateService(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        let cluster = try activeCluster(try input.string("cluster"), scope)
        let ident = try input.required("service")
        guard let entry = await findService(ident, cluster, scope) else { throw ECSError.serviceNotFound() }
        guard entry.service.status == "ACTIVE" else { throw ECSError.serviceNotActive() }
        var definition: TaskDefinition?
        if let td = try input.string("taskDefinition") { definition = try usableTaskDefinition(td, scope) }
        if let d = try input.int("desiredCount"), d < 0 { throw ECSError.invalid("The desiredCount value must be at least 0.") }
        let checkedDefinition: TaskDefinition?
        if let definition, definition.arn != entry.service.taskDefinition, TaskSetMath.controllerType(entry.service) == "CODE_DEPLOY" {
            throw ECSError.invalid("Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.")
        }
        if let definition { checkedDefinition = definition }
        else if let current = entry.service.taskDefinition { checkedDefinition = try findTaskDefinition(current, scope) }
        else { checkedDefinition = nil }
        if let network = input.json("networkConfiguration"), let checkedDefinition {
            try Self.checkNetwork(network, definition: checkedDefinition)
        }
        if let checkedDefinition, input.has("loadBalancers") || definition != nil {
            try await checkLoadBalancers(input.json("loadBalancers") ?? entry.service.loadBalancers, definition: checkedDefinition)
        }
        let config = try Self.deploymentConfiguration(try input.decode("deploymentConfiguration", as: DeploymentConfiguration.self),
                                                      base: entry.service.deploymentConfiguration)
        let now = clock.now()
        let force = try input.bool("forceNewDeployment") ?? false
        let desired = try input.int("desiredCount")
        let grace = try input.int("healthCheckGracePeriodSeconds")
        let platform = try input.string("platformVersion")
        let strategy = try input.decode("capacityProviderStrategy", as: [CapacityProviderStrategyItem].self)
        let execute = try input.bool("enableExecuteCommand")
        let managedTags = try input.bool("enableECSManagedTags")
        let propagate = try input.string("propagateTags")
        let updated = try await scheduler.updateService(entry.service.serviceArn) { e in
            var redeploy = force
            if let definition, definition.arn != e.service.taskDefinition {
                e.service.taskDefinition = definition.arn
                redeploy = true
            }
            if let desired { e.service.desiredCount = desired; Self.recomputeTaskSets(&e.service, now: now) }
            e.service.deploymentConfiguration = config
            if let network = input.json("networkConfiguration"), network != e.service.networkConfiguration {
                e.service.networkConfiguration = network
                redeploy = true
            }
            if let platform, platform != e.service.platformVersion { e.service.platformVersion = platform; redeploy = true }
            if let strategy, !strategy.isEmpty {
                e.service.capacityProviderStrategy = strategy
                e.service.launchType = nil
                redeploy = true
            }
            if let grace { e.service.healthCheckGracePeriodSeconds = grace }
            if let execute { e.service.enableExecuteCommand = execute }
            if let managedTags { e.service.enableECSManagedTags = managedTags }
            if let propagate { e.service.propagateTags = propagate }
            if let lbs = input.json("loadBalancers"), lbs != e.service.loadBalancers {
                e.service.loadBalancers = lbs
                redeploy = true  // new tasks register in the new target groups; the old ones drain from the old
            }
            if let regs = input.json("serviceRegistries") { e.service.serviceRegistries = regs }
            if let pc = input.json("placementConstraints") { e.service.placementConstraints = pc }
            if let ps = input.json("placementStrategy") { e.service.placementStrategy = ps }
            if let controller = input.json("deploymentController") { e.service.deploymentController = controller }
            if redeploy, let td = e.service.taskDefinition, e.service.deploymentController["type"]?.string ?? "ECS" == "ECS" {
                for i in e.service.deployments.indices { e.service.deployments[i].status = "ACTIVE" }
                e.service.deployments.insert(Scheduler.newDeployment(e.service, taskDefinition: td, now: now), at: 0)
                e.state.launchNotBefore = 0
                e.state.consecutiveFailures = 0
            } else if !e.service.deployments.isEmpty {
                e.service.deployments[0].desiredCount = e.service.desiredCount
            }
        }
        await scheduler.poke()
        return ["service": try JSON.encode(updated)]
    }

    func describeServices(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        try await describeServices(Scope(r), input)
    }

    func describeServices(_ scope: Scope, _ input: Input) async throws -> [String: JSON] {
        let cluster = try activeClusterOrInactive(try input.string("cluster"), scope)
        guard let idents = try input.strings("services") else { throw ECSError.validation(nil, at: "services", "Member must not be null") }
        guard !idents.isEmpty, idents.count <= 10 else { throw ECSError.invalid("services can have at most 10 items.") }
        let withTags = (try input.strings("include") ?? []).contains("TAGS")
        var found: [JSON] = []
        var failures: [Failure] = []
        for ident in idents {
            if let e = await findService(ident, cluster, scope) {
                var doc = try JSON.encode(e.service).object ?? [:]
                if !withTags {
                    doc["tags"] = nil
                    if case .array(let sets)? = doc["taskSets"] {
                        doc["taskSets"] = .array(sets.map { ts in .object((ts.object ?? [:]).filter { $0.key != "tags" }) })
                    }
                }
                found.append(.object(doc))
            } else {
                failures.append(Failure(arn: serviceArn(ident, cluster, scope), reason: "MISSING"))
            }
        }
        return ["services": .array(found), "failures": try JSON.encode(failures)]
    }

    func listServices(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        let cluster = try activeCluster(try input.string("cluster"), scope)
        let launchType = try input.string("launchType")
        let strategy = try input.string("schedulingStrategy")
        let arns = await scheduler.servicesIn(cluster: cluster.clusterArn).filter { e in
            e.service.status != "INACTIVE" && (launchType == nil || e.service.launchType == launchType)
                && (strategy == nil || e.service.schedulingStrategy == strategy)
        }.map(\.service.serviceArn)
        let (page, next) = try Paging.page(arns, token: try input.string("nextToken"), maxResults: try input.int("maxResults") ?? 10)
        var out: [String: JSON] = ["serviceArns": .array(page.map(JSON.string))]
        if let next { out["nextToken"] = .string(next) }
        return out
    }

    func listServicesByNamespace(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        let namespace = try input.required("namespace")
        var arns: [String] = []
        for cluster in try allClusters(scope) {
            for e in await scheduler.servicesIn(cluster: cluster.clusterArn) where e.service.status == "ACTIVE" {
                let ns = e.state.serviceConnectNamespace ?? ""
                if ns == namespace || ns.hasSuffix("/\(namespace)") || namespace.hasSuffix("/\(ns)") && !ns.isEmpty { arns.append(e.service.serviceArn) }
            }
        }
        let (page, next) = try Paging.page(arns, token: try input.string("nextToken"), maxResults: try input.int("maxResults") ?? 10)
        var out: [String: JSON] = ["serviceArns": .array(page.map(JSON.string))]
        if let next { out["nextToken"] = .string(next) }
        return out
    }

    func allClusters(_ scope: Scope) throws -> [Cluster] {
        try store.db.readNow { db in
            try String.fetchAll(db, sql: "SELECT doc FROM cluster WHERE account = ? AND region = ? AND status = 'ACTIVE'",
                                arguments: [scope.account, scope.region])
        }.map { try ECSStore.value(Cluster.self, $0) }
    }

    func deleteService(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        let cluster = try activeCluster(try input.string("cluster"), scope)
        guard let entry = await findService(try input.required("service"), cluster, scope) else { throw ECSError.serviceNotFound() }
        guard entry.service.status == "ACTIVE" else { throw ECSError.serviceNotActive() }
        let force = try input.bool("force") ?? false
        if entry.service.desiredCount > 0 && !force && entry.service.schedulingStrategy == "REPLICA" {
            throw ECSError.invalid("The service cannot be stopped while it is scaled above 0.")
        }
        let updated = try await scheduler.updateService(entry.service.serviceArn) { e in
            e.service.status = "DRAINING"
            e.service.desiredCount = 0
        }
        await scheduler.poke()
        return ["service": try JSON.encode(updated)]
    }
}
