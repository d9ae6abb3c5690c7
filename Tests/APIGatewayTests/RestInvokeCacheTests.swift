import Core
import Foundation
import HTTPTypes
import Logging
import Testing

@testable import APIGateway

/// Invokes of a REST API run from an in-memory view of it (`RestAPIs.loadForInvoke`): kept between requests, dropped by
/// every write and by a snapshot restore, so that a stage serves what its deployment holds and nothing else.
@Suite struct RestInvokeCacheTests {
    static let fnA = "arn:aws:lambda:us-east-1:123456789012:function:a"
    static let fnB = "arn:aws:lambda:us-east-1:123456789012:function:b"

    func withService(_ functions: RecordingFunctions, _ body: (APIGatewayService) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-restcache-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await body(try APIGatewayService(directory: dir, clock: EmulatorClock(), functions: functions, logger: Logger(label: "t")))
    }

    static func integration(_ fn: String) -> String {
        #"{"type":"AWS_PROXY","httpMethod":"POST","uri":"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/\#(fn)/invocations"}"#
    }

    /// A REST API with `ANY /{proxy+}` sending to function a, deployed to stage `Prod`: (api id, resource id, deployment id).
    func proxyAPI(_ s: APIGatewayService) async throws -> (String, String, String) {
        let api = try await json(try await s.handle(httpRequest(.post, "/restapis", body: #"{"name":"c"}"#)))
        let id = try #require(api["id"] as? String), root = try #require(api["rootResourceId"] as? String)
        let resource = try #require(try await json(try await s.handle(httpRequest(.post, "/restapis/\(id)/resources/\(root)",
                                                                                    body: #"{"pathPart":"{proxy+}"}"#)))["id"] as? String)
        let method = "/restapis/\(id)/resources/\(resource)/methods/ANY"
        _ = try await s.handle(httpRequest(.put, method, body: #"{"authorizationType":"NONE"}"#))
        _ = try await s.handle(httpRequest(.put, method + "/integration", body: Self.integration(Self.fnA)))
        let deployment = try #require(try await json(try await s.handle(httpRequest(.post, "/restapis/\(id)/deployments",
                                                                                      body: #"{"stageName":"Prod"}"#)))["id"] as? String)
        return (id, resource, deployment)
    }

    /// The function an invoke of `/<stage>/x` reached (nil when it reached none), and the answer's status.
    func call(_ s: APIGatewayService, _ functions: RecordingFunctions, _ id: String, stage: String = "Prod") async -> (String?, HTTPResponse.Status) {
        let before = functions.count
        let r = await s.hostedResponse(httpRequest(.get, "/\(stage)/x", host: "\(id).execute-api.localhost"))
        return (functions.count > before ? functions.last?.0 : nil, r.status)
    }

    @Test func theViewIsKeptBetweenInvokesAndDroppedByWrites() async throws {
        let functions = RecordingFunctions { _ in Array(#"{"statusCode":200,"body":"ok"}"#.utf8) }
        try await withService(functions) { s in
            let (id, _, _) = try await proxyAPI(s)
            let first = try #require(s.rest.loadForInvoke(id))
            #expect(s.rest.loadForInvoke(id) === first)
            _ = try await s.handle(httpRequest(.patch, "/restapis/\(id)", body: #"{"patchOperations":[{"op":"replace","path":"/description","value":"d"}]}"#))
            let second = try #require(s.rest.loadForInvoke(id))
            #expect(second !== first && second.doc.api["description"] as? String == "d")
            // A snapshot restore replaces the database under the view.
            try await s.resumeAfterRestore()
            #expect(s.rest.loadForInvoke(id) !== second)
        }
    }

    @Test func anIntegrationChangedAfterDeploymentIsServedOnlyOnceRedeployed() async throws {
        let functions = RecordingFunctions { _ in Array(#"{"statusCode":200,"body":"ok"}"#.utf8) }
        try await withService(functions) { s in
            let (id, resource, first) = try await proxyAPI(s)
            #expect(await call(s, functions, id) == (Self.fnA, .ok))
            _ = try await s.handle(httpRequest(.put, "/restapis/\(id)/resources/\(resource)/methods/ANY/integration", body: Self.integration(Self.fnB)))
            #expect(await call(s, functions, id) == (Self.fnA, .ok))
            _ = try await s.handle(httpRequest(.post, "/restapis/\(id)/deployments", body: #"{"stageName":"Prod"}"#))
            #expect(await call(s, functions, id) == (Self.fnB, .ok))
            // The stage moved back to the first deployment: served at once.
            _ = try await s.handle(httpRequest(.patch, "/restapis/\(id)/stages/Prod",
                                               body: #"{"patchOperations":[{"op":"replace","path":"/deploymentId","value":"\#(first)"}]}"#))
            #expect(await call(s, functions, id) == (Self.fnA, .ok))
            // A stage variable set on the stage reaches the next event.
            _ = try await s.handle(httpRequest(.patch, "/restapis/\(id)/stages/Prod",
                                               body: #"{"patchOperations":[{"op":"replace","path":"/variables/color","value":"blue"}]}"#))
            _ = await call(s, functions, id)
            #expect(functions.last?.1["stageVariables"] as? [String: String] == ["color": "blue"])
            // A new stage on an old deployment, then the stage and the API deleted.
            _ = try await s.handle(httpRequest(.post, "/restapis/\(id)/stages", body: #"{"stageName":"old","deploymentId":"\#(first)"}"#))
            #expect(await call(s, functions, id, stage: "old") == (Self.fnA, .ok))
            _ = try await s.handle(httpRequest(.delete, "/restapis/\(id)/stages/old"))
            #expect(await call(s, functions, id, stage: "old") == (nil, .forbidden))
            _ = try await s.handle(httpRequest(.delete, "/restapis/\(id)"))
            #expect(s.rest.loadForInvoke(id) == nil)
            #expect(await call(s, functions, id) == (nil, .forbidden))
        }
    }

    /// A REST API's id asked of the HTTP APIs first is remembered there as none, until an HTTP API write.
    @Test func httpAPIsRememberAnIdThatIsNotTheirs() async throws {
        let functions = RecordingFunctions { _ in Array(#"{"statusCode":200,"body":"ok"}"#.utf8) }
        try await withService(functions) { s in
            let (id, _, _) = try await proxyAPI(s)
            #expect(await call(s, functions, id).1 == .ok)
            let remembered = s.http.routing.withLock { $0.entries[id] }
            #expect(remembered != nil && remembered! == nil)
            _ = try await s.handle(httpRequest(.post, "/v2/apis", body: #"{"name":"h","protocolType":"HTTP"}"#))
            let forgotten = s.http.routing.withLock { $0.entries[id] }
            #expect(forgotten == nil)
            #expect(await call(s, functions, id).1 == .ok)
        }
    }

    @Test func deployedTreeMatchesAsTheStoredResources() {
        let resources: [String: [String: Any]] = [
            "r": ["id": "r", "path": "/"],
            "a": ["id": "a", "parentId": "r", "pathPart": "{proxy+}", "path": "/{proxy+}", "resourceMethods": ["ANY": ["httpMethod": "ANY"]]],
            "b": ["id": "b", "parentId": "r", "pathPart": "items", "path": "/items", "resourceMethods": ["GET": ["httpMethod": "GET"]]],
        ]
        let tree = DeployedTree(resources: resources)
        #expect(tree.match(path: "/items", httpMethod: "GET")?.resource["id"] as? String == "b")
        let greedy = tree.match(path: "/items", httpMethod: "POST")
        #expect(greedy?.resource["id"] as? String == "a" && greedy?.pathParameters == ["proxy": "items"])
        #expect(tree.match(path: "/", httpMethod: "GET") == nil)
        #expect(DeployedTree(resources: [:]).match(path: "/", httpMethod: "GET") == nil)
    }
}
