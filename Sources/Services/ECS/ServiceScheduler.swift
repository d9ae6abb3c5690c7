import Core
import Foundation
import GRDB

/// The service scheduler: keeps `desiredCount` healthy tasks of the PRIMARY deployment running, replacing the
/// tasks of older deployments within minimumHealthyPercent and maximumPercent, replacing tasks that exit or fail
/// their health checks, and tripping the deployment circuit breaker. Events carry AWS's texts.
extension Scheduler {
    static func deploymentID() -> String {
        "ecs-svc/" + (0..<19).map { _ in String(Int.random(in: 0...9)) }.joined()
    }

    static func newDeployment(_ s: ECSServiceRecord, taskDefinition: String, now: Double) -> Deployment {
        let t = ECSTime.round(now)
        return Deployment(
            id: deploymentID(), status: "PRIMARY", taskDefinition: taskDefinition, desiredCount: s.desiredCount, pendingCount: 0,
            runningCount: 0, failedTasks: 0, createdAt: t, updatedAt: t, capacityProviderStrategy: s.capacityProviderStrategy,
            launchType: s.launchType, platformVersion: s.platformVersion, platformFamily: s.platformFamily,
            networkConfiguration: s.networkConfiguration, rolloutState: "IN_PROGRESS",
            rolloutStateReason: "ECS deployment in progress.")
    }

    func addEvent(_ e: inout ServiceEntry, _ message: String, now: Double) {
        logger.debug("ECS: \(message)")
        e.service.events.insert(ServiceEvent(id: UUID().uuidString.lowercased(), createdAt: ECSTime.round(now), message: message), at: 0)
        if e.service.events.count > 100 { e.service.events.removeLast(e.service.events.count - 100) }
    }

    /// The circuit breaker's threshold: half the desired count, at least 3 and at most 200.
    static func failureThreshold(_ desired: Int) -> Int {
        min(200, max(3, Int((Double(desired) * 0.5).rounded(.up))))
    }

    func serviceTasks(_ arn: String) -> [TaskEntry] {
        tasks.values.filter { $0.meta.serviceArn == arn }.sorted { $0.task.createdAt < $1.task.createdAt }
    }

    // MARK: One pass over a service

