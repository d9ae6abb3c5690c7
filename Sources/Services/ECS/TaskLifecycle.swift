import Core
import Foundation
import GRDB

/// A task's way through AWS's lifecycle: PROVISIONING → PENDING → ACTIVATING → RUNNING → DEACTIVATING → STOPPING →
/// DEPROVISIONING → STOPPED. Each pass moves every task as far as it can go now; processes report back through
/// `containerExited`, `prepared` and `healthChecked`.
extension Scheduler {
    /// Move one task on; true when anything changed.
    func advanceTask(_ arn: String, now: Double) -> Bool {
        guard var e = tasks[arn], !e.task.isStopped else { return false }
        let before = (e.task.lastStatus, e.task.healthStatus, e.task.desiredStatus, e.task.containers.map(\.lastStatus))
        if e.task.desiredStatus == "STOPPED" {
            stopping(&e, now: now)
        } else {
            switch e.task.lastStatus {
            case "PROVISIONING":
                if e.run == nil && !preparing.contains(arn) { beginPreparing(e) }
            case "PENDING", "ACTIVATING", "RUNNING":
                startReadyContainers(&e, now: now)
                registerTargetsIfDue(&e, now: now)  // TaskTargets.swift
                runDueHealthChecks(&e, now: now)
                updateHealth(&e, now: now)
                checkEssentialExits(&e)
            default:
                break
            }
        }
        let after = (e.task.lastStatus, e.task.healthStatus, e.task.desiredStatus, e.task.containers.map(\.lastStatus))
        tasks[arn] = e
        let changed = before != after
        if before.0 != after.0 || before.2 != after.2 {
            logger.debug("ECS: task \(e.task.id) \(before.0) → \(after.0) (desired \(after.2))")
        }
        if changed {
            e.task.version += 1
            tasks[arn] = e
            dirtyTasks.insert(arn)
        }
        return changed
    }

    // MARK: PROVISIONING → PENDING

    func beginPreparing(_ e: TaskEntry) {
        let arn = e.task.taskArn
        preparing.insert(arn)
        let definition: TaskDefinition?
        do {
            definition = try store.db.readNow { db in
                try Row.fetchOne(db, sql: "SELECT doc, tags FROM task_definition WHERE arn = ?", arguments: [e.task.taskDefinitionArn])
            }.map { try TaskDefinition(doc: $0["doc"], tags: $0["tags"]) }
        } catch {
            definition = nil
        }
        let runtime = self.runtime
        logger.debug("ECS: task \(e.task.id) preparing (\(e.task.group ?? "-"), \(e.task.taskDefinitionArn.split(separator: "/").last ?? ""))")
        Task {
            let result: Result<TaskRun, LaunchFailure>
            if let definition {
                do { result = .success(try await runtime.prepare(task: e.task, meta: e.meta, definition: definition)) }
                catch let f as LaunchFailure { result = .failure(f) }
                catch { result = .failure(LaunchFailure(reason: "ResourceInitializationError: \(error)")) }
            } else {
                result = .failure(LaunchFailure(reason: "ResourceInitializationError: the task definition is gone"))
            }
            self.prepared(arn, result)
        }
    }

    func prepared(_ arn: String, _ result: Result<TaskRun, LaunchFailure>) {
        preparing.remove(arn)
        logger.debug("ECS: task \(arn.split(separator: "/").last ?? "") prepared: \((try? result.get()).map { _ in "ready" } ?? "failed")")
        guard var e = tasks[arn], !e.task.isStopped else { return }
        let now = clock.now()
        switch result {
        case .failure(let f):
            // Nothing started: the task goes straight to STOPPED with the reason.
            e.task.desiredStatus = "STOPPED"
            markStopped(&e, code: "TaskFailedToStart", reason: f.reason, now: now)
        case .success(let run) where e.task.desiredStatus != "RUNNING":
            // Stopped while it was being prepared: nothing of it starts, its network goes.
            runtime.release(run)
        case .success(let run):
            e.run = run
            e.meta.runsProcesses = run.containers.contains { $0.launch != nil }
            e.task.lastStatus = "PENDING"
            e.task.pullStartedAt = ECSTime.round(now)
            e.task.pullStoppedAt = ECSTime.round(now)
            let ip = run.address
            for i in e.task.containers.indices {
                e.task.containers[i].lastStatus = "PENDING"
                if e.task.containers[i].networkInterfaces.isEmpty, let attachment = e.task.attachments.first {
                    e.task.containers[i].networkInterfaces = [NetworkInterface(attachmentId: attachment.id, privateIpv4Address: ip)]
                }
            }
            setAttachmentAddress(&e, ip)
        }
        e.task.version += 1
        tasks[arn] = e
        dirtyTasks.insert(arn)
        pass()
    }

