import Core
import Foundation
import GRDB

/// Container instances in the scheduler: registered, drained and deregistered through it, and the place tasks of the
/// EC2 launch type go. An instance's remaining resources and task counts are not stored: they are its registered
/// resources less what the tasks placed on it (and not yet STOPPED) reserve, so they shrink when a task is placed and
/// grow back when it stops, and they are right again after a restart.
extension Scheduler {
    // MARK: State

    func loadInstances() throws {
        let rows = try store.db.readNow { db in
            try Row.fetchAll(db, sql: "SELECT account, region, cluster_arn, doc FROM container_instance")
        }
        for row in rows {
            let i = try ECSStore.value(ContainerInstanceRecord.self, row["doc"])
            instances[i.containerInstanceArn] = InstanceEntry(instance: i, clusterArn: row["cluster_arn"], account: row["account"], region: row["region"])
        }
    }

    func saveInstance(_ e: InstanceEntry) throws {
        var doc = e.instance
        doc.remainingResources = doc.registeredResources
        doc.runningTasksCount = 0
        doc.pendingTasksCount = 0
        let text = try ECSStore.text(doc)
        try store.db.writeNow { db in
            try db.execute(sql: """
                INSERT INTO container_instance (arn, account, region, cluster_arn, ec2_instance_id, status, doc) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (arn) DO UPDATE SET status = excluded.status, doc = excluded.doc
                """, arguments: [e.instance.containerInstanceArn, e.account, e.region, e.clusterArn, e.instance.ec2InstanceId,
                                 e.instance.status, text])
        }
        instances[e.instance.containerInstanceArn] = e
    }

    /// The tasks placed on an instance that still hold its resources (every one not yet STOPPED).
    func tasksOn(_ instanceArn: String) -> [TaskEntry] {
        tasks.values.filter { $0.task.containerInstanceArn == instanceArn && !$0.task.isStopped }
    }

    /// What a task reserves: the task-level cpu and memory, else the sum of its containers' (memoryReservation before
    /// memory), and the host ports of its network bindings.
    static func demand(of t: ECSTask) -> TaskPlacement.Demand {
        let cpu = t.cpu.flatMap { Int($0) } ?? t.containers.reduce(0) { $0 + (Int($1.cpu ?? "") ?? 0) }
        let memory = t.memory.flatMap { Int($0) }
            ?? t.containers.reduce(0) { $0 + (Int($1.memoryReservation ?? "") ?? Int($1.memory ?? "") ?? 0) }
        var tcp: [Int] = [], udp: [Int] = []
        for c in t.containers {
            for b in c.networkBindings {
                guard let p = b.hostPort, p > 0 else { continue }
                if b.protocol == "udp" { udp.append(p) } else { tcp.append(p) }
            }
        }
        return TaskPlacement.Demand(cpu: cpu, memory: memory, tcpPorts: tcp, udpPorts: udp)
    }

    /// The instance as DescribeContainerInstances shows it: remaining resources and task counts from its tasks.
    func view(_ e: InstanceEntry) -> ContainerInstanceRecord {
        var r = e.instance
        let mine = tasksOn(r.containerInstanceArn)
        r.runningTasksCount = mine.filter { $0.task.lastStatus == "RUNNING" }.count
        r.pendingTasksCount = mine.count - r.runningTasksCount
        var cpu = 0, memory = 0
        var tcp = Set(r.ports("PORTS")), udp = Set(r.ports("PORTS_UDP"))
        for t in mine {
            let d = Self.demand(of: t.task)
            cpu += d.cpu
            memory += d.memory
            tcp.formUnion(d.tcpPorts.map(String.init))
            udp.formUnion(d.udpPorts.map(String.init))
        }
        r.remainingResources = r.registeredResources.map { res in
            switch res.name {
            case "CPU": return .integer("CPU", res.integerValue - cpu)
            case "MEMORY": return .integer("MEMORY", res.integerValue - memory)
            case "PORTS": return .stringSet("PORTS", Self.portOrder(tcp))
            case "PORTS_UDP": return .stringSet("PORTS_UDP", Self.portOrder(udp))
            default: return res
            }
        }
        return r
    }

    static func portOrder(_ ports: Set<String>) -> [String] {
        ports.sorted { (Int($0) ?? 0, $0) < (Int($1) ?? 0, $1) }
    }

