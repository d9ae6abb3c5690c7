import Core
import Foundation
import GRDB

/// The scheduler of EXTERNAL and CODE_DEPLOY services: each task set keeps its computedDesiredCount of tasks
/// (ceil(service desiredCount × scale%)) running, started through `TaskFactory` with the task set's id as
/// `startedBy`, stopped through `stopServiceTask`; tasks that fail their health checks are replaced; the service's
/// runningCount and pendingCount are the sums over its task sets. A DRAINING task set stops its tasks and goes once
/// they are all STOPPED; a DRAINING service drains every task set and becomes INACTIVE without any.
extension Scheduler {
    /// One pass over a service that uses task sets; true when anything changed.
    func reconcileTaskSetService(_ arn: String, now: Double) -> Bool {
        guard var e = services[arn], e.service.status != "INACTIVE" else { return false }
        let before = (try? ECSStore.text(e.service)) ?? ""
        let name = e.service.serviceName
        var sets = e.service.taskSets ?? []

        if e.service.status == "DRAINING" {
            for i in sets.indices where sets[i].status != "DRAINING" {
                sets[i].status = "DRAINING"
                sets[i].updatedAt = ECSTime.round(now)
            }
        }

        // Tasks that failed their health checks (after the grace period) are stopped and replaced.
        let grace = Double(e.service.healthCheckGracePeriodSeconds ?? 0)
        for t in serviceTasks(arn) where !t.task.isStopped && t.task.desiredStatus == "RUNNING"
            && t.task.healthStatus == "UNHEALTHY" && now - (t.task.startedAt ?? now) >= grace {
            addEvent(&e, "(service \(name), taskSet \(t.meta.deploymentId ?? "")) (task \(t.task.id)) failed container health checks.", now: now)
            stopServiceTask(t.task.taskArn, reason: "Task failed container health checks")
        }
        if e.service.status != "DRAINING" { replaceTasksFailingTargetHealth(&e, serviceTasks(arn), now: now) }

        // Tasks of no task set (a task set removed while they ran) are stopped.
        let known = Set(sets.map(\.id))
        for t in serviceTasks(arn) where !t.task.isStopped && t.task.desiredStatus == "RUNNING" && !known.contains(t.meta.deploymentId ?? "") {
            stopServiceTask(t.task.taskArn, reason: "Scaling activity initiated by (deployment \(t.meta.deploymentId ?? ""))")
        }

        for i in sets.indices {
            let desired = sets[i].status == "DRAINING"
                ? 0 : TaskSetMath.computedDesiredCount(serviceDesired: e.service.desiredCount, scalePercent: sets[i].scale.value)
            if sets[i].computedDesiredCount != desired {
                sets[i].computedDesiredCount = desired
                sets[i].updatedAt = ECSTime.round(now)
            }
            let id = sets[i].id
            let live = serviceTasks(arn).filter { !$0.task.isStopped && $0.task.desiredStatus == "RUNNING" && $0.meta.deploymentId == id }
            let prefix = "(service \(name), taskSet \(id))"
            if live.count < desired && now >= e.state.launchNotBefore {
                if sets[i].launchType == "EC2" {
                    // Container instances are not modelled: EC2 tasks have nowhere to go.
                    if now - e.state.unableToPlaceEventAt >= 300 {
                        addEvent(&e, "\(prefix) was unable to place a task because no container instance met all of its requirements. Reason: No Container Instances were found in your cluster. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.", now: now)
                        e.state.unableToPlaceEventAt = now
                    }
                } else {
                    let started = launchTaskSetTasks(e, sets[i], count: desired - live.count, now: now)
                    if !started.isEmpty {
                        addEvent(&e, "\(prefix) has started \(started.count) tasks: \(started.map { "(task \($0))" }.joined(separator: " ")).", now: now)
                    }
                }
            } else if live.count > desired {
                // Scale in: tasks not yet healthy go first, then the newest.
                let order = live.sorted { (isHealthy($0) ? 1 : 0, -$0.task.createdAt) < (isHealthy($1) ? 1 : 0, -$1.task.createdAt) }
                var stopped: [String] = []
                for t in order.prefix(live.count - desired) {
                    stopServiceTask(t.task.taskArn, reason: "Scaling activity initiated by (deployment \(id))")
                    stopped.append(t.task.id)
                }
                addEvent(&e, "\(prefix) has stopped \(stopped.count) running tasks: \(stopped.map { "(task \($0))" }.joined(separator: " ")).", now: now)
            }
        }

        // Counts and stability; DRAINING task sets without tasks go.
        var kept: [TaskSet] = []
        for var ts in sets {
            let mine = serviceTasks(arn).filter { !$0.task.isStopped && $0.meta.deploymentId == ts.id }
            if ts.status == "DRAINING" && mine.isEmpty { continue }
            let wanted = mine.filter { $0.task.desiredStatus == "RUNNING" }
            let running = wanted.filter { $0.task.lastStatus == "RUNNING" }.count
            let pending = wanted.count - running
            let stability = TaskSetMath.stability(computedDesired: ts.computedDesiredCount, running: running, pending: pending,
                                                  allHealthy: wanted.allSatisfy(isHealthy), stopping: mine.count - wanted.count)
            if ts.runningCount != running || ts.pendingCount != pending {
                ts.runningCount = running
                ts.pendingCount = pending
                ts.updatedAt = ECSTime.round(now)
            }
            if ts.stabilityStatus != stability {
                ts.stabilityStatus = stability
                ts.stabilityStatusAt = ECSTime.round(now)
            }
            kept.append(ts)
        }
        e.service.taskSets = kept
        e.service.runningCount = kept.reduce(0) { $0 + $1.runningCount }
        e.service.pendingCount = kept.reduce(0) { $0 + $1.pendingCount }

        let remaining = serviceTasks(arn).filter { !$0.task.isStopped }
        if e.service.status == "DRAINING" {
            if remaining.isEmpty && kept.isEmpty {
                e.service.status = "INACTIVE"
                e.service.runningCount = 0
                e.service.pendingCount = 0
            }
        } else {
            let steady = kept.allSatisfy { $0.stabilityStatus == "STEADY_STATE" }
                && remaining.allSatisfy { t in kept.contains { $0.id == t.meta.deploymentId } }
            if steady {
                if !e.state.steadyStateAnnounced || now - e.state.lastSteadyStateEvent >= 6 * 3600 {
                    addEvent(&e, "(service \(name)) has reached a steady state.", now: now)
                    e.state.steadyStateAnnounced = true
                    e.state.lastSteadyStateEvent = now
                }
            } else {
                e.state.steadyStateAnnounced = false
            }
        }
        return save(e, ifChangedFrom: before)
    }

