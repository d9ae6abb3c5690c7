import Foundation
import Logging
import Synchronization
import Testing

@testable import Core

@Suite struct BackgroundSchedulerTests {
    struct Failure: Error {}

    /// Names appended by jobs, in the order they ran.
    final class Journal: Sendable {
        let entries = Mutex<[String]>([])
        func add(_ name: String) { entries.withLock { $0.append(name) } }
        var all: [String] { entries.withLock { $0 } }
        func count(_ name: String) -> Int { all.filter { $0 == name }.count }
    }

    func scheduler() -> (BackgroundScheduler, EmulatorClock) {
        let clock = EmulatorClock()
        return (BackgroundScheduler(clock: clock, logger: Logger(label: "test")), clock)
    }

    /// Wait (real time, at most `seconds`) until `condition` holds.
    func eventually(_ seconds: Double = 20, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition()
    }

    @Test func dueJobsRunSoonestFirstAndOnlyWhenDue() async {
        let (s, clock) = scheduler()
        let journal = Journal()
        s.every(300, "c") { journal.add("c") }
        s.every(100, "a") { journal.add("a") }
        s.every(200, "b") { journal.add("b") }
        #expect(await s.runDue() == [])
        clock.advance(by: 250)
        #expect(await s.runDue() == ["a", "b"])
        #expect(await s.runDue() == [])  // each is due again an interval after its run
        clock.advance(by: 60)
        #expect(await s.runDue() == ["c"])
        clock.advance(by: 100)
        #expect(await s.runDue() == ["a"])
        #expect(journal.all == ["a", "b", "c", "a"])
    }

    @Test func movingTheClockWakesTheLoop() async {
        let (s, clock) = scheduler()
        let journal = Journal()
        s.every(3600, "hourly") { journal.add("hourly") }
        let loop = Task { await s.run() }
        defer { loop.cancel() }
        try? await Task.sleep(for: .milliseconds(50))
        #expect(journal.all.isEmpty)
        clock.advance(by: 3600)
        #expect(await eventually { journal.count("hourly") == 1 })
        clock.advance(by: 3600)
        #expect(await eventually { journal.count("hourly") == 2 })
    }

    @Test func theLoopRunsJobsOnRealTime() async {
        let (s, _) = scheduler()
        let journal = Journal()
        s.every(0.02, "often") { journal.add("often") }
        s.once(after: 0, "once") { journal.add("once") }
        let loop = Task { await s.run() }
        defer { loop.cancel() }
        #expect(await eventually { journal.count("often") >= 3 })
        #expect(journal.count("once") == 1)
        #expect(!s.schedule.contains("once"))
    }

    @Test func aFailingJobStopsNoOther() async {
        let (s, clock) = scheduler()
        let journal = Journal()
        s.every(10, "fails") {
            journal.add("fails")
            throw Failure()
        }
        s.every(10, "works") { journal.add("works") }
        clock.advance(by: 10)
        #expect(await s.runDue() == ["fails", "works"])
        clock.advance(by: 10)
        #expect(await s.runDue() == ["fails", "works"])  // the failing job keeps its turn too
        #expect(journal.all == ["fails", "works", "fails", "works"])
    }

    @Test func aClockMovedBackStallsNoJob() async {
        let (s, clock) = scheduler()
        s.every(10, "j") {}
        clock.advance(by: 1000)
        #expect(await s.runDue() == ["j"])  // next due 1010 s ahead
        clock.resetOffset()  // back by 1000 s: due again within 10 s, not 1010
        #expect(await s.runDue() == [])
        clock.advance(by: 10)
        #expect(await s.runDue() == ["j"])
    }

    @Test func wallClockJobsIgnoreClockMoves() async {
        let (s, clock) = scheduler()
        s.every(0.2, "wall", pace: .wallClock) {}
        s.every(0.2, "emulated") {}
        clock.advance(by: 86400)
        #expect(await s.runDue() == ["emulated"])
        try? await Task.sleep(for: .milliseconds(250))
        #expect(Set(await s.runDue()) == ["wall", "emulated"])  // real time went by: both are due
    }

    @Test func cancelledJobsNeverRunAgain() async {
        let (s, clock) = scheduler()
        let journal = Journal()
        let id = s.every(10, "cancelled") { journal.add("cancelled") }
        s.every(10, "kept") { journal.add("kept") }
        s.cancel(id)
        clock.advance(by: 20)
        #expect(await s.runDue() == ["kept"])
        #expect(s.schedule == ["kept"])
    }

    @Test func cancellingTheLoopEndsIt() async {
        let (s, _) = scheduler()
        s.every(3600, "hourly") {}
        let loop = Task { await s.run() }
        try? await Task.sleep(for: .milliseconds(20))
        let started = Date()
        loop.cancel()
        await loop.value
        #expect(Date().timeIntervalSince(started) < 10)  // not the hour: a loaded machine may take a second
    }

    @Test func theLoopEndsAfterTheJobsUnderWay() async {
        let (s, _) = scheduler()
        let finished = Mutex(false)
        s.once(after: 0, "slow") {
            let until = Date().addingTimeInterval(0.2)
            while Date() < until { try? await Task.sleep(for: .milliseconds(10)) }
            finished.withLock { $0 = true }
        }
        let loop = Task { await s.run() }
        try? await Task.sleep(for: .milliseconds(50))
        loop.cancel()
        await loop.value
        #expect(finished.withLock { $0 })
    }

    @Test func aJobNeverOverlapsItself() async {
        let (s, _) = scheduler()
        let running = Mutex(0)
        let most = Mutex(0)
        let runs = Mutex(0)
        s.every(0.001, "slow") {
            let now = running.withLock { $0 += 1; return $0 }
            most.withLock { $0 = max($0, now) }
            try await Task.sleep(for: .milliseconds(30))
            running.withLock { $0 -= 1 }
            runs.withLock { $0 += 1 }
        }
        let loop = Task { await s.run() }
        defer { loop.cancel() }
        #expect(await eventually { runs.withLock { $0 } >= 3 })
        #expect(most.withLock { $0 } == 1)
    }
}
