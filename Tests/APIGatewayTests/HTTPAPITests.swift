import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import Testing

@testable import APIGateway

// HTTP APIs: route selection precedence, the payload 2.0 event, the response mapping rules, CORS preflights, and
// quick create through the service with invokes answered by a stand-in for Lambda.

/// A stand-in for Lambda: answers every invocation with `answer(event)` and records the events.
final class RecordingFunctions: FunctionInvoker {
    private let recorded = Mutex<[(String, [UInt8])]>([])
    let answer: @Sendable ([String: Any]) -> [UInt8]

    /// The last invocation: the function and its event.
    var last: (String, [String: Any])? {
        guard let (arn, payload) = recorded.withLock({ $0.last }) else { return nil }
        return (arn, (try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any]) ?? [:])
    }

    var count: Int { recorded.withLock { $0.count } }

    init(_ answer: @escaping @Sendable ([String: Any]) -> [UInt8]) { self.answer = answer }

    func invoke(functionARN: String, payload: [UInt8], from principal: ServicePrincipal) async throws -> FunctionInvocationResult {
        let event = (try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any]) ?? [:]
        recorded.withLock { $0.append((functionARN, payload)) }
        return FunctionInvocationResult(payload: answer(event), functionError: nil, executedVersion: "$LATEST")
    }
}

func httpRequest(_ method: HTTPRequest.Method, _ target: String, host: String = "127.0.0.1:4566", headers: [(String, String)] = [],
                 body: String = "") -> AWSRequest {
    let parts = target.split(separator: "?", maxSplits: 1)
    let rawQuery = parts.count > 1 ? String(parts[1]) : ""
    let query: [(String, String)] = rawQuery.split(separator: "&").map { item in
        let kv = item.split(separator: "=", maxSplits: 1)
        return (String(kv[0]), kv.count > 1 ? String(kv[1]) : "")
    }
    var fields = HTTPFields()
    for (k, v) in headers { fields.append(HTTPField(name: HTTPField.Name(k)!, value: v)) }
    return AWSRequest(method: method, rawPath: String(parts[0]), rawQuery: rawQuery, query: query, headers: fields, host: host,
                      body: RequestBody(buffer: ByteBuffer(string: body)),
                      caller: CallerIdentity(accountID: "123456789012", region: "us-east-1", accessKeyID: nil), requestID: "r")
}

func json(_ response: AWSResponse) async throws -> [String: Any] {
    var body = response.body
    let bytes = try await collect(&body)
    return (try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]) ?? [:]
}

func collect(_ body: inout ResponseBody) async throws -> [UInt8] {
    let sink = BodySink()
    try await body.write(BodyWriter(sink: sink))
    return sink.bytes
}

/// Collects what a response body writes.
final class BodySink: @unchecked Sendable {
    var bytes: [UInt8] = []
}

struct BodyWriter: ResponseBodyWriter {
    let sink: BodySink
    mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes += Array(buffer.readableBytesView) }
    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for b in buffers { sink.bytes += Array(b.readableBytesView) }
    }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

@Suite struct HTTPRouteSelectionTests {
    let routes = ["GET /items/{id}", "ANY /items/{id}", "GET /items/special", "ANY /{proxy+}", "GET /items/{proxy+}", "$default"]
        .map { DeploymentSnapshot.route($0) }

    func key(_ method: String, _ path: String) -> String? {
        RouteSelection.select(routes, method: method, path: path)?.0.routeKey
    }

    @Test func mostSpecificRouteWins() {
        #expect(key("GET", "/items/special") == "GET /items/special")
        #expect(key("GET", "/items/7") == "GET /items/{id}")
        #expect(key("POST", "/items/7") == "ANY /items/{id}")
        #expect(key("GET", "/items/7/parts") == "GET /items/{proxy+}")
        #expect(key("DELETE", "/items/7/parts") == "ANY /{proxy+}")
        #expect(key("GET", "/") == "$default")
    }

