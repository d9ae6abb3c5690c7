@testable import CodeDeploy
import Core
import Foundation
import Testing

/// The ECS blue/green platform with fakes of ECS (task sets) and ELBv2 (listener weights), on a clock the test moves.
struct ECSDeploymentTests {
    static let prod = "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/lb/1/prod"
    static let test = "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/lb/1/test"
    static let blue = FakeListeners.arn("blue"), green = FakeListeners.arn("green")
    static let onGreen = [ForwardWeight(targetGroupARN: blue, weight: 0), ForwardWeight(targetGroupARN: green, weight: 100)]
    static let onBlue = [ForwardWeight(targetGroupARN: blue, weight: 100), ForwardWeight(targetGroupARN: green, weight: 0)]

    struct Setup {
        let h: Harness
        let ecs = FakeECS(blueTargetGroup: ECSDeploymentTests.blue)
        let lb = FakeListeners()
        init(_ h: Harness) {
            self.h = h
            h.service.connect(ecs: ecs, loadBalancers: lb)
            lb.weights.withLock { $0[ECSDeploymentTests.prod] = [ForwardWeight(targetGroupARN: ECSDeploymentTests.blue, weight: 1)] }
        }
    }

    static func appSpec(hooks: [String] = []) -> String {
        """
        version: 0.0
        Resources:
          - TargetService:
              Type: AWS::ECS::Service
              Properties:
                TaskDefinition: "arn:aws:ecs:us-east-1:000000000000:task-definition/web:2"
                LoadBalancerInfo: {ContainerName: web, ContainerPort: 8080}
        \(hooks.isEmpty ? "" : "Hooks:\n" + hooks.map { "  - \($0): hook-\($0)" }.joined(separator: "\n"))
        """
    }

    func group(_ x: Setup, config: String = "CodeDeployDefault.ECSAllAtOnce", blueGreen: Doc? = nil) async throws {
        _ = try x.h.call(CodeDeployService.createApplication, ["applicationName": "app", "computePlatform": "ECS"])
        var g: Doc = ["applicationName": "app", "deploymentGroupName": "g", "serviceRoleArn": "arn:aws:iam::000000000000:role/r",
                      "deploymentConfigName": config,
                      "deploymentStyle": ["deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"],
                      "autoRollbackConfiguration": ["enabled": true, "events": ["DEPLOYMENT_FAILURE"]],
                      "ecsServices": [["serviceName": "svc", "clusterName": "c"]],
                      "loadBalancerInfo": ["targetGroupPairInfoList": [["targetGroups": [["name": "blue"], ["name": "green"]],
                                                                        "prodTrafficRoute": ["listenerArns": [Self.prod]],
                                                                        "testTrafficRoute": ["listenerArns": [Self.test]]]]]]
        if let blueGreen { g["blueGreenDeploymentConfiguration"] = blueGreen }
        try await x.h.service.checkECSGroup(x.h.s, Input(g))
        _ = try x.h.call(CodeDeployService.createDeploymentGroup, g)
    }

    func deploy(_ h: Harness, hooks: [String] = []) throws -> String {
        let r = try h.call(CodeDeployService.createDeployment, [
            "applicationName": "app", "deploymentGroupName": "g",
            "revision": ["revisionType": "AppSpecContent", "appSpecContent": ["content": Self.appSpec(hooks: hooks)]]])
        return r["deploymentId"] as! String
    }

    func prodWeights(_ x: Setup) -> [ForwardWeight] { x.lb.weights.withLock { $0[Self.prod] ?? [] } }

    func target(_ h: Harness, _ id: String) throws -> Doc {
        let out = try h.call(CodeDeployService.batchGetDeploymentTargets, ["deploymentId": id, "targetIds": ["c:svc"]])
        return ((out["deploymentTargets"] as? [Doc])?.first?["ecsTarget"] as? Doc) ?? [:]
    }

