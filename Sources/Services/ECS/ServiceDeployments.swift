import Core
import Foundation
import GRDB

/// A service deployment as ListServiceDeployments / DescribeServiceDeployments show it: one per deployment the
/// scheduler starts (a circuit-breaker rollback belongs to the deployment it rolls back), with the service revision
/// it deploys.
struct ServiceDeploymentRecord: Codable, Sendable {
    struct RevisionSummary: Codable, Sendable {
        var arn: String
        var requestedTaskCount: Int
        var runningTaskCount: Int
        var pendingTaskCount: Int
    }
    struct Rollback: Codable, Sendable {
        var reason: String
        var startedAt: Double
        var serviceRevisionArn: String
    }
    struct CircuitBreaker: Codable, Sendable {
        var status: String
        var failureCount: Int
        var threshold: Int
    }

    var serviceDeploymentArn: String
    var serviceArn: String
    var clusterArn: String
    var createdAt: Double
    var startedAt: Double?
    var finishedAt: Double?
    var stoppedAt: Double?
    var updatedAt: Double
    var sourceServiceRevisions: [RevisionSummary]
    var targetServiceRevision: RevisionSummary
    var status: String
    var statusReason: String?
    var deploymentConfiguration: DeploymentConfiguration?
    var rollback: Rollback?
    var deploymentCircuitBreaker: CircuitBreaker?
}

/// A service revision: what one deployment runs.
struct ServiceRevision: Codable, Sendable {
    struct ContainerImage: Codable, Sendable {
        var containerName: String
        var imageDigest: String?
        var image: String
    }
    var serviceRevisionArn: String
    var serviceArn: String
    var clusterArn: String
    var taskDefinition: String
    var capacityProviderStrategy: [CapacityProviderStrategyItem]?
    var launchType: String?
    var platformVersion: String?
    var platformFamily: String?
    var loadBalancers: JSON
    var serviceRegistries: JSON
    var networkConfiguration: JSON?
    var containerImages: [ContainerImage]
    var guardDutyEnabled: Bool
    var createdAt: Double
}

extension ECSStore {
    static func registerServiceDeployments(_ m: inout DatabaseMigrator) {
        m.registerMigration("service-deployments") { db in
            try db.execute(sql: """
                CREATE TABLE service_deployment (
                    arn TEXT PRIMARY KEY,
                    service_arn TEXT NOT NULL,
                    created REAL NOT NULL,
                    doc TEXT NOT NULL
                );
                CREATE INDEX service_deployment_by_service ON service_deployment (service_arn, created);
                CREATE TABLE service_revision (
                    arn TEXT PRIMARY KEY,
                    doc TEXT NOT NULL
                );
                """)
        }
    }
}