    func setAttachmentAddress(_ e: inout TaskEntry, _ ip: String) {
        for i in e.task.attachments.indices {
            e.task.attachments[i].status = "ATTACHED"
            e.task.attachments[i].details.removeAll { $0.name == "privateIPv4Address" || $0.name == "privateDnsName" }
            e.task.attachments[i].details.append(KeyValuePair(name: "privateDnsName",
                                                              value: "ip-\(ip.replacingOccurrences(of: ".", with: "-")).ec2.internal"))
            e.task.attachments[i].details.append(KeyValuePair(name: "privateIPv4Address", value: ip))
        }
    }

    // MARK: PENDING → RUNNING

    /// Start every container whose dependencies are met; the task is RUNNING once every container has started.
    func startReadyContainers(_ e: inout TaskEntry, now: Double) {
        guard var run = e.run else { return }
        let arn = e.task.taskArn
        for i in run.containers.indices where run.containers[i].state == .waiting {
            let c = run.containers[i]
            switch dependencies(of: c, in: run) {
            case .wait:
                let timeout = Double(c.spec.startTimeout ?? 0)
                if timeout > 0, let pending = e.task.pullStoppedAt, now - pending > timeout {
                    fail(container: c.spec.name, in: &e, run: &run, reason: "dependency timeout: container \(c.spec.name) did not start within \(Int(timeout)) seconds", now: now)
                }
                continue
            case .never:
                fail(container: c.spec.name, in: &e, run: &run, reason: "CannotStartContainerError: a dependency of container \(c.spec.name) can never be met", now: now)
                continue
            case .go:
                break
            }
            do {
                let name = c.spec.name
                let process = try runtime.spawn(c, run: run) { code in
                    Task { await self.containerExited(arn, name, code) }
                }
                run.containers[i].process = process
                logger.debug("ECS: task \(e.task.id) container \(name) started \(process.map { "pid \($0.pid)" } ?? "simulated")")
                run.containers[i].state = .running
                run.containers[i].startedAt = now
                if let check = c.spec.healthCheck {
                    run.containers[i].nextHealthCheck = now + Double(check.interval ?? 30)
                    // A simulated container answers its health check at once.
                    if c.launch == nil { run.containers[i].health = "HEALTHY" }
                }
                setContainer(&e, name) { $0.lastStatus = "RUNNING"; $0.runtimeId = process.map { "pid-\($0.pid)" } ?? "simulated-\(name)" }
            } catch {
                fail(container: c.spec.name, in: &e, run: &run, reason: "CannotStartContainerError: \(error)", now: now)
            }
        }
        if e.task.lastStatus != "RUNNING" && e.task.desiredStatus == "RUNNING"
            && run.containers.allSatisfy({ $0.state != .waiting }) {
            run.runningSince = .now
            e.task.lastStatus = "RUNNING"
            e.task.startedAt = ECSTime.round(now)
            e.task.connectivity = "CONNECTED"
            e.task.connectivityAt = ECSTime.round(now)
        }
        e.run = run
    }

    enum DependencyVerdict { case go, wait, never }

    func dependencies(of c: ContainerRun, in run: TaskRun) -> DependencyVerdict {
        for d in c.spec.dependsOn ?? [] {
            guard let i = run.index(of: d.containerName) else { return .never }
            let dep = run.containers[i]
            switch d.condition {
            case "START":
                if dep.state == .waiting { return .wait }
            case "COMPLETE":
                if !dep.hasExited { return .wait }
            case "SUCCESS":
                guard let code = dep.exitCode else { return .wait }
                if code != 0 { return .never }
            case "HEALTHY":
                if dep.health == "UNHEALTHY" || (dep.hasExited) { return .never }
                if dep.health != "HEALTHY" { return .wait }
            default:
                return .never
            }
        }
        return .go
    }

