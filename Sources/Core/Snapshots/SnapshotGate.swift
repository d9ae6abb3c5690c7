import Synchronization

/// The readers–writer gate that makes a snapshot consistent across every service's database: each API request
/// holds it shared while its service handles it; a save or a restore holds it exclusively, which waits for the
/// requests in flight and holds back new ones (a waiting save or restore goes before new requests, so a steady
/// stream of them cannot starve it).
///
/// A request that waits on something outside itself (an SQS long poll, a synchronous Lambda invocation whose function
/// may call back into Cloudless) steps out of the gate for the wait (`outside`): holding it would stall a save for the
/// whole wait, or deadlock it against the function's own requests.
public final class SnapshotGate: Sendable {
    private struct State {
        var readers = 0
        var writer = false
        var waitingWriters: [CheckedContinuation<Void, Never>] = []
        var waitingReaders: [CheckedContinuation<Void, Never>] = []
        /// Bumped by each restore or reset (`replaceState`), under the exclusive hold.
        var epoch = 0
    }
    private let state = Mutex(State())

    /// The hold of the request the current task serves (inherited by tasks it starts, which is why a hold knows
    /// whether its request is still running).
    @TaskLocal static var hold: Hold?

    public init() {}

    /// The gate of the server in this process, for background work (`background`); set by the server's
    /// `SnapshotStore` (`servesBackgroundWork`).
    private static let serving = Mutex<SnapshotGate?>(nil)
    static func serve(_ gate: SnapshotGate) { serving.withLock { $0 = gate } }
    /// A gate for background work started by the current task only: unit tests use it, so that a test's gate never
    /// becomes the one other tests' background work (running in parallel in the same process) waits on.
    @TaskLocal static var scoped: SnapshotGate?

    /// Run background work that writes (a sweep, an ECS scheduler pass, an asynchronous invocation) holding the
    /// server's gate shared, as a request does: it falls wholly before or after a save or restore.
    public static func background<T>(_ body: () async throws -> T) async rethrows -> T {
        guard let gate = scoped ?? serving.withLock({ $0 }) else { return try await body() }
        return try await gate.shared(body)
    }

    /// Run `body` holding the gate shared (one API request).
    public func shared<T>(_ body: () async throws -> T) async rethrows -> T {
        await acquireShared()
        let hold = Hold(gate: self, epoch: epoch)
        defer { hold.end() }
        return try await SnapshotGate.$hold.withValue(hold) { try await body() }
    }

    /// Record, while holding the gate exclusively, that the state is being replaced (a restore, a reset): work that
    /// stepped out of the gate before it sees `stateReplaced` when it comes back.
    public func replaceState() { state.withLock { $0.epoch += 1 } }

    var epoch: Int { state.withLock { $0.epoch } }

    /// True when the state the current unit of work began on (its hold) was replaced by a restore or reset while it
    /// waited outside the gate: background work then writes nothing of what it learnt from the old state (an
    /// attempt's outcome, a batch to delete); the restored state has its own copy of the work, done again later.
    public static var stateReplaced: Bool {
        guard let hold else { return false }
        return hold.epoch != hold.gate.epoch
    }

    /// Run `body` holding the gate exclusively (a save or a restore): no request runs meanwhile.
    public func exclusive<T>(_ body: () async throws -> T) async rethrows -> T {
        await acquireExclusive()
        defer { releaseExclusive() }
        return try await body()
    }

    /// Run `body`, a wait on something outside the request, without the gate the current request holds (if any),
    /// then take it again: what the request reads afterwards may be a restored state, never a mixture within a read.
    public static func outside<T, E: Error>(_ body: () async throws(E) -> T) async throws(E) -> T {
        guard let hold, hold.step() else { return try await body() }
        do {
            let value = try await body()
            await hold.reenter()
            return value
        } catch {
            await hold.reenter()
            throw error
        }
    }

    /// Counts, for tests: (shared holders, exclusive held, waiting exclusive, waiting shared).
    public var counts: (readers: Int, writer: Bool, waitingWriters: Int, waitingReaders: Int) {
        state.withLock { ($0.readers, $0.writer, $0.waitingWriters.count, $0.waitingReaders.count) }
    }

    func acquireShared() async {
        let now = state.withLock { s -> Bool in
            guard !s.writer && s.waitingWriters.isEmpty else { return false }
            s.readers += 1
            return true
        }
        if now { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let go = state.withLock { s -> Bool in
                if !s.writer && s.waitingWriters.isEmpty {
                    s.readers += 1
                    return true
                }
                s.waitingReaders.append(c)
                return false
            }
            if go { c.resume() }
        }
    }

    func releaseShared() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.readers -= 1
            guard s.readers == 0, !s.waitingWriters.isEmpty else { return nil }
            s.writer = true
            return s.waitingWriters.removeFirst()
        }
        next?.resume()
    }

    func acquireExclusive() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let go = state.withLock { s -> Bool in
                if !s.writer && s.readers == 0 {
                    s.writer = true
                    return true
                }
                s.waitingWriters.append(c)
                return false
            }
            if go { c.resume() }
        }
    }

    func releaseExclusive() {
        let (writer, readers) = state.withLock { s -> (CheckedContinuation<Void, Never>?, [CheckedContinuation<Void, Never>]) in
            if !s.waitingWriters.isEmpty { return (s.waitingWriters.removeFirst(), []) }  // the gate passes on held
            s.writer = false
            let readers = s.waitingReaders
            s.waitingReaders.removeAll()
            s.readers += readers.count
            return (nil, readers)
        }
        writer?.resume()
        for r in readers { r.resume() }
    }

    /// One request's shared hold. Tasks the request starts inherit it: they step out of it only while the request
    /// still runs, and a hold taken back after the request ended is given up at once.
    final class Hold: Sendable {
        private struct State { var held = true; var active = true }
        let gate: SnapshotGate
        /// The gate's epoch when the hold began.
        let epoch: Int
        private let state = Mutex(State())

        init(gate: SnapshotGate, epoch: Int) {
            self.gate = gate
            self.epoch = epoch
        }

        /// Give the gate up for a wait; false when this task does not hold it.
        func step() -> Bool {
            let release = state.withLock { s -> Bool in
                guard s.held && s.active else { return false }
                s.held = false
                return true
            }
            if release { gate.releaseShared() }
            return release
        }

        func reenter() async {
            await gate.acquireShared()
            let keep = state.withLock { s -> Bool in
                guard s.active && !s.held else { return false }
                s.held = true
                return true
            }
            if !keep { gate.releaseShared() }
        }

        /// The request is over.
        func end() {
            let release = state.withLock { s -> Bool in
                s.active = false
                defer { s.held = false }
                return s.held
            }
            if release { gate.releaseShared() }
        }
    }
}
