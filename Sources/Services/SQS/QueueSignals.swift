import Foundation
import Synchronization

/// Wakes long polls. Each queue has a generation that moves on every send; a long poll waits until the generation
/// differs from the one it saw before its last look, or until its deadline. Waiting holds no thread.
final class QueueSignals: Sendable {
    private struct Waiter {
        let continuation: CheckedContinuation<Void, Never>
    }
    private struct State {
        var generation: [String: UInt64] = [:]
        var waiters: [String: [UUID: Waiter]] = [:]
        /// Moves on every `wakeAll`: part of every queue's generation (a queue never signalled has no entry).
        var all: UInt64 = 0
        func current(_ queue: String) -> UInt64 { (generation[queue] ?? 0) &+ all }
    }
    private let state = Mutex(State())

    func generation(_ queue: String) -> UInt64 {
        state.withLock { $0.current(queue) }
    }

    /// A message was sent (or made visible): wake every long poll on the queue.
    func signal(_ queue: String) {
        let woken = state.withLock { s -> [Waiter] in
            s.generation[queue, default: 0] &+= 1
            return Array((s.waiters.removeValue(forKey: queue) ?? [:]).values)
        }
        for w in woken { w.continuation.resume() }
    }

    /// The queues were replaced (a snapshot restore): wake every long poll on every queue.
    func wakeAll() {
        let woken = state.withLock { s -> [Waiter] in
            s.all &+= 1
            defer { s.waiters.removeAll() }
            return s.waiters.values.flatMap(\.values)
        }
        for w in woken { w.continuation.resume() }
    }

    /// Wait until the queue's generation moves past `seen`, `seconds` pass, or the task is cancelled.
    func wait(_ queue: String, seen: UInt64, seconds: Double) async {
        guard seconds > 0 else { return }
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let registered = state.withLock { s -> Bool in
                    if s.current(queue) != seen { return false }
                    s.waiters[queue, default: [:]][id] = Waiter(continuation: c)
                    return true
                }
                guard registered else { return c.resume() }
                Task {
                    try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                    self.resume(queue, id)
                }
            }
        } onCancel: {
            resume(queue, id)
        }
    }

    private func resume(_ queue: String, _ id: UUID) {
        let w = state.withLock { $0.waiters[queue]?.removeValue(forKey: id) }
        w?.continuation.resume()
    }
}
