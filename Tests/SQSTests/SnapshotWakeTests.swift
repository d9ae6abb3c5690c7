import Foundation
import Testing

@testable import SQS

/// A restore replaces every queue: long polls waiting on any of them look again (`QueueSignals.wakeAll`).
@Suite struct SnapshotWakeTests {
    @Test func wakeAllWakesWaitersOnEveryQueueAndThoseAboutToWait() async {
        let signals = QueueSignals()
        let seenA = signals.generation("a"), seenB = signals.generation("b")
        let started = ContinuousClock.now
        async let a: Void = signals.wait("a", seen: seenA, seconds: 30)
        async let b: Void = signals.wait("b", seen: seenB, seconds: 30)
        try? await Task.sleep(for: .milliseconds(50))
        signals.wakeAll()
        await a
        await b
        #expect(ContinuousClock.now - started < .seconds(10))
        // A poll that looked at a queue (never signalled) before the wake-up and only now waits does not sleep
        // through it.
        let seenBeforeWake = signals.generation("never-signalled")
        signals.wakeAll()
        let again = ContinuousClock.now
        await signals.wait("never-signalled", seen: seenBeforeWake, seconds: 30)
        #expect(ContinuousClock.now - again < .seconds(10))
    }
}
