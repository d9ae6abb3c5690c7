@testable import CodeDeploy
import Core
import Foundation
import Testing

/// The CloudFormation types over the service, and the alias deployments CloudFormation starts
/// (CodeDeployLambdaAliasUpdate).
struct CloudFormationTests {
    func request(_ type: String, _ logicalId: String, _ properties: [String: JSON]) -> ResourceRequest {
        ResourceRequest(account: "000000000000", region: "us-east-1", stackName: "st", stackId: "arn:stack/st/1", logicalId: logicalId,
                        type: type, properties: properties, tags: [:])
    }

    static let groupProperties: [String: JSON] = [
        "ApplicationName": .string("app"),
        "DeploymentConfigName": .string("CodeDeployDefault.LambdaLinear10PercentEvery1Minute"),
        "ServiceRoleArn": .string("arn:aws:iam::000000000000:role/r"),
        "DeploymentStyle": .object(["DeploymentType": .string("BLUE_GREEN"), "DeploymentOption": .string("WITH_TRAFFIC_CONTROL")]),
        "AutoRollbackConfiguration": .object(["Enabled": .bool(true), "Events": .array([.string("DEPLOYMENT_FAILURE")])]),
        "AlarmConfiguration": .object(["Enabled": .bool(true), "Alarms": .array([.object(["Name": .string("a1")])])]),
        "Tags": .array([.object(["Key": .string("team"), "Value": .string("x")])]),
    ]

    @Test func propertyNamesBecomeTheAPIsMembers() {
        let body = CodeDeployResources.apiMembers([
            "ECSServices": .array([.object(["ServiceName": .string("s"), "ClusterName": .string("c")])]),
            "OnPremisesInstanceTagFilters": .array([.object(["Key": .string("k"), "Value": .string("v"), "Type": .string("KEY_AND_VALUE")])]),
            "OnPremisesTagSet": .object(["OnPremisesTagSetList": .array([.object(["OnPremisesTagGroup": .array([
                .object(["Key": .string("k"), "Type": .string("KEY_ONLY")])])])])]),
            "LoadBalancerInfo": .object(["TargetGroupInfoList": .array([.object(["Name": .string("tg")])])]),
            "DeploymentGroupName": .string("skipped"),
        ], skipping: ["DeploymentGroupName"])
        #expect(body["deploymentGroupName"] == nil)
        #expect((body["ecsServices"] as? [Doc])?.first?["serviceName"] as? String == "s")
        #expect((body["onPremisesInstanceTagFilters"] as? [Doc])?.first?["Key"] as? String == "k")
        let set = ((body["onPremisesTagSet"] as? Doc)?["onPremisesTagSetList"] as? [[Doc]])
        #expect(set?.first?.first?["Type"] as? String == "KEY_ONLY")
        #expect((((body["loadBalancerInfo"] as? Doc)?["targetGroupInfoList"]) as? [Doc])?.first?["name"] as? String == "tg")
    }

    @Test func applicationConfigAndGroupCreateUpdateDelete() async throws {
        let h = try Harness()
        let p = CodeDeployResources(service: h.service)
        let app = try await p.create(request("AWS::CodeDeploy::Application", "App", ["ApplicationName": "app", "ComputePlatform": "Lambda"]))
        #expect(app.ref == "app")
        let generated = try await p.create(request("AWS::CodeDeploy::DeploymentConfig", "Cfg", [
            "ComputePlatform": "Lambda",
            "TrafficRoutingConfig": .object(["Type": "TimeBasedCanary", "TimeBasedCanary": .object(["CanaryInterval": 3, "CanaryPercentage": 20])]),
        ]))
        #expect(generated.ref.hasPrefix("st-Cfg-"))
        let config = try h.call(CodeDeployService.getDeploymentConfig, ["deploymentConfigName": generated.ref])["deploymentConfigInfo"] as? Doc
        let canary = (config?["trafficRoutingConfig"] as? Doc)?["timeBasedCanary"] as? Doc
        #expect((canary?["canaryPercentage"] as? NSNumber)?.intValue == 20)

        let groupReq = request("AWS::CodeDeploy::DeploymentGroup", "Group", Self.groupProperties)
        let group = try await p.create(groupReq)
        #expect(group.ref.hasPrefix("st-Group-"))
        var info = try h.call(CodeDeployService.getDeploymentGroup, ["applicationName": "app", "deploymentGroupName": group.ref])["deploymentGroupInfo"] as? Doc
        #expect(info?["deploymentConfigName"] as? String == "CodeDeployDefault.LambdaLinear10PercentEvery1Minute")
        #expect(((info?["alarmConfiguration"] as? Doc)?["alarms"] as? [Doc])?.first?["name"] as? String == "a1")
        #expect(try await p.interruptedCreate(groupReq) == group)

        // In place: a new configuration, the alarms dropped, the tag changed.
        var changed = Self.groupProperties
        changed["DeploymentConfigName"] = "CodeDeployDefault.LambdaAllAtOnce"
        changed["AlarmConfiguration"] = nil
        changed["Tags"] = .array([.object(["Key": "team", "Value": "y"])])
        var upd = request("AWS::CodeDeploy::DeploymentGroup", "Group", changed)
        upd.previousProperties = Self.groupProperties
        #expect(try await p.update(upd, previous: group) == group)
        info = try h.call(CodeDeployService.getDeploymentGroup, ["applicationName": "app", "deploymentGroupName": group.ref])["deploymentGroupInfo"] as? Doc
        #expect(info?["deploymentConfigName"] as? String == "CodeDeployDefault.LambdaAllAtOnce")
        #expect((info?["alarmConfiguration"] as? Doc)?["enabled"] as? Bool == false)
        let arn = h.service.arn(h.s, "deploymentgroup", "app/" + group.ref)
        let tags = try h.call(CodeDeployService.listTagsForResource, ["ResourceArn": arn])["Tags"] as? [[String: String]]
        #expect(tags == [["Key": "team", "Value": "y"]])
        guard case .properties(let current) = try await p.currentProperties(upd, state: group) else { Issue.record("no reading"); return }
        #expect(current["DeploymentConfigName"] == "CodeDeployDefault.LambdaAllAtOnce")

        #expect(p.createOnlyProperties(of: "AWS::CodeDeploy::DeploymentGroup") == ["ApplicationName", "DeploymentGroupName"])
        try await p.delete(upd, state: group)
        try await p.delete(upd, state: group)  // already gone: no error
        #expect(try await p.currentProperties(upd, state: group) == .deleted)
        #expect(try await p.interruptedCreate(groupReq) == nil)
    }

