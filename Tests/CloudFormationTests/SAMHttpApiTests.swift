import Core
import Foundation
import Testing

@testable import CloudFormation

private func integration(_ fn: String, _ version: JSON = "2.0") -> JSON {
    .object([
        "httpMethod": "POST", "type": "aws_proxy", "payloadFormatVersion": version,
        "uri": .object(["Fn::Sub": .string("arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${\(fn)}/invocations")]),
    ])
}

private let createdBy: JSON = .object(["name": "httpapi:createdBy", "x-amazon-apigateway-tag-value": "SAM"])

/// Expected shapes compared with aws-sam-translator 1.115.0's output for the same templates.
@Suite struct SAMHttpApiTests {
    @Test func implicitHttpApiWithDefaultRouteAndPathParameters() throws {
        let r = try expand("""
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  Runtime: python3.11
                  Handler: a.h
                  InlineCode: x
                  Events:
                    Root: {Type: HttpApi}
                    Get: {Type: HttpApi, Properties: {Path: "/items/{id}", Method: GET}}
            """)
        #expect(Set(r.keys) == Set(["Fn", "FnRole", "FnRootPermission", "ServerlessHttpApi",
                                "ServerlessHttpApiApiGatewayDefaultStage"]))
        #expect(r["ServerlessHttpApi"] == .object(["Type": "AWS::ApiGatewayV2::Api", "Properties": .object(["Body": .object([
            "openapi": "3.0.1",
            "info": .object(["version": "1.0", "title": .object(["Ref": "AWS::StackName"])]),
            "tags": .array([createdBy]),
            "paths": .object([
                "$default": .object(["x-amazon-apigateway-any-method": .object([
                    "isDefaultRoute": .bool(true), "responses": .object([:]), "x-amazon-apigateway-integration": integration("Fn.Arn"),
                ])]),
                "/items/{id}": .object(["get": .object([
                    "parameters": .array([.object(["in": "path", "name": "id", "required": .bool(true)])]),
                    "responses": .object([:]), "x-amazon-apigateway-integration": integration("Fn.Arn"),
                ])]),
            ]),
        ])])]))
        #expect(r["ServerlessHttpApiApiGatewayDefaultStage"] == .object(["Type": "AWS::ApiGatewayV2::Stage", "Properties": .object([
            "ApiId": .object(["Ref": "ServerlessHttpApi"]), "AutoDeploy": .bool(true), "StageName": "$default",
            "Tags": .object(["httpapi:createdBy": "SAM"]),
        ])]))
        func sourceArn(_ id: String) -> JSON? { r[id]?["Properties"]?["SourceArn"]?["Fn::Sub"]?.array?[0] }
        #expect(sourceArn("FnRootPermission") == "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/${__Stage__}/*")
        // The $default route's permission covers the function's other routes: no FnGetPermission, as the translator does.
        #expect(r["FnRootPermission"]?["Properties"]?["Principal"] == "apigateway.amazonaws.com")
        #expect(r["FnRootPermission"]?["Properties"]?["SourceArn"]?["Fn::Sub"]?.array?[1] ==
                .object(["__ApiId__": .object(["Ref": "ServerlessHttpApi"]), "__Stage__": "*"]))
    }

    @Test func explicitHttpApiWithStageCorsAuthAndPayload1() throws {
        let r = try expand("""
            Transform: AWS::Serverless-2016-10-31
            Globals:
              HttpApi:
                CorsConfiguration: {AllowOrigins: ["*"], AllowMethods: [GET]}
            Resources:
              MyHttp:
                Type: AWS::Serverless::HttpApi
                Properties:
                  StageName: v1
                  StageVariables: {a: b}
                  Auth:
                    DefaultAuthorizer: Jwt
                    Authorizers:
                      Jwt: {JwtConfiguration: {issuer: "https://issuer", audience: [app]}, IdentitySource: "$request.header.Authorization"}
                      Lam: {FunctionArn: !GetAtt Fn.Arn, AuthorizerPayloadFormatVersion: "2.0", EnableSimpleResponses: true,
                            Identity: {Headers: [X-Key]}}
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  Runtime: python3.11
                  Handler: a.h
                  InlineCode: x
                  Events:
                    Post: {Type: HttpApi, Properties: {ApiId: !Ref MyHttp, Path: /x, Method: post, PayloadFormatVersion: "1.0"}}
                    Any: {Type: HttpApi, Properties: {ApiId: !Ref MyHttp, Path: "/{proxy+}", Method: ANY, Auth: {Authorizer: Lam}}}
              Other:
                Type: AWS::Serverless::Function
                Properties:
                  Runtime: python3.11
                  Handler: a.h
                  InlineCode: x
                  Events: {Get: {Type: HttpApi, Properties: {Path: "/items/{id}", Method: GET}}}
            """)
        #expect(r["OtherGetPermission"]?["Properties"]?["SourceArn"]?["Fn::Sub"]?.array?[0] ==
                "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/${__Stage__}/GET/items/*")
        #expect(r["ServerlessHttpApi"]?["Properties"]?["Body"]?["x-amazon-apigateway-cors"] ==
                .object(["allowOrigins": .array(["*"]), "allowMethods": .array(["GET"])]))
        let body = try #require(r["MyHttp"]?["Properties"]?["Body"])
        #expect(body["x-amazon-apigateway-cors"] == .object(["allowOrigins": .array(["*"]), "allowMethods": .array(["GET"])]))
        #expect(body["paths"]?["/x"]?["post"]?["x-amazon-apigateway-integration"] == integration("Fn.Arn", "1.0"))
        #expect(body["paths"]?["/x"]?["post"]?["security"] == .array([.object(["Jwt": .array([])])]))
        let proxy = try #require(body["paths"]?["/{proxy+}"]?["x-amazon-apigateway-any-method"])
        #expect(proxy["parameters"] == .array([.object(["in": "path", "name": "proxy+", "required": .bool(true)])]))
        #expect(proxy["security"] == .array([.object(["Lam": .array([])])]))
        let schemes = try #require(body["components"]?["securitySchemes"])
        #expect(schemes["Jwt"] == .object(["type": "oauth2", "x-amazon-apigateway-authorizer": .object([
            "jwtConfiguration": .object(["issuer": "https://issuer", "audience": .array(["app"])]),
            "identitySource": "$request.header.Authorization", "type": "jwt",
        ])]))
        #expect(schemes["Lam"]?["x-amazon-apigateway-authorizer"]?["identitySource"] == .array(["$request.header.X-Key"]))
        #expect(schemes["Lam"]?["x-amazon-apigateway-authorizer"]?["enableSimpleResponses"] == .bool(true))
        #expect(r["MyHttpLamAuthorizerPermission"] == nil)  // the translator makes none for HTTP API authorizers
        #expect(schemes["Lam"]?["x-amazon-apigateway-authorizer"]?["authorizerUri"]?["Fn::Sub"]?.array?[0] ==
                "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${__FunctionArn__}/invocations")
        #expect(r["MyHttpv1Stage"]?["Properties"] == .object([
            "ApiId": .object(["Ref": "MyHttp"]), "AutoDeploy": .bool(true), "StageName": "v1",
            "StageVariables": .object(["a": "b"]), "Tags": .object(["httpapi:createdBy": "SAM"]),
        ]))
        #expect(r["FnPostPermission"]?["Properties"]?["SourceArn"]?["Fn::Sub"]?.array?[1] ==
                .object(["__ApiId__": .object(["Ref": "MyHttp"]), "__Stage__": "*"]))
        #expect(r["FnAnyPermission"]?["Properties"]?["SourceArn"]?["Fn::Sub"]?.array?[0] ==
                "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/${__Stage__}/*/*")
    }

    @Test func refusals() throws {
        func refusal(_ resources: String) -> String? {
            message { _ = try expand("Transform: AWS::Serverless-2016-10-31\nResources:\n\(resources)") }
        }
        func fn(_ events: String) -> String {
            "  Fn: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.11, Handler: a.h, InlineCode: x, Events: \(events)}}\n"
        }
        #expect(refusal(fn("{E: {Type: HttpApi, Properties: {Path: /a}}}"))?
            .hasSuffix("Resource with id [Fn] is invalid. Event with id [E] is invalid. Event source must have both Path and Method, or neither (the $default route).") == true)
        #expect(refusal(fn("{E: {Type: HttpApi, Properties: {ApiId: !Ref Q, Path: /a, Method: get}}}") + "  Q: {Type: AWS::SQS::Queue}\n")?
            .hasSuffix("Event with id [E] is invalid. ApiId must be a valid reference to an 'AWS::Serverless::HttpApi' resource in same template.") == true)
        #expect(refusal(fn("{E: {Type: HttpApi, Properties: {Path: /a, Method: get, PayloadFormatVersion: '3.0'}}}"))?
            .contains("PayloadFormatVersion must be '1.0' or '2.0'.") == true)
        #expect(refusal(fn("{E: {Type: HttpApi}}") + "  ServerlessHttpApi: {Type: AWS::SQS::Queue}\n")?
            .contains("Resource with id [ServerlessHttpApi] is invalid.") == true)
    }
}
