import Core
import Foundation
import Logging
import Synchronization

/// What lives only in memory beside the stored resources: each target's health, round-robin positions, requests in
/// flight per target, and the listeners' servers. Health checks run on the emulator's clock: a loop looks every
/// 100 ms for checks that fell due (moving the clock makes them due at once).
final class DataPlane: Sendable {
    struct State: Sendable {
        var health: [String: HealthRecord] = [:]
        var checking: Set<String> = []
        var roundRobin: [String: Int] = [:]
        var inFlight: [String: Int] = [:]
        var started = false
        var loop: Task<Void, Never>?
        var servers: [String: ListenerServer] = [:]
        /// A reconcile is running; `reconcileAgain`: another was asked for meanwhile (the running one repeats).
        var reconciling = false
        var reconcileAgain = false
    }

    let store: ELBv2Store
    let clock: EmulatorClock
    let functions: any FunctionInvoker
    let logger: Logger
    let state = Mutex(State())
    /// Kept-alive connections to targets.
    let pool = UpstreamPool()
    /// Requests the listeners' fast path has taken (`FastForward`), for tests.
    let fastRelayed = Atomic<Int>(0)

    init(store: ELBv2Store, clock: EmulatorClock, functions: any FunctionInvoker, logger: Logger) {
        self.store = store
        self.clock = clock
        self.functions = functions
        self.logger = logger
    }

    static func key(_ tgARN: String, _ t: RegisteredTarget) -> String { "\(tgARN)|\(t.id)|\(t.port.map(String.init) ?? "")" }

    // MARK: Lifecycle

