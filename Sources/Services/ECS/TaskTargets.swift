import Core
import Foundation

/// Where a task is registered in one target group: its address and port.
struct TaskTarget: Codable, Sendable, Hashable {
    var targetGroupArn: String
    var id: String
    var port: Int

    var target: LoadBalancedTarget { LoadBalancedTarget(id: id, port: port) }
}

/// Service tasks behind load balancers. A task that reaches RUNNING is registered in each target group of its
/// service's (or task set's) `loadBalancers`; it counts as healthy for deployments only once every target is
/// `healthy`; an `unhealthy` target after the grace period gets the task replaced; before its processes get SIGTERM
/// it is deregistered and stays DEACTIVATING until the target groups no longer list it (the deregistration delay).
/// ELB calls run off the actor and report back (`targetsRegistered`, `targetHealthArrived`, `targetsDeregistered`);
/// target health is polled every `healthPollInterval` while any task has targets, so a pass never waits.
extension Scheduler {
    /// How often target health is read while tasks have targets (emulator seconds).
    static let healthPollInterval = 0.5

    /// A service task's `loadBalancers`: its task set's, or its service's.
    func loadBalancerSpecs(_ e: TaskEntry) -> [LoadBalancerSpec] {
        guard let arn = e.meta.serviceArn, let s = services[arn] else { return [] }
        if TaskSetMath.usesTaskSets(s.service) {
            return LoadBalancerSpec.list(s.service.taskSets?.first { $0.id == e.meta.deploymentId }?.loadBalancers)
        }
        return LoadBalancerSpec.list(s.service.loadBalancers)
    }

    /// The targets of a RUNNING task: awsvpc, its own address and the container port; otherwise the host's address
    /// and the container's host port.
    func resolveTargets(_ e: TaskEntry) -> [TaskTarget] {
        let awsvpc = !e.task.attachments.isEmpty
        let attached = e.task.attachments.first?.details.first { $0.name == "privateIPv4Address" }?.value
        let address = awsvpc ? (attached ?? e.run?.address ?? "127.0.0.1") : "127.0.0.1"
        return loadBalancerSpecs(e).compactMap { spec in
            guard let group = spec.targetGroupArn, let name = spec.containerName, let port = spec.containerPort else { return nil }
            let mapping = e.run?.containers.first { $0.spec.name == name }?.spec.portMappings?.first { $0.containerPort == port }
            let hostPort = mapping?.hostPort.flatMap { $0 > 0 ? $0 : nil } ?? port
            return TaskTarget(targetGroupArn: group, id: address, port: awsvpc ? port : hostPort)
        }
    }

    // MARK: Registration

    /// A service task that just reached RUNNING: register it in its target groups.
    func registerTargetsIfDue(_ e: inout TaskEntry, now: Double) {
        guard e.task.lastStatus == "RUNNING", e.task.desiredStatus == "RUNNING", e.meta.targets == nil,
              e.meta.serviceArn != nil else { return }
        let targets = resolveTargets(e)
        e.meta.targets = targets
        dirtyTasks.insert(e.task.taskArn)
        guard !targets.isEmpty else { return }
        e.meta.targetsState = "registering"
        let arn = e.task.taskArn
        let lb = loadBalancers.targets
        logger.debug("ECS: task \(e.task.id) registering \(targets.map { "\($0.id):\($0.port)" }) in \(targets.map(\.targetGroupArn))")
        Task {
            var done: [String] = []
            for t in targets {
                do {
                    try await lb.register(targetGroupARN: t.targetGroupArn, targets: [t.target])
                    done.append(t.targetGroupArn)
                } catch {
                    self.logger.warning("ECS: could not register task \(arn.split(separator: "/").last ?? "") in \(t.targetGroupArn): \(error)")
                }
            }
            await self.targetsRegistered(arn, groups: done)
        }
    }