    @Test func aliasDeploymentRunsTheCanaryAndReportsItsOutcome() async throws {
        let h = try Harness()
        try EngineTests().lambdaSetup(h)
        let id = try await h.service.deployLambdaAlias(account: h.s.account, region: h.s.region, application: "app", group: "g",
                                                       function: "fn", alias: "live", currentVersion: "1", targetVersion: "2",
                                                       beforeHook: nil, afterHook: nil)
        #expect(try await h.service.deploymentOutcome(account: h.s.account, region: h.s.region, id: id) == nil)
        try await h.eventually("10 %") {
            h.aliases.routing.withLock { $0[EngineTests.alias] } == AliasRouting(version: "1", additionalVersion: "2", additionalWeight: 0.1)
        }
        h.clock.advance(by: 301)
        try await h.eventually("Succeeded") { try h.status(id) == "Succeeded" }
        #expect(try await h.service.deploymentOutcome(account: h.s.account, region: h.s.region, id: id) == DeploymentOutcome(succeeded: true))
    }

    @Test func aliasDeploymentWithAFailingHookFails() async throws {
        let h = try Harness()
        try EngineTests().lambdaSetup(h)
        let id = try await h.service.deployLambdaAlias(account: h.s.account, region: h.s.region, application: "app", group: "g",
                                                       function: "fn", alias: "live", currentVersion: "1", targetVersion: "2",
                                                       beforeHook: "pre", afterHook: "post")
        let spec = try LambdaAppSpec.parse(CodeDeployService.lambdaAppSpec(function: "fn", alias: "live", currentVersion: "1",
                                                                            targetVersion: "2", beforeHook: "pre", afterHook: "post"))
        #expect(spec == LambdaAppSpec(functionName: "fn", alias: "live", currentVersion: "1", targetVersion: "2",
                                      beforeAllowTraffic: "pre", afterAllowTraffic: "post"))
        try await h.eventually("the hook invoked") { !h.functions.invocations.withLock { $0.isEmpty } }
        let exec = h.functions.invocations.withLock { $0[0].1["LifecycleEventHookExecutionId"] } ?? ""
        _ = try h.call(CodeDeployService.putLifecycleEventHookExecutionStatus,
                       ["deploymentId": id, "lifecycleEventHookExecutionId": exec, "status": "Failed"])
        // The outcome waits for the automatic rollback, which puts the alias back on version 1.
        try await h.eventually("an outcome") {
            try await h.service.deploymentOutcome(account: h.s.account, region: h.s.region, id: id) != nil
        }
        #expect(try h.status(id) == "Failed")
        #expect(h.aliases.routing.withLock { $0[EngineTests.alias] } == AliasRouting(version: "1"))
        let outcome = try await h.service.deploymentOutcome(account: h.s.account, region: h.s.region, id: id)
        #expect(outcome?.succeeded == false)
        #expect(outcome?.message?.contains("pre") == true)
    }

    @Test func stopAliasDeploymentsStopsWithRollbackAndReportsBoth() async throws {
        let h = try Harness()
        try EngineTests().lambdaSetup(h)
        let id = try await h.service.deployLambdaAlias(account: h.s.account, region: h.s.region, application: "app", group: "g",
                                                       function: "fn", alias: "live", currentVersion: "1", targetVersion: "2",
                                                       beforeHook: nil, afterHook: nil)
        try await h.eventually("10 %") {
            h.aliases.routing.withLock { $0[EngineTests.alias] } == AliasRouting(version: "1", additionalVersion: "2", additionalWeight: 0.1)
        }
        #expect(try await h.service.stopAliasDeployments(account: h.s.account, region: h.s.region, function: "other", alias: "live").isEmpty)
        #expect(try await h.service.stopAliasDeployments(account: h.s.account, region: h.s.region, function: "fn", alias: "live") == [id])
        try await h.eventually("an outcome") {
            try await h.service.deploymentOutcome(account: h.s.account, region: h.s.region, id: id) != nil
        }
        #expect(try h.status(id) == "Stopped")
        #expect(h.aliases.routing.withLock { $0[EngineTests.alias] } == AliasRouting(version: "1"))
    }
}