    /// A container that cannot start: an essential one stops the task.
    func fail(container name: String, in e: inout TaskEntry, run: inout TaskRun, reason: String, now: Double) {
        guard let i = run.index(of: name) else { return }
        run.containers[i].state = .exited(1)
        setContainer(&e, name) { $0.lastStatus = "STOPPED"; $0.reason = reason }
        if run.containers[i].spec.isEssential {
            e.run = run
            requestStop(&e, code: "TaskFailedToStart", reason: reason)
        }
    }

    func setContainer(_ e: inout TaskEntry, _ name: String, _ change: (inout Container) -> Void) {
        if let i = e.task.containers.firstIndex(where: { $0.name == name }) { change(&e.task.containers[i]) }
    }

    // MARK: Exits and health

    func containerExited(_ arn: String, _ name: String, _ code: Int32) {
        logger.debug("ECS: task \(arn.split(separator: "/").last ?? "") container \(name) exited \(code)")
        guard var e = tasks[arn], var run = e.run, let i = run.index(of: name) else { return }
        run.containers[i].state = .exited(code)
        run.containers[i].process = nil
        e.run = run
        let unexpected = e.task.desiredStatus == "RUNNING"
        setContainer(&e, name) {
            $0.lastStatus = "STOPPED"
            $0.exitCode = Int(code)
            if code >= 128 && unexpected { $0.reason = "Container killed by signal \(code - 128)" }
        }
        e.task.version += 1
        tasks[arn] = e
        dirtyTasks.insert(arn)
        pass()
    }

    /// An essential container that exited stops its task.
    func checkEssentialExits(_ e: inout TaskEntry) {
        guard e.task.desiredStatus == "RUNNING", let run = e.run else { return }
        if run.containers.contains(where: { $0.spec.isEssential && $0.hasExited }) {
            requestStop(&e, code: "EssentialContainerExited", reason: "Essential container in task exited")
        }
    }

    func runDueHealthChecks(_ e: inout TaskEntry, now: Double) {
        guard var run = e.run else { return }
        let arn = e.task.taskArn
        for i in run.containers.indices {
            let c = run.containers[i]
            guard let check = c.spec.healthCheck, c.launch != nil, c.state == .running, !c.healthCheckRunning,
                  now >= c.nextHealthCheck else { continue }
            run.containers[i].healthCheckRunning = true
            run.containers[i].nextHealthCheck = now + Double(check.interval ?? 30)
            let name = c.spec.name
            runtime.healthCheck(c, run: run) { ok in
                Task { await self.healthChecked(arn, name, ok) }
            }
        }
        e.run = run
    }

    func healthChecked(_ arn: String, _ name: String, _ ok: Bool) {
        guard var e = tasks[arn], var run = e.run, let i = run.index(of: name) else { return }
        var c = run.containers[i]
        c.healthCheckRunning = false
        let now = clock.now()
        if ok {
            c.health = "HEALTHY"
            c.healthFailures = 0
        } else if let check = c.spec.healthCheck, now - (c.startedAt ?? now) >= Double(check.startPeriod ?? 0) {
            // Failures inside the start period do not count.
            c.healthFailures += 1
            if c.healthFailures >= (check.retries ?? 3) { c.health = "UNHEALTHY" }
        }
        run.containers[i] = c
        e.run = run
        tasks[arn] = e
        pass()
    }

    /// Containers' health as DescribeTasks shows it, and the task's: UNHEALTHY if an essential container is, HEALTHY
    /// when every essential container with a check is, UNKNOWN otherwise.
    func updateHealth(_ e: inout TaskEntry, now: Double) {
        guard let run = e.run else { return }
        for c in run.containers { if let h = c.health { setContainer(&e, c.spec.name) { $0.healthStatus = h } } }
        let checked = run.containers.filter { $0.spec.isEssential && $0.health != nil }
        let health: String
        if checked.isEmpty { health = "UNKNOWN" }
        else if checked.contains(where: { $0.health == "UNHEALTHY" }) { health = "UNHEALTHY" }
        else if checked.allSatisfy({ $0.health == "HEALTHY" }) { health = "HEALTHY" }
        else { health = "UNKNOWN" }
        e.task.healthStatus = health
        if isHealthy(e) { e.meta.becameHealthy = true }
    }

    /// How long a task without health checks must have been RUNNING, with processes, before it counts as healthy: a
    /// container that crashes at start then counts as a failed launch (circuit breaker), not a completed deployment.
    static let settleSeconds = 1.0

