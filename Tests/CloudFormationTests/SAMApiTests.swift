import Core
import Foundation
import Testing

@testable import CloudFormation

private func ids(_ r: [String: JSON], prefix: String) -> [String] { r.keys.filter { $0.hasPrefix(prefix) }.sorted() }

private func proxyIntegration(_ fn: String) -> JSON {
    .object([
        "httpMethod": "POST", "type": "aws_proxy",
        "uri": .object(["Fn::Sub": .string("arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${\(fn)}/invocations")]),
    ])
}

/// Expected shapes compared with aws-sam-translator 1.115.0's output for the same templates (the Deployment's hash
/// aside: the translator hashes Python's repr of its dict, in its insertion order).
@Suite struct SAMApiTests {
    /// The course's lab, fixtures/labs/sam-api/template.yaml, as `sam deploy` uploads it (CodeUri packaged).
    @Test func courseLabExpandsResourceByResource() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../fixtures/labs/sam-api/template.yaml")
        let yaml = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "CodeUri: src/", with: "CodeUri: s3://bkt/code.zip")
        let t = try Template(body: yaml)
        let r = try #require(t.body["Resources"]?.object)
        #expect(Set(r.keys) == Set(["ItemsTable", "ApiFunction", "ApiFunctionRole", "ApiFunctionApiPermissionProd", "ServerlessRestApi",
                                    "ServerlessRestApiProdStage"] + ids(r, prefix: "ServerlessRestApiDeployment")))
        #expect(ids(r, prefix: "ServerlessRestApiDeployment").count == 1)
        // The table is a plain resource: kept as written.
        #expect(r["ItemsTable"]?["Type"] == "AWS::DynamoDB::Table")
        #expect(r["ItemsTable"]?["Properties"]?["BillingMode"] == "PAY_PER_REQUEST")

        let api = try #require(r["ServerlessRestApi"])
        #expect(api["Type"] == "AWS::ApiGateway::RestApi")
        #expect(api["Properties"] == .object(["Body": .object([
            "swagger": "2.0",
            "info": .object(["version": "1.0", "title": .object(["Ref": "AWS::StackName"])]),
            "paths": .object(["/api/{proxy+}": .object(["x-amazon-apigateway-any-method": .object([
                "x-amazon-apigateway-integration": proxyIntegration("ApiFunction.Arn"), "responses": .object([:]),
            ])])]),
        ])]))

        let deploymentId = try #require(ids(r, prefix: "ServerlessRestApiDeployment").first)
        #expect(deploymentId.count == "ServerlessRestApiDeployment".count + 10)
        let deployment = try #require(r[deploymentId]?["Properties"])
        #expect(r[deploymentId]?["Type"] == "AWS::ApiGateway::Deployment")
        #expect(deployment["RestApiId"] == .object(["Ref": "ServerlessRestApi"]))
        #expect(deployment["StageName"] == "Stage")
        #expect(deployment["Description"]?.string?.hasPrefix("RestApi deployment id: \(deploymentId.suffix(10))") == true)

        #expect(r["ServerlessRestApiProdStage"] == .object(["Type": "AWS::ApiGateway::Stage", "Properties": .object([
            "DeploymentId": .object(["Ref": .string(deploymentId)]), "RestApiId": .object(["Ref": "ServerlessRestApi"]),
            "StageName": "Prod",
        ])]))
        #expect(r["ApiFunctionApiPermissionProd"] == .object(["Type": "AWS::Lambda::Permission", "Properties": .object([
            "Action": "lambda:InvokeFunction", "FunctionName": .object(["Ref": "ApiFunction"]),
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": .object(["Fn::Sub": .array([
                "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/${__Stage__}/*/api/*",
                .object(["__ApiId__": .object(["Ref": "ServerlessRestApi"]), "__Stage__": "*"]),
            ])]),
        ])]))

        let tableArn = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${tableName}"
        let policies = try #require(r["ApiFunctionRole"]?["Properties"]?["Policies"]?.array)
        #expect(policies == [.object(["PolicyName": "ApiFunctionRolePolicy0", "PolicyDocument": .object([
            "Version": "2012-10-17",
            "Statement": .array([.object([
                "Effect": "Allow",
                "Action": .array(["dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:Query",
                                  "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem", "dynamodb:DescribeTable",
                                  "dynamodb:ConditionCheckItem"]),
                "Resource": .array([
                    .object(["Fn::Sub": .array([.string(tableArn), .object(["tableName": .object(["Ref": "ItemsTable"])])])]),
                    .object(["Fn::Sub": .array([.string(tableArn + "/index/*"), .object(["tableName": .object(["Ref": "ItemsTable"])])])]),
                ]),
            ])]),
        ])])])
        // The output names the implicit API, which now exists: Ref gives its id.
        #expect(t.body["Outputs"]?["ApiUrl"]?["Value"] == .object(["Fn::Sub": "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/"]))
    }

    @Test func eventsShareTheImplicitApiWithParametersAndMethods() throws {
        let r = try expand("""
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  Runtime: python3.11
                  Handler: a.h
                  InlineCode: x
                  AutoPublishAlias: live
                  Events:
                    Get:
                      Type: Api
                      Properties:
                        Path: /items/{id}
                        Method: get
                        RequestParameters: [method.request.header.Authorization, {method.request.querystring.x: {Required: true}}]
              Other:
                Type: AWS::Serverless::Function
                Properties:
                  Runtime: python3.11
                  Handler: a.h
                  InlineCode: y
                  Events: {Post: {Type: Api, Properties: {Path: /items/, Method: POST}}}
            """)
        let paths = try #require(r["ServerlessRestApi"]?["Properties"]?["Body"]?["paths"])
        #expect(paths["/items/{id}"]?["get"] == .object([
            "x-amazon-apigateway-integration": proxyIntegration("FnAliaslive"), "responses": .object([:]),
            "parameters": .array([
                .object(["in": "header", "name": "Authorization", "required": .bool(false), "type": "string"]),
                .object(["in": "query", "name": "x", "required": .bool(true), "type": "string"]),
            ]),
        ]))
        #expect(paths["/items/"]?["post"]?["x-amazon-apigateway-integration"] == proxyIntegration("Other.Arn"))
        // The alias is what API Gateway invokes; a trailing slash leaves the permission's path.
        #expect(r["FnGetPermissionProd"]?["Properties"]?["FunctionName"] == .object(["Ref": "FnAliaslive"]))
        #expect(r["FnGetPermissionProd"]?["Properties"]?["SourceArn"]?["Fn::Sub"]?.array?[0] ==
                "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/${__Stage__}/GET/items/*")
        #expect(r["OtherPostPermissionProd"]?["Properties"]?["SourceArn"]?["Fn::Sub"]?.array?[0] ==
                "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/${__Stage__}/POST/items")
        #expect(ids(r, prefix: "ServerlessRestApiDeployment").count == 1)
    }

    @Test func changedApiBodyIsANewDeployment() throws {
        func deployment(_ path: String) throws -> String {
            let r = try expand("""
                Transform: AWS::Serverless-2016-10-31
                Resources:
                  Fn:
                    Type: AWS::Serverless::Function
                    Properties: {Runtime: python3.11, Handler: a.h, InlineCode: x, Events: {E: {Type: Api, Properties: {Path: \(path), Method: get}}}}
                """)
            let id = try #require(ids(r, prefix: "ServerlessRestApiDeployment").first)
            #expect(r["ServerlessRestApiProdStage"]?["Properties"]?["DeploymentId"] == .object(["Ref": .string(id)]))
            return id
        }
        let a = try deployment("/a"), again = try deployment("/a"), b = try deployment("/b")
        #expect(a == again)
        #expect(a != b)
    }

    @Test func explicitApiWithCorsAuthAndStage() throws {
        let r = try expand("""
            Transform: AWS::Serverless-2016-10-31
            Globals:
              Api:
                TracingEnabled: true
            Resources:
              MyApi:
                Type: AWS::Serverless::Api
                Properties:
                  StageName: dev
                  Cors: "'*'"
                  Variables: {v: "1"}
                  EndpointConfiguration: REGIONAL
                  MethodSettings: [{HttpMethod: "*", ResourcePath: "/*", ThrottlingRateLimit: 10}]
                  Auth:
                    DefaultAuthorizer: TokAuth
                    Authorizers:
                      TokAuth: {FunctionArn: !GetAtt AuthFn.Arn}
                      ReqAuth: {FunctionArn: !GetAtt AuthFn.Arn, FunctionPayloadType: REQUEST,
                                Identity: {Headers: [X-Token], QueryStrings: [q], ReauthorizeEvery: 0}}
              AuthFn: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.11, Handler: a.h, InlineCode: x}}
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  Runtime: python3.11
                  Handler: a.h
                  InlineCode: x
                  Events:
                    Get: {Type: Api, Properties: {RestApiId: !Ref MyApi, Path: /items, Method: get}}
                    Open: {Type: Api, Properties: {RestApiId: !Ref MyApi, Path: /open, Method: post, Auth: {Authorizer: NONE}}}
                    Req: {Type: Api, Properties: {RestApiId: !Ref MyApi, Path: /req, Method: any, Auth: {Authorizer: ReqAuth}}}
            """)
        #expect(r["ServerlessRestApi"] == nil)
        let props = try #require(r["MyApi"]?["Properties"])
        #expect(r["MyApi"]?["Type"] == "AWS::ApiGateway::RestApi")
        #expect(props["EndpointConfiguration"] == .object(["Types": .array(["REGIONAL"])]))
        #expect(props["Parameters"] == .object(["endpointConfigurationTypes": "REGIONAL"]))
        let paths = try #require(props["Body"]?["paths"])
        #expect(paths["/items"]?["get"]?["security"] == .array([.object(["TokAuth": .array([])])]))
        #expect(paths["/open"]?["post"]?["security"] == nil)
        #expect(paths["/req"]?["x-amazon-apigateway-any-method"]?["security"] == .array([.object(["ReqAuth": .array([])])]))
        // CORS: an OPTIONS mock per path, its methods from the path's, the default authorizer on it as SAM puts it.
        let options = try #require(paths["/items"]?["options"])
        #expect(options["x-amazon-apigateway-integration"] == .object([
            "type": "mock", "requestTemplates": .object(["application/json": "{\n  \"statusCode\" : 200\n}\n"]),
            "responses": .object(["default": .object([
                "statusCode": "200", "responseTemplates": .object(["application/json": "{}\n"]),
                "responseParameters": .object([
                    "method.response.header.Access-Control-Allow-Methods": "'GET,OPTIONS'",
                    "method.response.header.Access-Control-Allow-Origin": "'*'",
                ]),
            ])]),
        ]))
        #expect(options["security"] == .array([.object(["TokAuth": .array([])])]))
        #expect(options["summary"] == "CORS support")
        #expect(paths["/req"]?["options"]?["x-amazon-apigateway-integration"]?["responses"]?["default"]?["responseParameters"]?[
            "method.response.header.Access-Control-Allow-Methods"] == "'DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT'")
        let defs = try #require(props["Body"]?["securityDefinitions"])
        #expect(defs["TokAuth"] == .object([
            "type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "custom",
            "x-amazon-apigateway-authorizer": .object([
                "type": "token",
                "authorizerUri": .object(["Fn::Sub": .array([
                    "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${__FunctionArn__}/invocations",
                    .object(["__FunctionArn__": .object(["Fn::GetAtt": .array(["AuthFn", "Arn"])])]),
                ])]),
            ]),
        ]))
        #expect(defs["ReqAuth"]?["name"] == "Unused")
        #expect(defs["ReqAuth"]?["x-amazon-apigateway-authorizer"]?["type"] == "request")
        #expect(defs["ReqAuth"]?["x-amazon-apigateway-authorizer"]?["identitySource"] == "method.request.header.X-Token, method.request.querystring.q")
        #expect(defs["ReqAuth"]?["x-amazon-apigateway-authorizer"]?["authorizerResultTtlInSeconds"] == 0)
        #expect(r["MyApiTokAuthAuthorizerPermission"]?["Properties"]?["SourceArn"] == .object(["Fn::Sub": .array([
            "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/authorizers/*", .object(["__ApiId__": .object(["Ref": "MyApi"])]),
        ])]))
        #expect(r["MyApiReqAuthAuthorizerPermission"]?["Type"] == "AWS::Lambda::Permission")
        // The stage is named after StageName, and so is each event's permission.
        let deploymentId = try #require(ids(r, prefix: "MyApiDeployment").first)
        #expect(r["MyApidevStage"]?["Properties"] == .object([
            "DeploymentId": .object(["Ref": .string(deploymentId)]), "RestApiId": .object(["Ref": "MyApi"]), "StageName": "dev",
            "TracingEnabled": .bool(true), "Variables": .object(["v": "1"]),
            "MethodSettings": .array([.object(["HttpMethod": "*", "ResourcePath": "/*", "ThrottlingRateLimit": 10])]),
        ]))
        #expect(r["FnGetPermissiondev"]?["Properties"]?["SourceArn"]?["Fn::Sub"]?.array?[1] ==
                .object(["__ApiId__": .object(["Ref": "MyApi"]), "__Stage__": "*"]))
        #expect(r["FnOpenPermissiondev"] != nil && r["FnReqPermissiondev"] != nil)
    }

    @Test func globalsApiShapeTheImplicitApi() throws {
        let r = try expand("""
            Transform: AWS::Serverless-2016-10-31
            Globals:
              Api:
                Cors: {AllowOrigin: "'https://x'", AllowHeaders: "'Content-Type'", MaxAge: 600, AllowCredentials: true}
                Variables: {k: v}
                EndpointConfiguration: {Type: REGIONAL}
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  Runtime: python3.11
                  Handler: a.h
                  InlineCode: x
                  Events:
                    A: {Type: Api, Properties: {Path: /a, Method: post}}
                    B: {Type: Api, Properties: {Path: /a, Method: get}}
            """)
        let api = try #require(r["ServerlessRestApi"]?["Properties"])
        #expect(api["EndpointConfiguration"] == .object(["Types": .array(["REGIONAL"])]))
        let options = try #require(api["Body"]?["paths"]?["/a"]?["options"])
        #expect(options["x-amazon-apigateway-integration"]?["responses"]?["default"]?["responseParameters"] == .object([
            "method.response.header.Access-Control-Allow-Origin": "'https://x'",
            "method.response.header.Access-Control-Allow-Methods": "'GET,OPTIONS,POST'",
            "method.response.header.Access-Control-Allow-Headers": "'Content-Type'",
            "method.response.header.Access-Control-Max-Age": 600,
            "method.response.header.Access-Control-Allow-Credentials": "'true'",
        ]))
        #expect(options["responses"]?["200"]?["headers"]?["Access-Control-Max-Age"] == .object(["type": "integer"]))
        #expect(options["security"] == nil)
        #expect(r["ServerlessRestApiProdStage"]?["Properties"]?["Variables"] == .object(["k": "v"]))
        #expect(r["ServerlessRestApiProdStage"]?["Properties"]?["StageName"] == "Prod")
    }

    @Test func definitionBodyKeepsItsPathsAndGainsTheEvents() throws {
        let r = try expand("""
            Transform: AWS::Serverless-2016-10-31
            Resources:
              MyApi:
                Type: AWS::Serverless::Api
                Properties:
                  StageName: v1
                  DefinitionBody:
                    swagger: "2.0"
                    info: {title: mine}
                    paths:
                      /health: {get: {x-amazon-apigateway-integration: {type: mock}}}
              Fn:
                Type: AWS::Serverless::Function
                Properties: {Runtime: python3.11, Handler: a.h, InlineCode: x,
                             Events: {E: {Type: Api, Properties: {RestApiId: !Ref MyApi, Path: /fn, Method: put}}}}
              Uri:
                Type: AWS::Serverless::Api
                Properties: {StageName: s, DefinitionUri: s3://bkt/api.yaml}
            """)
        let body = try #require(r["MyApi"]?["Properties"]?["Body"])
        #expect(body["info"] == .object(["title": "mine"]))
        #expect(body["paths"]?["/health"]?["get"]?["x-amazon-apigateway-integration"] == .object(["type": "mock"]))
        #expect(body["paths"]?["/fn"]?["put"]?["x-amazon-apigateway-integration"] == proxyIntegration("Fn.Arn"))
        #expect(r["MyApiv1Stage"]?["Properties"]?["StageName"] == "v1")
        #expect(r["Uri"]?["Properties"] == .object(["BodyS3Location": .object(["Bucket": "bkt", "Key": "api.yaml"])]))
        #expect(ids(r, prefix: "UriDeployment").count == 1)
    }

    @Test func refusals() throws {
        func refusal(_ resources: String) -> String? {
            message { _ = try expand("Transform: AWS::Serverless-2016-10-31\nResources:\n\(resources)") }
        }
        func fn(_ events: String) -> String {
            "  Fn: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.11, Handler: a.h, InlineCode: x, Events: \(events)}}\n"
        }
        #expect(refusal(fn("{E: {Type: Api, Properties: {Method: get}}}")) ==
                "Transform AWS::Serverless-2016-10-31 failed with: Invalid Serverless Application Specification document. Number of errors found: 1. Resource with id [Fn] is invalid. Event with id [E] is invalid. Missing required property 'Path'.")
        #expect(refusal(fn("{E: {Type: Api, Properties: {Path: /a}}}"))?
            .hasSuffix("Resource with id [Fn] is invalid. Event with id [E] is invalid. Missing required property 'Method'.") == true)
        #expect(refusal(fn("{E: {Type: Api, Properties: {Path: /a, Method: get, RestApiId: nope}}}"))?
            .hasSuffix("Event with id [E] is invalid. RestApiId must be a valid reference to an 'AWS::Serverless::Api' resource in same template.") == true)
        #expect(refusal(fn("{A: {Type: Api, Properties: {Path: /a, Method: get}}, B: {Type: Api, Properties: {Path: /a, Method: GET}}}"))?
            .hasSuffix("Resource with id [Fn] is invalid. Event with id [B] is invalid. API method \"get\" defined multiple times for path \"/a\".") == true)
        #expect(refusal(fn("{E: {Type: Api, Properties: {Path: /a, Method: get, RequestParameters: [bad]}}}"))?
            .contains("Invalid value for 'RequestParameters' property.") == true)
        #expect(refusal("  A: {Type: AWS::Serverless::Api, Properties: {}}\n")?
            .hasSuffix("Resource with id [A] is invalid. Missing required property 'StageName'.") == true)
        #expect(refusal("  A: {Type: AWS::Serverless::Api, Properties: {StageName: s, Auth: {DefaultAuthorizer: X}}}\n")?
            .hasSuffix("Resource with id [A] is invalid. Unable to set DefaultAuthorizer because 'X' was not defined in 'Authorizers'.") == true)
        #expect(refusal("  A: {Type: AWS::Serverless::Api, Properties: {StageName: s, Models: {}}}\n")?
            .contains("Property Models of AWS::Serverless::Api (resource A) is not supported by Cloudless") == true)
        #expect(refusal("  A: {Type: AWS::Serverless::Api, Properties: {StageName: s, DefinitionUri: s3://b/k, Cors: \"'*'\"}}\n")?
            .hasSuffix("Resource with id [A] is invalid. Cors works only with inline Swagger specified in 'DefinitionBody' property.") == true)
        #expect(refusal("  A: {Type: AWS::Serverless::Api, Properties: {StageName: s, Cors: {AllowMethods: \"'GET'\"}}}\n")?
            .contains("requires 'AllowOrigin'") == true)
    }
}
