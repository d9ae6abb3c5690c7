import Core
import Foundation
import HTTPTypes
import NIOCore

/// Invoke URLs: `/<stage>/<path>` on `<api-id>.execute-api.…`. The stage's deployment (its copy of the tree) is
/// routed; API keys and authorizers are checked; the integration runs and its answer is mapped as API Gateway does.
extension RestAPIs {
    static func gatewayError(_ status: HTTPResponse.Status, _ message: String?, type: String, key: String = "message") -> AWSResponse {
        var r = RestJSON.response([key: message.map { $0 as Any } ?? NSNull()], status: status)
        r.headers[HTTPField.Name("x-amzn-ErrorType")!] = type
        return r
    }
    static var missingToken: AWSResponse { gatewayError(.forbidden, "Missing Authentication Token", type: "MissingAuthenticationTokenException") }
    static var internalError: AWSResponse { gatewayError(.badGateway, "Internal server error", type: "InternalServerErrorException") }

    func serveInvoke(apiID: String, api: InvokeAPI, _ request: AWSRequest) async -> AWSResponse {
        let requestID = UUID().uuidString.lowercased()
        // The extended request id is both `x-amz-apigw-id` and the event's `requestContext.extendedRequestId`.
        let extendedRequestID = Self.apigwID()
        var response = await route(apiID: apiID, api: api, request, requestID: requestID, extendedRequestID: extendedRequestID)
        response.headers[Self.requestIDHeader] = requestID
        response.headers[Self.apigwIDHeader] = extendedRequestID
        return response
    }

    static let requestIDHeader = HTTPField.Name("x-amzn-RequestId")!
    static let apigwIDHeader = HTTPField.Name("x-amz-apigw-id")!

    /// The `x-amz-apigw-id` (extended request id): 16 characters of base64.
    static func apigwID() -> String {
        String(Data((0..<12).map { _ in UInt8.random(in: 0...255) }).base64EncodedString().prefix(15)) + "="
    }

