@testable import CodeDeploy
import Core
import Foundation
import Testing

/// The engine with fake Lambda pieces and a fake agent, on a clock the test moves.
struct EngineTests {
    static let alias = "arn:aws:lambda:us-east-1:000000000000:function:fn:live"

    static func appSpec(hooks: Bool) -> String {
        """
        version: 0.0
        Resources:
          - fn:
              Type: AWS::Lambda::Function
              Properties: {Name: fn, Alias: live, CurrentVersion: "1", TargetVersion: "2"}
        \(hooks ? "Hooks:\n  - BeforeAllowTraffic: pre" : "")
        """
    }

    func lambdaSetup(_ h: Harness, rollback: Bool = true) throws {
        h.aliases.routing.withLock { $0[Self.alias] = AliasRouting(version: "1") }
        _ = try h.call(CodeDeployService.createApplication, ["applicationName": "app", "computePlatform": "Lambda"])
        var g: Doc = ["applicationName": "app", "deploymentGroupName": "g", "serviceRoleArn": "arn:aws:iam::000000000000:role/r",
                      "deploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
                      "deploymentStyle": ["deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"]]
        if rollback { g["autoRollbackConfiguration"] = ["enabled": true, "events": ["DEPLOYMENT_FAILURE"]] }
        _ = try h.call(CodeDeployService.createDeploymentGroup, g)
    }

    func deploy(_ h: Harness, hooks: Bool) throws -> String {
        let r = try h.call(CodeDeployService.createDeployment, [
            "applicationName": "app", "deploymentGroupName": "g",
            "revision": ["revisionType": "AppSpecContent", "appSpecContent": ["content": Self.appSpec(hooks: hooks)]]])
        return r["deploymentId"] as! String
    }

    func routing(_ h: Harness) -> AliasRouting? { h.aliases.routing.withLock { $0[Self.alias] } }

    @Test func canaryShiftsTenPercentThenAllOnTheClock() async throws {
        let h = try Harness()
        try lambdaSetup(h)
        let id = try deploy(h, hooks: false)
        try await h.eventually("10 %") { routing(h) == AliasRouting(version: "1", additionalVersion: "2", additionalWeight: 0.1) }
        #expect(code { try deploy(h, hooks: false) } == "DeploymentLimitExceededException")
        try await Task.sleep(for: .milliseconds(300))
        #expect(try h.status(id) == "InProgress")
        h.clock.advance(by: 301)
        try await h.eventually("Succeeded") { try h.status(id) == "Succeeded" }
        #expect(routing(h) == AliasRouting(version: "2"))
        let info = try h.deployment(id)
        #expect((info["deploymentOverview"] as? [String: Int])?["Succeeded"] == 1)
        let targets = try h.call(CodeDeployService.batchGetDeploymentTargets, ["deploymentId": id, "targetIds": ["fn:live"]])
        let t = ((targets["deploymentTargets"] as? [Doc])?.first?["lambdaTarget"] as? Doc) ?? [:]
        #expect((t["lifecycleEvents"] as? [Doc])?.map { $0["status"] as? String } == ["Succeeded", "Succeeded", "Succeeded"])
        let group = try h.call(CodeDeployService.getDeploymentGroup, ["applicationName": "app", "deploymentGroupName": "g"])["deploymentGroupInfo"] as? Doc
        #expect((group?["lastSuccessfulDeployment"] as? Doc)?["deploymentId"] as? String == id)
    }

