import Foundation
import Testing
@testable import ECS

/// The leftover-container scan started ahead (while the other services are built) and taken by `Scheduler.load`.
@Suite struct LeftoverScanTests {
    @Test func aScanStartedAheadKillsTheLeftoverAndIsTakenOnce() async throws {
        let directory = NSTemporaryDirectory() + "cloudless-leftover-" + UUID().uuidString
        let folder = ECSService.taskFolder(directory)
        let orphan = Process()
        orphan.executableURL = URL(fileURLWithPath: "/bin/sleep")
        orphan.arguments = ["30"]
        orphan.environment = ["HOME": folder + "/0123456789abcdef", "PATH": "/usr/bin:/bin"]
        try orphan.run()
        defer { if orphan.isRunning { orphan.terminate() } }
        try await Task.sleep(for: .milliseconds(100))  // its environment is readable in /proc once it has exec'd
        LeftoverScan.start(inside: folder)
        #expect(LeftoverScan.take(inside: folder) == [orphan.processIdentifier])
        for _ in 0..<100 where orphan.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        #expect(orphan.terminationStatus == SIGKILL)
        // Taken: a second load would scan again itself.
        #expect(LeftoverScan.take(inside: folder) == nil)
    }
}
