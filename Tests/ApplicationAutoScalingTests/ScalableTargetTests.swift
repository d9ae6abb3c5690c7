import Core
import Foundation
import Testing

@testable import ApplicationAutoScaling

@Suite struct ScalableTargetTests {
    @Test func registeringAMissingECSServiceIsAValidationError() async throws {
        try await withHarness { h in
            let e = await h.error("RegisterScalableTarget", Harness.ecs("service/c/missing", ["MinCapacity": 1, "MaxCapacity": 3]))
            #expect(e == AWSError("ValidationException", "ECS service doesn't exist: service/c/missing"))
        }
    }

    @Test func registrationAnswersTheARNAndDefaultsTheRole() async throws {
        try await withHarness { h in
            h.resources.add("service/c/web", capacity: 2)
            let out = try await h.call("RegisterScalableTarget", Harness.ecs("service/c/web", ["MinCapacity": 1, "MaxCapacity": 4]))
            let arn = try #require(out["ScalableTargetARN"] as? String)
            #expect(arn.hasPrefix("arn:aws:application-autoscaling:us-east-1:000000000000:scalable-target/"))
            let targets = try await h.call("DescribeScalableTargets", ["ServiceNamespace": "ecs"])["ScalableTargets"] as? [[String: Any]]
            let t = try #require(targets?.first)
            #expect(t["ResourceId"] as? String == "service/c/web")
            #expect(t["MinCapacity"] as? Int == 1 && t["MaxCapacity"] as? Int == 4)
            #expect(t["ScalableTargetARN"] as? String == arn)
            #expect(t["RoleARN"] as? String == "arn:aws:iam::000000000000:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
                    + "AWSServiceRoleForApplicationAutoScaling_ECSService")
            let suspended = try #require(t["SuspendedState"] as? [String: Bool])
            #expect(suspended == ["DynamicScalingInSuspended": false, "DynamicScalingOutSuspended": false, "ScheduledScalingSuspended": false])
            // The capacity was inside the bounds: nothing changed, no activity.
            #expect(h.resources.current("service/c/web") == 2)
            #expect(try await h.activities("service/c/web").isEmpty)
        }
    }

    @Test func registrationClampsTheCapacityAndRecordsIt() async throws {
        try await withHarness { h in
            h.resources.add("service/c/web", capacity: 1)
            try await h.call("RegisterScalableTarget", Harness.ecs("service/c/web", ["MinCapacity": 3, "MaxCapacity": 6]))
            #expect(h.resources.current("service/c/web") == 3)
            // Lowering the maximum below the capacity brings it down.
            try await h.call("RegisterScalableTarget", Harness.ecs("service/c/web", ["MaxCapacity": 3, "MinCapacity": 2]))
            h.resources.add("service/c/web", capacity: 5)
            try await h.call("RegisterScalableTarget", Harness.ecs("service/c/web", ["MaxCapacity": 4]))
            #expect(h.resources.current("service/c/web") == 4)
            let acts = try await h.activities("service/c/web")
            #expect(acts.map { $0["Description"] as? String } == ["Setting desired count to 4.", "Setting desired count to 3."])
            #expect(acts.map { $0["Cause"] as? String } == ["maximum capacity was set to 4", "minimum capacity was set to 3"])
            #expect(acts[0]["StatusCode"] as? String == "Successful")
            #expect(acts[0]["StatusMessage"] as? String == "Successfully set desired count to 4. Change successfully fulfilled by ecs.")
        }
    }

    @Test func anUpdateChangesOnlyWhatItGives() async throws {
        try await withHarness { h in
            h.resources.add("service/c/web", capacity: 2)
            let first = try await h.call("RegisterScalableTarget", Harness.ecs("service/c/web", ["MinCapacity": 1, "MaxCapacity": 4,
                                                                                                  "RoleARN": "arn:aws:iam::000000000000:role/r"]))
            let second = try await h.call("RegisterScalableTarget", Harness.ecs("service/c/web", [
                "MaxCapacity": 8, "SuspendedState": ["DynamicScalingInSuspended": true],
            ]))
            #expect(first["ScalableTargetARN"] as? String == second["ScalableTargetARN"] as? String)
            let t = try #require((try await h.call("DescribeScalableTargets", ["ServiceNamespace": "ecs"])["ScalableTargets"] as? [[String: Any]])?.first)
            #expect(t["MinCapacity"] as? Int == 1 && t["MaxCapacity"] as? Int == 8)
            #expect(t["RoleARN"] as? String == "arn:aws:iam::000000000000:role/r")
            #expect((t["SuspendedState"] as? [String: Bool])?["DynamicScalingInSuspended"] == true)
            #expect((t["SuspendedState"] as? [String: Bool])?["ScheduledScalingSuspended"] == false)
        }
    }

    @Test func requestValidation() async throws {
        try await withHarness { h in
            h.resources.add("service/c/web", capacity: 2)
            let badNamespace = await h.error("RegisterScalableTarget", ["ServiceNamespace": "nope", "ResourceId": "x",
                                                                        "ScalableDimension": "ecs:service:DesiredCount"])
            #expect(badNamespace?.code == "ValidationException")
            #expect(badNamespace?.message.hasPrefix("1 validation error detected: Value 'nope' at 'serviceNamespace' failed to satisfy "
                                                    + "constraint: Member must satisfy enum value set: [ecs, elasticmapreduce,") == true)
            let badDimension = await h.error("DescribeScalableTargets", ["ServiceNamespace": "ecs", "ScalableDimension": "ecs:task:Count"])
            #expect(badDimension?.message.contains("at 'scalableDimension'") == true)
            #expect(await h.error("DescribeScalableTargets", [:])?.message
                    == "1 validation error detected: Value null at 'serviceNamespace' failed to satisfy constraint: Member must not be null")
            #expect(await h.error("RegisterScalableTarget", Harness.ecs("service/c/web", ["MinCapacity": 5, "MaxCapacity": 2]))
                    == AWSError("ValidationException", "Minimum capacity cannot be greater than maximum capacity"))
            #expect(await h.error("RegisterScalableTarget", Harness.ecs("service/c/web", ["MinCapacity": 1]))?.code == "ValidationException")
            #expect(await h.error("RegisterScalableTarget", ["ServiceNamespace": "ecs", "ResourceId": "table/t", "MinCapacity": 1,
                                                             "MaxCapacity": 2, "ScalableDimension": "dynamodb:table:ReadCapacityUnits"])
                    == AWSError("ValidationException", "Unsupported service namespace, resource type or scalable dimension"))
            #expect(await h.error("DescribeScalableTargets", ["ServiceNamespace": "ecs", "MaxResults": 51])?.message
                    == "1 validation error detected: Value '51' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50")
            #expect(await h.error("Frobnicate", [:])?.code == "UnknownOperationException")
        }
    }

    @Test func describePaginatesAndFilters() async throws {
        try await withHarness { h in
            // Other namespaces are stored without a live resource behind them.
            for i in 0..<5 {
                try await h.call("RegisterScalableTarget", ["ServiceNamespace": "dynamodb", "ResourceId": "table/t\(i)",
                                                            "ScalableDimension": "dynamodb:table:ReadCapacityUnits", "MinCapacity": 1,
                                                            "MaxCapacity": 10])
                h.clock.advance(by: 1)
            }
            try await h.call("RegisterScalableTarget", ["ServiceNamespace": "dynamodb", "ResourceId": "table/t0",
                                                        "ScalableDimension": "dynamodb:table:WriteCapacityUnits", "MinCapacity": 1, "MaxCapacity": 10])
            var seen: [String] = []
            var token: String?
            repeat {
                var body: [String: Any] = ["ServiceNamespace": "dynamodb", "MaxResults": 2]
                if let token { body["NextToken"] = token }
                let out = try await h.call("DescribeScalableTargets", body)
                let page = out["ScalableTargets"] as? [[String: Any]] ?? []
                #expect(page.count <= 2)
                seen += page.compactMap { $0["ResourceId"] as? String }
                token = out["NextToken"] as? String
            } while token != nil
            #expect(seen == ["table/t0", "table/t1", "table/t2", "table/t3", "table/t4", "table/t0"])
            let filtered = try await h.call("DescribeScalableTargets", ["ServiceNamespace": "dynamodb", "ResourceIds": ["table/t0", "table/t3"],
                                                                        "ScalableDimension": "dynamodb:table:ReadCapacityUnits"])
            #expect((filtered["ScalableTargets"] as? [[String: Any]])?.compactMap { $0["ResourceId"] as? String } == ["table/t0", "table/t3"])
            #expect((try await h.call("DescribeScalableTargets", ["ServiceNamespace": "ecs"])["ScalableTargets"] as? [Any])?.isEmpty == true)
            #expect(await h.error("DescribeScalableTargets", ["ServiceNamespace": "dynamodb", "NextToken": "garbage"])?.code
                    == "InvalidNextTokenException")
            // Another account sees none of them.
            let other = try await h.call("DescribeScalableTargets", ["ServiceNamespace": "dynamodb"], account: "111111111111")
            #expect((other["ScalableTargets"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func deregisteringRemovesPoliciesAndScheduledActions() async throws {
        try await withHarness { h in
            h.resources.add("service/c/web", capacity: 2)
            try await h.call("RegisterScalableTarget", Harness.ecs("service/c/web", ["MinCapacity": 1, "MaxCapacity": 4]))
            try await h.call("PutScalingPolicy", Harness.cpuPolicy("service/c/web"))
            try await h.call("PutScheduledAction", Harness.ecs("service/c/web", ["ScheduledActionName": "night", "Schedule": "cron(0 22 * * ? *)",
                                                                                  "ScalableTargetAction": ["MinCapacity": 1, "MaxCapacity": 1]]))
            try await h.call("DeregisterScalableTarget", Harness.ecs("service/c/web"))
            #expect((try await h.call("DescribeScalingPolicies", ["ServiceNamespace": "ecs"])["ScalingPolicies"] as? [Any])?.isEmpty == true)
            #expect((try await h.call("DescribeScheduledActions", ["ServiceNamespace": "ecs"])["ScheduledActions"] as? [Any])?.isEmpty == true)
            #expect(await h.error("DeregisterScalableTarget", Harness.ecs("service/c/web")) == AWSError(
                "ObjectNotFoundException", "No scalable target registered for service namespace: ecs, resource ID: service/c/web, "
                    + "scalable dimension: ecs:service:DesiredCount"))
        }
    }

    @Test func tagsFollowTheTargetsARN() async throws {
        try await withHarness { h in
            h.resources.add("service/c/web", capacity: 2)
            let arn = try #require(try await h.call("RegisterScalableTarget", Harness.ecs("service/c/web", [
                "MinCapacity": 1, "MaxCapacity": 4, "Tags": ["team": "a"],
            ]))["ScalableTargetARN"] as? String)
            #expect(try await h.call("ListTagsForResource", ["ResourceARN": arn])["Tags"] as? [String: String] == ["team": "a"])
            try await h.call("TagResource", ["ResourceARN": arn, "Tags": ["env": "test", "team": "b"]])
            #expect(try await h.call("ListTagsForResource", ["ResourceARN": arn])["Tags"] as? [String: String] == ["team": "b", "env": "test"])
            try await h.call("UntagResource", ["ResourceARN": arn, "TagKeys": ["team", "absent"]])
            #expect(try await h.call("ListTagsForResource", ["ResourceARN": arn])["Tags"] as? [String: String] == ["env": "test"])
            #expect(await h.error("ListTagsForResource", ["ResourceARN": "not-an-arn"])?.code == "ValidationException")
            let unknown = "arn:aws:application-autoscaling:us-east-1:000000000000:scalable-target/0123abcd"
            #expect(await h.error("TagResource", ["ResourceARN": unknown, "Tags": ["a": "b"]])?.code == "ResourceNotFoundException")
            let many = Dictionary(uniqueKeysWithValues: (0..<50).map { ("k\($0)", "v") })
            #expect(await h.error("TagResource", ["ResourceARN": arn, "Tags": many])?.code == "TooManyTagsException")
        }
    }

    @Test func stateSurvivesARestart() async throws {
        try await withHarness { h in
            h.resources.add("service/c/web", capacity: 2)
            try await h.call("RegisterScalableTarget", Harness.ecs("service/c/web", ["MinCapacity": 1, "MaxCapacity": 4]))
            try await h.call("PutScalingPolicy", Harness.cpuPolicy("service/c/web"))
            let again = try h.reopened()
            let targets = try await h.call("DescribeScalableTargets", ["ServiceNamespace": "ecs"], on: again)["ScalableTargets"] as? [[String: Any]]
            #expect(targets?.count == 1)
            let policies = try await h.call("DescribeScalingPolicies", ["ServiceNamespace": "ecs"], on: again)["ScalingPolicies"] as? [[String: Any]]
            #expect(policies?.first?["PolicyName"] as? String == "cpu")
            try again.store.db.close()
        }
    }
}