    func reconcileService(_ arn: String, now: Double) -> Bool {
        guard var e = services[arn], e.service.status != "INACTIVE" else { return false }
        if TaskSetMath.usesTaskSets(e.service) { return reconcileTaskSetService(arn, now: now) }  // TaskSetScheduler.swift
        let before = (try? ECSStore.text(e.service)) ?? ""
        let name = e.service.serviceName
        var all = serviceTasks(arn).filter { !$0.task.isStopped }

        if e.service.status == "DRAINING" {
            let reason = "Scaling activity initiated by (deployment \(e.service.deployments.first?.id ?? ""))"
            var stopped: [String] = []
            for t in all where t.task.desiredStatus == "RUNNING" {
                stopServiceTask(t.task.taskArn, reason: reason)
                stopped.append(t.task.id)
            }
            if !stopped.isEmpty { addEvent(&e, "(service \(name)) has stopped \(stopped.count) running tasks: \(stopped.map { "(task \($0))" }.joined(separator: " ")).", now: now) }
            if serviceTasks(arn).allSatisfy({ $0.task.isStopped }) {
                e.service.status = "INACTIVE"
                logger.debug("ECS: (service \(name)) is INACTIVE")
                e.service.runningCount = 0
                e.service.pendingCount = 0
                for i in e.service.deployments.indices { e.service.deployments[i].runningCount = 0; e.service.deployments[i].pendingCount = 0 }
            }
            return save(e, ifChangedFrom: before)
        }

        // Tasks that failed their health checks (after the grace period) are stopped and replaced.
        let grace = Double(e.service.healthCheckGracePeriodSeconds ?? 0)
        for t in all where t.task.desiredStatus == "RUNNING" && t.task.healthStatus == "UNHEALTHY"
            && now - (t.task.startedAt ?? now) >= grace {
            addEvent(&e, "(service \(name)) (task \(t.task.id)) failed container health checks.", now: now)
            stopServiceTask(t.task.taskArn, reason: "Task failed container health checks")
        }
        replaceTasksFailingTargetHealth(&e, all, now: now)  // TaskTargets.swift
        all = serviceTasks(arn).filter { !$0.task.isStopped }
        guard let primary = e.service.deployments.first else { return save(e, ifChangedFrom: before) }
        // Tasks on DRAINING container instances are being replaced: they do not count (drainInstanceTasks stops them).
        let live = all.filter { $0.task.desiredStatus == "RUNNING" && !onDrainingInstance($0) }
        let primaryLive = live.filter { $0.meta.deploymentId == primary.id }
        let oldLive = live.filter { $0.meta.deploymentId != primary.id }
        let desired = e.service.desiredCount
        let minPercent = e.service.deploymentConfiguration.minimumHealthyPercent ?? 100
        let maxPercent = e.service.deploymentConfiguration.maximumPercent ?? 200
        // AWS rounds the minimum up and the maximum down.
        let minHealthy = Int((Double(desired) * Double(minPercent) / 100).rounded(.up))
        let maxTotal = Int((Double(desired) * Double(maxPercent) / 100).rounded(.down))

        // Start tasks of the primary deployment, within maximumPercent (tasks still stopping count).
        let blocked = primary.rolloutState == "FAILED" || now < e.state.launchNotBefore
        let want = desired - primaryLive.count
        let room = maxTotal - all.count
        if !blocked && want > 0 && room > 0 && e.service.launchType == "EC2" {
            // Placed on the cluster's container instances (InstanceScheduler.swift).
            launchOnInstances(&e, deployment: primary, count: min(want, room), now: now)
        } else if !blocked && want > 0 && room > 0 {
            let started = launchServiceTasks(&e, deployment: primary, count: min(want, room), now: now)
            if !started.isEmpty {
                addEvent(&e, "(service \(name)) has started \(started.count) tasks: \(started.map { "(task \($0))" }.joined(separator: " ")).", now: now)
            }
        }

        // Stop tasks of older deployments, never going below minimumHealthyPercent of healthy tasks.
        var healthy = live.filter(isHealthy).count
        let reason = "Scaling activity initiated by (deployment \(primary.id))"
        var stopped = stopKeepingMinimum(oldLive, healthy: &healthy, minHealthy: minHealthy, reason: reason)
        drainInstanceTasks(&e, minHealthy: minHealthy, now: now)
        // Scale in: more primary tasks than desired; those not yet healthy go first, then the newest.
        if primaryLive.count > desired {
            let extra = primaryLive.sorted { (isHealthy($0) ? 1 : 0, -$0.task.createdAt) < (isHealthy($1) ? 1 : 0, -$1.task.createdAt) }
            for t in extra.prefix(primaryLive.count - desired) {
                stopServiceTask(t.task.taskArn, reason: reason)
                stopped.append(t.task.id)
            }
        }
        if !stopped.isEmpty {
            addEvent(&e, "(service \(name)) has stopped \(stopped.count) running tasks: \(stopped.map { "(task \($0))" }.joined(separator: " ")).", now: now)
        }

        updateCounts(&e, now: now)
        checkCompletion(&e, now: now)
        trackServiceDeployments(&e, now: now)
        return save(e, ifChangedFrom: before)
    }

    /// Stop `candidates` (those not healthy first, then the oldest) while at least `minHealthy` healthy tasks remain;
    /// the ids of those stopped.
    func stopKeepingMinimum(_ candidates: [TaskEntry], healthy: inout Int, minHealthy: Int, reason: String) -> [String] {
        var stopped: [String] = []
        for t in candidates.sorted(by: { (isHealthy($0) ? 1 : 0, $0.task.createdAt) < (isHealthy($1) ? 1 : 0, $1.task.createdAt) }) {
            if isHealthy(t) {
                guard healthy - 1 >= minHealthy else { continue }
                healthy -= 1
            }
            stopServiceTask(t.task.taskArn, reason: reason)
            stopped.append(t.task.id)
        }
        return stopped
    }

    func save(_ e: ServiceEntry, ifChangedFrom before: String) -> Bool {
        let after = (try? ECSStore.text(e.service)) ?? ""
        let stateChanged = (try? ECSStore.text(e.state)) != (try? ECSStore.text(services[e.service.serviceArn]?.state))
        services[e.service.serviceArn] = e
        guard after != before || stateChanged else { return false }
        dirtyServices.insert(e.service.serviceArn)
        return true
    }

    func stopServiceTask(_ arn: String, reason: String) {
        guard var t = tasks[arn], t.task.desiredStatus != "STOPPED" else { return }
        requestStop(&t, code: "ServiceSchedulerInitiated", reason: reason)
        t.task.version += 1
        tasks[arn] = t
        dirtyTasks.insert(arn)
    }