extension Scheduler {
    /// Called on every pass over a service: a deployment the scheduler has not seen gets its service deployment and
    /// revision; state changes of deployments (completed, failed, superseded, rolled back) are carried over.
    func trackServiceDeployments(_ e: inout ServiceEntry, now: Double) {
        let t = ECSTime.round(now)
        let serviceArn = e.service.serviceArn
        let prefix = e.service.serviceArn.replacingOccurrences(of: ":service/", with: ":service-deployment/")
        for (i, d) in e.service.deployments.enumerated() where e.state.serviceDeployments[d.id] == nil {
            let revision = makeRevision(e, d, now: t)
            if d.rolloutStateReason?.contains("rolling back to deploymentId") == true,
               let failed = e.service.deployments.dropFirst().first(where: { $0.rolloutState == "FAILED" }),
               let failedArn = e.state.serviceDeployments[failed.id], var sd = serviceDeployments[failedArn] {
                // The rollback continues the failed service deployment.
                sd.statusReason = d.rolloutStateReason
                let requested = sd.status == "ROLLBACK_REQUESTED"
                let reason = requested ? "Service deployment stop requested." : "Circuit breaker triggered."
                if var breaker = sd.deploymentCircuitBreaker {
                    if !requested { breaker.status = "TRIGGERED" }
                    breaker.failureCount = max(breaker.failureCount, failed.failedTasks)
                    sd.deploymentCircuitBreaker = breaker
                }
                sd.status = "ROLLBACK_IN_PROGRESS"
                sd.rollback = .init(reason: reason, startedAt: t, serviceRevisionArn: revision.serviceRevisionArn)
                sd.updatedAt = t
                e.state.serviceDeployments[d.id] = failedArn
                saveServiceDeployment(sd, revision: revision)
                continue
            }
            let arn = "\(prefix)/\(Self.randomID(22))"
            let sources = e.service.deployments.enumerated().filter { $0.offset != i }.compactMap { other -> ServiceDeploymentRecord.RevisionSummary? in
                guard let sdArn = e.state.serviceDeployments[other.element.id], let sd = serviceDeployments[sdArn] else { return nil }
                return .init(arn: sd.targetServiceRevision.arn, requestedTaskCount: other.element.desiredCount,
                             runningTaskCount: other.element.runningCount, pendingTaskCount: other.element.pendingCount)
            }
            var breaker: ServiceDeploymentRecord.CircuitBreaker?
            if let b = e.service.deploymentConfiguration.deploymentCircuitBreaker {
                breaker = .init(status: b.enable ? "MONITORING" : "DISABLED", failureCount: 0,
                                threshold: Self.failureThreshold(e.service.desiredCount))
            }
            let sd = ServiceDeploymentRecord(
                serviceDeploymentArn: arn, serviceArn: serviceArn, clusterArn: e.service.clusterArn, createdAt: d.createdAt,
                startedAt: t, finishedAt: nil, stoppedAt: nil, updatedAt: t, sourceServiceRevisions: sources,
                targetServiceRevision: .init(arn: revision.serviceRevisionArn, requestedTaskCount: d.desiredCount,
                                             runningTaskCount: d.runningCount, pendingTaskCount: d.pendingCount),
                status: "IN_PROGRESS", statusReason: nil, deploymentConfiguration: e.service.deploymentConfiguration,
                rollback: nil, deploymentCircuitBreaker: breaker)
            e.state.serviceDeployments[d.id] = arn
            saveServiceDeployment(sd, revision: revision)
        }
        // Follow each deployment's state.
        for (i, d) in e.service.deployments.enumerated() {
            guard let arn = e.state.serviceDeployments[d.id], var sd = serviceDeployments[arn] else { continue }
            let before = sd.status
            // A rolled-back service deployment follows the rollback's deployment (the primary).
            if sd.rollback == nil || i == 0 {
                if sd.rollback == nil { sd.targetServiceRevision.requestedTaskCount = d.desiredCount }
                sd.targetServiceRevision.runningTaskCount = d.runningCount
                sd.targetServiceRevision.pendingTaskCount = d.pendingCount
            }
            if var breaker = sd.deploymentCircuitBreaker, sd.rollback == nil {
                breaker.failureCount = max(breaker.failureCount, d.failedTasks)
                sd.deploymentCircuitBreaker = breaker
            }
            switch (d.rolloutState, sd.status) {
            case ("COMPLETED", "IN_PROGRESS"):
                sd.status = "SUCCESSFUL"
                sd.statusReason = "Service deployment succeeded."
                sd.finishedAt = t
                if sd.deploymentCircuitBreaker?.status == "MONITORING" { sd.deploymentCircuitBreaker?.status = "MONITORING_COMPLETE" }
            case ("COMPLETED", "ROLLBACK_IN_PROGRESS") where i == 0:
                sd.status = "ROLLBACK_SUCCESSFUL"
                sd.finishedAt = t
            case ("FAILED", "IN_PROGRESS"):
                sd.deploymentCircuitBreaker?.status = "TRIGGERED"
                if !(e.service.deploymentConfiguration.deploymentCircuitBreaker?.rollback ?? false) {
                    sd.status = "STOPPED"
                    sd.statusReason = d.rolloutStateReason
                    sd.stoppedAt = t
                    sd.finishedAt = t
                }
            case ("IN_PROGRESS", "IN_PROGRESS") where i > 0:
                // A newer deployment took over before this one finished.
                sd.status = "STOPPED"
                sd.statusReason = "Service deployment stopped: a newer service deployment started."
                sd.stoppedAt = t
                sd.finishedAt = t
            default:
                break
            }
            if sd.status != before || sd.targetServiceRevision.runningTaskCount != serviceDeployments[arn]?.targetServiceRevision.runningTaskCount {
                sd.updatedAt = t
                saveServiceDeployment(sd, revision: nil)
            }
        }
        if let primary = e.service.deployments.first { e.service.currentServiceDeployment = e.state.serviceDeployments[primary.id] }
        // Forget mappings of deployments that are gone (their records stay).
        let live = Set(e.service.deployments.map(\.id))
        e.state.serviceDeployments = e.state.serviceDeployments.filter { live.contains($0.key) }
    }

