import Core
import Foundation
import Logging
import Testing

@testable import APIGateway

// CloudFormation's properties as API Gateway's members, and the providers driving a real service in a temporary
// directory: a RestApi from a Body with its deployment and stage, and an HTTP API with its $default stage.

@Suite struct CloudFormationMappingTests {
    @Test func propertiesBecomeCamelCaseButUserMapsKeepTheirKeys() {
        let p: [String: JSON] = ["Quota": .object(["Limit": .number(5), "Period": .string("DAY")]),
                                 "Variables": .object(["Color": .string("blue")]),
                                 "ProviderARNs": .array([.string("arn")]), "Ignored": .string("x")]
        let m = APIGatewayCalls.members(p, ["Quota", "Variables", "ProviderARNs"])
        #expect(m["quota"] == .object(["limit": .number(5), "period": .string("DAY")]))
        #expect(m["variables"] == .object(["Color": .string("blue")]))
        #expect(m["providerARNs"] == .array([.string("arn")]))
        #expect(m["ignored"] == nil)
    }

    @Test func tagsAsListOrMap() {
        let list: JSON = .array([.object(["Key": .string("a"), "Value": .string("1")])])
        #expect(APIGatewayCalls.tagMap(list) == ["a": .string("1")])
        #expect(APIGatewayCalls.tagMap(.object(["b": .string("2")])) == ["b": .string("2")])
        #expect(APIGatewayCalls.tagMap(nil).isEmpty)
    }

    @Test func patchReplacesAndRemoves() {
        let ops = APIGatewayCalls.patch(["/name": "n", "/variables/x": String?.none])
        #expect(ops == .array([.object(["op": .string("replace"), "path": .string("/name"), "value": .string("n")]),
                               .object(["op": .string("remove"), "path": .string("/variables/x")])]))
        #expect(APIGatewayCalls.text(.bool(true)) == "true")
        #expect(APIGatewayCalls.text(.number(30)) == "30")
    }

    @Test func bodyS3LocationIsRefusedAndBodyStringsPassAsIs() throws {
        #expect(throws: AWSError.self) { try APIGatewayCalls.refuseS3Location(["BodyS3Location": .object(["Bucket": .string("b")])]) }
        #expect(try APIGatewayCalls.definition(.string("openapi: 3.0.1\ninfo: {title: t}")) ==
                .object(["openapi": .string("3.0.1"), "info": .object(["title": .string("t")])]))
        #expect(throws: AWSError.self) { try APIGatewayCalls.definition(.number(1)) }
        #expect(try APIGatewayCalls.importInput(.string("openapi: 3.0.1")) == .object(["body": .string("openapi: 3.0.1")]))
        #expect(try APIGatewayCalls.importInput(.object(["openapi": .string("3.0.1")])) == .object(["body": .string(#"{"openapi":"3.0.1"}"#)]))
    }

    @Test func httpChildInputDropsItsPlace() {
        let input = APIGatewayHTTPResources.childInput(["ApiId": .string("a"), "StageName": .string("$default"), "AutoDeploy": .bool(true),
                                                        "StageVariables": .object(["K": .string("v")])])
        #expect(input == ["stageName": .string("$default"), "autoDeploy": .bool(true), "stageVariables": .object(["K": .string("v")])])
    }
}