    /// Start `count` tasks of a deployment; the ids of those started.
    func launchServiceTasks(_ e: inout ServiceEntry, deployment: Deployment, count: Int, now: Double) -> [String] {
        guard let factory = serviceTaskFactory(e, taskDefinition: deployment.taskDefinition, startedBy: deployment.id,
                                               launchType: e.service.launchType, strategy: e.service.capacityProviderStrategy,
                                               platformVersion: e.service.platformVersion,
                                               network: deployment.networkConfiguration) else { return [] }
        return start(factory, count: count, now: now)
    }

    /// How a service makes its tasks, for one deployment or task set (`startedBy`, which tasks also belong to): its
    /// task definition, the tags propagated as the service says, its launch type or capacity provider.
    func serviceTaskFactory(_ e: ServiceEntry, taskDefinition arn: String, startedBy id: String, launchType: String?,
                            strategy: [CapacityProviderStrategyItem]?, platformVersion: String?, network: JSON?) -> TaskFactory? {
        let definition = try? store.db.readNow { db in
            try Row.fetchOne(db, sql: "SELECT doc, tags FROM task_definition WHERE arn = ?", arguments: [arn])
        }.map { try TaskDefinition(doc: $0["doc"], tags: $0["tags"]) }
        guard let definition else { return nil }
        var tags: [Tag] = []
        switch e.service.propagateTags {
        case "SERVICE": tags = e.service.tags
        case "TASK_DEFINITION": tags = definition.tags
        default: break
        }
        if e.service.enableECSManagedTags {
            let cluster = e.service.clusterArn.split(separator: "/").last.map(String.init) ?? ""
            tags += [Tag(key: "aws:ecs:clusterName", value: cluster), Tag(key: "aws:ecs:serviceName", value: e.service.serviceName)]
        }
        return TaskFactory(
            scope: e.scope, clusterArn: e.service.clusterArn, definition: definition,
            launchType: strategy == nil ? (launchType ?? "EC2") : nil, capacityProviderName: strategy?.first?.capacityProvider,
            platformVersion: platformVersion == "LATEST" ? nil : platformVersion,
            overrides: .object(["containerOverrides": .array([]), "inferenceAcceleratorOverrides": .array([])]),
            startedBy: id, group: "service:\(e.service.serviceName)", tags: tags,
            enableExecuteCommand: e.service.enableExecuteCommand, serviceArn: e.service.serviceArn, deploymentId: id,
            networkConfiguration: network)
    }

    /// Add `count` new tasks (PROVISIONING) from a factory; their ids.
    func start(_ factory: TaskFactory, count: Int, now: Double) -> [String] {
        (0..<count).map { _ in
            let t = factory.make(now: now)
            tasks[t.task.taskArn] = t
            dirtyTasks.insert(t.task.taskArn)
            return t.task.id
        }
    }

    /// Each deployment's running and pending counts, the service's totals; old deployments without tasks go.
    func updateCounts(_ e: inout ServiceEntry, now: Double) {
        let all = serviceTasks(e.service.serviceArn).filter { !$0.task.isStopped }
        var deployments: [Deployment] = []
        for (i, var d) in e.service.deployments.enumerated() {
            let mine = all.filter { $0.meta.deploymentId == d.id }
            let running = mine.filter { $0.task.lastStatus == "RUNNING" && $0.task.desiredStatus == "RUNNING" }.count
            let pending = mine.filter { $0.task.lastStatus != "RUNNING" && $0.task.desiredStatus == "RUNNING" }.count
            if i > 0 && mine.isEmpty { continue }
            let desired = i == 0 ? e.service.desiredCount : running + pending
            if d.runningCount != running || d.pendingCount != pending || d.desiredCount != desired {
                d.runningCount = running
                d.pendingCount = pending
                d.desiredCount = desired
                d.updatedAt = ECSTime.round(now)
            }
            d.status = i == 0 ? "PRIMARY" : "ACTIVE"
            deployments.append(d)
        }
        e.service.deployments = deployments
        e.service.runningCount = deployments.reduce(0) { $0 + $1.runningCount }
        e.service.pendingCount = deployments.reduce(0) { $0 + $1.pendingCount }
    }

