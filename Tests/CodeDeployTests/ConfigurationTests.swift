@testable import CodeDeploy
import Foundation
import Testing

struct ConfigurationTests {
    @Test func canaryShiftsTenPercentThenAll() {
        let c = DeploymentConfigs.predefined["CodeDeployDefault.LambdaCanary10Percent5Minutes"]!
        let steps = DeploymentConfigs.trafficSteps(c)
        #expect(steps.map(\.after) == [0, 300])
        #expect(steps.map(\.weight) == [0.1, 1])
    }

    @Test func linearAddsTenPercentEveryInterval() {
        let c = DeploymentConfigs.predefined["CodeDeployDefault.LambdaLinear10PercentEvery3Minutes"]!
        let steps = DeploymentConfigs.trafficSteps(c)
        #expect(steps.count == 10)
        #expect(steps.first!.weight == 0.1 && steps.first!.after == 0)
        #expect(steps[4].after == 720 && abs(steps[4].weight - 0.5) < 1e-9)
        #expect(steps.last!.weight == 1 && steps.last!.after == 27 * 60)
        let custom: Doc = ["trafficRoutingConfig": ["type": "TimeBasedLinear", "timeBasedLinear": ["linearPercentage": 30, "linearInterval": 2]]]
        #expect(DeploymentConfigs.trafficSteps(custom).map(\.weight) == [0.3, 0.6, 0.9, 1])
        #expect(DeploymentConfigs.trafficSteps(["trafficRoutingConfig": ["type": "AllAtOnce"]]).map(\.weight) == [1])
    }

    @Test func minimumHealthyHostsBatches() {
        let one = DeploymentConfigs.predefined["CodeDeployDefault.OneAtATime"]!
        let half = DeploymentConfigs.predefined["CodeDeployDefault.HalfAtATime"]!
        let all = DeploymentConfigs.predefined["CodeDeployDefault.AllAtOnce"]!
        #expect(DeploymentConfigs.batchSize(one, instances: 3) == 1)
        #expect(DeploymentConfigs.allowedFailures(one, instances: 3) == 0)
        #expect(DeploymentConfigs.batchSize(one, instances: 1) == 1)
        #expect(DeploymentConfigs.batchSize(half, instances: 4) == 2)
        #expect(DeploymentConfigs.batchSize(half, instances: 3) == 1)
        #expect(DeploymentConfigs.allowedFailures(half, instances: 4) == 2)
        #expect(DeploymentConfigs.batchSize(all, instances: 5) == 5)
        #expect(DeploymentConfigs.allowedFailures(all, instances: 5) == 4)
        let hosts: Doc = ["minimumHealthyHosts": ["type": "HOST_COUNT", "value": 2]]
        #expect(DeploymentConfigs.batchSize(hosts, instances: 5) == 3)
        let pct: Doc = ["minimumHealthyHosts": ["type": "FLEET_PERCENT", "value": 75]]
        #expect(DeploymentConfigs.minimumHealthy(pct, instances: 5) == 4)
        #expect(DeploymentConfigs.batchSize(pct, instances: 5) == 1)
    }

    @Test func predefinedConfigurationsCoverThreePlatforms() {
        let names = DeploymentConfigs.predefined.keys
        #expect(names.count == 17)
        #expect(names.contains("CodeDeployDefault.LambdaLinear10PercentEvery1Minute"))
        #expect(names.contains("CodeDeployDefault.ECSLinear10PercentEvery3Minutes"))
        #expect(names.contains("CodeDeployDefault.LambdaCanary10Percent30Minutes"))
    }

    @Test func appSpecYAMLAndJSON() throws {
        let yaml = """
            version: 0.0
            Resources:
              - myFn:
                  Type: AWS::Lambda::Function
                  Properties:
                    Name: "myFn"
                    Alias: "live"
                    CurrentVersion: 1
                    TargetVersion: 2
            Hooks:
              - BeforeAllowTraffic: "pre"
              - AfterAllowTraffic: "post"
            """
        let spec = try LambdaAppSpec.parse(yaml)
        #expect(spec == LambdaAppSpec(functionName: "myFn", alias: "live", currentVersion: "1", targetVersion: "2",
                                      beforeAllowTraffic: "pre", afterAllowTraffic: "post"))
        let json = #"{"version":0.0,"Resources":[{"f":{"Type":"AWS::Lambda::Function","Properties":{"Name":"f","Alias":"a","CurrentVersion":"3","TargetVersion":"4"}}}]}"#
        let j = try LambdaAppSpec.parse(json)
        #expect(j.targetVersion == "4" && j.beforeAllowTraffic == nil)
        #expect(j.aliasARN(account: "1", region: "r") == "arn:aws:lambda:r:1:function:f:a")
        #expect(throws: LambdaAppSpec.Invalid.self) { try LambdaAppSpec.parse("version: 0.0\nResources: []") }
        #expect(throws: LambdaAppSpec.Invalid.self) { try LambdaAppSpec.parse("[unclosed") }
    }
}
