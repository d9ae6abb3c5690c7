import Core
import Foundation
import Testing

@testable import CloudFormation

@Suite struct SAMTransformTests {
    @Test func globalsMergedIntoFunction() throws {
        let r = try expand("""
            Transform: AWS::Serverless-2016-10-31
            Globals:
              Function:
                Runtime: python3.11
                Timeout: 10
                Environment: {Variables: {A: "1", B: "2"}}
                Layers: [arn:aws:lambda:us-east-1:123456789012:layer:l1:1]
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  Handler: index.handler
                  Timeout: 20
                  InlineCode: "def handler(e, c): return 1"
                  Environment: {Variables: {B: "3"}}
                  Layers: [arn:aws:lambda:us-east-1:123456789012:layer:l2:1]
                  Tags: {team: x}
            """)
        let p = try #require(r["Fn"]?["Properties"])
        #expect(r["Fn"]?["Type"] == "AWS::Lambda::Function")
        #expect(p["Runtime"] == "python3.11")
        #expect(p["Timeout"] == 20)
        #expect(p["Environment"]?["Variables"] == .object(["A": "1", "B": "3"]))
        #expect(p["Layers"]?.array?.count == 2)
        #expect(p["Code"] == .object(["ZipFile": "def handler(e, c): return 1"]))
        #expect(p["Tags"] == .array([.object(["Key": "lambda:createdBy", "Value": "SAM"]), .object(["Key": "team", "Value": "x"])]))
        #expect(p["Role"] == .object(["Fn::GetAtt": .array(["FnRole", "Arn"])]))
    }

    @Test func codeUriForms() throws {
        let r = try expand("""
            Transform: [AWS::Serverless-2016-10-31]
            Resources:
              A: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.11, Handler: a.h, CodeUri: "s3://bkt/path/code.zip"}}
              B: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.11, Handler: a.h, Role: arn:aws:iam::123456789012:role/r,
                  CodeUri: {Bucket: bkt, Key: k.zip, Version: v1}}}
            """)
        #expect(r["A"]?["Properties"]?["Code"] == .object(["S3Bucket": "bkt", "S3Key": "path/code.zip"]))
        #expect(r["B"]?["Properties"]?["Code"] == .object(["S3Bucket": "bkt", "S3Key": "k.zip", "S3ObjectVersion": "v1"]))
        #expect(r["B"]?["Properties"]?["Role"] == "arn:aws:iam::123456789012:role/r")
        #expect(r["BRole"] == nil)
        #expect(r["ARole"]?["Type"] == "AWS::IAM::Role")
        let m = message { _ = try expand("""
            Transform: AWS::Serverless-2016-10-31
            Resources:
              A: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.11, Handler: a.h, CodeUri: ./src}}
            """) }
        #expect(m?.contains("'CodeUri' is not a valid S3 Uri") == true)
    }