    private func route(apiID: String, api: InvokeAPI, _ request: AWSRequest, requestID: String, extendedRequestID: String) async -> AWSResponse {
        let (account, region) = (api.account, api.region)
        let parts = request.rawPath.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: true)
        guard let stageName = parts.first.map(String.init), let stage = api.stages[stageName],
              let tree = api.deployments[stage.deploymentID] else { return Self.missingToken }
        let path = parts.count > 1 ? "/" + parts[1] : "/"
        let verb = request.method.rawValue
        guard let found = tree.match(path: path, httpMethod: verb) else { return Self.missingToken }
        guard let body = try? await request.collectBody(limit: 10 << 20) else {
            return Self.gatewayError(.contentTooLarge, "Request Too Long", type: "RequestTooLongException")
        }
        var invoke = InvokeRequest(
            apiID: apiID, account: account, region: region, stage: stageName, requestID: requestID, extendedRequestID: extendedRequestID,
            httpMethod: verb, path: path, resourcePath: found.resource["path"] as? String ?? "/", resourceID: found.resource["id"] as? String ?? "",
            domainName: request.hostName, sourceIP: request.header("x-forwarded-for")?.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "127.0.0.1",
            userAgent: request.header("user-agent") ?? "",
            headers: request.headers.map { ($0.name.rawName, $0.value) }, query: request.query, pathParameters: found.pathParameters,
            stageVariables: stage.variables,
            body: Array(body.readableBytesView), contentType: request.header("content-type"), authorizer: nil,
            requestTimeEpoch: Int64(clock.now() * 1000))
        if found.method["apiKeyRequired"] as? Bool == true {
            guard let key = invoke.header("x-api-key"), apiKeyAllowed(key, account: account, region: region, apiID: apiID, stage: stageName) else {
                return Self.gatewayError(.forbidden, "Forbidden", type: "ForbiddenException")
            }
        }
        if found.method["authorizationType"] as? String == "CUSTOM" {
            guard let authorizer = tree.authorizers[found.method["authorizerId"] as? String ?? ""] else { return Self.internalError }
            switch await authorize(authorizer, invoke) {
            case .allow(let context): invoke.authorizer = context
            case .deny(let r): return r
            }
        }
        guard let integration = found.method["methodIntegration"] as? [String: Any] else { return Self.internalError }
        switch integration["type"] as? String ?? "" {
        case "AWS_PROXY": return await lambdaProxy(integration, invoke, binaryMediaTypes: api.binaryMediaTypes)
        case "MOCK": return mock(integration, invoke)
        case "HTTP_PROXY": return await httpProxy(integration, invoke)
        case "HTTP": return await http(integration, invoke)
        case "AWS": return await lambdaCustom(integration, invoke)
        default: return Self.internalError
        }
    }

    /// `${stageVariables.name}` in an integration's uri.
    static func substituteStageVariables(_ text: String, _ vars: [String: String]) -> String {
        guard text.contains("${stageVariables.") else { return text }
        var out = text
        for (k, v) in vars { out = out.replacingOccurrences(of: "${stageVariables.\(k)}", with: v) }
        return out
    }

    /// The function ARN of `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations`.
    static func functionARN(_ uri: String) -> String? {
        guard let start = uri.range(of: "/functions/"), let end = uri.range(of: "/invocations", options: .backwards),
              start.upperBound <= end.lowerBound else { return nil }
        return String(uri[start.upperBound..<end.lowerBound])
    }

    func invokeFunction(_ uri: String, _ invoke: InvokeRequest, payload: [UInt8]) async -> FunctionInvocationResult? {
        guard let arn = Self.functionARN(Self.substituteStageVariables(uri, invoke.stageVariables)) else { return nil }
        do {
            // Out of the snapshot gate while the function runs: it may call back into Cloudless.
            return try await SnapshotGate.outside { try await functions.invoke(functionARN: arn, payload: payload, from: .apiGateway) }
        } catch {
            logger.info("API Gateway \(invoke.apiID): integration \(arn) failed: \(error)")
            return nil
        }
    }

    func lambdaProxy(_ integration: [String: Any], _ invoke: InvokeRequest, binaryMediaTypes: [String]) async -> AWSResponse {
        let event = RestProxy.event(invoke, binaryMediaTypes: binaryMediaTypes)
        // Core's JSONWriter: JSONSerialization costs tens of microseconds for an event this size.
        let payload = JSONWriter.encode(event)
        guard let result = await invokeFunction(integration["uri"] as? String ?? "", invoke, payload: Array(payload.readableBytesView)),
              result.functionError == nil, let response = RestProxy.response(result.payload) else { return Self.internalError }
        return response
    }

    enum TemplatedRequest {
        case body([UInt8])
        /// API Gateway answers without calling the integration (415).
        case answer(AWSResponse)
    }

    /// The request body after the integration's request template for the request's content type (or passed through).
    func requestBody(_ integration: [String: Any], _ invoke: InvokeRequest) -> TemplatedRequest {
        let templates = integration["requestTemplates"] as? [String: Any] ?? [:]
        let type = invoke.contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? "application/json"
        if let template = templates[type] as? String ?? templates.first(where: { RestProxy.matches(mediaType: $0.key, type) })?.value as? String {
            return .body(Array(RestTemplate.render(template, RestTemplate.Input(invoke: invoke, body: invoke.body)).utf8))
        }
        switch integration["passthroughBehavior"] as? String ?? "WHEN_NO_MATCH" {
        case "NEVER":
            return .answer(Self.gatewayError(.unsupportedMediaType, "Unsupported Media Type", type: "UnsupportedMediaTypeException"))
        case "WHEN_NO_TEMPLATES" where !templates.isEmpty:
            return .answer(Self.gatewayError(.unsupportedMediaType, "Unsupported Media Type", type: "UnsupportedMediaTypeException"))
        default:
            if let template = templates["application/json"] as? String, invoke.contentType == nil {
                return .body(Array(RestTemplate.render(template, RestTemplate.Input(invoke: invoke, body: invoke.body)).utf8))
            }
            return .body(invoke.body)
        }
    }

    func mock(_ integration: [String: Any], _ invoke: InvokeRequest) -> AWSResponse {
        let body: [UInt8]
        switch requestBody(integration, invoke) {
        case .body(let b): body = b
        case .answer(let r): return r
        }
        // The mock's status is the `statusCode` its request template writes.
        let status = (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["statusCode"]
        let code = (status as? NSNumber)?.intValue ?? Int(status as? String ?? "") ?? 200
        return integrationResponse(integration, invoke, status: code, errorMessage: nil, headers: [], body: [])
    }

    func lambdaCustom(_ integration: [String: Any], _ invoke: InvokeRequest) async -> AWSResponse {
        let payload: [UInt8]
        switch requestBody(integration, invoke) {
        case .body(let b): payload = b.isEmpty ? Array("{}".utf8) : b
        case .answer(let r): return r
        }
        guard let result = await invokeFunction(integration["uri"] as? String ?? "", invoke, payload: payload) else { return Self.internalError }
        var message: String?
        if result.functionError != nil {
            let error = try? JSONSerialization.jsonObject(with: Data(result.payload)) as? [String: Any]
            message = error?["errorMessage"] as? String ?? ""
        }
        return integrationResponse(integration, invoke, status: 200, errorMessage: message, headers: [], body: result.payload)
    }

    /// The integration's uri with `{name}` filled from the path parameters (and `integration.request.path` mappings).
    func endpointURL(_ integration: [String: Any], _ invoke: InvokeRequest, proxy: Bool) -> String {
        var uri = Self.substituteStageVariables(integration["uri"] as? String ?? "", invoke.stageVariables)
        var values = invoke.pathParameters
        var extraQuery: [(String, String)] = []
        for (target, source) in integration["requestParameters"] as? [String: Any] ?? [:] {
            guard let value = RestTemplate.parameter(source as? String ?? "", invoke) else { continue }
            if target.hasPrefix("integration.request.path.") { values[String(target.dropFirst("integration.request.path.".count))] = value }
            if target.hasPrefix("integration.request.querystring.") { extraQuery.append((String(target.dropFirst("integration.request.querystring.".count)), value)) }
        }
        for (k, v) in values {
            let encoded = k.hasSuffix("+") || uri.contains("{\(k)+}") ? v : (v.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? v)
            uri = uri.replacingOccurrences(of: "{\(k)+}", with: encoded).replacingOccurrences(of: "{\(k)}", with: encoded)
        }
        let pairs = (proxy ? invoke.query : []) + extraQuery
        if !pairs.isEmpty {
            let allowed = CharacterSet.urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))
            let q = pairs.map { "\($0.0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }
            uri += (uri.contains("?") ? "&" : "?") + q.joined(separator: "&")
        }
        return uri
    }

    func httpProxy(_ integration: [String: Any], _ invoke: InvokeRequest) async -> AWSResponse {
        let verb = (integration["httpMethod"] as? String).flatMap { $0 == "ANY" ? nil : $0 } ?? invoke.httpMethod
        let headers = invoke.headers.filter { !["host", "content-length"].contains($0.0.lowercased()) }
        guard let answer = try? await SnapshotGate.outside({ try await RestHTTPClient.send(method: verb, url: endpointURL(integration, invoke, proxy: true), headers: headers,
                                                          body: invoke.body, timeout: Double(integration["timeoutInMillis"] as? Int ?? 29000) / 1000) }) else {
            return Self.internalError
        }
        guard (100...599).contains(answer.status) else { return Self.internalError }
        var out = HTTPFields()
        for (k, v) in answer.headers where !["connection", "content-length", "transfer-encoding"].contains(k.lowercased()) {
            if let n = HTTPField.Name(k) { out.append(HTTPField(name: n, value: v)) }
        }
        return AWSResponse(status: HTTPResponse.Status(code: answer.status), headers: out, bytes: ByteBuffer(bytes: answer.body))
    }

    func http(_ integration: [String: Any], _ invoke: InvokeRequest) async -> AWSResponse {
        let body: [UInt8]
        switch requestBody(integration, invoke) {
        case .body(let b): body = b
        case .answer(let r): return r
        }
        var headers: [(String, String)] = [("Content-Type", invoke.contentType ?? "application/json")]
        for (target, source) in integration["requestParameters"] as? [String: Any] ?? [:] where target.hasPrefix("integration.request.header.") {
            if let v = RestTemplate.parameter(source as? String ?? "", invoke) { headers.append((String(target.dropFirst("integration.request.header.".count)), v)) }
        }
        let verb = (integration["httpMethod"] as? String).flatMap { $0 == "ANY" ? nil : $0 } ?? invoke.httpMethod
        guard let answer = try? await SnapshotGate.outside({ try await RestHTTPClient.send(method: verb, url: endpointURL(integration, invoke, proxy: false), headers: headers,
                                                          body: body, timeout: Double(integration["timeoutInMillis"] as? Int ?? 29000) / 1000) }) else {
            return Self.internalError
        }
        return integrationResponse(integration, invoke, status: answer.status, errorMessage: nil, headers: answer.headers, body: answer.body)
    }

    /// The method's answer from a non-proxy integration's: the integration response whose `selectionPattern` matches
    /// (the Lambda error message, else the backend's status code), else the default one; its template renders the
    /// body and its `responseParameters` set headers. None fits: 500, as API Gateway answers a missing mapping.
    func integrationResponse(_ integration: [String: Any], _ invoke: InvokeRequest, status: Int, errorMessage: String?,
                             headers: [(String, String)], body: [UInt8]) -> AWSResponse {
        let responses = (integration["integrationResponses"] as? [String: Any] ?? [:]).compactMap { $0.value as? [String: Any] }
            .sorted { ($0["statusCode"] as? String ?? "") < ($1["statusCode"] as? String ?? "") }
        let subject = errorMessage ?? String(status)
        let selected = responses.first { r in
            guard let pattern = r["selectionPattern"] as? String, !pattern.isEmpty else { return false }
            return subject.range(of: "^(?:\(pattern))$", options: [.regularExpression]) != nil
        } ?? responses.first { ($0["selectionPattern"] as? String ?? "").isEmpty }
        guard let chosen = selected else {
            return Self.gatewayError(.internalServerError, "Internal server error", type: "InternalServerErrorException")
        }
        let code = Int(chosen["statusCode"] as? String ?? "").flatMap { (100...599).contains($0) ? $0 : nil } ?? 200
        var out = HTTPFields()
        var bytes = body
        let templates = chosen["responseTemplates"] as? [String: Any] ?? [:]
        if let (type, template) = (templates["application/json"].map { ("application/json", $0) } ?? templates.first.map { ($0.key, $0.value) }),
           let text = template as? String {
            bytes = Array(RestTemplate.render(text, RestTemplate.Input(invoke: invoke, body: body)).utf8)
            out[.contentType] = type
        } else if errorMessage != nil {
            bytes = body
        }
        for (target, source) in chosen["responseParameters"] as? [String: Any] ?? [:] where target.hasPrefix("method.response.header.") {
            let name = String(target.dropFirst("method.response.header.".count))
            let s = source as? String ?? ""
            var value: String?
            if s.hasPrefix("'") && s.hasSuffix("'") && s.count >= 2 { value = String(s.dropFirst().dropLast()) }
            else if s.hasPrefix("integration.response.header.") {
                let h = s.dropFirst("integration.response.header.".count).lowercased()
                value = headers.last { $0.0.lowercased() == h }?.1
            } else if s == "integration.response.body" { value = String(decoding: body, as: UTF8.self) }
            else if s.hasPrefix("integration.response.body.") {
                value = RestTemplate.jsonPath("$." + s.dropFirst("integration.response.body.".count), body).map(RestTemplate.stringify)
            }
            if let value, let n = HTTPField.Name(name) { out[n] = value }
        }
        if out[.contentType] == nil { out[.contentType] = "application/json" }
        return AWSResponse(status: HTTPResponse.Status(code: code), headers: out, bytes: ByteBuffer(bytes: bytes))
    }
}