    @Test func failedHookRollsBack() async throws {
        let h = try Harness()
        try lambdaSetup(h)
        let id = try deploy(h, hooks: true)
        try await h.eventually("hook invoked") { !h.functions.invocations.withLock { $0 }.isEmpty }
        let (arn, payload) = h.functions.invocations.withLock { $0[0] }
        #expect(arn == "arn:aws:lambda:us-east-1:000000000000:function:pre")
        #expect(payload["DeploymentId"] == id)
        let exec = payload["LifecycleEventHookExecutionId"]!
        _ = try h.call(CodeDeployService.putLifecycleEventHookExecutionStatus, ["deploymentId": id, "lifecycleEventHookExecutionId": exec, "status": "Failed"])
        #expect(code { try h.call(CodeDeployService.putLifecycleEventHookExecutionStatus, ["deploymentId": id, "lifecycleEventHookExecutionId": exec, "status": "Succeeded"]) } == "LifecycleEventAlreadyCompletedException")
        try await h.eventually("Failed") { try h.status(id) == "Failed" }
        let info = try h.deployment(id)
        #expect((info["errorInformation"] as? Doc)?["code"] as? String == "HOOK_EXECUTION_FAILURE")
        try await h.eventually("rollback id") { (try h.deployment(id)["rollbackInfo"] as? Doc)?["rollbackDeploymentId"] != nil }
        let rb = (try h.deployment(id)["rollbackInfo"] as? Doc)!["rollbackDeploymentId"] as! String
        try await h.eventually("rollback Succeeded") { try h.status(rb) == "Succeeded" }
        #expect(try h.deployment(rb)["creator"] as? String == "codeDeployRollback")
        #expect(routing(h) == AliasRouting(version: "1"))
    }

    @Test func succeededHookContinues() async throws {
        let h = try Harness()
        try lambdaSetup(h)
        let id = try deploy(h, hooks: true)
        try await h.eventually("hook invoked") { !h.functions.invocations.withLock { $0 }.isEmpty }
        let exec = h.functions.invocations.withLock { $0[0].1["LifecycleEventHookExecutionId"]! }
        _ = try h.call(CodeDeployService.putLifecycleEventHookExecutionStatus, ["deploymentId": id, "lifecycleEventHookExecutionId": exec, "status": "Succeeded"])
        try await h.eventually("10 %") { routing(h)?.additionalWeight == 0.1 }
        h.clock.advance(by: 600)
        try await h.eventually("Succeeded") { try h.status(id) == "Succeeded" }
    }

    @Test func stopWithRollbackRestoresAlias() async throws {
        let h = try Harness()
        try lambdaSetup(h, rollback: false)
        let id = try deploy(h, hooks: false)
        try await h.eventually("10 %") { routing(h)?.additionalWeight == 0.1 }
        _ = try h.call(CodeDeployService.stopDeployment, ["deploymentId": id, "autoRollbackEnabled": true])
        try await h.eventually("Stopped") { try h.status(id) == "Stopped" }
        try await h.eventually("alias back") { routing(h) == AliasRouting(version: "1") }
        #expect(code { try h.call(CodeDeployService.stopDeployment, ["deploymentId": id]) } == "DeploymentAlreadyCompletedException")
    }

    @Test func restartResumesMidCanary() async throws {
        let dir = NSTemporaryDirectory() + "cd-test-" + UUID().uuidString
        let clock = EmulatorClock()
        let aliases = FakeAliases()
        let first = try Harness(dir: dir, clock: clock, aliases: aliases)
        try lambdaSetup(first)
        let id = try deploy(first, hooks: false)
        try await first.eventually("10 %") { routing(first)?.additionalWeight == 0.1 }
        await first.service.shutdown()
        let second = try Harness(dir: dir, clock: clock, aliases: aliases)
        #expect(try second.status(id) == "InProgress")
        clock.advance(by: 301)
        try await second.eventually("Succeeded after restart") { try second.status(id) == "Succeeded" }
        #expect(routing(second) == AliasRouting(version: "2"))
        // Each step was applied once: 10 %, then 100 %.
        #expect(aliases.history.withLock { $0.map(\.additionalWeight) } == [0.1, 0])
    }