    @Test func generatedRoleAndPolicies() throws {
        let r = try expand("""
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Q: {Type: AWS::SQS::Queue}
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  Runtime: python3.11
                  Handler: a.h
                  InlineCode: x
                  DeadLetterQueue: {Type: SQS, TargetArn: !GetAtt Q.Arn}
                  Policies:
                    - AmazonSQSReadOnlyAccess
                    - arn:aws:iam::123456789012:policy/mine
                    - Statement: [{Effect: Allow, Action: "s3:GetObject", Resource: "*"}]
                    - SQSSendMessagePolicy: {QueueName: !GetAtt Q.QueueName}
                    - S3ReadPolicy: {BucketName: b}
            """)
        let role = try #require(r["FnRole"]?["Properties"])
        #expect(r["FnRole"]?["Type"] == "AWS::IAM::Role")
        #expect(role["AssumeRolePolicyDocument"]?["Statement"]?.array?.first?["Principal"]?["Service"] == .array(["lambda.amazonaws.com"]))
        #expect(role["ManagedPolicyArns"] == .array([
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess", "arn:aws:iam::123456789012:policy/mine",
        ]))
        let policies = try #require(role["Policies"]?.array)
        #expect(policies.map { $0["PolicyName"] } == ["FnRolePolicy2", "FnRolePolicy3", "FnRolePolicy4", "FnRoleDeadLetterQueuePolicy"])
        #expect(policies[0]["PolicyDocument"]?["Statement"]?.array?.first?["Action"] == "s3:GetObject")
        let send = policies[1]["PolicyDocument"]?["Statement"]?.array?.first
        #expect(send?["Action"] == .array(["sqs:SendMessage*"]))
        #expect(send?["Resource"]?["Fn::Sub"]?.array?.last?["queueName"] == .object(["Fn::GetAtt": .array(["Q", "QueueName"])]))
        #expect(policies[2]["PolicyDocument"]?["Statement"]?.array?.first?["Resource"]?.array?.count == 2)
        #expect(role["Tags"] == .array([.object(["Key": "lambda:createdBy", "Value": "SAM"])]))
        #expect(r["Fn"]?["Properties"]?["DeadLetterConfig"] == .object(["TargetArn": .object(["Fn::GetAtt": .array(["Q", "Arn"])])]))
        let m = message { _ = try expand("""
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Fn: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.11, Handler: a.h, InlineCode: x,
                   Policies: [{SNSPublishMessagePolicy: {TopicName: t}}]}}
            """) }
        #expect(m?.contains("Policy template SNSPublishMessagePolicy") == true)
        #expect(m?.contains("is not supported by Cloudless") == true)
    }

    @Test func autoPublishAliasAndFunctionUrl() throws {
        let r = try expand("""
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties: {Runtime: python3.11, Handler: a.h, InlineCode: x, AutoPublishAlias: live,
                             FunctionUrlConfig: {AuthType: NONE, Cors: {AllowOrigins: ["*"]}}}
            """)
        let version = try #require(r.keys.first { $0.hasPrefix("FnVersion") })
        #expect(version.count == "FnVersion".count + 10)
        #expect(r[version]?["Type"] == "AWS::Lambda::Version")
        #expect(r[version]?["Properties"]?["FunctionName"] == .object(["Ref": "Fn"]))
        let alias = try #require(r["FnAliaslive"]?["Properties"])
        #expect(r["FnAliaslive"]?["Type"] == "AWS::Lambda::Alias")
        #expect(alias["Name"] == "live")
        #expect(alias["FunctionVersion"] == .object(["Fn::GetAtt": .array([.string(version), "Version"])]))
        let url = try #require(r["FnUrl"]?["Properties"])
        #expect(r["FnUrl"]?["Type"] == "AWS::Lambda::Url")
        #expect(url["TargetFunctionArn"] == .object(["Ref": "FnAliaslive"]))
        #expect(url["Qualifier"] == "live")
        #expect(url["AuthType"] == "NONE")
        let perm = try #require(r["FnUrlPublicPermissions"]?["Properties"])
        #expect(perm["FunctionUrlAuthType"] == "NONE")
        #expect(perm["Action"] == "lambda:InvokeFunctionUrl")
        #expect(perm["Principal"] == "*")
        // The version id follows the code: new code, new version.
        let r2 = try expand("""
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Fn: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.11, Handler: a.h, InlineCode: y, AutoPublishAlias: live}}
            """)
        #expect(r2.keys.first { $0.hasPrefix("FnVersion") } != version)
        #expect(r2["FnUrl"] == nil)
        // AWS_IAM: a URL but no public permission.
        let r3 = try expand("""
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Fn: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.11, Handler: a.h, InlineCode: y,
                   FunctionUrlConfig: {AuthType: AWS_IAM}}}
            """)
        #expect(r3["FnUrl"]?["Properties"]?["TargetFunctionArn"] == .object(["Ref": "Fn"]))
        #expect(r3["FnUrlPublicPermissions"] == nil)
    }

    @Test func sqsEvent() throws {
        let r = try expand("""
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Q: {Type: AWS::SQS::Queue}
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  Runtime: python3.11
                  Handler: a.h
                  InlineCode: x
                  Events:
                    Jobs:
                      Type: SQS
                      Properties: {Queue: !GetAtt Q.Arn, BatchSize: 5, Enabled: true, MaximumBatchingWindowInSeconds: 2,
                                   FilterCriteria: {Filters: [{Pattern: '{"body": ["x"]}'}]}}
            """)
        let m = try #require(r["FnJobs"]?["Properties"])
        #expect(r["FnJobs"]?["Type"] == "AWS::Lambda::EventSourceMapping")
        #expect(m["FunctionName"] == .object(["Ref": "Fn"]))
        #expect(m["EventSourceArn"] == .object(["Fn::GetAtt": .array(["Q", "Arn"])]))
        #expect(m["BatchSize"] == 5)
        #expect(m["Enabled"] == .bool(true))
        #expect(m["MaximumBatchingWindowInSeconds"] == 2)
        #expect(m["FilterCriteria"]?["Filters"]?.array?.count == 1)
        #expect(r["FnRole"]?["Properties"]?["ManagedPolicyArns"]?.array?.contains("arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole") == true)
    }

    @Test func s3EventMergesIntoBucket() throws {
        let r = try expand("""
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Bucket:
                Type: AWS::S3::Bucket
                Properties:
                  NotificationConfiguration:
                    QueueConfigurations: [{Event: "s3:ObjectCreated:*", Queue: arn:aws:sqs:us-east-1:123456789012:q}]
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  Runtime: python3.11
                  Handler: a.h
                  InlineCode: x
                  Events:
                    Upload:
                      Type: S3
                      Properties:
                        Bucket: !Ref Bucket
                        Events: [s3:ObjectCreated:*, s3:ObjectRemoved:*]
                        Filter: {S3Key: {Rules: [{Name: prefix, Value: in/}]}}
            """)
        let perm = try #require(r["FnUploadPermission"]?["Properties"])
        #expect(perm["Principal"] == "s3.amazonaws.com")
        #expect(perm["Action"] == "lambda:InvokeFunction")
        #expect(perm["SourceAccount"] == .object(["Ref": "AWS::AccountId"]))
        let n = try #require(r["Bucket"]?["Properties"]?["NotificationConfiguration"])
        #expect(n["QueueConfigurations"]?.array?.count == 1)
        let configs = try #require(n["LambdaConfigurations"]?.array)
        #expect(configs.map { $0["Event"] } == ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
        #expect(configs[0]["Function"] == .object(["Fn::GetAtt": .array(["Fn", "Arn"])]))
        #expect(configs[0]["Filter"]?["S3Key"] != nil)
        #expect(r["Bucket"]?["DependsOn"] == .array(["FnUploadPermission"]))
        let m = message { _ = try expand("""
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  Runtime: python3.11
                  Handler: a.h
                  InlineCode: x
                  Events: {Upload: {Type: S3, Properties: {Bucket: other-bucket, Events: s3:ObjectCreated:*}}}
            """) }
        #expect(m?.contains("S3 events must reference an S3 bucket in the same template") == true)
    }

    @Test func refusals() throws {
        func refusal(_ resources: String, globals: String = "") -> String? {
            message { _ = try expand("Transform: AWS::Serverless-2016-10-31\n\(globals)Resources:\n\(resources)") }
        }
        let api = refusal("""
              Fn:
                Type: AWS::Serverless::Function
                Properties: {Runtime: python3.11, Handler: a.h, InlineCode: x, Events: {Tick: {Type: Schedule, Properties: {Schedule: rate(1 minute)}}}}
            """)
        #expect(api?.contains("Event type Schedule") == true)
        #expect(api?.contains("is not supported by Cloudless") == true)
        #expect(refusal("  T: {Type: AWS::Serverless::StateMachine}\n")?.contains("AWS::Serverless::StateMachine") == true)
        #expect(refusal("""
              Fn: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.11, Handler: a.h, InlineCode: x,
                   ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 1}}}
            """)?.contains("Property ProvisionedConcurrencyConfig") == true)
        #expect(refusal("  Q: {Type: AWS::SQS::Queue}\n", globals: "Globals: {LayerVersion: {RetentionPolicy: Delete}}\n")?.contains("Globals section LayerVersion") == true)
        #expect(message { _ = try Template(body: "Transform: AWS::Include\nResources: {Q: {Type: AWS::SQS::Queue}}") }?
            .contains("Transform AWS::Include is not supported by Cloudless") == true)
    }

    @Test func plainResourcesAndOutputsKept() throws {
        let t = try Template(body: """
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Q: {Type: AWS::SQS::Queue}
              Fn: {Type: AWS::Serverless::Function, Condition: Always, Properties: {Runtime: python3.11, Handler: a.h, InlineCode: x}}
            Conditions:
              Always: !Equals [a, a]
            Outputs:
              Name: {Value: !Ref Fn}
              RoleArn: {Value: !GetAtt FnRole.Arn}
            """)
        #expect(t.body["Transform"] == nil)
        #expect(t.resources["Q"]?.type == "AWS::SQS::Queue")
        #expect(t.resources["Fn"]?.condition == "Always")
        #expect(t.resources["FnRole"]?.condition == "Always")
        #expect(t.outputs["RoleArn"] != nil)
        #expect(t.processedBody.contains("AWS::Lambda::Function"))
    }
}