    func candidate(_ e: InstanceEntry) -> TaskPlacement.Candidate {
        let v = view(e)
        let mine = tasksOn(v.containerInstanceArn)
        var attributes: [String: String] = [:]
        for a in v.attributes { attributes[a.name] = a.value ?? "" }
        let remaining = { (name: String) in v.remainingResources.first { $0.name == name } }
        return TaskPlacement.Candidate(
            arn: v.containerInstanceArn, ec2InstanceId: v.ec2InstanceId, attributes: attributes,
            remainingCPU: remaining("CPU")?.integerValue ?? 0, remainingMemory: remaining("MEMORY")?.integerValue ?? 0,
            usedTCP: Set((remaining("PORTS")?.stringSetValue ?? []).compactMap { Int($0) }),
            usedUDP: Set((remaining("PORTS_UDP")?.stringSetValue ?? []).compactMap { Int($0) }),
            taskGroups: mine.filter { $0.task.desiredStatus == "RUNNING" }.compactMap(\.task.group),
            agentConnected: v.agentConnected, registeredAt: v.registeredAt)
    }

    /// The ACTIVE instances of a cluster as placement candidates, in ARN order.
    func candidates(cluster: String) -> [TaskPlacement.Candidate] {
        instances.values.filter { $0.clusterArn == cluster && $0.instance.status == "ACTIVE" }
            .sorted { $0.instance.containerInstanceArn < $1.instance.containerInstanceArn }
            .map(candidate)
    }

    // MARK: Reading

    func instanceViews(cluster: String) -> [ContainerInstanceRecord] {
        instances.values.filter { $0.clusterArn == cluster }
            .sorted { ($0.instance.registeredAt, $0.instance.containerInstanceArn) < ($1.instance.registeredAt, $1.instance.containerInstanceArn) }
            .map(view)
    }

    /// An instance of a cluster by ARN or by id.
    func findInstance(_ ident: String, cluster: String) -> InstanceEntry? {
        if ident.hasPrefix("arn:") { return instances[ident].flatMap { $0.clusterArn == cluster ? $0 : nil } }
        return instances.values.first { $0.clusterArn == cluster && $0.instance.id == ident }
    }

    func instanceView(_ ident: String, cluster: String) -> ContainerInstanceRecord? {
        findInstance(ident, cluster: cluster).map(view)
    }

    /// The instances a cluster counts as registered: ACTIVE and DRAINING ones.
    func registeredInstanceCount(_ clusterArn: String) -> Int {
        instances.values.filter { $0.clusterArn == clusterArn && ["ACTIVE", "DRAINING"].contains($0.instance.status) }.count
    }

    /// The cluster's tasks on the EC2 launch type (running, pending) and its ACTIVE EC2 services, for its statistics.
    func clusterCountsWithEC2(_ clusterArn: String)
        -> (all: (running: Int, pending: Int, services: Int, draining: Int), ec2: (running: Int, pending: Int, services: Int)) {
        (clusterCounts(clusterArn), ec2Counts(clusterArn))
    }

    func ec2Counts(_ clusterArn: String) -> (running: Int, pending: Int, services: Int) {
        var running = 0, pending = 0
        for e in tasks.values where e.task.clusterArn == clusterArn && !e.task.isStopped && e.task.launchType == "EC2" {
            if e.task.lastStatus == "RUNNING" { running += 1 } else { pending += 1 }
        }
        let svc = services.values.filter { $0.service.clusterArn == clusterArn && $0.service.status == "ACTIVE" && $0.service.launchType == "EC2" }
        return (running, pending, svc.count)
    }

    func instanceTags(_ arn: String) -> [Tag]? {
        guard let e = instances[arn], e.instance.status != "INACTIVE" else { return nil }
        return e.instance.tags ?? []
    }

    func setInstanceTags(_ arn: String, _ change: ([Tag]) -> [Tag]) throws -> Bool {
        guard var e = instances[arn], e.instance.status != "INACTIVE" else { return false }
        e.instance.tags = change(e.instance.tags ?? [])
        try saveInstance(e)
        return true
    }

    // MARK: Changing

    func registerInstance(_ e: InstanceEntry) throws -> ContainerInstanceRecord {
        try saveInstance(e)
        poke()
        return view(e)
    }

    /// Change an instance (its version goes up); nil when it is not in the cluster.
    func updateInstance(_ ident: String, cluster: String, _ change: (inout ContainerInstanceRecord) throws -> Void) throws -> ContainerInstanceRecord? {
        guard var e = findInstance(ident, cluster: cluster) else { return nil }
        try change(&e.instance)
        e.instance.version += 1
        try saveInstance(e)
        return view(e)
    }

    /// UpdateContainerInstancesState: ACTIVE or DRAINING. Draining stops the service tasks on the instance (they are
    /// replaced elsewhere by their services; see `drainInstanceTasks`); standalone tasks keep running.
    func setInstanceState(_ ident: String, cluster: String, status: String) throws -> ContainerInstanceRecord? {
        guard let e = findInstance(ident, cluster: cluster), e.instance.status != "INACTIVE" else { return nil }
        guard e.instance.status != status else { return view(e) }
        let out = try updateInstance(ident, cluster: cluster) { $0.status = status }
        poke()
        return out
    }