    @Test func parametersAreDecoded() {
        let (route, parameters) = RouteSelection.select(routes, method: "PUT", path: "/a%20b/c")!
        #expect(route.routeKey == "ANY /{proxy+}")
        #expect(parameters == ["proxy": "a b/c"])
        #expect(RouteSelection.select(routes, method: "GET", path: "/items/x%2Fy")?.1 == ["id": "x/y"])
    }

    @Test func noRouteAndNoDefaultIsNil() {
        let only = [DeploymentSnapshot.route("GET /a")]
        #expect(RouteSelection.select(only, method: "GET", path: "/b") == nil)
        #expect(RouteSelection.select(only, method: "POST", path: "/a") == nil)
        #expect(RouteSelection.select(only, method: "GET", path: "/a/") != nil)
    }

    @Test func stageAndPath() {
        #expect(HTTPAPIs.stageAndPath("/prod/items/1", stageNames: ["prod"])! == ("prod", "/items/1"))
        #expect(HTTPAPIs.stageAndPath("/prod", stageNames: ["prod"])! == ("prod", "/"))
        #expect(HTTPAPIs.stageAndPath("/items/1", stageNames: ["prod", "$default"])! == ("$default", "/items/1"))
        #expect(HTTPAPIs.stageAndPath("/items/1", stageNames: ["prod"]) == nil)
    }

    @Test func routeKeysAreValidated() {
        #expect(throws: AWSError.self) { try HTTPAPIs.validateRouteKey("FETCH /a") }
        #expect(throws: AWSError.self) { try HTTPAPIs.validateRouteKey("GET a") }
        #expect(throws: AWSError.self) { try HTTPAPIs.validateRouteKey("GET /{proxy+}/x") }
        #expect(throws: Never.self) { try HTTPAPIs.validateRouteKey("ANY /{proxy+}") }
    }

    @Test func functionARNs() {
        let fn = "arn:aws:lambda:us-east-1:123456789012:function:f"
        #expect(HTTPAPIs.functionARN(fn) == fn)
        #expect(HTTPAPIs.functionARN("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/\(fn)/invocations") == fn)
        #expect(HTTPAPIs.functionARN("https://example.com") == nil)
    }
}

@Suite struct HTTPPayloadTests {
    @Test func event20() throws {
        let request = httpRequest(.post, "/prod/items/1?a=1&a=2&b=", host: "abcdefghij.execute-api.localhost:4566",
                                  headers: [("Cookie", "x=1; y=2"), ("X-Twice", "a"), ("X-Twice", "b"), ("User-Agent", "ua"),
                                            ("Content-Type", "application/json")])
        let ctx = InvokeContext(apiID: "abcdefghij", account: "123456789012", stage: "prod", routeKey: "POST /items/{id}", path: "/items/1",
                                pathParameters: ["id": "1"], stageVariables: ["v": "1"], requestID: "rid=", now: 1_700_000_000.5,
                                sourceIP: "127.0.0.1", authorizer: ["lambda": ["k": "v"]])
        let e = ProxyPayloads.event20(request, body: Array("{\"x\":1}".utf8), ctx)
        #expect(e["version"] as? String == "2.0")
        #expect(e["routeKey"] as? String == "POST /items/{id}")
        #expect(e["rawPath"] as? String == "/prod/items/1")
        #expect(e["rawQueryString"] as? String == "a=1&a=2&b=")
        #expect(e["cookies"] as? [String] == ["x=1", "y=2"])
        let headers = e["headers"] as? [String: String] ?? [:]
        #expect(headers["x-twice"] == "a,b" && headers["cookie"] == nil && headers["user-agent"] == "ua")
        #expect(headers["host"] == "abcdefghij.execute-api.localhost" && headers["x-forwarded-port"] == "4566")
        #expect(e["queryStringParameters"] as? [String: String] == ["a": "1,2", "b": ""])
        #expect(e["pathParameters"] as? [String: String] == ["id": "1"])
        #expect(e["stageVariables"] as? [String: String] == ["v": "1"])
        #expect(e["body"] as? String == "{\"x\":1}" && e["isBase64Encoded"] as? Bool == false)
        let c = e["requestContext"] as? [String: Any] ?? [:]
        #expect(c["domainName"] as? String == "abcdefghij.execute-api.localhost" && c["domainPrefix"] as? String == "abcdefghij")
        #expect(c["requestId"] as? String == "rid=" && c["stage"] as? String == "prod" && c["accountId"] as? String == "123456789012")
        #expect(c["timeEpoch"] as? Int64 == 1_700_000_000_500)
        #expect(c["time"] as? String == "14/Nov/2023:22:13:20 +0000")
        let http = c["http"] as? [String: String] ?? [:]
        #expect(http == ["method": "POST", "path": "/prod/items/1", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "ua"])
        #expect((c["authorizer"] as? [String: Any])?["lambda"] as? [String: String] == ["k": "v"])
    }