@Suite struct CloudFormationProviderTests {
    func withService(_ body: (APIGatewayService) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-apicfn-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let functions = RecordingFunctions { _ in Array(#"{"statusCode": 200, "body": "ok"}"#.utf8) }
        try await body(try APIGatewayService(directory: dir, clock: EmulatorClock(), functions: functions, logger: Logger(label: "t")))
    }

    func request(_ type: String, _ properties: [String: JSON]) -> ResourceRequest {
        ResourceRequest(account: "123456789012", region: "us-east-1", stackName: "s", stackId: "sid", logicalId: "L", type: type,
                        properties: properties, tags: [:])
    }

    static let swagger: JSON = .object([
        "swagger": .string("2.0"), "info": .object(["title": .string("t"), "version": .string("1")]),
        "paths": .object(["/hi": .object(["get": .object(["x-amazon-apigateway-integration": .object([
            "type": .string("mock"), "requestTemplates": .object(["application/json": .string(#"{"statusCode": 200}"#)]),
            "responses": .object(["default": .object(["statusCode": .string("200")])]),
        ])])])]),
    ])

    @Test func restApiFromBodyDeploymentAndStage() async throws {
        try await withService { service in
            let p = APIGatewayRestResources(service: service)
            let api = try await p.create(request("AWS::ApiGateway::RestApi", ["Body": Self.swagger, "Name": .string("named")]))
            let doc = try #require(service.rest.loadForInvoke(api.physicalId)?.doc)
            #expect(doc.api["name"] as? String == "named")  // Name beside a Body wins over info.title
            #expect(api.attributes["RootResourceId"]?.string == doc.rootResourceID)
            #expect(doc.resource(path: "/hi") != nil)
            let dep = try await p.create(request("AWS::ApiGateway::Deployment", ["RestApiId": .string(api.physicalId), "StageName": .string("Stage")]))
            let stage = try await p.create(request("AWS::ApiGateway::Stage", ["RestApiId": .string(api.physicalId), "DeploymentId": .string(dep.physicalId),
                                                                               "StageName": .string("Prod"), "Variables": .object(["k": .string("v")])]))
            #expect(stage.ref == "Prod")
            var after = try #require(service.rest.loadForInvoke(api.physicalId)?.doc)
            #expect(Set(after.stages.keys) == ["Prod", "Stage"])
            #expect((after.stages["Prod"]?["variables"] as? [String: Any])?["k"] as? String == "v")
            // Deleting the stack: the stage, then the deployment with the stage it made, then the API; twice is fine.
            try await p.delete(request("AWS::ApiGateway::Stage", ["RestApiId": .string(api.physicalId)]), state: stage)
            try await p.delete(request("AWS::ApiGateway::Deployment", ["RestApiId": .string(api.physicalId), "StageName": .string("Stage")]), state: dep)
            after = try #require(service.rest.loadForInvoke(api.physicalId)?.doc)
            #expect(after.stages.isEmpty && after.deployments.isEmpty)
            try await p.delete(request("AWS::ApiGateway::RestApi", [:]), state: api)
            try await p.delete(request("AWS::ApiGateway::RestApi", [:]), state: api)
            #expect(service.rest.loadForInvoke(api.physicalId) == nil)
        }
    }

    @Test func restApiUpdateAndAuthorizer() async throws {
        try await withService { service in
            let p = APIGatewayRestResources(service: service)
            let api = try await p.create(request("AWS::ApiGateway::RestApi", ["Name": .string("a"), "Description": .string("d")]))
            var update = request("AWS::ApiGateway::RestApi", ["Name": .string("b"), "Body": Self.swagger])
            update.previousProperties = ["Name": .string("a"), "Description": .string("d")]
            let state = try await p.update(update, previous: api)
            #expect(state.physicalId == api.physicalId)
            let doc = try #require(service.rest.loadForInvoke(api.physicalId)?.doc)
            #expect(doc.api["name"] as? String == "b" && doc.api["description"] == nil)  // Description dropped is removed
            #expect(doc.resource(path: "/hi") != nil)  // the new Body was imported over the API
            let auth = try await p.create(request("AWS::ApiGateway::Authorizer", [
                "RestApiId": .string(api.physicalId), "Name": .string("tok"), "Type": .string("TOKEN"),
                "AuthorizerUri": .string("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:f/invocations"),
                "IdentitySource": .string("method.request.header.Authorization"), "AuthorizerResultTtlInSeconds": .number(60),
            ]))
            let stored = try #require(service.rest.loadForInvoke(api.physicalId)?.doc.authorizers[auth.physicalId])
            #expect(stored["name"] as? String == "tok" && stored["authorizerResultTtlInSeconds"] as? Int == 60)
        }
    }

    @Test func modelIsRefused() async throws {
        try await withService { service in
            await #expect(throws: AWSError.self) {
                try await APIGatewayRestResources(service: service).create(request("AWS::ApiGateway::Model", ["RestApiId": .string("x")]))
            }
        }
    }

    @Test func httpApiQuickCreateAndStage() async throws {
        try await withService { service in
            let p = APIGatewayHTTPResources(service: service)
            let api = try await p.create(request("AWS::ApiGatewayV2::Api", ["Name": .string("q"), "ProtocolType": .string("HTTP")]))
            #expect(api.attributes["ApiEndpoint"]?.string?.contains(api.physicalId) == true)
            let stage = try await p.create(request("AWS::ApiGatewayV2::Stage", ["ApiId": .string(api.physicalId), "StageName": .string("$default"),
                                                                              "AutoDeploy": .bool(true)]))
            #expect(stage.physicalId == "$default")
            let route = try await p.create(request("AWS::ApiGatewayV2::Route", ["ApiId": .string(api.physicalId), "RouteKey": .string("GET /a")]))
            #expect(!route.physicalId.isEmpty && route.attributes["RouteId"]?.string == route.physicalId)
            try await p.delete(request("AWS::ApiGatewayV2::Api", [:]), state: api)
            try await p.delete(request("AWS::ApiGatewayV2::Route", ["ApiId": .string(api.physicalId)]), state: route)  // already gone
        }
    }
}