    func serverSetup(_ h: Harness, names: [String]) throws {
        _ = try h.call(CodeDeployService.createApplication, ["applicationName": "web"])
        _ = try h.call(CodeDeployService.createDeploymentGroup, [
            "applicationName": "web", "deploymentGroupName": "g", "serviceRoleArn": "arn:aws:iam::000000000000:role/r",
            "deploymentConfigName": "CodeDeployDefault.OneAtATime",
            "onPremisesInstanceTagFilters": [["Key": "role", "Value": "web", "Type": "KEY_AND_VALUE"]]])
        for n in names {
            _ = try h.call(CodeDeployService.registerOnPremisesInstance, ["instanceName": n, "iamUserArn": "arn:aws:iam::000000000000:user/\(n)"])
            _ = try h.call(CodeDeployService.addTagsToOnPremisesInstances, ["instanceNames": [n], "tags": [["Key": "role", "Value": "web"]]])
        }
    }

    func serverDeploy(_ h: Harness, content: String = "version: 0.0\nos: linux\n", config: String? = nil) throws -> String {
        var input: Doc = ["applicationName": "web", "deploymentGroupName": "g",
                          "revision": ["revisionType": "AppSpecContent", "appSpecContent": ["content": content]],
                          "autoRollbackConfiguration": ["enabled": true, "events": ["DEPLOYMENT_FAILURE"]]]
        if let config { input["deploymentConfigName"] = config }
        return try h.call(CodeDeployService.createDeployment, input)["deploymentId"] as! String
    }

    @Test func inPlaceRollbackRedeploysTheLastGoodRevision() async throws {
        let h = try Harness(agent: FakeAgent(failing: ["bad:b": "ValidateService"]))
        try serverSetup(h, names: ["a", "b", "c"])
        let good = try serverDeploy(h)
        try await h.eventually("first Succeeded") { try h.status(good) == "Succeeded" }
        let bad = try serverDeploy(h, content: "version: 0.0\nos: linux\n# bad\n")
        try await h.eventually("second Failed") { try h.status(bad) == "Failed" }
        try await h.eventually("rollback id") { (try h.deployment(bad)["rollbackInfo"] as? Doc)?["rollbackDeploymentId"] != nil }
        let rb = (try h.deployment(bad)["rollbackInfo"] as? Doc)!["rollbackDeploymentId"] as! String
        try await h.eventually("rollback Succeeded") { try h.status(rb) == "Succeeded" }
        let rollback = try h.deployment(rb)
        #expect(rollback["creator"] as? String == "codeDeployRollback")
        #expect(((rollback["revision"] as? Doc)?["appSpecContent"] as? Doc)?["content"] as? String == "version: 0.0\nos: linux\n")
        #expect((rollback["rollbackInfo"] as? Doc)?["rollbackTriggeringDeploymentId"] as? String == bad)
    }

    @Test func hostCountAsLargeAsTheFleetIsInvalid() async throws {
        let h = try Harness()
        try serverSetup(h, names: ["a", "b"])
        _ = try h.call(CodeDeployService.createDeploymentConfig, ["deploymentConfigName": "two", "minimumHealthyHosts": ["type": "HOST_COUNT", "value": 2]])
        let id = try serverDeploy(h, config: "two")
        try await h.eventually("Failed") { try h.status(id) == "Failed" }
        #expect((try h.deployment(id)["errorInformation"] as? Doc)?["code"] as? String == "HEALTH_CONSTRAINTS_INVALID")
        #expect(h.agent.calls.withLock { $0.isEmpty })
    }