    enum DeregisterOutcome { case missing, busy, done(ContainerInstanceRecord) }

    /// DeregisterContainerInstance: INACTIVE. With running tasks it needs `force`; then its tasks are stopped and
    /// the services they belong to start others elsewhere.
    func deregisterInstance(_ ident: String, cluster: String, force: Bool, now: Double) throws -> DeregisterOutcome {
        guard let e = findInstance(ident, cluster: cluster), e.instance.status != "INACTIVE" else { return .missing }
        let mine = tasksOn(e.instance.containerInstanceArn)
        if !mine.isEmpty && !force { return .busy }
        for t in mine {
            guard var entry = tasks[t.task.taskArn], entry.task.desiredStatus != "STOPPED" else { continue }
            requestStop(&entry, code: "TerminationNotice", reason: "Task stopped because the container instance was deregistered.")
            entry.task.version += 1
            tasks[t.task.taskArn] = entry
            dirtyTasks.insert(t.task.taskArn)
        }
        try persist()
        var out = e
        out.instance.status = "INACTIVE"
        out.instance.agentConnected = false
        out.instance.version += 1
        try saveInstance(out)
        poke()
        var shown = view(out)
        // What was reserved on it is given back at once: nothing more is placed there.
        shown.remainingResources = shown.registeredResources
        return .done(shown)
    }

    // MARK: Placing tasks

    enum PlacementResult {
        case noInstances
        case placed(tasks: [ECSTask], failures: [Failure])
    }

    /// RunTask on the EC2 launch type: each task goes to an instance that fits, or is not created (its failures name
    /// each instance and why it could not take the task).
    func runOnInstances(_ new: [TaskEntry], cluster: String, constraints: [TaskPlacement.Constraint],
                        strategy: [TaskPlacement.Strategy]) throws -> PlacementResult {
        var cands = candidates(cluster: cluster)
        guard !cands.isEmpty else { return .noInstances }
        var placed: [TaskEntry] = []
        var failures: [Failure] = []
        for var t in new {
            let d = Self.demand(of: t.task)
            let group = t.task.group ?? ""
            switch TaskPlacement.choose(cands, d, group: group, constraints: constraints, strategy: strategy) {
            case .placed(let i):
                assign(&t, to: cands[i])
                cands[i].take(d, group: group)
                placed.append(t)
            case .failed(let list):
                for f in list where !failures.contains(where: { $0.arn == f.arn && $0.reason == f.reason.rawValue }) {
                    failures.append(Failure(arn: f.arn, reason: f.reason.rawValue))
                }
            }
        }
        try add(tasks: placed)
        return .placed(tasks: placed.map(\.task), failures: failures)
    }

    /// StartTask: one task on each instance named (it must be ACTIVE and have room); the others are failures.
    func startOnInstances(_ make: () -> TaskEntry, instances idents: [String], cluster: String, scope: Scope) throws -> ([ECSTask], [Failure]) {
        var placed: [TaskEntry] = []
        var failures: [Failure] = []
        let clusterName = cluster.split(separator: "/").last.map(String.init) ?? "default"
        var taken: [String: TaskPlacement.Candidate] = [:]
        for ident in idents {
            let arnShown = ident.hasPrefix("arn:") ? ident : scope.arn("container-instance/\(clusterName)/\(ident)")
            guard let e = findInstance(ident, cluster: cluster), e.instance.status == "ACTIVE" else {
                failures.append(Failure(arn: arnShown, reason: "MISSING"))
                continue
            }
            var c = taken[e.instance.containerInstanceArn] ?? candidate(e)
            var t = make()
            let d = Self.demand(of: t.task)
            if let r = TaskPlacement.reject(c, d, group: t.task.group ?? "", constraints: []) {
                failures.append(Failure(arn: e.instance.containerInstanceArn, reason: r.rawValue))
                continue
            }
            c.take(d, group: t.task.group ?? "")
            taken[e.instance.containerInstanceArn] = c
            assign(&t, to: c)
            placed.append(t)
        }
        try add(tasks: placed)
        return (placed.map(\.task), failures)
    }

    func assign(_ t: inout TaskEntry, to c: TaskPlacement.Candidate) {
        t.task.containerInstanceArn = c.arn
        if let az = c.attributes["ecs.availability-zone"] { t.task.availabilityZone = az }
    }

