import Core
import Foundation
import Testing
@testable import ELBv2

@Suite struct AttributeTests {
    @Test func loadBalancerAttributes() throws {
        try LoadBalancerAttributes.validate(key: "idle_timeout.timeout_seconds", value: "120", type: "application")
        #expect(throws: AWSError.self) { try LoadBalancerAttributes.validate(key: "idle_timeout.timeout_seconds", value: "0", type: "application") }
        #expect(throws: AWSError.self) { try LoadBalancerAttributes.validate(key: "idle_timeout.timeout_seconds", value: "60", type: "network") }
        #expect(throws: AWSError.self) { try LoadBalancerAttributes.validate(key: "deletion_protection.enabled", value: "yes", type: "application") }
        #expect(throws: AWSError.self) { try LoadBalancerAttributes.validate(key: "unknown.key", value: "1", type: "application") }
    }

    @Test func targetGroupAttributes() throws {
        let d = TargetGroupAttributes.defaults(targetType: "ip", protocol: "HTTP")
        #expect(d["deregistration_delay.timeout_seconds"] == "300" && d["stickiness.enabled"] == "false" && d["stickiness.type"] == "lb_cookie")
        #expect(d["stickiness.lb_cookie.duration_seconds"] == "86400" && d["load_balancing.algorithm.type"] == "round_robin")
        try TargetGroupAttributes.validate(key: "load_balancing.algorithm.type", value: "least_outstanding_requests", defaults: d)
        try TargetGroupAttributes.validate(key: "deregistration_delay.timeout_seconds", value: "0", defaults: d)
        #expect(throws: AWSError.self) { try TargetGroupAttributes.validate(key: "deregistration_delay.timeout_seconds", value: "3601", defaults: d) }
        #expect(throws: AWSError.self) { try TargetGroupAttributes.validate(key: "stickiness.lb_cookie.duration_seconds", value: "0", defaults: d) }
        #expect(throws: AWSError.self) { try TargetGroupAttributes.validate(key: "load_balancing.algorithm.type", value: "random", defaults: d) }
        #expect(throws: AWSError.self) { try TargetGroupAttributes.validate(key: "lambda.multi_value_headers.enabled", value: "true", defaults: d) }
        let lambda = TargetGroupAttributes.defaults(targetType: "lambda", protocol: nil)
        try TargetGroupAttributes.validate(key: "lambda.multi_value_headers.enabled", value: "true", defaults: lambda)
    }

    @Test func modifyingAnUnknownKeyChangesNothing() throws {
        let h = try Harness()
        let (_, tg) = try h.forwarding(port: 8080)
        #expect(throws: AWSError.self) {
            try h.call("ModifyTargetGroupAttributes", ["TargetGroupArn": tg,
                "Attributes.member.1.Key": "stickiness.enabled", "Attributes.member.1.Value": "true",
                "Attributes.member.2.Key": "nope", "Attributes.member.2.Value": "1"])
        }
        #expect(h.service.store.snapshot.targetGroups[tg]!.attributes["stickiness.enabled"] == "false")
    }
}

@Suite struct LoadBalancerTargetsTests {
    @Test func registerHealthDrainAndWeights() async throws {
        let h = try Harness()
        let (listener, tg) = try h.forwarding(port: 8080)
        let targets: any LoadBalancerTargets = h.service
        let summary = try #require(await targets.targetGroup(arn: tg))
        #expect(summary.targetType == "ip" && summary.port == 8080 && summary.loadBalancerARNs.count == 1)
        #expect(await targets.targetGroup(arn: tg + "x") == nil)

        let a = LoadBalancedTarget(id: "127.10.0.2", port: nil), b = LoadBalancedTarget(id: "127.0.0.1", port: 32768)
        try await targets.register(targetGroupARN: tg, targets: [a, b])
        try await targets.register(targetGroupARN: tg, targets: [a])  // again: nothing changes
        var health = try await targets.health(targetGroupARN: tg)
        #expect(health == [LoadBalancedTarget(id: "127.10.0.2", port: 8080): .initial, b: .initial])
        try await targets.deregister(targetGroupARN: tg, targets: [a])
        health = try await targets.health(targetGroupARN: tg)
        #expect(health[LoadBalancedTarget(id: "127.10.0.2", port: 8080)] == .draining)
        h.clock.advance(by: 301)
        health = try await targets.health(targetGroupARN: tg)
        #expect(health == [b: .initial])

        await #expect(throws: AWSError.self) { try await targets.register(targetGroupARN: tg + "x", targets: [a]) }
        await #expect(throws: AWSError.self) { try await targets.health(targetGroupARN: tg + "x") }

        #expect(try await targets.forwardWeights(listenerOrRuleARN: listener) == [ForwardWeight(targetGroupARN: tg, weight: 1)])
        let green = Harness.value("TargetGroupArn", in: try h.call("CreateTargetGroup", [
            "Name": "green", "Protocol": "HTTP", "Port": "8081", "TargetType": "ip"]))!
        try await targets.setForwardWeights(listenerOrRuleARN: listener, [ForwardWeight(targetGroupARN: tg, weight: 90),
                                                                          ForwardWeight(targetGroupARN: green, weight: 10)])
        #expect(try await targets.forwardWeights(listenerOrRuleARN: listener).map(\.weight) == [90, 10])
        #expect(try h.call("DescribeListeners", ["ListenerArns.member.1": listener]).contains("<Weight>10</Weight>"))
        await #expect(throws: AWSError.self) {
            try await targets.setForwardWeights(listenerOrRuleARN: listener, [ForwardWeight(targetGroupARN: tg, weight: 1000)])
        }
        await #expect(throws: AWSError.self) { try await targets.forwardWeights(listenerOrRuleARN: listener + "x") }
        // A target group in use cannot go.
        #expect(throws: AWSError.self) { try h.call("DeleteTargetGroup", ["TargetGroupArn": green]) }
    }

    @Test func stateSurvivesAReopen() throws {
        let h = try Harness()
        let (listener, tg) = try h.forwarding(port: 8080)
        try h.call("RegisterTargets", ["TargetGroupArn": tg, "Targets.member.1.Id": "127.0.0.1"])
        let reopened = try ELBv2Store(directory: h.folder)
        #expect(reopened.snapshot.listeners[listener]?.port == 8080)
        #expect(reopened.snapshot.targetGroups[tg]?.targets.map(\.id) == ["127.0.0.1"])
    }
}
