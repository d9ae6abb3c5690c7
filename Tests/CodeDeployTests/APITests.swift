@testable import CodeDeploy
import Core
import Foundation
import Testing

struct APITests {
    @Test func applicationsRoundTripAndErrors() throws {
        let h = try Harness()
        _ = try h.call(CodeDeployService.createApplication, ["applicationName": "app", "computePlatform": "Lambda"])
        #expect(code { try h.call(CodeDeployService.createApplication, ["applicationName": "app"]) } == "ApplicationAlreadyExistsException")
        #expect(code { try h.call(CodeDeployService.createApplication, ["applicationName": "x", "computePlatform": "EC2"]) } == "InvalidComputePlatformException")
        #expect(code { try h.call(CodeDeployService.createApplication, [:]) } == "ApplicationNameRequiredException")
        #expect(code { try h.call(CodeDeployService.getApplication, ["applicationName": "nope"]) } == "ApplicationDoesNotExistException")
        let got = try h.call(CodeDeployService.getApplication, ["applicationName": "app"])["application"] as? Doc
        #expect(got?["computePlatform"] as? String == "Lambda")
        _ = try h.call(CodeDeployService.updateApplication, ["applicationName": "app", "newApplicationName": "app2"])
        #expect(try h.call(CodeDeployService.listApplications, [:])["applications"] as? [String] == ["app2"])
        let arn = "arn:aws:codedeploy:us-east-1:000000000000:application:app2"
        _ = try h.call(CodeDeployService.tagResource, ["ResourceArn": arn, "Tags": [["Key": "team", "Value": "a"]]])
        #expect((try h.call(CodeDeployService.listTagsForResource, ["ResourceArn": arn])["Tags"] as? [[String: String]])?.first?["Value"] == "a")
        _ = try h.call(CodeDeployService.deleteApplication, ["applicationName": "app2"])
        #expect(code { try h.call(CodeDeployService.getApplication, ["applicationName": "app2"]) } == "ApplicationDoesNotExistException")
    }

    @Test func configurationsAndGroups() throws {
        let h = try Harness()
        #expect(code { try h.call(CodeDeployService.deleteDeploymentConfig, ["deploymentConfigName": "CodeDeployDefault.OneAtATime"]) } == "InvalidOperationException")
        #expect(code { try h.call(CodeDeployService.getDeploymentConfig, ["deploymentConfigName": "nope"]) } == "DeploymentConfigDoesNotExistException")
        _ = try h.call(CodeDeployService.createDeploymentConfig, ["deploymentConfigName": "two", "minimumHealthyHosts": ["type": "HOST_COUNT", "value": 2]])
        #expect(code { try h.call(CodeDeployService.createDeploymentConfig, ["deploymentConfigName": "two", "minimumHealthyHosts": ["type": "HOST_COUNT", "value": 2]]) } == "DeploymentConfigAlreadyExistsException")
        #expect(code { try h.call(CodeDeployService.createDeploymentConfig, ["deploymentConfigName": "bad", "computePlatform": "Lambda",
                                                                              "trafficRoutingConfig": ["type": "TimeBasedCanary"]]) } == "InvalidTrafficRoutingConfigurationException")
        _ = try h.call(CodeDeployService.createApplication, ["applicationName": "app"])
        let group: Doc = ["applicationName": "app", "deploymentGroupName": "g", "serviceRoleArn": "arn:aws:iam::000000000000:role/r",
                          "deploymentConfigName": "two", "onPremisesInstanceTagFilters": [["Key": "env", "Value": "dev", "Type": "KEY_AND_VALUE"]]]
        _ = try h.call(CodeDeployService.createDeploymentGroup, group)
        #expect(code { try h.call(CodeDeployService.createDeploymentGroup, group) } == "DeploymentGroupAlreadyExistsException")
        var noRole = group
        noRole["deploymentGroupName"] = "h"
        noRole.removeValue(forKey: "serviceRoleArn")
        #expect(code { try h.call(CodeDeployService.createDeploymentGroup, noRole) } == "RoleRequiredException")
        #expect(code { try h.call(CodeDeployService.deleteDeploymentConfig, ["deploymentConfigName": "two"]) } == "DeploymentConfigInUseException")
        var lambdaConfig = group
        lambdaConfig["deploymentGroupName"] = "l"
        lambdaConfig["deploymentConfigName"] = "CodeDeployDefault.LambdaAllAtOnce"
        #expect(code { try h.call(CodeDeployService.createDeploymentGroup, lambdaConfig) } == "InvalidDeploymentConfigNameException")
        #expect(code { try h.call(CodeDeployService.getDeploymentGroup, ["applicationName": "app", "deploymentGroupName": "zz"]) } == "DeploymentGroupDoesNotExistException")
        let info = try h.call(CodeDeployService.getDeploymentGroup, ["applicationName": "app", "deploymentGroupName": "g"])["deploymentGroupInfo"] as? Doc
        #expect(info?["deploymentConfigName"] as? String == "two")
        #expect(code { try h.call(CodeDeployService.getDeployment, ["deploymentId": "d-AAAAAAAAA"]) } == "DeploymentDoesNotExistException")
        #expect(code { try h.call(CodeDeployService.getDeployment, ["deploymentId": "x"]) } == "InvalidDeploymentIdException")
    }

    @Test func onPremisesInstances() throws {
        let h = try Harness()
        _ = try h.call(CodeDeployService.registerOnPremisesInstance, ["instanceName": "a", "iamUserArn": "arn:aws:iam::000000000000:user/a"])
        #expect(code { try h.call(CodeDeployService.registerOnPremisesInstance, ["instanceName": "a", "iamUserArn": "arn:aws:iam::000000000000:user/a"]) } == "InstanceNameAlreadyRegisteredException")
        #expect(code { try h.call(CodeDeployService.registerOnPremisesInstance, ["instanceName": "b"]) } == "IamArnRequiredException")
        _ = try h.call(CodeDeployService.addTagsToOnPremisesInstances, ["instanceNames": ["a"], "tags": [["Key": "env", "Value": "dev"]]])
        let listed = try h.call(CodeDeployService.listOnPremisesInstances, ["tagFilters": [["Key": "env", "Type": "KEY_ONLY"]]])
        #expect(listed["instanceNames"] as? [String] == ["a"])
        _ = try h.call(CodeDeployService.deregisterOnPremisesInstance, ["instanceName": "a"])
        #expect(try h.call(CodeDeployService.listOnPremisesInstances, ["registrationStatus": "Registered"])["instanceNames"] as? [String] == [])
        #expect(code { try h.call(CodeDeployService.getOnPremisesInstance, ["instanceName": "zz"]) } == "InstanceNotRegisteredException")
    }
}
