import Core
import Foundation
import GRDB
import Logging

/// What the scheduler keeps of a task beyond its AWS document.
struct TaskMeta: Codable, Sendable {
    var account: String
    var region: String
    var serviceArn: String?
    var deploymentId: String?
    /// Whether any essential container has a health check (a task without one counts as healthy once RUNNING).
    var hasHealthChecks: Bool
    /// Whether the task was ever counted healthy (a task that stops before is a failed launch).
    var becameHealthy: Bool = false
    /// Whether any container runs as a local process (such tasks cannot survive a restart of the emulator).
    var runsProcesses: Bool = false
    var family: String
    /// Where the task is registered in its load balancers' target groups (set when it reaches RUNNING; empty
    /// without load balancers), and how far that is: registering, registered, draining, drained.
    var targets: [TaskTarget]?
    var targetsState: String?
}

struct TaskEntry: Sendable {
    var task: ECSTask
    var meta: TaskMeta
    /// The running side of a task: processes, health checks; nil before it starts and after a restart.
    var run: TaskRun?
}

struct ServiceEntry: Sendable {
    var service: ECSServiceRecord
    var state: ServiceSchedulerState
    var scope: Scope
}

/// The ECS scheduler: the one owner of services and live tasks. Control-plane calls change them through it; a loop
/// moves tasks through their lifecycle and services towards their desired state on the emulator's clock. Every
/// change is written to `ecs.sqlite` before the call that made it returns, or at the end of the pass that made it.
actor Scheduler {
    let store: ECSStore
    let clock: EmulatorClock
    let runtime: TaskRuntime
    let logger: Logger
    var services: [String: ServiceEntry] = [:]
    var tasks: [String: TaskEntry] = [:]
    var dirtyTasks = Set<String>()
    var dirtyServices = Set<String>()
    /// Test hook: measured CPU and memory of a service's tasks, set through `/_cloudless/ecs/metrics`.
    var metricOverrides: [String: (cpu: Double, memory: Double)] = [:]
    /// Every service deployment, by ARN (ListServiceDeployments).
    var serviceDeployments: [String: ServiceDeploymentRecord] = [:]
    /// Tasks whose secrets, environment files and log group are being fetched (PROVISIONING).
    var preparing = Set<String>()
    /// Container instances (the EC2 launch type), by ARN; see InstanceScheduler.swift.
    var instances: [String: InstanceEntry] = [:]
    /// Elastic Load Balancing, once connected (`TaskTargets.swift`).
    let loadBalancers = LoadBalancerLink()
    /// The latest DescribeTargetHealth of each target group services use, and the poll that brought it.
    var targetHealth: [String: (poll: Int, states: [LoadBalancedTarget: LoadBalancedTargetState])] = [:]
    var healthPolls = 0
    var healthPollInFlight = false
    var lastHealthPoll: Double = -.infinity
    /// Tasks whose deregistration was answered: the first health poll after this number shows whether they drained.
    var drainingSince: [String: Int] = [:]
    /// Targets to register again (simulated tasks that survived a restart) or deregister (tasks that did not).
    var targetsAfterLoad: (register: [TaskTarget], deregister: [TaskTarget]) = ([], [])
    /// Whether `load` ran (or found nothing to load): the scheduler's state is what `ecs.sqlite` holds.
    var loaded = false
    private var loop: Task<Void, Never>?
    private var poked = true
    /// The emulator time at which something changes by itself (a health check, a back-off ending...): the loop
    /// makes a pass then, or when poked, and otherwise stays idle.
    var nextDue: Double = 0
    /// Stopped tasks stay visible this long (AWS: at least an hour).
    static let stoppedRetention: Double = 3600

    init(store: ECSStore, clock: EmulatorClock, runtime: TaskRuntime, logger: Logger) {
        self.store = store
        self.clock = clock
        self.runtime = runtime
        self.logger = logger
    }

    // MARK: The loop

    /// Load state and start the loop. Tasks that ran processes before a restart are gone: they are recorded STOPPED
    /// and their services replace them.
    func ensureLoaded() throws {
        guard !loaded else { return }
        if store.database.hasContent {
            try load()
        } else if FileManager.default.fileExists(atPath: runtime.directory) {
            killLeftovers()  // containers ran here once (their HOME is under it), though the database is gone
        }
        loaded = true
    }

    /// Containers an earlier run started in the instant before its lifeline knew them (a kill -9 mid-spawn).
    func killLeftovers() {
        let leftovers = LeftoverScan.take(inside: runtime.directory) ?? LeftoverScan.run(inside: runtime.directory)
        if !leftovers.isEmpty { logger.notice("ECS: killed \(leftovers.count) container processes left by an earlier run") }
    }

    /// After a snapshot restore: load again from what the database now holds (nothing, if the snapshot had none).
    func reload() throws {
        loaded = false
        try ensureLoaded()
    }

    func load() throws {
        killLeftovers()
        let (svcRows, taskRows) = try store.db.readNow { db in
            (try Row.fetchAll(db, sql: "SELECT account, region, doc, state FROM service"),
             try Row.fetchAll(db, sql: "SELECT meta, doc FROM task"))
        }
        for row in svcRows {
            let s = try ECSStore.value(ECSServiceRecord.self, row["doc"])
            let st = try ECSStore.value(ServiceSchedulerState.self, row["state"])
            services[s.serviceArn] = ServiceEntry(service: s, state: st, scope: Scope(account: row["account"], region: row["region"]))
        }
        try loadServiceDeployments()
        let now = clock.now()
        for row in taskRows {
            var entry = TaskEntry(task: try ECSStore.value(ECSTask.self, row["doc"]), meta: try ECSStore.value(TaskMeta.self, row["meta"]))
            if !entry.task.isStopped && (entry.meta.runsProcesses || entry.task.desiredStatus == "STOPPED") {
                markStopped(&entry, code: "TerminationNotice",
                            reason: "Task stopped: the emulator restarted and the task's processes are gone.", now: now)
                dirtyTasks.insert(entry.task.taskArn)
            } else if ["PENDING", "ACTIVATING"].contains(entry.task.lastStatus) {
                // A simulated task caught starting is prepared again (its dependencies are waited for anew).
                entry.task.lastStatus = "PROVISIONING"
                dirtyTasks.insert(entry.task.taskArn)
            }
            rememberTargetsAtLoad(&entry)
            if !entry.task.isStopped, let a = entry.task.attachments.first?.details.first(where: { $0.name == "privateIPv4Address" })?.value,
               a.hasPrefix("127.10.") {
                runtime.addresses.reserve(a)
            }
            tasks[entry.task.taskArn] = entry
        }
        try loadInstances()
        try persist()
    }

    func startLoop() {
        guard loop == nil else { return }
        resumeTargetsAfterLoad()
        loop = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                await SnapshotGate.background { await self.passIfNeeded() }  // a pass falls between snapshots
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    func shutdown() async {
        loop?.cancel()
        for arn in tasks.keys { runtime.killAll(tasks[arn]?.run) }
    }

    /// Ask for a pass at the loop's next turn (within 50 ms).
    func poke() { poked = true }

    func passIfNeeded() {
        guard loaded else { return }  // a restart's tasks are loaded after the port is bound
        if poked || clock.now() >= nextDue { pass() }
    }

    /// One pass: tasks move through their lifecycle, services towards their desired state, until nothing changes.
    func pass() {
        let now = clock.now()
        for _ in 0..<8 {
            var changed = false
            for arn in Array(tasks.keys) { changed = advanceTask(arn, now: now) || changed }
            for arn in Array(services.keys) { changed = reconcileService(arn, now: now) || changed }
            if !changed { break }
        }
        expireStoppedTasks(now: now)
        pollTargetHealthIfDue(now: now)
        do { try persist() } catch { logger.error("ECS: could not save scheduler state: \(error)") }
        poked = false
        nextDue = nextTimedChange(now: now)
    }

    func expireStoppedTasks(now: Double) {
        var gone: [String] = []
        for (arn, e) in tasks where e.task.isStopped && now - (e.task.stoppedAt ?? now) > Self.stoppedRetention {
            gone.append(arn)
        }
        guard !gone.isEmpty else { return }
        for arn in gone { tasks[arn] = nil }
        do {
            try store.db.writeNow { db in
                for arn in gone { try db.execute(sql: "DELETE FROM task WHERE arn = ?", arguments: [arn]) }
            }
        } catch { logger.error("ECS: could not remove expired tasks: \(error)") }
    }

    // MARK: Persistence

    func persist() throws {
        guard !dirtyTasks.isEmpty || !dirtyServices.isEmpty else { return }
        let taskRows = try dirtyTasks.compactMap { arn -> [any DatabaseValueConvertible]? in
            guard let e = tasks[arn] else { return nil }
            return [arn, e.meta.account, e.meta.region, e.task.clusterArn, try ECSStore.text(e.meta), try ECSStore.text(e.task)]
        }
        let serviceRows = try dirtyServices.compactMap { arn -> [any DatabaseValueConvertible]? in
            guard let e = services[arn] else { return nil }
            return [arn, e.scope.account, e.scope.region, e.service.clusterArn, e.service.serviceName, e.service.status,
                    try ECSStore.text(e.service), try ECSStore.text(e.state)]
        }
        try store.db.writeNow { db in
            for row in taskRows {
                try db.execute(sql: """
                    INSERT INTO task (arn, account, region, cluster_arn, meta, doc) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (arn) DO UPDATE SET meta = excluded.meta, doc = excluded.doc
                    """, arguments: StatementArguments(row.map { $0.databaseValue }))
            }
            for row in serviceRows {
                try db.execute(sql: """
                    INSERT INTO service (arn, account, region, cluster_arn, name, status, doc, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (arn) DO UPDATE SET status = excluded.status, doc = excluded.doc, state = excluded.state
                    """, arguments: StatementArguments(row.map { $0.databaseValue }))
            }
        }
        dirtyTasks.removeAll()
        dirtyServices.removeAll()
    }

    func reset() async {
        for e in tasks.values { runtime.killAll(e.run) }
        tasks.removeAll()
        services.removeAll()
        instances.removeAll()
        dirtyTasks.removeAll()
        dirtyServices.removeAll()
        metricOverrides.removeAll()
        serviceDeployments.removeAll()
        targetHealth.removeAll()
        drainingSince.removeAll()
    }

    // MARK: Reading

    func clusterCounts(_ clusterArn: String) -> (running: Int, pending: Int, services: Int, draining: Int) {
        var running = 0, pending = 0
        for e in tasks.values where e.task.clusterArn == clusterArn && !e.task.isStopped {
            if e.task.lastStatus == "RUNNING" { running += 1 } else { pending += 1 }
        }
        let svc = services.values.filter { $0.service.clusterArn == clusterArn }
        return (running, pending, svc.filter { $0.service.status == "ACTIVE" }.count, svc.filter { $0.service.status == "DRAINING" }.count)
    }

    func task(_ arn: String) -> ECSTask? { tasks[arn]?.task }

    func taskEntries(cluster: String) -> [TaskEntry] {
        tasks.values.filter { $0.task.clusterArn == cluster }.sorted { $0.task.createdAt < $1.task.createdAt }
    }

    /// A task by ARN or by id, in a cluster.
    func findTask(_ ident: String, cluster: String) -> ECSTask? {
        if ident.hasPrefix("arn:") { return tasks[ident].flatMap { $0.task.clusterArn == cluster ? $0.task : nil } }
        return tasks.values.first { $0.task.clusterArn == cluster && $0.task.id == ident }?.task
    }

    func service(_ arn: String) -> ServiceEntry? { services[arn] }

    func servicesIn(cluster: String) -> [ServiceEntry] {
        services.values.filter { $0.service.clusterArn == cluster }.sorted { $0.service.createdAt < $1.service.createdAt }
    }

    /// Every service or task whose document carries this ARN (for tags).
    func hasResource(_ arn: String) -> Bool { services[arn] != nil || tasks[arn] != nil }

    // MARK: Changing

    func add(tasks new: [TaskEntry]) throws {
        for e in new {
            tasks[e.task.taskArn] = e
            dirtyTasks.insert(e.task.taskArn)
        }
        try persist()
        poked = true
    }

    /// StopTask: desiredStatus STOPPED now; the loop stops its containers.
    func stopTask(_ arn: String, reason: String, code: String) throws -> ECSTask? {
        guard var e = tasks[arn] else { return nil }
        if e.task.desiredStatus != "STOPPED" {
            e.task.desiredStatus = "STOPPED"
            e.task.stoppedReason = reason
            e.task.stopCode = code
            e.task.version += 1
            tasks[arn] = e
            dirtyTasks.insert(arn)
            try persist()
            poked = true
        }
        return e.task
    }

    func setTags(_ arn: String, _ change: ([Tag]) -> [Tag]) throws -> Bool {
        if var e = tasks[arn] {
            e.task.tags = change(e.task.tags)
            tasks[arn] = e
            dirtyTasks.insert(arn)
        } else if var e = services[arn] {
            e.service.tags = change(e.service.tags)
            services[arn] = e
            dirtyServices.insert(arn)
        } else {
            return false
        }
        try persist()
        return true
    }

    func tags(_ arn: String) -> [Tag]? { tasks[arn]?.task.tags ?? services[arn]?.service.tags }

    func putService(_ e: ServiceEntry) throws {
        services[e.service.serviceArn] = e
        dirtyServices.insert(e.service.serviceArn)
        try persist()
        poked = true
    }

    func updateService(_ arn: String, _ change: (inout ServiceEntry) throws -> Void) throws -> ECSServiceRecord? {
        guard var e = services[arn] else { return nil }
        try change(&e)
        services[arn] = e
        dirtyServices.insert(arn)
        try persist()
        poked = true
        return e.service
    }

    func setMetrics(serviceArn: String, cpu: Double, memory: Double) {
        metricOverrides[serviceArn] = (cpu, memory)
    }

    /// A service's average CPU and memory use, in percent of its tasks' reservations.
    func utilization(serviceArn: String) -> (cpu: Double, memory: Double)? {
        guard services[serviceArn] != nil else { return nil }
        if let o = metricOverrides[serviceArn] { return o }
        let live = tasks.values.filter { $0.meta.serviceArn == serviceArn && $0.task.lastStatus == "RUNNING" }
        guard !live.isEmpty else { return (0, 0) }
        var cpu = 0.0, mem = 0.0
        for e in live {
            let u = runtime.usage(e.run, cpuUnits: Double(e.task.cpu ?? "") ?? 1024, memoryMiB: Double(e.task.memory ?? "") ?? 2048)
            cpu += u.cpu
            mem += u.memory
        }
        return (cpu / Double(live.count), mem / Double(live.count))
    }
}