    func targetsRegistered(_ arn: String, groups: [String]) {
        guard var e = tasks[arn] else { return }
        let now = clock.now()
        e.meta.targetsState = "registered"
        for g in groups { serviceEvent(e.meta.serviceArn, now: now) { "(service \($0)) registered 1 targets in (target-group \(g))" } }
        if e.task.isStopped {
            // Stopped while its registration was on its way: it leaves at once.
            e.meta.targetsState = "drained"
            deregisterQuietly(e.meta.targets ?? [])
        }
        tasks[arn] = e
        dirtyTasks.insert(arn)
        lastHealthPoll = -.infinity
        pass()
    }

    // MARK: Health

    /// Healthy as its load balancers see it: every target `healthy` (true without load balancers).
    func targetsHealthy(_ e: TaskEntry) -> Bool {
        guard let targets = e.meta.targets, !targets.isEmpty else { return true }
        guard e.meta.targetsState == "registered" else { return false }
        return targets.allSatisfy { targetHealth[$0.targetGroupArn]?.states[$0.target] == .healthy }
    }

    /// Tasks whose target a load balancer finds `unhealthy` after the grace period are stopped and replaced (the
    /// stop counts as a failed launch).
    func replaceTasksFailingTargetHealth(_ e: inout ServiceEntry, _ candidates: [TaskEntry], now: Double) {
        guard !targetHealth.isEmpty else { return }  // no target group read yet: nothing to look at
        let grace = Double(e.service.healthCheckGracePeriodSeconds ?? 0)
        // `candidates` may be a moment old: each is read again.
        for c in candidates {
            guard let t = tasks[c.task.taskArn], !t.task.isStopped, t.task.desiredStatus == "RUNNING",
                  t.meta.targetsState == "registered", now - (t.task.startedAt ?? now) >= grace else { continue }
            guard let bad = t.meta.targets?.first(where: { targetHealth[$0.targetGroupArn]?.states[$0.target] == .unhealthy }) else { continue }
            addEvent(&e, "(service \(e.service.serviceName)) (task \(t.task.id)) (port \(bad.port)) is unhealthy in (target-group \(bad.targetGroupArn)) due to (reason Health checks failed).", now: now)
            stopServiceTask(t.task.taskArn, reason: "\(Self.targetHealthStopPrefix) (target-group \(bad.targetGroupArn))")
        }
    }

    static let targetHealthStopPrefix = "Task failed ELB health checks in"

    /// Read the health of every target group a live task is registered in, off the actor, when the last read is
    /// `healthPollInterval` old.
    func pollTargetHealthIfDue(now: Double) {
        guard !healthPollInFlight, now - lastHealthPoll >= Self.healthPollInterval else { return }
        var groups = Set<String>()
        for e in tasks.values where !e.task.isStopped && (e.meta.targetsState == "registered" || e.meta.targetsState == "draining") {
            for t in e.meta.targets ?? [] { groups.insert(t.targetGroupArn) }
        }
        guard !groups.isEmpty else { return }
        healthPollInFlight = true
        lastHealthPoll = now
        healthPolls += 1
        let poll = healthPolls
        let lb = loadBalancers.targets
        Task {
            var results: [(String, [LoadBalancedTarget: LoadBalancedTargetState])] = []
            for g in groups {
                // A group that is gone holds no target.
                results.append((g, (try? await lb.health(targetGroupARN: g)) ?? [:]))
            }
            await self.targetHealthArrived(poll: poll, results)
        }
    }

    func targetHealthArrived(poll: Int, _ results: [(String, [LoadBalancedTarget: LoadBalancedTargetState])]) {
        healthPollInFlight = false
        var changed = false
        for (group, states) in results {
            if targetHealth[group]?.states != states { changed = true }
            targetHealth[group] = (poll, states)
        }
        drainingSince = drainingSince.filter { tasks[$0.key].map { !$0.task.isStopped } ?? false }
        if changed || !drainingSince.isEmpty { pass() }
    }

    // MARK: Drain

