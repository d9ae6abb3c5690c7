import Core
import Foundation
import Testing

@testable import CloudFormation

/// Expected shapes compared with aws-sam-translator 1.115.0's output for the same templates.
@Suite struct SAMSimpleTableTests {
    @Test func simpleTables() throws {
        let r = try expand("""
            Transform: AWS::Serverless-2016-10-31
            Globals:
              SimpleTable:
                SSESpecification: {SSEEnabled: true}
            Resources:
              Table:
                Type: AWS::Serverless::SimpleTable
                DeletionPolicy: Retain
                Properties:
                  PrimaryKey: {Name: pk, Type: Number}
                  TableName: t1
                  Tags: {a: b}
              Plain:
                Type: AWS::Serverless::SimpleTable
              Provisioned:
                Type: AWS::Serverless::SimpleTable
                Properties:
                  PrimaryKey: {Name: k, Type: Binary}
                  ProvisionedThroughput: {ReadCapacityUnits: 5, WriteCapacityUnits: 2}
            """)
        #expect(r["Table"] == .object(["Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": .object([
            "AttributeDefinitions": .array([.object(["AttributeName": "pk", "AttributeType": "N"])]),
            "KeySchema": .array([.object(["AttributeName": "pk", "KeyType": "HASH"])]),
            "BillingMode": "PAY_PER_REQUEST", "TableName": "t1", "SSESpecification": .object(["SSEEnabled": .bool(true)]),
            "Tags": .array([.object(["Key": "a", "Value": "b"])]),
        ])]))
        #expect(r["Plain"]?["Properties"] == .object([
            "AttributeDefinitions": .array([.object(["AttributeName": "id", "AttributeType": "S"])]),
            "KeySchema": .array([.object(["AttributeName": "id", "KeyType": "HASH"])]),
            "BillingMode": "PAY_PER_REQUEST", "SSESpecification": .object(["SSEEnabled": .bool(true)]),
        ]))
        #expect(r["Provisioned"]?["Properties"]?["BillingMode"] == nil)
        #expect(r["Provisioned"]?["Properties"]?["ProvisionedThroughput"] == .object(["ReadCapacityUnits": 5, "WriteCapacityUnits": 2]))
        #expect(r["Provisioned"]?["Properties"]?["AttributeDefinitions"]?.array?[0]["AttributeType"] == "B")
    }

    @Test func dynamoDBPolicyTemplatesAndStreamEvent() throws {
        let r = try expand("""
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Table: {Type: AWS::Serverless::SimpleTable}
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  Runtime: python3.11
                  Handler: a.h
                  InlineCode: x
                  Policies:
                    - DynamoDBReadPolicy: {TableName: !Ref Table}
                    - DynamoDBWritePolicy: {TableName: !Ref Table}
                    - DynamoDBReconfigurePolicy: {TableName: !Ref Table}
                    - DynamoDBStreamReadPolicy: {TableName: !Ref Table, StreamName: s1}
                  Events:
                    Stream:
                      Type: DynamoDB
                      Properties: {Stream: !GetAtt Table.StreamArn, StartingPosition: LATEST, BatchSize: 10, MaximumRetryAttempts: 2}
            """)
        let arn = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${tableName}"
        let table: JSON = .object(["tableName": .object(["Ref": "Table"])])
        func sub(_ s: String, _ v: JSON = table) -> JSON { .object(["Fn::Sub": .array([.string(s), v])]) }
        func actions(_ a: [String]) -> JSON { .array(a.map { .string("dynamodb:\($0)") }) }
        let role = try #require(r["FnRole"]?["Properties"])
        let statements = try #require(role["Policies"]?.array).map { $0["PolicyDocument"]?["Statement"] }
        #expect(statements == [
            .array([.object(["Effect": "Allow", "Action": actions(["GetItem", "Scan", "Query", "BatchGetItem", "DescribeTable"]),
                             "Resource": .array([sub(arn), sub(arn + "/index/*")])])]),
            .array([.object(["Effect": "Allow", "Action": actions(["PutItem", "UpdateItem", "BatchWriteItem"]),
                             "Resource": .array([sub(arn), sub(arn + "/index/*")])])]),
            .array([.object(["Effect": "Allow", "Action": actions(["UpdateTable"]), "Resource": sub(arn)])]),
            .array([
                .object(["Effect": "Allow", "Action": actions(["DescribeStream", "GetRecords", "GetShardIterator"]),
                         "Resource": sub(arn + "/stream/${streamName}", .object(["tableName": .object(["Ref": "Table"]), "streamName": "s1"]))]),
                .object(["Effect": "Allow", "Action": actions(["ListStreams"]), "Resource": sub(arn + "/stream/*")]),
            ]),
        ])
        #expect(role["ManagedPolicyArns"] == .array([
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole",
        ]))
        #expect(r["FnStream"] == .object(["Type": "AWS::Lambda::EventSourceMapping", "Properties": .object([
            "FunctionName": .object(["Ref": "Fn"]), "EventSourceArn": .object(["Fn::GetAtt": .array(["Table", "StreamArn"])]),
            "StartingPosition": "LATEST", "BatchSize": 10, "MaximumRetryAttempts": 2,
        ])]))
    }

    @Test func refusals() throws {
        func refusal(_ resources: String) -> String? {
            message { _ = try expand("Transform: AWS::Serverless-2016-10-31\nResources:\n\(resources)") }
        }
        #expect(refusal("  T: {Type: AWS::Serverless::SimpleTable, Properties: {PrimaryKey: {Name: k}}}\n")?
            .hasSuffix("Resource with id [T] is invalid. 'PrimaryKey' is missing required Property 'Name' or 'Type'.") == true)
        #expect(refusal("  T: {Type: AWS::Serverless::SimpleTable, Properties: {PrimaryKey: {Name: k, Type: Bool}}}\n")?
            .contains("'PrimaryKey.Type' must be one of String, Number or Binary.") == true)
        #expect(refusal("""
              Fn: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.11, Handler: a.h, InlineCode: x,
                   Policies: [{DynamoDBCrudPolicy: {}}]}}
            """)?.hasSuffix("Resource with id [Fn] is invalid. Missing parameter 'TableName' for policy template 'DynamoDBCrudPolicy'.") == true)
        #expect(refusal("""
              Fn: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.11, Handler: a.h, InlineCode: x,
                   Events: {S: {Type: DynamoDB, Properties: {StartingPosition: LATEST}}}}}
            """)?.hasSuffix("Resource with id [Fn] is invalid. Event with id [S] is invalid. Missing required property 'Stream'.") == true)
    }
}