    /// Answer each hook invocation with `status` as it comes, in order; returns the hook functions called.
    func answerHooks(_ x: Setup, _ id: String, count: Int, failing: String? = nil) async throws -> [String] {
        var answered = 0
        while answered < count {
            try await x.h.eventually("hook \(answered + 1)") { x.h.functions.invocations.withLock { $0.count } > answered }
            let (arn, payload) = x.h.functions.invocations.withLock { $0[answered] }
            let failed = failing.map { arn.hasSuffix("hook-" + $0) } ?? false
            _ = try x.h.call(CodeDeployService.putLifecycleEventHookExecutionStatus, [
                "deploymentId": id, "lifecycleEventHookExecutionId": payload["LifecycleEventHookExecutionId"]!, "status": failed ? "Failed" : "Succeeded"])
            answered += 1
            if failed { break }
        }
        return x.h.functions.invocations.withLock { $0.map { String($0.0.split(separator: ":").last ?? "") } }
    }

    @Test func allAtOnceRunsTheEventsInOrderAndReplacesTheTaskSet() async throws {
        let x = Setup(try Harness())
        try await group(x)
        let id = try deploy(x.h, hooks: ECSAppSpec.hookEvents)
        let called = try await answerHooks(x, id, count: 5)
        #expect(called == ECSAppSpec.hookEvents.map { "hook-" + $0 })
        try await x.h.eventually("Succeeded") { try x.h.status(id) == "Succeeded" }
        #expect(prodWeights(x) == Self.onGreen)
        #expect(x.lb.weights.withLock { $0[Self.test] } == Self.onGreen)
        #expect(x.ecs.ids == ["ecs-svc/2"])
        #expect(x.ecs.primary == "ecs-svc/2")
        let created = x.ecs.sets[0]
        #expect(created["taskDefinition"]?.string == "arn:aws:ecs:us-east-1:000000000000:task-definition/web:2")
        #expect(created["loadBalancers"]?.array?.first?["targetGroupArn"]?.string == Self.green)
        let t = try target(x.h, id)
        #expect((t["lifecycleEvents"] as? [Doc])?.map { $0["lifecycleEventName"] as? String } == CodeDeployService.ecsEvents)
        #expect((t["lifecycleEvents"] as? [Doc])?.allSatisfy { $0["status"] as? String == "Succeeded" } == true)
        #expect(t["status"] as? String == "Succeeded")
        let info = (t["taskSetsInfo"] as? [Doc]) ?? []
        #expect(info.map { $0["taskSetLabel"] as? String } == ["Green"])
        #expect((info.first?["trafficWeight"] as? NSNumber)?.doubleValue == 100)
        #expect((info.first?["targetGroup"] as? Doc)?["name"] as? String == "green")
    }

    @Test func canaryShiftsTenPercentThenAllWhenTheClockMoves() async throws {
        let x = Setup(try Harness())
        try await group(x, config: "CodeDeployDefault.ECSCanary10Percent5Minutes")
        let id = try deploy(x.h)
        try await x.h.eventually("10 %") {
            prodWeights(x) == [ForwardWeight(targetGroupARN: Self.blue, weight: 90), ForwardWeight(targetGroupARN: Self.green, weight: 10)]
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(try x.h.status(id) == "InProgress")
        #expect(x.ecs.primary == "ecs-svc/1")
        let info = (try target(x.h, id)["taskSetsInfo"] as? [Doc]) ?? []
        #expect(info.map { ($0["taskSetLabel"] as? String ?? "", ($0["trafficWeight"] as? NSNumber)?.doubleValue ?? -1) }.map { "\($0.0)=\($0.1)" }
                == ["Blue=90.0", "Green=10.0"])
        x.h.clock.advance(by: 301)
        try await x.h.eventually("Succeeded") { try x.h.status(id) == "Succeeded" }
        #expect(prodWeights(x) == Self.onGreen)
        #expect(x.ecs.ids == ["ecs-svc/2"])
    }

