import Core
import Foundation
import Testing

@testable import ApplicationAutoScaling

/// AWS::ApplicationAutoScaling::ScalableTarget and ScalingPolicy through the provider, read back with Describe*.
@Suite struct AASCloudFormationTests {
    func request(_ type: String, _ properties: [String: JSON]) -> ResourceRequest {
        ResourceRequest(account: "000000000000", region: "us-east-1", stackName: "stack", stackId: "arn:stack", logicalId: "L",
                        type: type, properties: properties, tags: [:])
    }

    @Test func targetAndPolicyLifecycle() async throws {
        let h = try Harness()
        defer { h.close() }
        h.resources.add("service/c/web", capacity: 1)
        let provider = h.service.resourceProvider
        let targetProps: [String: JSON] = [
            "ServiceNamespace": .string("ecs"), "ScalableDimension": .string("ecs:service:DesiredCount"),
            "ResourceId": .string("service/c/web"), "MinCapacity": .number(1), "MaxCapacity": .string("4"),
        ]
        let target = try await provider.create(request("AWS::ApplicationAutoScaling::ScalableTarget", targetProps))
        #expect(target.ref == "service/c/web|ecs:service:DesiredCount|ecs")
        var targets = try await h.call("DescribeScalableTargets", ["ServiceNamespace": "ecs"])["ScalableTargets"] as? [[String: Any]] ?? []
        #expect(targets.count == 1 && targets.first?["MaxCapacity"] as? Int == 4)

        var changed = targetProps
        changed["MaxCapacity"] = .number(6)
        _ = try await provider.update(request("AWS::ApplicationAutoScaling::ScalableTarget", changed), previous: target)
        targets = try await h.call("DescribeScalableTargets", ["ServiceNamespace": "ecs"])["ScalableTargets"] as? [[String: Any]] ?? []
        #expect(targets.first?["MaxCapacity"] as? Int == 6)

        let policyProps: [String: JSON] = [
            "PolicyName": .string("cpu"), "PolicyType": .string("TargetTrackingScaling"), "ScalingTargetId": .string(target.ref),
            "TargetTrackingScalingPolicyConfiguration": .object([
                "TargetValue": .number(50),
                "PredefinedMetricSpecification": .object(["PredefinedMetricType": .string("ECSServiceAverageCPUUtilization")]),
            ]),
        ]
        let policyReq = request("AWS::ApplicationAutoScaling::ScalingPolicy", policyProps)
        let policy = try await provider.create(policyReq)
        #expect(policy.ref.hasPrefix("arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:"))
        var policies = try await h.call("DescribeScalingPolicies", ["ServiceNamespace": "ecs"])["ScalingPolicies"] as? [[String: Any]] ?? []
        #expect(policies.count == 1 && policies.first?["PolicyARN"] as? String == policy.ref)

        var policyChanged = policyProps
        policyChanged["TargetTrackingScalingPolicyConfiguration"] = .object([
            "TargetValue": .number(70),
            "PredefinedMetricSpecification": .object(["PredefinedMetricType": .string("ECSServiceAverageCPUUtilization")]),
        ])
        _ = try await provider.update(request("AWS::ApplicationAutoScaling::ScalingPolicy", policyChanged), previous: policy)
        policies = try await h.call("DescribeScalingPolicies", ["ServiceNamespace": "ecs"])["ScalingPolicies"] as? [[String: Any]] ?? []
        let config = policies.first?["TargetTrackingScalingPolicyConfiguration"] as? [String: Any]
        #expect((config?["TargetValue"] as? NSNumber)?.doubleValue == 70)

        try await provider.delete(policyReq, state: policy)
        policies = try await h.call("DescribeScalingPolicies", ["ServiceNamespace": "ecs"])["ScalingPolicies"] as? [[String: Any]] ?? []
        #expect(policies.isEmpty)
        try await provider.delete(request("AWS::ApplicationAutoScaling::ScalableTarget", targetProps), state: target)
        targets = try await h.call("DescribeScalableTargets", ["ServiceNamespace": "ecs"])["ScalableTargets"] as? [[String: Any]] ?? []
        #expect(targets.isEmpty)
        try await provider.delete(request("AWS::ApplicationAutoScaling::ScalableTarget", targetProps), state: target)
    }
}