    /// An integration that outlasts its timeoutInMillis is answered without (503); one that ends in time, with its value.
    @Test func integrationTimeout() async {
        let late = await HTTPAPIs.withTimeout(milliseconds: 50) { () -> Int in
            try? await Task.sleep(for: .seconds(2))
            return 1
        }
        #expect(late == nil)
        let inTime = await HTTPAPIs.withTimeout(milliseconds: 5000) { 7 }
        #expect(inTime == 7)
    }

    @Test func binaryBodyIsBase64() {
        let request = httpRequest(.put, "/x", headers: [("Content-Type", "application/octet-stream")])
        let ctx = InvokeContext(apiID: "a", account: "1", stage: "$default", routeKey: "$default", path: "/x", requestID: "r", now: 0, sourceIP: "1")
        let e = ProxyPayloads.event20(request, body: [0, 255], ctx)
        #expect(e["body"] as? String == "AP8=" && e["isBase64Encoded"] as? Bool == true)
    }

    func mapped(_ payload: String) async throws -> (Int, [UInt8], HTTPFields) {
        var r = ProxyPayloads.response20(Array(payload.utf8))
        return (r.status.code, try await collect(&r.body), r.headers)
    }

    @Test func responseMappingRules() async throws {
        var (status, body, headers) = try await mapped(#""hello""#)
        #expect(status == 200 && body == Array("hello".utf8) && headers[.contentType] == "application/json")
        (status, body, headers) = try await mapped(#"{"a":1}"#)
        #expect(status == 200 && body == Array(#"{"a":1}"#.utf8) && headers[.contentType] == "application/json")
        (status, body, headers) = try await mapped(#"{"statusCode":201,"headers":{"x-a":"1"},"cookies":["c=1","d=2"],"body":"made"}"#)
        #expect(status == 201 && body == Array("made".utf8) && headers[HTTPField.Name("x-a")!] == "1")
        #expect(headers[fields: .setCookie].map(\.value) == ["c=1", "d=2"])
        (status, body, _) = try await mapped(#"{"statusCode":200,"body":"aGk=","isBase64Encoded":true}"#)
        #expect(status == 200 && body == Array("hi".utf8))
        (status, _, _) = try await mapped("not json")
        #expect(status == 500)
        (status, _, _) = try await mapped(#"{"statusCode":99}"#)
        #expect(status == 500)
        var v1 = ProxyPayloads.response10(Array(#""hello""#.utf8))
        let v1Body = try await collect(&v1.body)
        #expect(v1.status.code == 500 && v1Body == Array(#"{"message":"Internal Server Error"}"#.utf8))
    }
}

@Suite struct HTTPCorsTests {
    let cors = CorsConfiguration(allowOrigins: ["https://a.example"], allowMethods: ["GET", "POST"], allowHeaders: ["X-Token"],
                                 exposeHeaders: ["x-e"], maxAge: 60, allowCredentials: true)

    @Test func preflightFromConfiguration() {
        let r = cors.preflight(origin: "https://a.example", requestHeaders: "x-token")
        #expect(r.status == .noContent)
        #expect(r.headers.value("access-control-allow-origin") == "https://a.example")
        #expect(r.headers.value("access-control-allow-methods") == "GET,POST")
        #expect(r.headers.value("access-control-allow-headers") == "x-token")
        #expect(r.headers.value("access-control-max-age") == "60")
        #expect(r.headers.value("access-control-allow-credentials") == "true")
        #expect(cors.preflight(origin: "https://b.example", requestHeaders: nil).headers.value("access-control-allow-origin") == nil)
        let any = CorsConfiguration(allowOrigins: ["*"], allowHeaders: ["*"])
        let r2 = any.preflight(origin: "https://z.example", requestHeaders: "x-one,x-two")
        #expect(r2.headers.value("access-control-allow-origin") == "*" && r2.headers.value("access-control-allow-headers") == "x-one,x-two")
    }

    @Test func isPreflight() {
        var h = HTTPFields()
        h.set("origin", "https://a.example")
        #expect(!CorsConfiguration.isPreflight(method: .options, headers: h))
        h.set("access-control-request-method", "GET")
        #expect(CorsConfiguration.isPreflight(method: .options, headers: h))
        #expect(!CorsConfiguration.isPreflight(method: .get, headers: h))
    }

    @Test func policyAndGlob() {
        let arn = "arn:aws:execute-api:us-east-1:1:abc/prod/GET/items"
        #expect(HTTPAPIs.glob("arn:aws:execute-api:*:*:abc/*/GET/*", arn))
        #expect(!HTTPAPIs.glob("arn:aws:execute-api:*:*:abc/*/POST/*", arn))
        let allow: [String: Any] = ["Statement": [["Effect": "Allow", "Action": "execute-api:Invoke", "Resource": ["*"]]]]
        #expect(HTTPAPIs.policyAllows(allow, resource: arn))
        let deny: [String: Any] = ["Statement": [["Effect": "Allow", "Action": "execute-api:*", "Resource": "*"],
                                                 ["Effect": "Deny", "Action": "execute-api:Invoke", "Resource": arn]]]
        #expect(!HTTPAPIs.policyAllows(deny, resource: arn))
    }
}

@Suite struct HTTPQuickCreateTests {
    func withService(_ functions: RecordingFunctions, clock: EmulatorClock = EmulatorClock(),
                     _ body: (APIGatewayService) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-apihttp-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await body(try APIGatewayService(directory: dir, clock: clock, functions: functions, logger: Logger(label: "t")))
    }

    /// A REQUEST authorizer's answer is kept for its TTL on the emulator's clock, per identity.
    @Test func authorizerAnswersAreCachedByTTL() async throws {
        let functions = RecordingFunctions { event in
            if event["type"] as? String == "REQUEST" {
                let ok = (event["identitySource"] as? [String])?.first == "good"
                return Array(#"{"isAuthorized":\#(ok),"context":{"n":1}}"#.utf8)
            }
            return Array(#"{"statusCode":200,"body":"in"}"#.utf8)
        }
        let clock = EmulatorClock()
        try await withService(functions, clock: clock) { s in
            let fn = "arn:aws:lambda:us-east-1:123456789012:function:f"
            let id = try #require(try await json(try await s.handle(httpRequest(.post, "/v2/apis", body: #"{"name":"a","protocolType":"HTTP"}"#)))["apiId"] as? String)
            let integration = try await json(try await s.handle(httpRequest(.post, "/v2/apis/\(id)/integrations",
                body: #"{"integrationType":"AWS_PROXY","integrationUri":"\#(fn)","payloadFormatVersion":"2.0"}"#)))["integrationId"] as? String ?? ""
            let authorizer = try await json(try await s.handle(httpRequest(.post, "/v2/apis/\(id)/authorizers",
                body: #"{"name":"z","authorizerType":"REQUEST","authorizerUri":"\#(fn)","authorizerPayloadFormatVersion":"2.0","enableSimpleResponses":true,"identitySource":["$request.header.x-key"],"authorizerResultTtlInSeconds":60}"#)))["authorizerId"] as? String ?? ""
            _ = try await s.handle(httpRequest(.post, "/v2/apis/\(id)/routes",
                body: #"{"routeKey":"GET /r","target":"integrations/\#(integration)","authorizationType":"CUSTOM","authorizerId":"\#(authorizer)"}"#))
            _ = try await s.handle(httpRequest(.post, "/v2/apis/\(id)/stages", body: #"{"stageName":"$default","autoDeploy":true}"#))
            func get(_ key: String?) async -> HTTPResponse.Status {
                await s.hostedResponse(httpRequest(.get, "/r", host: "\(id).execute-api.localhost", headers: key.map { [("x-key", $0)] } ?? [])).status
            }
            #expect(await get(nil) == .unauthorized)
            #expect(functions.count == 0)
            #expect(await get("good") == .ok)
            #expect(functions.count == 2)  // the authorizer, then the integration
            #expect(await get("good") == .ok)
            #expect(functions.count == 3)  // the integration only: the answer was cached
            #expect(await get("bad") == .forbidden)
            #expect(functions.count == 4)
            clock.advance(by: 61)
            #expect(await get("good") == .ok)
            #expect(functions.count == 6)  // expired: the authorizer runs again
        }
    }

    @Test func quickCreateDeploysADefaultRoute() async throws {
        let functions = RecordingFunctions { event in Array(#"{"statusCode":200,"body":"ok"}"#.utf8) }
        try await withService(functions) { s in
            let fn = "arn:aws:lambda:us-east-1:123456789012:function:f"
            let created = try await json(try await s.handle(httpRequest(.post, "/v2/apis", body: #"{"name":"q","protocolType":"HTTP","target":"\#(fn)"}"#)))
            let id = try #require(created["apiId"] as? String)
            #expect(created["apiEndpoint"] as? String == "http://\(id).execute-api.localhost:4566")
            let routes = try await json(try await s.handle(httpRequest(.get, "/v2/apis/\(id)/routes")))["items"] as? [[String: Any]] ?? []
            #expect(routes.map { $0["routeKey"] as? String } == ["$default"])
            let stages = try await json(try await s.handle(httpRequest(.get, "/v2/apis/\(id)/stages")))["items"] as? [[String: Any]] ?? []
            #expect(stages.map { $0["stageName"] as? String } == ["$default"] && stages.first?["autoDeploy"] as? Bool == true)

            var answer = await s.hostedResponse(httpRequest(.get, "/any/path?q=1", host: "\(id).execute-api.localhost:4566"))
            let answered = try await collect(&answer.body)
            #expect(answer.status == .ok && answered == Array("ok".utf8))
            #expect(answer.headers.value("apigw-requestid") != nil)
            let (arn, event) = try #require(functions.last)
            #expect(arn == fn && event["rawPath"] as? String == "/any/path" && event["routeKey"] as? String == "$default")

            // A route added later is live at once on the auto-deployed stage.
            let integrations = try await json(try await s.handle(httpRequest(.get, "/v2/apis/\(id)/integrations")))["items"] as? [[String: Any]] ?? []
            let target = "integrations/\(integrations.first?["integrationId"] as? String ?? "")"
            _ = try await s.handle(httpRequest(.post, "/v2/apis/\(id)/routes", body: #"{"routeKey":"GET /x/{y}","target":"\#(target)"}"#))
            _ = await s.hostedResponse(httpRequest(.get, "/x/7", host: "\(id).execute-api.localhost:4566"))
            #expect(functions.last?.1["routeKey"] as? String == "GET /x/{y}")

            await #expect(throws: AWSError.self) { try await s.handle(httpRequest(.get, "/v2/apis/zzzzzzzzzz")) }
        }
    }
}