    @Test func readyWaitAndTerminationWaitEndWithContinueDeployment() async throws {
        let x = Setup(try Harness())
        try await group(x, blueGreen: ["deploymentReadyOption": ["actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": 30],
                                       "terminateBlueInstancesOnDeploymentSuccess": ["action": "TERMINATE", "terminationWaitTimeInMinutes": 60]])
        let id = try deploy(x.h)
        try await x.h.eventually("Ready") { try x.h.status(id) == "Ready" }
        #expect(x.lb.weights.withLock { $0[Self.test] } == Self.onGreen)
        #expect(prodWeights(x) == [ForwardWeight(targetGroupARN: Self.blue, weight: 1)])  // untouched until AllowTraffic
        #expect(code { try x.h.call(CodeDeployService.continueDeployment, ["deploymentId": id, "deploymentWaitType": "TERMINATION_WAIT"]) }
                == "DeploymentIsNotInReadyStateException")
        _ = try x.h.call(CodeDeployService.continueDeployment, ["deploymentId": id, "deploymentWaitType": "READY_WAIT"])
        try await x.h.eventually("traffic on green") { prodWeights(x) == Self.onGreen && x.ecs.primary == "ecs-svc/2" }
        try await Task.sleep(for: .milliseconds(300))
        #expect(try x.h.status(id) == "InProgress")
        #expect(x.ecs.ids == ["ecs-svc/1", "ecs-svc/2"])  // the original waits for its termination
        _ = try x.h.call(CodeDeployService.continueDeployment, ["deploymentId": id, "deploymentWaitType": "TERMINATION_WAIT"])
        try await x.h.eventually("Succeeded") { try x.h.status(id) == "Succeeded" }
        #expect(x.ecs.ids == ["ecs-svc/2"])
    }

    @Test func readyWaitWithStopDeploymentStopsAtTheTimeout() async throws {
        let x = Setup(try Harness())
        try await group(x, blueGreen: ["deploymentReadyOption": ["actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": 30]])
        let id = try deploy(x.h)
        try await x.h.eventually("Ready") { try x.h.status(id) == "Ready" }
        x.h.clock.advance(by: 30 * 60 + 1)
        try await x.h.eventually("Stopped") { try x.h.status(id) == "Stopped" }
        #expect(prodWeights(x) == [ForwardWeight(targetGroupARN: Self.blue, weight: 1)])
    }

    @Test func failedHookRollsBackTrafficAndDeletesTheReplacement() async throws {
        let x = Setup(try Harness())
        try await group(x)
        let id = try deploy(x.h, hooks: ["AfterAllowTestTraffic"])
        _ = try await answerHooks(x, id, count: 1, failing: "AfterAllowTestTraffic")
        try await x.h.eventually("Failed") { try x.h.status(id) == "Failed" }
        #expect((try x.h.deployment(id)["errorInformation"] as? Doc)?["code"] as? String == "HOOK_EXECUTION_FAILURE")
        try await x.h.eventually("rollback id") { (try x.h.deployment(id)["rollbackInfo"] as? Doc)?["rollbackDeploymentId"] != nil }
        let rb = (try x.h.deployment(id)["rollbackInfo"] as? Doc)!["rollbackDeploymentId"] as! String
        try await x.h.eventually("rollback Succeeded") { try x.h.status(rb) == "Succeeded" }
        #expect(try x.h.deployment(rb)["creator"] as? String == "codeDeployRollback")
        #expect(prodWeights(x) == Self.onBlue)
        #expect(x.lb.weights.withLock { $0[Self.test] } == Self.onBlue)
        #expect(x.ecs.ids == ["ecs-svc/1"])
        #expect(x.ecs.primary == "ecs-svc/1")
        let events = (try target(x.h, id)["lifecycleEvents"] as? [Doc])?.map { $0["status"] as? String ?? "" }
        #expect(events == ["Succeeded", "Succeeded", "Succeeded", "Succeeded", "Failed", "Skipped", "Skipped", "Skipped"])
    }

    @Test func stopWithRollbackWhileReadyRestoresTheOriginal() async throws {
        let x = Setup(try Harness())
        try await group(x, blueGreen: ["deploymentReadyOption": ["actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": 30]])
        let id = try deploy(x.h)
        try await x.h.eventually("Ready") { try x.h.status(id) == "Ready" }
        #expect(x.ecs.ids == ["ecs-svc/1", "ecs-svc/2"])
        _ = try x.h.call(CodeDeployService.stopDeployment, ["deploymentId": id, "autoRollbackEnabled": true])
        try await x.h.eventually("Stopped") { try x.h.status(id) == "Stopped" }
        #expect((try x.h.deployment(id)["errorInformation"] as? Doc)?["code"] as? String == "MANUAL_STOP")
        try await x.h.eventually("rollback done") { x.ecs.ids == ["ecs-svc/1"] }
        #expect(x.lb.weights.withLock { $0[Self.test] } == Self.onBlue)
        #expect(x.ecs.primary == "ecs-svc/1")
    }

    @Test func aRestartMidShiftFinishesTheCanary() async throws {
        let first = try Harness()
        let x = Setup(first)
        try await group(x, config: "CodeDeployDefault.ECSCanary10Percent5Minutes")
        let id = try deploy(first)
        try await first.eventually("10 %") { prodWeights(x).last?.weight == 10 }
        await first.service.shutdown()
        let second = try Harness(dir: first.dir, clock: first.clock)
        second.service.connect(ecs: x.ecs, loadBalancers: x.lb)
        second.clock.advance(by: 301)
        try await second.eventually("Succeeded") { try second.status(id) == "Succeeded" }
        #expect(prodWeights(x) == Self.onGreen)
        #expect(x.ecs.ids == ["ecs-svc/2"])  // one replacement: CreateTaskSet was not repeated
        #expect(x.lb.history.withLock { $0[Self.prod]?.last } == Self.onGreen)
    }

    @Test func groupChecksUseAWSExceptions() async throws {
        let x = Setup(try Harness())
        _ = try x.h.call(CodeDeployService.createApplication, ["applicationName": "app", "computePlatform": "ECS"])
        func check(_ change: (inout Doc) -> Void) async -> String? {
            var g: Doc = ["applicationName": "app", "deploymentGroupName": "g", "ecsServices": [["serviceName": "svc", "clusterName": "c"]],
                          "loadBalancerInfo": ["targetGroupPairInfoList": [["targetGroups": [["name": "blue"], ["name": "green"]],
                                                                            "prodTrafficRoute": ["listenerArns": [Self.prod]]]]]]
            change(&g)
            do { try await x.h.service.checkECSGroup(x.h.s, Input(g)); return nil } catch let e as AWSError { return e.code } catch { return "\(error)" }
        }
        #expect(await check { _ in } == nil)
        #expect(await check { $0["ecsServices"] = [Doc]() } == "InvalidECSServiceException")
        #expect(await check { $0["ecsServices"] = [["serviceName": "a", "clusterName": "c"], ["serviceName": "b", "clusterName": "c"]] } == "ECSServiceMappingLimitExceededException")
        #expect(await check { $0["loadBalancerInfo"] = Doc() } == "InvalidLoadBalancerInfoException")
        #expect(await check { $0["loadBalancerInfo"] = ["targetGroupPairInfoList": [["targetGroups": [["name": "blue"], ["name": "nope"]],
                                                                                      "prodTrafficRoute": ["listenerArns": [Self.prod]]]]] } == "InvalidTargetGroupPairException")
        #expect(await check { $0["blueGreenDeploymentConfiguration"] = ["terminateBlueInstancesOnDeploymentSuccess": ["terminationWaitTimeInMinutes": 3000]] }
                == "InvalidBlueGreenDeploymentConfigurationException")
    }

    @Test func appSpecReadsTheServiceAndHooks() throws {
        let spec = try ECSAppSpec.parse("""
            {"version": 0.0, "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {
              "TaskDefinition": "web:3", "LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": 8080}, "PlatformVersion": "1.4.0",
              "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": ["subnet-1"], "AssignPublicIp": "DISABLED"}}}}}],
             "Hooks": [{"BeforeInstall": "pre"}, {"AfterAllowTraffic": "post"}]}
            """)
        #expect(spec.taskDefinition == "web:3")
        #expect(spec.containerPort == 8080)
        #expect(spec.hooks == ["BeforeInstall": "pre", "AfterAllowTraffic": "post"])
        let network = ECSAppSpec.object(spec.networkConfiguration) as? Doc
        #expect((network?["awsvpcConfiguration"] as? Doc)?["assignPublicIp"] as? String == "DISABLED")
        #expect(ECSAppSpec(doc: spec.asDoc) == spec)
        #expect(throws: ECSAppSpec.Invalid.self) { try ECSAppSpec.parse("Resources:\n  - x:\n      Type: AWS::Lambda::Function\n") }
        #expect(throws: ECSAppSpec.Invalid.self) {
            try ECSAppSpec.parse("Resources:\n  - x:\n      Type: AWS::ECS::Service\n      Properties: {TaskDefinition: t}\n")
        }
    }
}