    /// Healthy as a service counts it: RUNNING, and HEALTHY when it has health checks (else RUNNING for a moment).
    /// The moment is real time: moving the emulator's clock does not make a process live longer, and a task that
    /// crashes at start must not count as healthy because a test moved the clock while its exit was on its way.
    func isHealthy(_ e: TaskEntry) -> Bool {
        guard e.task.lastStatus == "RUNNING" && e.task.desiredStatus == "RUNNING" else { return false }
        guard targetsHealthy(e) else { return false }
        if e.meta.hasHealthChecks { return e.task.healthStatus == "HEALTHY" }
        guard e.meta.runsProcesses else { return true }
        return settleRemaining(e).map { $0 <= 0 } ?? false
    }

    /// Seconds of real time until a RUNNING task with processes has settled; nil without a run (not started here).
    func settleRemaining(_ e: TaskEntry) -> Double? {
        guard let since = e.run?.runningSince else { return nil }
        let lived = ContinuousClock.now - since
        return Self.settleSeconds - (Double(lived.components.seconds) + Double(lived.components.attoseconds) / 1e18)
    }

    // MARK: Stopping

    func requestStop(_ e: inout TaskEntry, code: String, reason: String) {
        guard e.task.desiredStatus != "STOPPED" else { return }
        e.task.desiredStatus = "STOPPED"
        e.task.stopCode = code
        e.task.stoppedReason = reason
    }

    /// desiredStatus STOPPED: SIGTERM to every process, SIGKILL after its stopTimeout, STOPPED once all are gone.
    func stopping(_ e: inout TaskEntry, now: Double) {
        if drainBeforeStop(&e, now: now) { return }  // load balancers first (TaskTargets.swift)
        guard var run = e.run else {
            if !preparing.contains(e.task.taskArn) {
                markStopped(&e, code: e.task.stopCode ?? "UserInitiated", reason: e.task.stoppedReason ?? "Task stopped by user", now: now)
            }
            return
        }
        if run.stopSignalledAt == nil {
            run.stopSignalledAt = .now
            e.task.lastStatus = "DEACTIVATING"
            e.task.stoppingAt = ECSTime.round(now)
            runtime.terminate(run)
            e.task.lastStatus = "STOPPING"
        }
        let elapsed = ContinuousClock.now - (run.stopSignalledAt ?? .now)
        for i in run.containers.indices {
            guard let p = run.containers[i].process else { continue }
            if !p.isRunning { continue }
            if elapsed >= .seconds(run.containers[i].spec.stopTimeout ?? 30) { p.kill() }
        }
        // Exits seen here before their callback arrives are recorded now: the run is gone once the task is STOPPED.
        for i in run.containers.indices {
            guard let p = run.containers[i].process, !p.isRunning, let code = p.exitStatus else { continue }
            run.containers[i].state = .exited(code)
            run.containers[i].process = nil
            setContainer(&e, run.containers[i].spec.name) { $0.lastStatus = "STOPPED"; $0.exitCode = Int(code) }
        }
        e.run = run
        let alive = run.containers.contains { $0.process?.isRunning ?? false }
        if !alive {
            e.task.lastStatus = "DEPROVISIONING"
            markStopped(&e, code: e.task.stopCode ?? "UserInitiated", reason: e.task.stoppedReason ?? "Task stopped by user", now: now)
        }
    }

    func markStopped(_ e: inout TaskEntry, code: String, reason: String, now: Double) {
        let t = ECSTime.round(now)
        e.task.desiredStatus = "STOPPED"
        e.task.lastStatus = "STOPPED"
        e.task.stopCode = e.task.stopCode ?? code
        e.task.stoppedReason = e.task.stoppedReason ?? reason
        if e.task.stoppingAt == nil { e.task.stoppingAt = t }
        e.task.executionStoppedAt = t
        e.task.stoppedAt = t
        e.task.connectivity = nil
        for i in e.task.containers.indices where e.task.containers[i].lastStatus != "STOPPED" {
            e.task.containers[i].lastStatus = "STOPPED"
            if e.run?.containers.first(where: { $0.spec.name == e.task.containers[i].name })?.launch == nil,
               e.task.containers[i].exitCode == nil, e.task.containers[i].runtimeId != nil {
                e.task.containers[i].exitCode = 0
            }
        }
        for i in e.task.attachments.indices { e.task.attachments[i].status = "DELETED" }
        runtime.release(e.run)
        runtime.roleCredentials.revoke(taskID: e.task.id)
        e.run = nil
        taskStopped(e, now: now)
    }
}