    /// Once the server listens: bind the listeners and start the health checks.
    func start() async {
        let loop = Task { [self] in
            while !Task.isCancelled {
                tick()
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        state.withLock {
            $0.started = true
            $0.loop = loop
        }
        await reconcile()
    }

    /// At shutdown, or before a snapshot restore: listeners closed, checks stopped, health forgotten.
    func stop() async {
        let (loop, servers) = state.withLock { s in
            defer { s = State() }
            return (s.loop, Array(s.servers.values))
        }
        loop?.cancel()
        for server in servers { await server.stop() }
        pool.closeAll()
    }

    /// Bring the listeners' servers in line with the stored listeners (new ones bound, deleted or moved ones closed).
    /// One at a time: two at once (start and a RegisterTargets after a restart) both bound the same listener, and
    /// stopping the extra server just after it started hung the process.
    func reconcile() async {
        let first = state.withLock { st -> Bool in
            if st.reconciling { st.reconcileAgain = true; return false }
            st.reconciling = true
            return true
        }
        guard first else { return }
        repeat { await reconcileOnce() } while state.withLock { st -> Bool in
            if st.reconcileAgain { st.reconcileAgain = false; return true }
            st.reconciling = false
            return false
        }
    }

    private func reconcileOnce() async {
        guard state.withLock({ $0.started }) else { return }
        let s = store.snapshot
        var toStop: [ListenerServer] = []
        var toStart: [Listener] = []
        state.withLock { st in
            for (arn, server) in st.servers where s.listeners[arn]?.port != server.requestedPort || s.listeners[arn]?.protocol != server.protocolName {
                toStop.append(server)
                st.servers[arn] = nil
            }
            for l in s.listeners.values where st.servers[l.arn] == nil { toStart.append(l) }
        }
        for server in toStop { await server.stop() }
        for l in toStart.sorted(by: { $0.arn < $1.arn }) {
            let server = ListenerServer(listenerARN: l.arn, port: l.port, protocolName: l.protocol, plane: self)
            await server.start()
            let kept = state.withLock { st -> Bool in
                guard st.started, st.servers[l.arn] == nil else { return false }
                st.servers[l.arn] = server
                return true
            }
            if !kept { await server.stop() }
        }
    }

    /// Listener ARN → the address its server bound (GET /_cloudless/elbv2/listeners).
    var boundAddresses: [(String, String)] {
        state.withLock { $0.servers.map { ($0.key, $0.value.address ?? "") } }.sorted { $0.0 < $1.0 }
    }

    // MARK: Health

    /// Targets registered since the last check are checked at once.
    func registered(targetGroup: String, _ ids: [String]) {
        let now = clock.now()
        state.withLock { st in
            for (k, var r) in st.health where k.hasPrefix(targetGroup + "|") && ids.contains(where: { k.hasPrefix("\(targetGroup)|\($0)|") }) {
                r.nextCheck = min(r.nextCheck, now)
                st.health[k] = r
            }
        }
    }

    /// Targets whose deregistration delay has passed are removed.
    func purgeDrained() {
        let now = clock.now()
        let s = store.snapshot
        guard s.targetGroups.values.contains(where: { $0.targets.contains { ($0.drainingUntil ?? .infinity) <= now } }) else { return }
        try? store.update { s in
            for (arn, var tg) in s.targetGroups where tg.targets.contains(where: { ($0.drainingUntil ?? .infinity) <= now }) {
                tg.targets.removeAll { ($0.drainingUntil ?? .infinity) <= now }
                s.targetGroups[arn] = tg
            }
        }
    }

    /// One pass: drained targets removed, idle upstream connections past their time closed (and at once those of
    /// draining targets), due checks started, records of gone targets dropped.
    func tick() {
        purgeDrained()
        let now = clock.now()
        let s = store.snapshot
        pool.sweep()
        drainPooled(s)
        var due: [(String, TargetGroup, RegisteredTarget)] = []
        state.withLock { st in
            var live = Set<String>()
            for tg in s.targetGroups.values where tg.healthCheck.enabled && tg.targetType != "lambda" {
                guard !ELBv2Service.loadBalancerARNs(of: tg.arn, s).isEmpty else { continue }
                for t in tg.targets where t.drainingUntil == nil {
                    let k = Self.key(tg.arn, t)
                    live.insert(k)
                    var r = st.health[k] ?? HealthRecord(due: now)
                    if r.nextCheck <= now && !st.checking.contains(k) {
                        r.nextCheck = now + Double(tg.healthCheck.intervalSeconds)
                        st.checking.insert(k)
                        due.append((k, tg, t))
                    }
                    st.health[k] = r
                }
            }
            for k in st.health.keys where !live.contains(k) { st.health[k] = nil }
        }
        for (k, tg, t) in due {
            Task { [self] in
                let result = await HealthChecker.check(tg, t, pool: pool)
                state.withLock { st in
                    st.checking.remove(k)
                    guard var r = st.health[k] else { return }
                    r.record(result, healthyThreshold: tg.healthCheck.healthyThreshold, unhealthyThreshold: tg.healthCheck.unhealthyThreshold)
                    st.health[k] = r
                }
            }
        }
    }

    /// Idle kept-alive connections to draining targets (and to no target any more) are closed: in-flight requests
    /// finish on theirs, which are then closed as they come back.
    func drainPooled(_ s: ELBv2Store.State) {
        guard pool.book.withLock({ $0.idleCount }) > 0 else { return }
        var serving = Set<String>()
        for tg in s.targetGroups.values {
            for t in tg.targets where t.drainingUntil == nil {
                guard let port = t.port ?? tg.port else { continue }
                serving.insert("\(Self.address(tg, t)):\(port)")
                if tg.healthCheck.port != "traffic-port", let p = Int(tg.healthCheck.port) { serving.insert("\(Self.address(tg, t)):\(p)") }
            }
        }
        let idleKeys = pool.book.withLock { Array($0.idle.keys) }
        for key in idleKeys where !serving.contains(key) { pool.drain(key) }
    }

    /// Where a target's connections go: its IP address, or this machine for an instance or ECS task id.
    static func address(_ tg: TargetGroup, _ t: RegisteredTarget) -> String {
        tg.targetType == "ip" || IPAddress.isIPv4(t.id) ? t.id : "127.0.0.1"
    }

    /// DescribeTargetHealth's answer for one registered target.
    func describe(_ tg: TargetGroup, _ t: RegisteredTarget, inUse: Bool) -> TargetHealthDescription {
        if t.drainingUntil != nil {
            return TargetHealthDescription(state: .draining, reason: "Target.DeregistrationInProgress", description: "Target deregistration is in progress")
        }
        if !inUse {
            return TargetHealthDescription(state: .unused, reason: "Target.NotInUse", description: "Target group is not configured to receive traffic from the load balancer")
        }
        if !tg.healthCheck.enabled || tg.targetType == "lambda" {
            return TargetHealthDescription(state: .unavailable, reason: "Target.HealthCheckDisabled", description: "Health checks are disabled")
        }
        let record = state.withLock { $0.health[Self.key(tg.arn, t)] }
        return record?.description ?? HealthRecord(due: 0).description
    }

    // MARK: Routing

    /// The target a new request goes to: healthy targets only, all of them when none is healthy (AWS fails open); nil
    /// when none is registered (503). `sticky` names the target a stickiness cookie asks for.
    func pick(_ tg: TargetGroup, sticky: String?) -> RegisteredTarget? {
        let eligible = tg.targets.filter { $0.drainingUntil == nil }
        guard !eligible.isEmpty else { return nil }
        return state.withLock { st in
            let checked = tg.healthCheck.enabled && tg.targetType != "lambda"
            let healthy = checked ? eligible.filter { st.health[Self.key(tg.arn, $0)]?.state == .healthy } : eligible
            let pool = healthy.isEmpty ? eligible : healthy
            if let sticky, let t = pool.first(where: { Self.stickyValue($0) == sticky }) { return t }
            if tg.attributes["load_balancing.algorithm.type"] == "least_outstanding_requests" {
                return pool.min { (st.inFlight[Self.key(tg.arn, $0)] ?? 0) < (st.inFlight[Self.key(tg.arn, $1)] ?? 0) }
            }
            if tg.attributes["load_balancing.algorithm.type"] == "weighted_random" { return pool.randomElement() }
            let i = st.roundRobin[tg.arn, default: 0]
            st.roundRobin[tg.arn] = i &+ 1
            return pool[i % pool.count]
        }
    }

    static func stickyValue(_ t: RegisteredTarget) -> String {
        Data("\(t.id):\(t.port.map(String.init) ?? "")".utf8).base64EncodedString()
    }

    func began(_ tgARN: String, _ t: RegisteredTarget) { state.withLock { $0.inFlight[Self.key(tgARN, t), default: 0] += 1 } }
    func ended(_ tgARN: String, _ t: RegisteredTarget) { state.withLock { $0.inFlight[Self.key(tgARN, t), default: 1] -= 1 } }
}
