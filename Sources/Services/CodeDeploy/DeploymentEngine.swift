import Core
import Foundation
import Synchronization

/// Runs one task per active deployment. Each task repeats one step (`CodeDeployService.step`), which reads the
/// deployment's recorded phase from SQLite, does one piece of work and writes the next phase in the same
/// transaction as its effects, so a restart (or a kill -9) resumes where the last committed step left off.
/// Waits are on the emulator's clock: a move of the clock, a hook's reported status or a stop request wakes them.
final class DeploymentEngine: Sendable {
    enum Next: Sendable { case again, waitUntil(Double), done }

    private struct State {
        var service: CodeDeployService?
        var tasks: [String: Task<Void, Never>] = [:]
        var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
        var observing = false
    }
    private let state = Mutex(State())
    let clock: EmulatorClock

    init(clock: EmulatorClock) { self.clock = clock }

    func start(_ service: CodeDeployService) {
        let observe = state.withLock { s -> Bool in
            s.service = service
            defer { s.observing = true }
            return !s.observing
        }
        if observe { clock.onMove { [weak self] in self?.signal() } }
        kick()
    }

    /// Stop every deployment's task (their state is on disk; `start` resumes them).
    func stop() async {
        let tasks = state.withLock { s -> [Task<Void, Never>] in
            s.service = nil
            defer { s.tasks = [:] }
            return Array(s.tasks.values)
        }
        for t in tasks { t.cancel() }
        signal()
        for t in tasks { await t.value }
    }

    /// Start a task for every active deployment that has none.
    func kick() {
        guard let service = state.withLock({ $0.service }) else { return }
        guard service.store.database.hasContent else { return }  // no database: no deployment to resume
        let active = (try? service.store.db.readNow { db in try CodeDeployStore.activeDeployments(db) }) ?? []
        for (scope, id) in active {
            state.withLock { s in
                guard s.tasks[id] == nil, s.service != nil else { return }
                s.tasks[id] = Task { [weak self] in
                    await self?.drive(service, scope, id)
                    self?.state.withLock { _ = $0.tasks.removeValue(forKey: id) }
                    self?.kick()  // a rollback deployment the step created
                }
            }
        }
    }

    private func drive(_ service: CodeDeployService, _ scope: Scope, _ id: String) async {
        var failures = 0
        while !Task.isCancelled {
            do {
                switch try await service.step(scope, id) {
                case .again: continue
                case .done: return
                case .waitUntil(let t): await wait(untilEmulatorTime: t)
                }
                failures = 0
            } catch {
                failures += 1
                service.logger.error("CodeDeploy: deployment \(id) step failed: \(error)")
                if failures >= 3 {
                    try? service.failDeployment(scope, id, code: "INTERNAL_ERROR", message: "\(error)")
                }
                await wait(untilEmulatorTime: clock.now() + 1)
            }
        }
    }

    /// Wake every waiting deployment: the clock moved, a hook reported, a stop was asked for.
    func signal() {
        let all = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for c in all { c.resume() }
    }

    /// Sleep until the emulator's clock reaches `t` or `signal()`; at most a second of real time, so a missed
    /// signal costs a second, never a stuck deployment.
    func wait(untilEmulatorTime t: Double) async {
        let seconds = min(1, max(0, t - clock.now()))
        guard seconds > 0, !Task.isCancelled else { return }
        let id = UUID()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            state.withLock { $0.waiters[id] = c }
            Task { [weak self] in
                try? await Task.sleep(for: .seconds(seconds))
                self?.resume(id)
            }
        }
    }

    private func resume(_ id: UUID) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
    }
}
