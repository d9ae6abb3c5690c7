import Core
import Foundation
import Testing

@testable import CloudFormation

private func processed(_ yaml: String) throws -> JSON {
    try Template(body: yaml).body
}

/// What the SAM translator (aws-sam-translator 1.115) produces for this template, checked by hand against its output.
private let samTemplate = """
    Transform: AWS::Serverless-2016-10-31
    Resources:
      Dest:
        Type: AWS::SQS::Queue
      Layer:
        Type: AWS::Serverless::LayerVersion
        Properties:
          ContentUri: s3://bucket/layer.zip
          CompatibleRuntimes: [python3.11]
          RetentionPolicy: Delete
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          Runtime: python3.11
          Handler: index.handler
          InlineCode: "def handler(e, c): return 1"
          Layers: [!Ref Layer]
          AutoPublishAlias: live
          EventInvokeConfig:
            MaximumEventAgeInSeconds: 60
            MaximumRetryAttempts: 1
            DestinationConfig:
              OnSuccess: {Type: SQS, Destination: !GetAtt Dest.Arn}
              OnFailure: {Type: SQS}
    Outputs:
      LayerArn: {Value: !Ref Layer}
    """

@Suite struct SAMLayerAndEventInvokeConfigTests {
    @Test func layerVersionGetsTheTranslatorsLogicalIdAndReferencesFollow() throws {
        let t = try processed(samTemplate)
        let r = try #require(t["Resources"]?.object)
        #expect(r["Layer"] == nil)
        let layer = try #require(r["Layer7d423383dd"])
        #expect(layer["Type"] == "AWS::Lambda::LayerVersion")
        #expect(layer["DeletionPolicy"] == "Delete")
        #expect(layer["Properties"] == .object([
            "CompatibleRuntimes": .array(["python3.11"]),
            "Content": .object(["S3Bucket": "bucket", "S3Key": "layer.zip"]),
            "LayerName": "Layer",
        ]))
        #expect(r["Fn"]?["Properties"]?["Layers"] == .array([.object(["Ref": "Layer7d423383dd"])]))
        #expect(t["Outputs"]?["LayerArn"]?["Value"] == .object(["Ref": "Layer7d423383dd"]))
    }

    @Test func layerRetainedByDefaultAndRetentionPolicyChecked() throws {
        let r = try #require(try processed("""
            Transform: AWS::Serverless-2016-10-31
            Resources:
              L:
                Type: AWS::Serverless::LayerVersion
                Properties: {ContentUri: {Bucket: b, Key: k}, LayerName: shared}
            """)["Resources"]?.object)
        let (id, layer) = try #require(r.first)
        #expect(id.hasPrefix("L") && id.count == 11)
        #expect(layer["DeletionPolicy"] == "Retain")
        #expect(layer["Properties"]?["LayerName"] == "shared")
        let bad = message {
            _ = try processed("""
                Transform: AWS::Serverless-2016-10-31
                Resources:
                  L:
                    Type: AWS::Serverless::LayerVersion
                    Properties: {ContentUri: s3://b/k, RetentionPolicy: Keep}
                """)
        }
        #expect(bad?.hasSuffix("Resource with id [L] is invalid. 'RetentionPolicy' must be one of the following options: ['Retain', 'Delete'].") == true)
    }

    @Test func layerIdHashesAttributesAndNonASCIIAsTheTranslatorDoes() throws {
        // aws-sam-translator 1.115 names this layer Shared0c0f625a9d.
        let r = try #require(try processed("""
            Transform: AWS::Serverless-2016-10-31
            Conditions:
              IsOn: {"Fn::Equals": [a, a]}
            Resources:
              Dep: {Type: AWS::SQS::Queue}
              Shared:
                Type: AWS::Serverless::LayerVersion
                Condition: IsOn
                DependsOn: Dep
                Metadata: {BuildMethod: python3.11}
                Properties:
                  LayerName: shared-libs
                  Description: "Bibliothèques partagées — v2"
                  LicenseInfo: MIT
                  ContentUri: {Bucket: b, Key: libs.zip, Version: "3"}
                  CompatibleArchitectures: [x86_64, arm64]
                  RetentionPolicy: retain
            """)["Resources"]?.object)
        let layer = try #require(r["Shared0c0f625a9d"])
        #expect(layer == .object([
            "Type": "AWS::Lambda::LayerVersion", "Condition": "IsOn", "DeletionPolicy": "Retain", "DependsOn": "Dep",
            "Properties": .object([
                "CompatibleArchitectures": .array(["x86_64", "arm64"]),
                "Content": .object(["S3Bucket": "b", "S3Key": "libs.zip", "S3ObjectVersion": "3"]),
                "Description": "Bibliothèques partagées — v2", "LayerName": "shared-libs", "LicenseInfo": "MIT",
            ]),
        ]))
    }

    @Test func translatorHashIsPythonsJSON() {
        // What json.dumps(value, separators=(",", ":"), sort_keys=True) writes.
        var text = ""
        SAMTransform.pythonJSON(.object(["b": "é", "a": .array([1, .number(2.5), .bool(true), .null])]), into: &text)
        #expect(text == #"{"a":[1,2.5,true,null],"b":"\u00e9"}"#)
    }

    @Test func eventInvokeConfigOnTheAliasWithDestinationsAndRolePolicies() throws {
        let r = try #require(try processed(samTemplate)["Resources"]?.object)
        let config = try #require(r["FnEventInvokeConfig"])
        #expect(config["Type"] == "AWS::Lambda::EventInvokeConfig")
        #expect(config["DependsOn"] == .array(["FnAliaslive"]))
        let p = try #require(config["Properties"])
        #expect(p["FunctionName"] == .object(["Ref": "Fn"]))
        #expect(p["Qualifier"] == "live")
        #expect(p["MaximumEventAgeInSeconds"] == 60)
        #expect(p["MaximumRetryAttempts"] == 1)
        #expect(p["DestinationConfig"] == .object([
            "OnSuccess": .object(["Destination": .object(["Fn::GetAtt": .array(["Dest", "Arn"])])]),
            "OnFailure": .object(["Destination": .object(["Fn::GetAtt": .array(["FnEventInvokeConfigOnFailureQueue", "Arn"])])]),
        ]))
        #expect(r["FnEventInvokeConfigOnFailureQueue"]?["Type"] == "AWS::SQS::Queue")
        let policies = try #require(r["FnRole"]?["Properties"]?["Policies"]?.array)
        let names = policies.compactMap { $0["PolicyName"]?.string }
        #expect(names.contains("FnEventInvokeConfigOnSuccessSQSPolicy"))
        #expect(names.contains("FnEventInvokeConfigOnFailureSQSPolicy"))
        let onSuccess = try #require(policies.first { $0["PolicyName"] == "FnEventInvokeConfigOnSuccessSQSPolicy" })
        #expect(onSuccess["PolicyDocument"] == .object(["Statement": .array([.object([
            "Action": "sqs:SendMessage", "Effect": "Allow", "Resource": .object(["Fn::GetAtt": .array(["Dest", "Arn"])]),
        ])])]))
    }

    @Test func eventInvokeConfigWithoutAliasIsOnLatestAndLambdaDestinationGetsInvokePolicy() throws {
        let r = try #require(try processed("""
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  Runtime: python3.11
                  Handler: index.handler
                  InlineCode: "x"
                  EventInvokeConfig:
                    DestinationConfig:
                      OnFailure: {Type: Lambda, Destination: arn:aws:lambda:us-east-1:000000000000:function:other}
            """)["Resources"]?.object)
        #expect(r["FnEventInvokeConfig"]?["Properties"]?["Qualifier"] == "$LATEST")
        #expect(r["FnEventInvokeConfig"]?["DependsOn"] == nil)
        let policies = r["FnRole"]?["Properties"]?["Policies"]?.array ?? []
        #expect(policies.contains { $0["PolicyName"] == "FnEventInvokeConfigOnFailureLambdaPolicy"
            && $0["PolicyDocument"]?["Statement"]?.array?.first?["Action"] == "lambda:InvokeFunction" })
        let bad = message {
            _ = try processed("""
                Transform: AWS::Serverless-2016-10-31
                Resources:
                  Fn:
                    Type: AWS::Serverless::Function
                    Properties:
                      Runtime: python3.11
                      Handler: index.handler
                      InlineCode: "x"
                      EventInvokeConfig: {DestinationConfig: {OnFailure: {Type: Lambda}}}
                """)
        }
        #expect(bad?.hasSuffix("Destination is required if Type is not ['SQS', 'SNS']") == true)
    }
}

@Suite struct TemplateRulesTests {
    private let template = """
        Parameters:
          Env: {Type: String, Default: test}
          Size: {Type: String, Default: small}
          Zones: {Type: CommaDelimitedList, Default: "a,b"}
        Rules:
          TestIsSmall:
            RuleCondition: !Equals [!Ref Env, test]
            Assertions:
              - Assert: {"Fn::Contains": [[small, medium], !Ref Size]}
                AssertDescription: For test, Size must be small or medium
          ZonesKnown:
            Assertions:
              - Assert: {"Fn::EachMemberIn": [!Ref Zones, [a, b, c]]}
                AssertDescription: Unknown zone
              - Assert: {"Fn::Not": [{"Fn::EachMemberEquals": [!Ref Zones, x]}]}
          RegionRule:
            Assertions:
              - Assert: {"Fn::Or": [!Equals [!Ref "AWS::Region", us-east-1], !Equals [!Ref "AWS::Region", eu-west-1]]}
                AssertDescription: Wrong region
        Resources:
          Q: {Type: AWS::SQS::Queue}
        """

    private func check(_ values: [String: String], region: String = "us-east-1") throws {
        let t = try Template(body: template)
        try TemplateRules.check(t, try t.resolveParameters(values), account: "000000000000", region: region,
                                stackName: "s", stackId: "id")
    }

    @Test func passingAssertions() throws {
        try check([:])
        try check(["Env": "prod", "Size": "huge"])  // RuleCondition false: the assertion is not checked
        try check(["Zones": "c"])
    }

    @Test func failingAssertionIsRefusedWithItsDescription() {
        #expect(message { try check(["Size": "huge"]) } == "For test, Size must be small or medium")
        #expect(message { try check(["Zones": "a,z"]) } == "Unknown zone")
        #expect(message { try check([:], region: "ap-south-1") } == "Wrong region")
    }

    @Test func ruleFunctionsOverEC2TypesSeeNoResources() throws {
        let t = try Template(body: """
            Parameters:
              Vpc: {Type: "AWS::EC2::VPC::Id", Default: vpc-1}
            Rules:
              R:
                Assertions:
                  - Assert: {"Fn::EachMemberIn": [{"Fn::ValueOfAll": ["AWS::EC2::Subnet::Id", VpcId]}, {"Fn::RefAll": "AWS::EC2::VPC::Id"}]}
                  - Assert: {"Fn::Not": [{"Fn::Contains": [{"Fn::RefAll": "AWS::EC2::VPC::Id"}, !Ref Vpc]}]}
            Resources:
              Q: {Type: AWS::SQS::Queue}
            """)
        try TemplateRules.check(t, try t.resolveParameters([:]), account: "0", region: "us-east-1", stackName: "s", stackId: "i")
    }
}

@Suite struct DeletionPolicyTests {
    private func resource(_ deletion: String?, _ replace: String?) -> StackResource {
        StackResource(logicalId: "R", type: "AWS::SQS::Queue", properties: [:], state: nil, status: "", updated: 0, sequence: 0,
                      deletionPolicy: deletion, updateReplacePolicy: replace)
    }

    @Test func policiesDecideWhatIsRetained() {
        #expect(StackEngine.retains(resource("Retain", nil), replaced: false, inRollback: false))
        #expect(StackEngine.retains(resource("Retain", nil), replaced: false, inRollback: true))
        #expect(!StackEngine.retains(resource("Snapshot", nil), replaced: false, inRollback: false))
        #expect(StackEngine.retains(resource("RetainExceptOnCreate", nil), replaced: false, inRollback: false))
        #expect(!StackEngine.retains(resource("RetainExceptOnCreate", nil), replaced: false, inRollback: true))
        // A replaced resource follows UpdateReplacePolicy, not DeletionPolicy.
        #expect(!StackEngine.retains(resource("Retain", nil), replaced: true, inRollback: false))
        #expect(StackEngine.retains(resource(nil, "Retain"), replaced: true, inRollback: false))
        #expect(!StackEngine.retains(resource(nil, "Snapshot"), replaced: true, inRollback: false))
    }

    @Test func unrecognizedPoliciesAreRefused() {
        #expect(message { _ = try Template(body: "Resources: {B: {Type: AWS::SQS::Queue, DeletionPolicy: Keep}}") }
            == "Template format error: Unrecognized DeletionPolicy Keep for resource B")
        #expect(message { _ = try Template(body: "Resources: {B: {Type: AWS::SQS::Queue, UpdateReplacePolicy: RetainExceptOnCreate}}") }
            == "Template format error: Unrecognized UpdateReplacePolicy RetainExceptOnCreate for resource B")
        #expect(message { _ = try Template(body: "Resources: {B: {Type: AWS::SQS::Queue, DeletionPolicy: Snapshot, UpdateReplacePolicy: Snapshot}}") } == nil)
    }

    @Test func languageExtensionsLetPoliciesReferToParameters() throws {
        let body = """
            Transform: AWS::LanguageExtensions
            Parameters:
              Policy: {Type: String, Default: Retain}
              Replace: {Type: String, Default: Retain}
            Resources:
              B: {Type: AWS::SQS::Queue, DeletionPolicy: !Ref Policy, UpdateReplacePolicy: !Ref Replace}
            """
        #expect(try Template(body: body).resources["B"]?.deletionPolicy == "Retain")
        #expect(try Template(body: body).resources["B"]?.updateReplacePolicy == "Retain")
        let given = try Template(body: body, parameters: ["Policy": "RetainExceptOnCreate"])
        #expect(given.resources["B"]?.deletionPolicy == "RetainExceptOnCreate")
        #expect(message { _ = try Template(body: body, parameters: ["Policy": "Keep"]) }
            == "Template format error: Unrecognized DeletionPolicy Keep for resource B")
        // Without the transform a Ref is not a policy.
        #expect(message { _ = try Template(body: "Parameters: {P: {Type: String}}\nResources: {B: {Type: AWS::SQS::Queue, DeletionPolicy: !Ref P}}") }
            == #"Template format error: Unrecognized DeletionPolicy {"Ref":"P"} for resource B"#)
    }
}

/// Events and PropagateTags, compared with what aws-sam-translator 1.115 produces for the same template.
@Suite struct SAMEventsAndPropagateTagsTests {
    func template(propagate: Bool) -> String {
        """
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Q: {Type: AWS::SQS::Queue}
          B: {Type: AWS::S3::Bucket}
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.11
              Handler: index.handler
              InlineCode: "x"
              \(propagate ? "PropagateTags: true" : "")
              Tags: {team: a}
              EventInvokeConfig: {DestinationConfig: {OnSuccess: {Type: SQS}}}
              Events:
                Jobs:
                  Type: SQS
                  Properties:
                    Queue: !GetAtt Q.Arn
                    BatchSize: 5
                    MaximumBatchingWindowInSeconds: 2
                    FunctionResponseTypes: [ReportBatchItemFailures]
                    ScalingConfig: {MaximumConcurrency: 2}
                Up:
                  Type: S3
                  Properties:
                    Bucket: !Ref B
                    Events: s3:ObjectCreated:*
                    Filter: {S3Key: {Rules: [{Name: prefix, Value: in/}]}}
        """
    }

    @Test func sqsAndS3EventsAsTheTranslatorWritesThem() throws {
        let r = try #require(try processed(template(propagate: false))["Resources"]?.object)
        #expect(r["FnJobs"]?["Properties"] == .object([
            "BatchSize": 5, "EventSourceArn": .object(["Fn::GetAtt": .array(["Q", "Arn"])]), "FunctionName": .object(["Ref": "Fn"]),
            "FunctionResponseTypes": .array(["ReportBatchItemFailures"]), "MaximumBatchingWindowInSeconds": 2,
            "ScalingConfig": .object(["MaximumConcurrency": 2]),
        ]))
        #expect(r["B"]?["Properties"]?["NotificationConfiguration"] == .object(["LambdaConfigurations": .array([.object([
            "Event": "s3:ObjectCreated:*", "Filter": .object(["S3Key": .object(["Rules": .array([.object(["Name": "prefix", "Value": "in/"])])])]),
            "Function": .object(["Fn::GetAtt": .array(["Fn", "Arn"])]),
        ])])]))
        #expect(r["B"]?["DependsOn"] == .array(["FnUpPermission"]))
        let sam: JSON = .array([.object(["Key": "lambda:createdBy", "Value": "SAM"]), .object(["Key": "team", "Value": "a"])])
        #expect(r["Fn"]?["Properties"]?["Tags"] == sam)
        #expect(r["FnRole"]?["Properties"]?["Tags"] == sam)
        #expect(r["B"]?["Properties"]?["Tags"] == nil)
        #expect(r["FnEventInvokeConfigOnSuccessQueue"]?["Properties"]?["Tags"] == nil)
    }

    @Test func propagateTagsReplacesTheTagsOfGeneratedResourcesAndTheEventBucket() throws {
        let r = try #require(try processed(template(propagate: true))["Resources"]?.object)
        let team: JSON = .array([.object(["Key": "team", "Value": "a"])])
        #expect(r["Fn"]?["Properties"]?["Tags"] == team)
        #expect(r["FnRole"]?["Properties"]?["Tags"] == team)
        #expect(r["B"]?["Properties"]?["Tags"] == team)
        #expect(r["FnEventInvokeConfigOnSuccessQueue"]?["Properties"]?["Tags"] == team)
        #expect(r["FnJobs"]?["Properties"]?["Tags"] == nil)
        #expect(r["Q"]?["Properties"]?["Tags"] == nil)  // not generated, not configured by an event
    }
}

@Suite struct ReplacePolicyActionTests {
    @Test func changeSetShowsWhatHappensToAReplacedResource() async throws {
        let h = try Harness()
        _ = try await h.create("s", "Resources: {A: {Type: Test::Thing, Properties: {Name: a}}, B: {Type: Test::Thing, Properties: {Name: b}}}")
        let next = """
            Resources:
              A: {Type: Test::Thing, Properties: {Name: a2}}
              B: {Type: Test::Thing, UpdateReplacePolicy: Retain, Properties: {Name: b2}}
            """
        try await h.call("CreateChangeSet", ["StackName": "s", "ChangeSetName": "u1", "TemplateBody": next])
        let cs = try h.stack("s").changeSets[0]
        #expect(cs.changes.map { "\($0.logicalId) \($0.replacement ?? "-") \($0.policyAction ?? "-")" }
            == ["A True ReplaceAndDelete", "B True ReplaceAndRetain"])
        let described = try await h.call("DescribeChangeSet", ["StackName": "s", "ChangeSetName": "u1"])
        #expect(described.contains("<PolicyAction>ReplaceAndRetain</PolicyAction>"))
    }
}