    /// A service with the EC2 launch type starts `count` tasks of its deployment on its cluster's instances; when
    /// nothing fits, the task is not started and the service says why (at most every five minutes).
    func launchOnInstances(_ e: inout ServiceEntry, deployment: Deployment, count: Int, now: Double) {
        let name = e.service.serviceName
        var cands = candidates(cluster: e.service.clusterArn)
        guard !cands.isEmpty else {
            unableToPlace(&e, "Reason: No Container Instances were found in your cluster.", now: now)
            return
        }
        let constraints = (try? e.service.placementConstraints.decode([TaskPlacement.Constraint].self)) ?? []
        var strategy = (try? e.service.placementStrategy.decode([TaskPlacement.Strategy].self)) ?? []
        if strategy.isEmpty {
            // AWS's default for services: spread across Availability Zones, then across instances.
            strategy = [.init(type: "spread", field: "attribute:ecs.availability-zone"), .init(type: "spread", field: "instanceId")]
        }
        let clusterName = e.service.clusterArn.split(separator: "/").last.map(String.init) ?? "default"
        var started: [String] = []
        for _ in 0..<count {
            guard let id = launchServiceTasks(&e, deployment: deployment, count: 1, now: now).first else { break }
            let arn = e.scope.arn("task/\(clusterName)/\(id)")
            guard var t = tasks[arn] else { break }
            let d = Self.demand(of: t.task)
            let group = t.task.group ?? ""
            let all = constraints + definitionConstraints(t.task.taskDefinitionArn)
            switch TaskPlacement.choose(cands, d, group: group, constraints: all, strategy: strategy) {
            case .placed(let i):
                assign(&t, to: cands[i])
                cands[i].take(d, group: group)
                tasks[arn] = t
                started.append(id)
            case .failed(let list):
                // The task was never started: it goes, and the service reports the closest instance.
                tasks[arn] = nil
                dirtyTasks.remove(arn)
                if let closest = list.max(by: { $0.reason < $1.reason }) {
                    let instanceId = String(closest.arn.split(separator: "/").last ?? "")
                    unableToPlace(&e, "The closest matching (container-instance \(instanceId)) \(closest.reason.eventText)", now: now)
                }
                break
            }
            if tasks[arn] == nil { break }
        }
        if !started.isEmpty {
            addEvent(&e, "(service \(name)) has started \(started.count) tasks: \(started.map { "(task \($0))" }.joined(separator: " ")).", now: now)
        }
    }

    func unableToPlace(_ e: inout ServiceEntry, _ detail: String, now: Double) {
        guard now - e.state.unableToPlaceEventAt >= 300 else { return }
        addEvent(&e, "(service \(e.service.serviceName)) was unable to place a task because no container instance met all of its requirements. \(detail) For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.", now: now)
        e.state.unableToPlaceEventAt = now
    }

    /// The placement constraints of a task definition (memberOf only, as AWS allows there).
    func definitionConstraints(_ arn: String) -> [TaskPlacement.Constraint] {
        let doc = try? store.db.readNow { db in try String.fetchOne(db, sql: "SELECT doc FROM task_definition WHERE arn = ?", arguments: [arn]) }
        guard let text = doc ?? nil, let json = try? ECSStore.value(JSON.self, text) else { return [] }
        return (try? json["placementConstraints"]?.decode([TaskPlacement.Constraint].self)) ?? []
    }

    // MARK: Draining

    /// Whether a task sits on a DRAINING instance (its service replaces it).
    func onDrainingInstance(_ t: TaskEntry) -> Bool {
        guard let arn = t.task.containerInstanceArn, let i = instances[arn] else { return false }
        return i.instance.status == "DRAINING"
    }

    /// A service's tasks on DRAINING instances: those not yet running stop at once; running ones stop while the
    /// service keeps minimumHealthyPercent of healthy tasks (their replacements, started elsewhere, count).
    func drainInstanceTasks(_ e: inout ServiceEntry, minHealthy: Int, now: Double) {
        let live = serviceTasks(e.service.serviceArn).filter { !$0.task.isStopped && $0.task.desiredStatus == "RUNNING" }
        let draining = live.filter(onDrainingInstance)
        guard !draining.isEmpty, let primary = e.service.deployments.first else { return }
        var healthy = live.filter(isHealthy).count
        let reason = "Scaling activity initiated by (deployment \(primary.id))"
        let stopped = stopKeepingMinimum(draining, healthy: &healthy, minHealthy: minHealthy, reason: reason)
        if !stopped.isEmpty {
            addEvent(&e, "(service \(e.service.serviceName)) has stopped \(stopped.count) running tasks: \(stopped.map { "(task \($0))" }.joined(separator: " ")).", now: now)
        }
    }
}