    /// Start `count` tasks of a task set; the ids of those started.
    func launchTaskSetTasks(_ e: ServiceEntry, _ ts: TaskSet, count: Int, now: Double) -> [String] {
        guard let factory = serviceTaskFactory(e, taskDefinition: ts.taskDefinition, startedBy: ts.id, launchType: ts.launchType,
                                               strategy: ts.capacityProviderStrategy, platformVersion: ts.platformVersion,
                                               network: ts.networkConfiguration) else {
            return []
        }
        return start(factory, count: count, now: now)
    }

    /// Change a service and answer something from it, saved before this returns; nil when there is no such service.
    func changeService<T: Sendable>(_ arn: String, _ change: (inout ServiceEntry) throws -> T) throws -> T? {
        guard var e = services[arn] else { return nil }
        let result = try change(&e)
        services[arn] = e
        dirtyServices.insert(arn)
        try persist()
        return result
    }

    // MARK: Tags of task sets

    func taskSetTags(_ arn: String) -> [Tag]? {
        guard let svc = TaskSetMath.serviceArn(ofTaskSetArn: arn), let e = services[svc], e.service.status != "INACTIVE" else { return nil }
        return e.service.taskSets?.first { $0.taskSetArn == arn }?.tags
    }

    func setTaskSetTags(_ arn: String, _ change: ([Tag]) -> [Tag]) throws -> Bool {
        guard let svc = TaskSetMath.serviceArn(ofTaskSetArn: arn), var e = services[svc], e.service.status != "INACTIVE",
              var sets = e.service.taskSets, let i = sets.firstIndex(where: { $0.taskSetArn == arn }) else { return false }
        sets[i].tags = change(sets[i].tags)
        e.service.taskSets = sets
        services[svc] = e
        dirtyServices.insert(svc)
        try persist()
        return true
    }
}
