import Core
import Foundation
import HTTPTypes
import Testing

@testable import ApplicationAutoScaling

@Suite struct PolicyAndSweepTests {
    let web = "service/c/web"

    func register(_ h: Harness, capacity: Int = 1, min: Int = 1, max: Int = 10) async throws {
        h.resources.add(web, capacity: capacity)
        try await h.call("RegisterScalableTarget", Harness.ecs(web, ["MinCapacity": min, "MaxCapacity": max]))
    }

    @Test func aPolicyForAnUnregisteredTargetIsNotFound() async throws {
        try await withHarness { h in
            #expect(await h.error("PutScalingPolicy", Harness.cpuPolicy(web)) == AWSError(
                "ObjectNotFoundException",
                "No scalable target registered for service namespace: ecs, resource ID: service/c/web, scalable dimension: ecs:service:DesiredCount"))
            #expect(await h.error("PutScheduledAction", Harness.ecs(web, ["ScheduledActionName": "a", "Schedule": "rate(5 minutes)"]))?.code
                    == "ObjectNotFoundException")
        }
    }

    @Test func targetTrackingAnswersTheARNAndAlarmsAsAWSNamesThem() async throws {
        try await withHarness { h in
            try await register(h)
            let out = try await h.call("PutScalingPolicy", Harness.cpuPolicy(web, extra: ["ScaleOutCooldown": 60]))
            let arn = try #require(out["PolicyARN"] as? String)
            #expect(arn.hasPrefix("arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:"))
            #expect(arn.hasSuffix(":resource/ecs/service/c/web:policyName/cpu"))
            let alarms = try #require(out["Alarms"] as? [[String: String]])
            #expect(alarms.count == 2)
            #expect(alarms[0]["AlarmName"]?.hasPrefix("TargetTracking-service/c/web-AlarmHigh-") == true)
            #expect(alarms[1]["AlarmName"]?.hasPrefix("TargetTracking-service/c/web-AlarmLow-") == true)
            #expect(alarms[0]["AlarmARN"] == "arn:aws:cloudwatch:us-east-1:000000000000:alarm:" + alarms[0]["AlarmName"]!)
            // Putting it again keeps its ARN.
            let again = try await h.call("PutScalingPolicy", Harness.cpuPolicy(web, target: 70))
            #expect(again["PolicyARN"] as? String == arn)
            let listed = try await h.call("DescribeScalingPolicies", ["ServiceNamespace": "ecs", "ResourceId": web])
            let described = try #require((listed["ScalingPolicies"] as? [[String: Any]])?.first)
            #expect(described["PolicyType"] as? String == "TargetTrackingScaling")
            let config = try #require(described["TargetTrackingScalingPolicyConfiguration"] as? [String: Any])
            #expect(config["TargetValue"] as? Double == 70)
            #expect((config["PredefinedMetricSpecification"] as? [String: String])?["PredefinedMetricType"] == "ECSServiceAverageCPUUtilization")
            // No scale-in: no low alarm.
            let noIn = try await h.call("PutScalingPolicy", Harness.cpuPolicy(web, name: "out-only", extra: ["DisableScaleIn": true]))
            #expect((noIn["Alarms"] as? [Any])?.count == 1)
        }
    }

    @Test func stepScalingIsStoredAndReturned() async throws {
        try await withHarness { h in
            try await register(h)
            let step: [String: Any] = ["AdjustmentType": "ChangeInCapacity", "Cooldown": 60, "MetricAggregationType": "Average",
                                       "StepAdjustments": [["MetricIntervalLowerBound": 0, "ScalingAdjustment": 1]]]
            try await h.call("PutScalingPolicy", Harness.ecs(web, ["PolicyName": "step", "StepScalingPolicyConfiguration": step]))
            let listed = try await h.call("DescribeScalingPolicies", ["ServiceNamespace": "ecs", "PolicyNames": ["step"]])
            let p = try #require((listed["ScalingPolicies"] as? [[String: Any]])?.first)
            #expect(p["PolicyType"] as? String == "StepScaling")
            let stored = try #require(p["StepScalingPolicyConfiguration"] as? [String: Any])
            #expect(stored["AdjustmentType"] as? String == "ChangeInCapacity")
            #expect((stored["StepAdjustments"] as? [[String: Any]])?.first?["ScalingAdjustment"] as? Int == 1)
        }
    }

    @Test func policyValidationAndDeletion() async throws {
        try await withHarness { h in
            try await register(h)
            var noValue = Harness.cpuPolicy(web)
            noValue["TargetTrackingScalingPolicyConfiguration"] = ["PredefinedMetricSpecification": ["PredefinedMetricType": "ECSServiceAverageCPUUtilization"]]
            #expect(await h.error("PutScalingPolicy", noValue)?.code == "ValidationException")
            var noConfig = Harness.cpuPolicy(web)
            noConfig["TargetTrackingScalingPolicyConfiguration"] = nil
            #expect(await h.error("PutScalingPolicy", noConfig)?.code == "ValidationException")
            #expect(await h.error("PutScalingPolicy", Harness.ecs(web, ["PolicyName": "x", "PolicyType": "Magic"]))?.code == "ValidationException")
            var badMetric = Harness.cpuPolicy(web)
            badMetric["TargetTrackingScalingPolicyConfiguration"] = ["TargetValue": 50, "PredefinedMetricSpecification": ["PredefinedMetricType": "CPU"]]
            #expect(await h.error("PutScalingPolicy", badMetric)?.message.contains("Member must satisfy enum value set: [DynamoDBReadCapacityUtilization,") == true)
            try await h.call("PutScalingPolicy", Harness.cpuPolicy(web))
            for i in 0..<3 { try await h.call("PutScalingPolicy", Harness.cpuPolicy(web, name: "p\(i)")) }
            let first = try await h.call("DescribeScalingPolicies", ["ServiceNamespace": "ecs", "MaxResults": 3])
            #expect((first["ScalingPolicies"] as? [Any])?.count == 3)
            let token = try #require(first["NextToken"] as? String)
            let second = try await h.call("DescribeScalingPolicies", ["ServiceNamespace": "ecs", "MaxResults": 3, "NextToken": token])
            #expect((second["ScalingPolicies"] as? [Any])?.count == 1 && second["NextToken"] == nil)
            try await h.call("DeleteScalingPolicy", Harness.ecs(web, ["PolicyName": "cpu"]))
            #expect(await h.error("DeleteScalingPolicy", Harness.ecs(web, ["PolicyName": "cpu"])) == AWSError(
                "ObjectNotFoundException", "No scaling policy found for service namespace: ecs, resource ID: service/c/web, "
                    + "scalable dimension: ecs:service:DesiredCount, policy name: cpu"))
        }
    }

    @Test func theSweepScalesOutThenHoldsThroughTheCooldown() async throws {
        try await withHarness { h in
            try await register(h, capacity: 2)
            let alarm = try #require((try await h.call("PutScalingPolicy", Harness.cpuPolicy(web))["Alarms"] as? [[String: String]])?
                .first?["AlarmName"])
            h.resources.set(web, cpu: 90)
            #expect(await h.service.evaluate() == 1)
            #expect(h.resources.current(web) == 4)
            let act = try #require(try await h.activities(web).first)
            #expect(act["Description"] as? String == "Setting desired count to 4.")
            #expect(act["Cause"] as? String == "monitor alarm \(alarm) in state ALARM triggered policy cpu")
            #expect(act["StatusCode"] as? String == "Successful")
            #expect(act["StartTime"] as? Double != nil && act["EndTime"] as? Double != nil && act["ActivityId"] as? String != nil)
            // Still hot, but within the 300 s default cooldown.
            h.clock.advance(by: 200)
            await h.service.evaluate()
            #expect(h.resources.current(web) == 4)
            h.clock.advance(by: 101)
            await h.service.evaluate()
            #expect(h.resources.current(web) == 8)
            #expect(try await h.activities(web).count == 2)
        }
    }

    @Test func theSweepScalesInToTheMinimumAndStopsAtTheMaximum() async throws {
        try await withHarness { h in
            try await register(h, capacity: 6, min: 2, max: 8)
            try await h.call("PutScalingPolicy", Harness.cpuPolicy(web))
            h.resources.set(web, cpu: 5)
            await h.service.evaluate()
            #expect(h.resources.current(web) == 2)
            let low = try #require(try await h.activities(web).first?["Cause"] as? String)
            #expect(low.contains("-AlarmLow-") && low.hasSuffix("in state ALARM triggered policy cpu"))
            h.resources.set(web, cpu: 100)
            await h.service.evaluate()
            #expect(h.resources.current(web) == 4)
            h.clock.advance(by: 300)
            await h.service.evaluate()
            #expect(h.resources.current(web) == 8)
            h.clock.advance(by: 300)
            await h.service.evaluate()
            #expect(h.resources.current(web) == 8)
        }
    }

    @Test func aMemoryPolicyScalesOutWhileTheCPUPolicyWouldScaleIn() async throws {
        try await withHarness { h in
            try await register(h, capacity: 2)
            try await h.call("PutScalingPolicy", Harness.cpuPolicy(web))
            var memory = Harness.cpuPolicy(web, name: "memory", target: 60)
            memory["TargetTrackingScalingPolicyConfiguration"] = [
                "TargetValue": 60, "PredefinedMetricSpecification": ["PredefinedMetricType": "ECSServiceAverageMemoryUtilization"],
            ]
            try await h.call("PutScalingPolicy", memory)
            h.resources.set(web, cpu: 5)
            h.resources.set(web, memory: 90)
            await h.service.evaluate()
            #expect(h.resources.current(web) == 3)
            #expect((try await h.activities(web).first?["Cause"] as? String)?.hasSuffix("triggered policy memory") == true)
        }
    }

    @Test func suspendedTargetsAndMissingMetricsDoNothing() async throws {
        try await withHarness { h in
            try await register(h, capacity: 2)
            try await h.call("PutScalingPolicy", Harness.cpuPolicy(web))
            await h.service.evaluate()
            #expect(h.resources.current(web) == 2)
            try await h.call("RegisterScalableTarget", Harness.ecs(web, ["SuspendedState": ["DynamicScalingOutSuspended": true]]))
            h.resources.set(web, cpu: 99)
            await h.service.evaluate()
            #expect(h.resources.current(web) == 2)
            #expect(try await h.activities(web).isEmpty)
        }
    }

    @Test func aFailedChangeIsRecordedAsFailed() async throws {
        try await withHarness { h in
            try await register(h, capacity: 2)
            try await h.call("PutScalingPolicy", Harness.cpuPolicy(web))
            h.resources.set(web, cpu: 99)
            h.resources.failSets.withLock { $0 = true }
            await h.service.evaluate()
            let act = try #require(try await h.activities(web).first)
            #expect(act["StatusCode"] as? String == "Failed")
            #expect((act["StatusMessage"] as? String)?.hasPrefix("Failed to set desired count to 4.") == true)
            // A failure starts no cooldown: the next sweep tries again.
            h.resources.failSets.withLock { $0 = false }
            await h.service.evaluate()
            #expect(h.resources.current(web) == 4)
        }
    }

    @Test func scheduledActionsApplyWhenDue() async throws {
        try await withHarness { h in
            try await register(h, capacity: 2, min: 1, max: 4)
            let at = Date(timeIntervalSince1970: h.clock.now() + 3600)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: at)
            let schedule = String(format: "at(%04d-%02d-%02dT%02d:%02d:%02d)", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
            try await h.call("PutScheduledAction", Harness.ecs(web, ["ScheduledActionName": "peak", "Schedule": schedule,
                                                                      "ScalableTargetAction": ["MinCapacity": 5, "MaxCapacity": 9]]))
            let listed = try await h.call("DescribeScheduledActions", ["ServiceNamespace": "ecs"])
            let described = try #require((listed["ScheduledActions"] as? [[String: Any]])?.first)
            #expect(described["Schedule"] as? String == schedule)
            #expect((described["ScheduledActionARN"] as? String)?.hasSuffix(":resource/ecs/service/c/web:scheduledActionName/peak") == true)
            #expect(described["ScalableTargetAction"] as? [String: Int] == ["MinCapacity": 5, "MaxCapacity": 9])
            await h.service.evaluate()
            #expect(h.resources.current(web) == 2)
            h.clock.advance(by: 3601)
            await h.service.evaluate()
            #expect(h.resources.current(web) == 5)
            let t = try #require((try await h.call("DescribeScalableTargets", ["ServiceNamespace": "ecs"])["ScalableTargets"] as? [[String: Any]])?.first)
            #expect(t["MinCapacity"] as? Int == 5 && t["MaxCapacity"] as? Int == 9)
            let acts = try await h.activities(web)
            #expect(acts.map { $0["Description"] as? String } == ["Setting desired count to 5.", "Setting min capacity to 5 and max capacity to 9"])
            #expect(acts.map { $0["Cause"] as? String } == ["minimum capacity was set to 5", "scheduled action name peak was triggered"])
            // Once only.
            h.clock.advance(by: 3600)
            await h.service.evaluate()
            #expect(try await h.activities(web).count == 2)
            try await h.call("DeleteScheduledAction", Harness.ecs(web, ["ScheduledActionName": "peak"]))
            #expect(await h.error("DeleteScheduledAction", Harness.ecs(web, ["ScheduledActionName": "peak"]))?.message
                    == "No scheduled action found for service namespace: ecs, resource ID: service/c/web, scalable dimension: "
                    + "ecs:service:DesiredCount, scheduled action name: peak")
        }
    }

    @Test func scheduledActionValidation() async throws {
        try await withHarness { h in
            try await register(h)
            #expect(await h.error("PutScheduledAction", Harness.ecs(web, ["ScheduledActionName": "a", "Schedule": "rate(5 weeks)"]))?.code
                    == "ValidationException")
            #expect(await h.error("PutScheduledAction", Harness.ecs(web, ["ScheduledActionName": "a/b", "Schedule": "rate(5 minutes)"]))?.code
                    == "ValidationException")
            #expect(await h.error("PutScheduledAction", Harness.ecs(web, ["ScheduledActionName": "a", "Schedule": "rate(5 minutes)",
                                                                          "Timezone": "Mars/Olympus"]))?.code == "ValidationException")
            #expect(await h.error("PutScheduledAction", Harness.ecs(web, ["ScheduledActionName": "a"]))?.code == "ValidationException")
        }
    }

    @Test func theInternalEndpointRunsASweep() async throws {
        try await withHarness { h in
            try await register(h, capacity: 2)
            try await h.call("PutScalingPolicy", Harness.cpuPolicy(web))
            h.resources.set(web, cpu: 75)
            #expect(await h.service.internalResponse(method: .get, path: "/_cloudless/application-autoscaling/evaluate") == nil)
            let r = try #require(await h.service.internalResponse(method: .post, path: "/_cloudless/application-autoscaling/evaluate"))
            let sink = BodySink()
            try await r.body.write(BodyWriter(sink: sink))
            #expect(String(decoding: sink.bytes, as: UTF8.self) == #"{"evaluated":1}"#)
            #expect(h.resources.current(web) == 3)
        }
    }

    @Test func concurrentSweepsScaleOnce() async throws {
        try await withHarness { h in
            try await register(h, capacity: 2)
            try await h.call("PutScalingPolicy", Harness.cpuPolicy(web))
            h.resources.set(web, cpu: 90)
            let service = h.service
            await withTaskGroup(of: Int.self) { g in
                for _ in 0..<4 { g.addTask { await service.evaluate() } }
            }
            #expect(h.resources.current(web) == 4)
            #expect(try await h.activities(web).count == 1)
        }
    }
}