    /// Before a service task's processes get SIGTERM it leaves its target groups and stays DEACTIVATING until they
    /// no longer list it; true while it must wait.
    func drainBeforeStop(_ e: inout TaskEntry, now: Double) -> Bool {
        guard let targets = e.meta.targets, !targets.isEmpty else { return false }
        let arn = e.task.taskArn
        switch e.meta.targetsState {
        case "registering":
            return true  // its registration is on its way; the drain starts once it is answered
        case "registered":
            e.meta.targetsState = "draining"
            e.task.lastStatus = "DEACTIVATING"
            if e.task.stoppingAt == nil { e.task.stoppingAt = ECSTime.round(now) }
            dirtyTasks.insert(arn)
            serviceEvent(e.meta.serviceArn, now: now) { "(service \($0)) has begun draining connections on 1 tasks." }
            let lb = loadBalancers.targets
            Task {
                var done: [String] = []
                for t in targets {
                    do {
                        try await lb.deregister(targetGroupARN: t.targetGroupArn, targets: [t.target])
                        done.append(t.targetGroupArn)
                    } catch {
                        self.logger.warning("ECS: could not deregister task \(arn.split(separator: "/").last ?? "") from \(t.targetGroupArn): \(error)")
                    }
                }
                await self.targetsDeregistered(arn, groups: done)
            }
            return true
        case "draining":
            guard let since = drainingSince[arn] else { return true }  // the deregistration is not answered yet
            let gone = targets.allSatisfy { t in
                guard let h = targetHealth[t.targetGroupArn], h.poll > since else { return false }
                return h.states[t.target] == nil
            }
            guard gone else { return true }
            e.meta.targetsState = "drained"
            drainingSince[arn] = nil
            dirtyTasks.insert(arn)
            logger.debug("ECS: task \(e.task.id) drained")
            return false
        default:
            return false
        }
    }

    func targetsDeregistered(_ arn: String, groups: [String]) {
        guard let e = tasks[arn] else { return }
        let now = clock.now()
        for g in groups { serviceEvent(e.meta.serviceArn, now: now) { "(service \($0)) deregistered 1 targets in (target-group \(g))" } }
        // Only a health read made after this shows whether the targets are gone.
        drainingSince[arn] = healthPolls
        lastHealthPoll = -.infinity
        pass()
    }

    func serviceEvent(_ serviceArn: String?, now: Double, _ message: (String) -> String) {
        guard let arn = serviceArn, var s = services[arn] else { return }
        addEvent(&s, message(s.service.serviceName), now: now)
        services[arn] = s
        dirtyServices.insert(arn)
    }

    func deregisterQuietly(_ targets: [TaskTarget]) {
        guard !targets.isEmpty else { return }
        let lb = loadBalancers.targets
        let logger = self.logger
        Task {
            for t in targets {
                do { try await lb.deregister(targetGroupARN: t.targetGroupArn, targets: [t.target]) }
                catch { logger.debug("ECS: could not deregister \(t.id):\(t.port) from \(t.targetGroupArn): \(error)") }
            }
        }
    }

    // MARK: Restart

    /// At load: a task that keeps running (simulated) is registered again when the loop starts (registering twice
    /// is harmless; the load balancer may have lost it); one that stopped with the emulator leaves its groups.
    func rememberTargetsAtLoad(_ e: inout TaskEntry) {
        guard let targets = e.meta.targets, !targets.isEmpty, e.meta.targetsState != "drained" else { return }
        if e.task.isStopped {
            targetsAfterLoad.deregister += targets
            e.meta.targetsState = "drained"
            dirtyTasks.insert(e.task.taskArn)
        } else {
            targetsAfterLoad.register += targets
            e.meta.targetsState = "registered"
        }
    }

    /// What `rememberTargetsAtLoad` kept, done once the load balancers are connected (the loop's start).
    func resumeTargetsAfterLoad() {
        let (register, deregister) = targetsAfterLoad
        targetsAfterLoad = ([], [])
        deregisterQuietly(deregister)
        guard !register.isEmpty else { return }
        let lb = loadBalancers.targets
        let logger = self.logger
        Task {
            for t in register {
                do { try await lb.register(targetGroupARN: t.targetGroupArn, targets: [t.target]) }
                catch { logger.warning("ECS: could not register \(t.id):\(t.port) in \(t.targetGroupArn) again: \(error)") }
            }
        }
    }
}
