import Core
import Foundation
import Testing

@testable import CloudFormation

/// SAM's DeploymentPreference, compared with what samtranslator 1.110 generates for the same templates.
@Suite struct SAMDeploymentPreferenceTests {
    static func expand(_ preference: String, functions: [String] = ["Fn"]) throws -> [String: JSON] {
        let fns = functions.map { """
              \($0):
                Type: AWS::Serverless::Function
                Properties:
                  Handler: index.handler
                  Runtime: python3.12
                  InlineCode: "def handler(e, c): return 1"
                  AutoPublishAlias: live
                  DeploymentPreference: \(preference)
            """ }.joined(separator: "\n")
        return try Template(body: """
            Transform: AWS::Serverless-2016-10-31
            Resources:
            \(fns)
              Pre: {Type: AWS::Serverless::Function, Properties: {Handler: index.handler, Runtime: python3.12, InlineCode: x}}
              Post: {Type: AWS::Serverless::Function, Properties: {Handler: index.handler, Runtime: python3.12, InlineCode: x}}
            """).body["Resources"]?.object ?? [:]
    }

    static let rollback: JSON = .object([
        "Enabled": .bool(true),
        "Events": .array(["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST"]),
    ])

    @Test func canaryWithHooksAndAlarms() throws {
        let r = try Self.expand("{Type: Canary10Percent5Minutes, Alarms: [errors-alarm], Hooks: {PreTraffic: !Ref Pre, PostTraffic: !Ref Post}}")
        #expect(r["ServerlessDeploymentApplication"] == .object(["Type": "AWS::CodeDeploy::Application",
                                                                 "Properties": .object(["ComputePlatform": "Lambda"])]))
        let role = try #require(r["CodeDeployServiceRole"])
        #expect(role["Type"] == "AWS::IAM::Role")
        #expect(role["Properties"]?["ManagedPolicyArns"] == .array(["arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"]))
        #expect(role["Properties"]?["AssumeRolePolicyDocument"]?["Statement"]?.array?.first?["Principal"]
            == .object(["Service": .array(["codedeploy.amazonaws.com"])]))
        let group = try #require(r["FnDeploymentGroup"])
        #expect(group["Type"] == "AWS::CodeDeploy::DeploymentGroup")
        #expect(group["Properties"] == .object([
            "AlarmConfiguration": .object(["Enabled": .bool(true), "Alarms": .array([.object(["Name": "errors-alarm"])])]),
            "ApplicationName": .object(["Ref": "ServerlessDeploymentApplication"]),
            "AutoRollbackConfiguration": Self.rollback,
            "DeploymentConfigName": .object(["Fn::Sub": .array(["CodeDeployDefault.Lambda${ConfigName}",
                                                                .object(["ConfigName": "Canary10Percent5Minutes"])])]),
            "DeploymentStyle": .object(["DeploymentType": "BLUE_GREEN", "DeploymentOption": "WITH_TRAFFIC_CONTROL"]),
            "ServiceRoleArn": .object(["Fn::GetAtt": .array(["CodeDeployServiceRole", "Arn"])]),
        ]))
        let alias = try #require(r["FnAliaslive"])
        #expect(alias["Type"] == "AWS::Lambda::Alias")
        #expect(alias["UpdatePolicy"] == .object(["CodeDeployLambdaAliasUpdate": .object([
            "ApplicationName": .object(["Ref": "ServerlessDeploymentApplication"]),
            "DeploymentGroupName": .object(["Ref": "FnDeploymentGroup"]),
            "BeforeAllowTrafficHook": .object(["Ref": "Pre"]),
            "AfterAllowTrafficHook": .object(["Ref": "Post"]),
        ])]))
        // The hooks' functions are plain functions, without UpdatePolicy.
        #expect(r["PreAliaslive"] == nil && r["Pre"]?["UpdatePolicy"] == nil)
    }

    @Test func noAlarmsNoHooksCustomConfigAndGivenRole() throws {
        let plain = try Self.expand("{Type: AllAtOnce}")
        #expect(plain["FnDeploymentGroup"]?["Properties"]?["AlarmConfiguration"] == nil)
        #expect(plain["FnAliaslive"]?["UpdatePolicy"] == .object(["CodeDeployLambdaAliasUpdate": .object([
            "ApplicationName": .object(["Ref": "ServerlessDeploymentApplication"]),
            "DeploymentGroupName": .object(["Ref": "FnDeploymentGroup"]),
        ])]))
        let custom = try Self.expand("{Type: MyConfig, Role: 'arn:aws:iam::1:role/x', TriggerConfigurations: [{TriggerName: t}]}")
        let p = try #require(custom["FnDeploymentGroup"]?["Properties"])
        #expect(p["DeploymentConfigName"] == "MyConfig")
        #expect(p["ServiceRoleArn"] == "arn:aws:iam::1:role/x")
        #expect(p["TriggerConfigurations"] == .array([.object(["TriggerName": "t"])]))
        #expect(custom["CodeDeployServiceRole"] == nil)
    }

    @Test func disabledGeneratesNothing() throws {
        let r = try Self.expand("{Type: Linear10PercentEvery1Minute, Enabled: false}")
        #expect(r["ServerlessDeploymentApplication"] == nil && r["FnDeploymentGroup"] == nil)
        #expect(r["FnAliaslive"]?["UpdatePolicy"] == nil)
    }

    @Test func twoFunctionsShareTheApplicationAndRole() throws {
        let r = try Self.expand("{Type: Linear10PercentEvery1Minute}", functions: ["A", "B"])
        #expect(r["ADeploymentGroup"] != nil && r["BDeploymentGroup"] != nil)
        #expect(r["ServerlessDeploymentApplication"] != nil && r["CodeDeployServiceRole"] != nil)
        #expect(r["BAliaslive"]?["UpdatePolicy"]?["CodeDeployLambdaAliasUpdate"]?["DeploymentGroupName"]
            == .object(["Ref": "BDeploymentGroup"]))
    }

    @Test func refusals() throws {
        func message(_ body: () throws -> Void) -> String? {
            do { try body(); return nil } catch let e as AWSError { return e.message } catch { return "\(error)" }
        }
        let noAlias = message {
            _ = try Template(body: """
                Transform: AWS::Serverless-2016-10-31
                Resources:
                  Fn: {Type: AWS::Serverless::Function, Properties: {Handler: i.h, Runtime: python3.12, InlineCode: x,
                       DeploymentPreference: {Type: AllAtOnce}}}
                """)
        }
        #expect(noAlias?.contains("'DeploymentPreference' requires AutoPublishAlias") == true)
        #expect(message { _ = try Self.expand("{Type: AllAtOnce, Hooks: {Before: x}}") }?.contains("Valid hooks are PreTraffic and PostTraffic") == true)
        #expect(message { _ = try Self.expand("{Hooks: {}}") }?.contains("missing required Property 'Type'") == true)
    }
}