    /// The primary deployment COMPLETED once it alone runs desiredCount healthy tasks; then the steady state.
    func checkCompletion(_ e: inout ServiceEntry, now: Double) {
        guard var primary = e.service.deployments.first else { return }
        let name = e.service.serviceName
        let live = serviceTasks(e.service.serviceArn).filter { !$0.task.isStopped && $0.task.desiredStatus == "RUNNING" }
        let stopping = serviceTasks(e.service.serviceArn).contains { !$0.task.isStopped && $0.task.desiredStatus == "STOPPED" }
        let steady = e.service.deployments.count == 1 && live.count == e.service.desiredCount && live.allSatisfy(isHealthy) && !stopping
        if steady && primary.rolloutState == "IN_PROGRESS" {
            primary.rolloutState = "COMPLETED"
            primary.rolloutStateReason = "ECS deployment \(primary.id) completed."
            primary.updatedAt = ECSTime.round(now)
            e.service.deployments[0] = primary
            e.state.lastCompletedTaskDefinition = primary.taskDefinition
            e.state.lastCompletedDeploymentId = primary.id
            addEvent(&e, "(service \(name)) (deployment \(primary.id)) deployment completed.", now: now)
        }
        if steady && primary.rolloutState != "FAILED" {
            // AWS repeats the steady-state event every six hours while nothing changes.
            if !e.state.steadyStateAnnounced || now - e.state.lastSteadyStateEvent >= 6 * 3600 {
                addEvent(&e, "(service \(name)) has reached a steady state.", now: now)
                e.state.steadyStateAnnounced = true
                e.state.lastSteadyStateEvent = now
            }
        } else if !steady {
            e.state.steadyStateAnnounced = false
        }
    }

    // MARK: Failures, back-off and the circuit breaker

    /// A task of a service stopped: if it never became healthy and was not stopped on purpose, it counts as a failed
    /// launch (the deployment's failedTasks, the back-off, the circuit breaker).
    func taskStopped(_ t: TaskEntry, now: Double) {
        guard let arn = t.meta.serviceArn, var e = services[arn] else { return }
        let failed = !t.meta.becameHealthy && ["TaskFailedToStart", "EssentialContainerExited"].contains(t.task.stopCode ?? "")
            || t.task.stoppedReason == "Task failed container health checks"
            || (t.task.stoppedReason ?? "").hasPrefix(Self.targetHealthStopPrefix)
        guard failed else {
            if t.meta.becameHealthy { e.state.consecutiveFailures = 0; e.state.launchNotBefore = 0 }
            services[arn] = e
            dirtyServices.insert(arn)
            return
        }
        let name = e.service.serviceName
        e.state.consecutiveFailures += 1
        if e.state.consecutiveFailures >= 3 {
            // AWS's service throttle: the wait between launches grows while tasks keep failing (up to 15 minutes).
            let delay = min(900, 10 * pow(2, Double(e.state.consecutiveFailures - 3)))
            e.state.launchNotBefore = now + delay
            addEvent(&e, "(service \(name)) is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.", now: now)
        }
        if let i = e.service.deployments.firstIndex(where: { $0.id == t.meta.deploymentId }) {
            e.service.deployments[i].failedTasks += 1
            e.service.deployments[i].updatedAt = ECSTime.round(now)
            if i == 0 { tripCircuitBreakerIfDue(&e, now: now) }
        }
        services[arn] = e
        dirtyServices.insert(arn)
    }

    func tripCircuitBreakerIfDue(_ e: inout ServiceEntry, now: Double) {
        guard let breaker = e.service.deploymentConfiguration.deploymentCircuitBreaker, breaker.enable,
              var primary = e.service.deployments.first, primary.rolloutState == "IN_PROGRESS",
              primary.failedTasks >= Self.failureThreshold(e.service.desiredCount) else { return }
        let name = e.service.serviceName
        primary.rolloutState = "FAILED"
        primary.rolloutStateReason = "ECS deployment circuit breaker: tasks failed to start."
        primary.updatedAt = ECSTime.round(now)
        e.service.deployments[0] = primary
        addEvent(&e, "(service \(name)) (deployment \(primary.id)) deployment failed: tasks failed to start.", now: now)
        guard breaker.rollback, let target = e.state.lastCompletedTaskDefinition, let targetID = e.state.lastCompletedDeploymentId else { return }
        var rollback = Self.newDeployment(e.service, taskDefinition: target, now: now)
        rollback.rolloutStateReason = "ECS deployment circuit breaker: rolling back to deploymentId \(targetID)."
        e.service.deployments[0].status = "ACTIVE"
        e.service.deployments.insert(rollback, at: 0)
        e.service.taskDefinition = target
        e.state.consecutiveFailures = 0
        e.state.launchNotBefore = 0
        addEvent(&e, "(service \(name)) rolling back to deployment \(targetID).", now: now)
    }
}