    func makeRevision(_ e: ServiceEntry, _ d: Deployment, now: Double) -> ServiceRevision {
        let images = (try? store.db.readNow { db in
            try String.fetchOne(db, sql: "SELECT doc FROM task_definition WHERE arn = ?", arguments: [d.taskDefinition])
        }).flatMap { $0 }.flatMap { try? ECSStore.value(JSON.self, $0) }?["containerDefinitions"]?.array ?? []
        let digits = String(d.id.dropFirst("ecs-svc/".count))
        return ServiceRevision(
            serviceRevisionArn: e.service.serviceArn.replacingOccurrences(of: ":service/", with: ":service-revision/") + "/" + digits,
            serviceArn: e.service.serviceArn, clusterArn: e.service.clusterArn, taskDefinition: d.taskDefinition,
            capacityProviderStrategy: d.capacityProviderStrategy, launchType: d.launchType, platformVersion: d.platformVersion,
            platformFamily: d.platformFamily, loadBalancers: e.service.loadBalancers, serviceRegistries: e.service.serviceRegistries,
            networkConfiguration: d.networkConfiguration,
            containerImages: images.compactMap { c in
                guard let name = c["name"]?.string, let image = c["image"]?.string else { return nil }
                return .init(containerName: name, imageDigest: "sha256:" + String(repeating: "0", count: 64), image: image)
            },
            guardDutyEnabled: false, createdAt: now)
    }

    func saveServiceDeployment(_ sd: ServiceDeploymentRecord, revision: ServiceRevision?) {
        serviceDeployments[sd.serviceDeploymentArn] = sd
        do {
            try store.db.writeNow { db in
                try db.execute(sql: """
                    INSERT INTO service_deployment (arn, service_arn, created, doc) VALUES (?, ?, ?, ?)
                    ON CONFLICT (arn) DO UPDATE SET doc = excluded.doc
                    """, arguments: [sd.serviceDeploymentArn, sd.serviceArn, sd.createdAt, try ECSStore.text(sd)])
                if let revision {
                    try db.execute(sql: "INSERT OR IGNORE INTO service_revision (arn, doc) VALUES (?, ?)",
                                   arguments: [revision.serviceRevisionArn, try ECSStore.text(revision)])
                }
            }
        } catch {
            logger.error("ECS: could not save service deployment \(sd.serviceDeploymentArn): \(error)")
        }
    }

    func loadServiceDeployments() throws {
        let docs = try store.db.readNow { db in try String.fetchAll(db, sql: "SELECT doc FROM service_deployment") }
        for d in docs {
            let sd = try ECSStore.value(ServiceDeploymentRecord.self, d)
            serviceDeployments[sd.serviceDeploymentArn] = sd
        }
    }

    func deployments(ofService arn: String) -> [ServiceDeploymentRecord] {
        serviceDeployments.values.filter { $0.serviceArn == arn }.sorted { $0.createdAt > $1.createdAt }
    }

    func serviceDeployment(_ arn: String) -> ServiceDeploymentRecord? { serviceDeployments[arn] }

    /// StopServiceDeployment with ROLLBACK: the service goes back to the revision of its last completed deployment.
    func stopServiceDeployment(_ arn: String) throws -> Bool {
        guard let sd = serviceDeployments[arn], var e = services[sd.serviceArn] else { return false }
        guard sd.status == "IN_PROGRESS", let primary = e.service.deployments.first, e.state.serviceDeployments[primary.id] == arn else {
            throw AWSError("ConflictException", "The service deployment \(arn) is not in progress and cannot be stopped.")
        }
        guard let target = e.state.lastCompletedTaskDefinition, let targetID = e.state.lastCompletedDeploymentId else {
            throw ECSError.invalid("There is no earlier successful service deployment to roll back to.")
        }
        let now = clock.now()
        e.service.deployments[0].rolloutState = "FAILED"
        e.service.deployments[0].rolloutStateReason = "Service deployment rolled back because of a stop request."
        var rollback = Self.newDeployment(e.service, taskDefinition: target, now: now)
        rollback.rolloutStateReason = "Service deployment stop requested: rolling back to deploymentId \(targetID)."
        e.service.deployments[0].status = "ACTIVE"
        e.service.deployments.insert(rollback, at: 0)
        e.service.taskDefinition = target
        var stopped = sd
        stopped.status = "ROLLBACK_REQUESTED"
        stopped.updatedAt = ECSTime.round(now)
        saveServiceDeployment(stopped, revision: nil)
        services[e.service.serviceArn] = e
        dirtyServices.insert(e.service.serviceArn)
        try persist()
        return true
    }

