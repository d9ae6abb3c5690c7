import Core
import Foundation
import Testing
@testable import ELBv2

@Suite struct HealthTests {
    @Test func thresholds() {
        var r = HealthRecord(due: 0)
        #expect(r.description.state == .initial && r.description.reason == "Elb.RegistrationInProgress")
        r.record(.success, healthyThreshold: 3, unhealthyThreshold: 2)
        #expect(r.state == .healthy)  // a new target's first passing check puts it in service
        r.record(.responseCode(503), healthyThreshold: 3, unhealthyThreshold: 2)
        #expect(r.state == .healthy)
        r.record(.responseCode(500), healthyThreshold: 3, unhealthyThreshold: 2)
        #expect(r.description == TargetHealthDescription(state: .unhealthy, reason: "Target.ResponseCodeMismatch",
                                                         description: "Health checks failed with these codes: [500]"))
        r.record(.success, healthyThreshold: 3, unhealthyThreshold: 2)
        r.record(.success, healthyThreshold: 3, unhealthyThreshold: 2)
        #expect(r.state == .unhealthy)
        r.record(.timeout, healthyThreshold: 3, unhealthyThreshold: 2)  // the run of successes starts again
        #expect(r.description.reason == "Target.Timeout")
        for _ in 0..<3 { r.record(.success, healthyThreshold: 3, unhealthyThreshold: 2) }
        #expect(r.state == .healthy && r.description.reason == nil)
    }

    @Test func checksFallDueOnTheEmulatorClock() async throws {
        let h = try Harness()
        // Nothing listens on this port: each check fails.
        let port = try closedPort()
        let (_, tg) = try h.forwarding(port: port, interval: 30)
        try h.call("RegisterTargets", ["TargetGroupArn": tg, "Targets.member.1.Id": "127.0.0.1"])
        let plane = h.service.runtime
        plane.tick()
        try await waitUntil { try h.call("DescribeTargetHealth", ["TargetGroupArn": tg]).contains("<State>initial</State>") && !checking(plane) }
        // Not due again until the interval has passed on the emulator's clock.
        plane.tick()
        #expect(!checking(plane))
        h.clock.advance(by: 31)
        plane.tick()
        try await waitUntil { try h.call("DescribeTargetHealth", ["TargetGroupArn": tg]).contains("<State>unhealthy</State>") }
        let xml = try h.call("DescribeTargetHealth", ["TargetGroupArn": tg])
        #expect(Harness.value("Reason", in: xml) == "Target.FailedHealthChecks")
    }

    @Test func drainingTargetsLeaveAfterTheDeregistrationDelay() async throws {
        let h = try Harness()
        let (_, tg) = try h.forwarding(port: 9)
        try h.call("ModifyTargetGroupAttributes", ["TargetGroupArn": tg, "Attributes.member.1.Key": "deregistration_delay.timeout_seconds",
                                                   "Attributes.member.1.Value": "60"])
        try h.call("RegisterTargets", ["TargetGroupArn": tg, "Targets.member.1.Id": "127.0.0.1", "Targets.member.2.Id": "127.0.0.2"])
        try h.call("DeregisterTargets", ["TargetGroupArn": tg, "Targets.member.1.Id": "127.0.0.1"])
        let snapshot = h.service.store.snapshot.targetGroups[tg]!
        // A draining target gets no new request.
        for _ in 0..<5 { #expect(h.service.runtime.pick(snapshot, sticky: nil)?.id == "127.0.0.2") }
        #expect(try h.call("DescribeTargetHealth", ["TargetGroupArn": tg]).contains("Target.DeregistrationInProgress"))
        h.clock.advance(by: 59)
        #expect(try h.call("DescribeTargetHealth", ["TargetGroupArn": tg]).contains("127.0.0.1"))
        h.clock.advance(by: 2)
        #expect(!(try h.call("DescribeTargetHealth", ["TargetGroupArn": tg]).contains("127.0.0.1</Id>")))
    }

    func checking(_ plane: DataPlane) -> Bool { plane.state.withLock { !$0.checking.isEmpty } }

    func closedPort() throws -> Int {
        // A port that was free a moment ago (bound, then closed).
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        close(fd)
        return Int(UInt16(bigEndian: a.sin_port))
    }
}

func waitUntil(_ condition: () throws -> Bool) async throws {
    for _ in 0..<100 {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("condition not reached")
}