    @Test func unreportedHookTimesOutAfterAnHour() async throws {
        let h = try Harness()
        try lambdaSetup(h, rollback: false)
        let id = try deploy(h, hooks: true)
        try await h.eventually("hook invoked") { !h.functions.invocations.withLock { $0 }.isEmpty }
        h.clock.advance(by: 3599)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try h.status(id) == "InProgress")
        h.clock.advance(by: 2)
        try await h.eventually("Failed") { try h.status(id) == "Failed" }
        #expect((try h.deployment(id)["errorInformation"] as? Doc)?["code"] as? String == "TIMEOUT")
        #expect(routing(h) == AliasRouting(version: "1"))
    }

    @Test func anECSDeploymentWithoutItsServiceFails() async throws {
        let h = try Harness()  // no ECS wired: the group's service cannot be found
        _ = try h.call(CodeDeployService.createApplication, ["applicationName": "svc", "computePlatform": "ECS"])
        _ = try h.call(CodeDeployService.createDeploymentGroup, [
            "applicationName": "svc", "deploymentGroupName": "g", "serviceRoleArn": "arn:aws:iam::000000000000:role/r",
            "ecsServices": [["serviceName": "s", "clusterName": "c"]],
            "deploymentStyle": ["deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"]])
        let id = try h.call(CodeDeployService.createDeployment, [
            "applicationName": "svc", "deploymentGroupName": "g",
            "revision": ["revisionType": "AppSpecContent", "appSpecContent": ["content": ECSDeploymentTests.appSpec()]]])["deploymentId"] as! String
        try await h.eventually("Failed") { try h.status(id) == "Failed" }
        #expect((try h.deployment(id)["errorInformation"] as? Doc)?["code"] as? String == "INVALID_ECS_SERVICE")
    }

    @Test func inPlaceOneAtATimeStopsAtTheFirstFailure() async throws {
        let h = try Harness(agent: FakeAgent(failing: ["b": "Install"]))
        try serverSetup(h, names: ["a", "b", "c"])
        let id = try serverDeploy(h)
        try await h.eventually("Failed") { try h.status(id) == "Failed" }
        let info = try h.deployment(id)
        #expect((info["errorInformation"] as? Doc)?["code"] as? String == "HEALTH_CONSTRAINTS")
        #expect(info["deploymentOverview"] as? [String: Int] == ["Succeeded": 1, "Failed": 1, "Skipped": 1, "Pending": 0, "InProgress": 0, "Ready": 0])
        let calls = h.agent.calls.withLock { $0 }
        #expect(!calls.contains { $0.0 == "c" })
        #expect(calls.filter { $0.0 == "a" }.map(\.1) == ["ApplicationStop", "DownloadBundle", "BeforeInstall", "Install", "AfterInstall", "ApplicationStart", "ValidateService"])
        let b = try h.call(CodeDeployService.batchGetDeploymentTargets, ["deploymentId": id, "targetIds": ["b"]])
        let events = (((b["deploymentTargets"] as? [Doc])?.first?["instanceTarget"] as? Doc)?["lifecycleEvents"] as? [Doc]) ?? []
        let byName = Dictionary(uniqueKeysWithValues: events.map { ($0["lifecycleEventName"] as! String, $0) })
        #expect(byName["Install"]?["status"] as? String == "Failed")
        #expect((byName["Install"]?["diagnostics"] as? Doc)?["errorCode"] as? String == "ScriptFailed")
        #expect(byName["AfterInstall"]?["status"] as? String == "Skipped")
        #expect(byName["BlockTraffic"]?["status"] as? String == "Skipped")
    }

    @Test func inPlaceWithoutInstancesFails() async throws {
        let h = try Harness()
        try serverSetup(h, names: [])
        let id = try serverDeploy(h)
        try await h.eventually("Failed") { try h.status(id) == "Failed" }
        #expect((try h.deployment(id)["errorInformation"] as? Doc)?["code"] as? String == "NO_INSTANCES")
    }

    @Test func inPlaceSucceedsOnEveryInstance() async throws {
        let h = try Harness()
        try serverSetup(h, names: ["a", "b"])
        let id = try serverDeploy(h)
        try await h.eventually("Succeeded") { try h.status(id) == "Succeeded" }
        #expect(h.agent.calls.withLock { $0.count } == 14)
    }
}