    static func randomID(_ n: Int) -> String {
        let chars = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return String((0..<n).map { _ in chars.randomElement()! })
    }
}

/// ListServiceDeployments, DescribeServiceDeployments, StopServiceDeployment, DescribeServiceRevisions.
extension ECSService {
    func listServiceDeployments(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        let cluster = try activeClusterOrInactive(try input.string("cluster"), scope)
        guard let e = await findService(try input.required("service"), cluster, scope) else { throw ECSError.serviceNotFound() }
        let statuses = try input.strings("status")
        let after = input.json("createdAt")?["after"]?.double
        let before = input.json("createdAt")?["before"]?.double
        let all = await scheduler.deployments(ofService: e.service.serviceArn).filter { sd in
            (statuses == nil || statuses!.contains(sd.status)) && (after == nil || sd.createdAt >= after!)
                && (before == nil || sd.createdAt <= before!)
        }
        let (page, next) = try Paging.page(all, token: try input.string("nextToken"), maxResults: try input.int("maxResults") ?? 20)
        let briefs: [JSON] = page.map { sd in
            var o: [String: JSON] = [
                "serviceDeploymentArn": .string(sd.serviceDeploymentArn), "serviceArn": .string(sd.serviceArn),
                "clusterArn": .string(sd.clusterArn), "createdAt": .number(sd.createdAt),
                "targetServiceRevisionArn": .string(sd.targetServiceRevision.arn), "status": .string(sd.status),
            ]
            if let s = sd.startedAt { o["startedAt"] = .number(s) }
            if let f = sd.finishedAt { o["finishedAt"] = .number(f) }
            if let reason = sd.statusReason { o["statusReason"] = .string(reason) }
            return .object(o)
        }
        var out: [String: JSON] = ["serviceDeployments": .array(briefs)]
        if let next { out["nextToken"] = .string(next) }
        return out
    }

    func describeServiceDeployments(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        guard let arns = try input.strings("serviceDeploymentArns"), !arns.isEmpty else {
            throw ECSError.validation(nil, at: "serviceDeploymentArns", "Member must not be null")
        }
        guard arns.count <= 20 else { throw ECSError.invalid("serviceDeploymentArns can have at most 20 items.") }
        let scope = Scope(r)
        var found: [ServiceDeploymentRecord] = []
        var failures: [Failure] = []
        for arn in arns {
            if let sd = await scheduler.serviceDeployment(arn), sd.serviceArn.contains(":\(scope.account):") {
                found.append(sd)
            } else {
                failures.append(Failure(arn: arn, reason: "MISSING"))
            }
        }
        return ["serviceDeployments": try JSON.encode(found), "failures": try JSON.encode(failures)]
    }

    func stopServiceDeployment(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let arn = try input.required("serviceDeploymentArn")
        let stopType = try input.string("stopType") ?? "ROLLBACK"
        guard stopType == "ROLLBACK" else {
            throw ECSError.invalid("The stop type \(stopType) is not supported for this service deployment. The supported value is ROLLBACK.")
        }
        guard try await scheduler.stopServiceDeployment(arn) else {
            throw AWSError("ServiceDeploymentNotFoundException", "The service deployment does not exist.")
        }
        await scheduler.poke()
        return ["serviceDeploymentArn": .string(arn)]
    }

    func describeServiceRevisions(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        guard let arns = try input.strings("serviceRevisionArns"), !arns.isEmpty else {
            throw ECSError.validation(nil, at: "serviceRevisionArns", "Member must not be null")
        }
        guard arns.count <= 20 else { throw ECSError.invalid("serviceRevisionArns can have at most 20 items.") }
        let scope = Scope(r)
        var found: [JSON] = []
        var failures: [Failure] = []
        for arn in arns {
            let doc = try store.db.readNow { db in try String.fetchOne(db, sql: "SELECT doc FROM service_revision WHERE arn = ?", arguments: [arn]) }
            if let doc, arn.contains(":\(scope.account):") { found.append(try ECSStore.value(JSON.self, doc)) }
            else { failures.append(Failure(arn: arn, reason: "MISSING")) }
        }
        return ["serviceRevisions": .array(found), "failures": try JSON.encode(failures)]
    }
}
