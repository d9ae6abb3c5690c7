import Foundation
public import Logging
import Synchronization

/// The emulator's periodic work (secret deletions and rotations, S3 lifecycle, log retention, idle Lambda
/// instances, scaling policies) on one loop driven by the emulator's clock, instead of a sleeping task each.
/// A job falls due `interval` emulator seconds after its last run ended; moving the clock
/// (`POST /_cloudless/clock`) wakes the loop, so what fell due runs at once. Due jobs start in order of their due
/// time (then of registration), each in its own task so a slow sweep holds up no other job; a job never overlaps
/// itself, and one that throws is logged and runs again at its next turn.
public final class BackgroundScheduler: Sendable {
    public struct JobID: Hashable, Sendable {
        let value: Int
    }

    /// What a job's interval is counted on.
    public enum Pace: Sendable {
        /// The emulator's clock: moving it makes the job due.
        case emulatorClock
        /// Real time. For work that reads the emulator's clock when it runs but which tests also run on demand
        /// right after moving the clock (S3 lifecycle, scaling policies): a run woken by the move would race theirs.
        case wallClock
    }

    struct Job: Sendable {
        let name: String
        /// nil: runs once.
        let interval: Double?
        let pace: Pace
        var due: Double
        /// The farthest ahead `due` may lie: the interval (or the delay of a job that runs once). A clock moved back
        /// (`POST /_cloudless/reset` undoes every advance) brings later due times back within it.
        let span: Double
        var running = false
        let work: @Sendable () async throws -> Void
    }

    struct State: Sendable {
        var jobs: [Int: Job] = [:]
        var nextID = 0
        /// The loop's current sleep: a wake-up cancels it.
        var sleeper: Task<Void, Never>?
        var wakePending = false
    }

    private let state = Mutex(State())
    let clock: EmulatorClock
    let logger: Logger
    /// The longest the loop sleeps without looking again (nothing is lost by waking early).
    static let longestSleep: Double = 60

    public init(clock: EmulatorClock, logger: Logger) {
        self.clock = clock
        self.logger = logger
        clock.onMove { [weak self] in self?.wake() }
    }

    /// Run `work` every `interval` seconds of the emulator's clock, the first time `interval` seconds from now.
    @discardableResult
    public func every(_ interval: Double, _ name: String, pace: Pace = .emulatorClock,
                      _ work: @escaping @Sendable () async throws -> Void) -> JobID {
        add(Job(name: name, interval: max(interval, 0.001), pace: pace, due: now(pace) + interval, span: max(interval, 0.001),
                work: work))
    }

    /// Run `work` once, `delay` seconds from now on the emulator's clock.
    @discardableResult
    public func once(after delay: Double, _ name: String, _ work: @escaping @Sendable () async throws -> Void) -> JobID {
        add(Job(name: name, interval: nil, pace: .emulatorClock, due: clock.now() + delay, span: max(delay, 0), work: work))
    }

    /// Remove a job: it never starts again (a run under way finishes).
    public func cancel(_ id: JobID) {
        state.withLock { _ = $0.jobs.removeValue(forKey: id.value) }
    }

    /// Look at the jobs again now (the clock moved, a job ended).
    public func wake() {
        state.withLock { s in
            if let sleeper = s.sleeper { sleeper.cancel() } else { s.wakePending = true }
        }
    }

    /// The loop: until the calling task is cancelled; then it returns once the jobs under way have ended (they are
    /// cancelled too), so nothing of theirs runs after it (an ephemeral data folder is removed next).
    public func run() async {
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    for (id, job) in takeDue() {
                        group.addTask { await self.execute(id, job) }
                    }
                    await sleep(nextDelay())
                }
            }
        } onCancel: {
            wake()
        }
    }

    /// Run every job due now, one after another in order, and return their names (tests; a sweep on demand).
    @discardableResult
    public func runDue() async -> [String] {
        var names: [String] = []
        for (id, job) in takeDue() {
            names.append(job.name)
            await execute(id, job)
        }
        return names
    }

    /// Names of the registered jobs, soonest due first.
    public var schedule: [String] {
        let wallAhead = clock.now() - now(.wallClock)
        return state.withLock { s in
            s.jobs.map { (id: $0.key, job: $0.value, due: $0.value.due + ($0.value.pace == .wallClock ? wallAhead : 0)) }
                .sorted { ($0.due, $0.id) < ($1.due, $1.id) }.map(\.job.name)
        }
    }

    // MARK: Internals

    private func add(_ job: Job) -> JobID {
        let id = state.withLock { s in
            let id = s.nextID
            s.nextID += 1
            s.jobs[id] = job
            return id
        }
        wake()
        return JobID(value: id)
    }

    private func now(_ pace: Pace) -> Double {
        switch pace {
        case .emulatorClock: clock.now()
        case .wallClock: Date().timeIntervalSince1970
        }
    }

    /// The due jobs not already running, soonest first (by how long overdue), marked running.
    func takeDue() -> [(Int, Job)] {
        let emulated = now(.emulatorClock), wall = now(.wallClock)
        return state.withLock { s in
            for (id, job) in s.jobs {
                let limit = (job.pace == .wallClock ? wall : emulated) + job.span
                if job.due > limit { s.jobs[id]?.due = limit }
            }
            let due = s.jobs.compactMap { id, job -> (id: Int, job: Job, late: Double)? in
                let late = (job.pace == .wallClock ? wall : emulated) - job.due
                return !job.running && late >= 0 ? (id, job, late) : nil
            }.sorted { ($1.late, $0.id) < ($0.late, $1.id) }
            for d in due { s.jobs[d.id]?.running = true }
            return due.map { ($0.id, $0.job) }
        }
    }

    private func execute(_ id: Int, _ job: Job) async {
        do {
            try await SnapshotGate.background { try await job.work() }  // never half inside a snapshot
        } catch {
            logger.error("\(job.name) failed: \(error)")
        }
        let next = now(job.pace) + (job.interval ?? 0)
        state.withLock { s in
            if job.interval == nil {
                s.jobs[id] = nil
            } else {
                s.jobs[id]?.running = false
                s.jobs[id]?.due = next
            }
        }
        wake()
    }

    /// Seconds until the soonest job not running falls due.
    private func nextDelay() -> Double {
        let emulated = now(.emulatorClock), wall = now(.wallClock)
        let soonest = state.withLock { s in
            s.jobs.values.filter { !$0.running }.map { $0.due - ($0.pace == .wallClock ? wall : emulated) }.min()
        }
        guard let soonest else { return Self.longestSleep }
        return min(max(soonest, 0), Self.longestSleep)
    }

    private func sleep(_ seconds: Double) async {
        guard seconds > 0 else { return }
        let sleeper = Task<Void, Never> { try? await Task.sleep(for: .seconds(seconds)) }
        let woken = state.withLock { s in
            if s.wakePending {
                s.wakePending = false
                return true
            }
            s.sleeper = sleeper
            return false
        }
        if woken || Task.isCancelled { sleeper.cancel() }
        await sleeper.value
        state.withLock { s in s.sleeper = nil }
    }
}
