import Core
import Foundation
import HTTPTypes
import NIOCore

/// What an invoke knows besides the request: which API, stage and route, and what the authorizer said.
struct InvokeContext {
    var apiID: String
    var account: String
    var stage: String
    var routeKey: String
    /// The route's path without the stage (`/items/1`).
    var path: String
    var pathParameters: [String: String] = [:]
    var stageVariables: [String: String] = [:]
    var requestID: String
    var now: Double
    var sourceIP: String
    /// `requestContext.authorizer` (`{"lambda": context}`), when an authorizer ran.
    var authorizer: [String: Any]?
}

/// The Lambda proxy payloads of HTTP APIs (formats 2.0 and 1.0) and how a function's result becomes the answer.
enum ProxyPayloads {
    /// Payload format 2.0.
    static func event20(_ request: AWSRequest, body: [UInt8], _ ctx: InvokeContext) -> [String: Any] {
        var c = HTTPEvent20.Context(apiID: ctx.apiID, accountID: ctx.account, routeKey: ctx.routeKey, stage: ctx.stage,
                                    requestID: ctx.requestID, now: ctx.now, sourceIP: ctx.sourceIP, authorizer: ctx.authorizer)
        c.pathParameters = ctx.pathParameters
        c.stageVariables = ctx.stageVariables
        return HTTPEvent20.event(request, body: body, c)
    }

    /// Payload format 1.0 (REST APIs' proxy event, as HTTP APIs send it).
    static func event10(_ request: AWSRequest, body: [UInt8], _ ctx: InvokeContext) -> [String: Any] {
        var headers: [String: String] = [:]
        var multiHeaders: [String: [String]] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = field.value
            multiHeaders[name, default: []].append(field.value)
        }
        if headers["host"] == nil {
            headers["host"] = request.hostName
            multiHeaders["host"] = [request.hostName]
        }
        var query: [String: String] = [:]
        var multiQuery: [String: [String]] = [:]
        for (k, v) in request.query {
            query[k] = v
            multiQuery[k, default: []].append(v)
        }
        let resource = ctx.routeKey.split(separator: " ", maxSplits: 1).last.map(String.init) ?? ctx.routeKey
        var context: [String: Any] = [
            "accountId": ctx.account, "apiId": ctx.apiID, "domainName": request.hostName, "domainPrefix": ctx.apiID,
            "extendedRequestId": ctx.requestID, "httpMethod": request.method.rawValue, "path": request.rawPath, "protocol": "HTTP/1.1",
            "requestId": ctx.requestID, "requestTime": HTTPEvent20.requestTime(ctx.now), "requestTimeEpoch": Int64(ctx.now * 1000),
            "resourceId": ctx.routeKey, "resourcePath": resource, "stage": ctx.stage,
            "identity": ["sourceIp": ctx.sourceIP, "userAgent": request.header("user-agent") ?? NSNull(), "accessKey": NSNull(),
                         "accountId": NSNull(), "caller": NSNull(), "cognitoAuthenticationProvider": NSNull(),
                         "cognitoAuthenticationType": NSNull(), "cognitoIdentityId": NSNull(), "cognitoIdentityPoolId": NSNull(),
                         "principalOrgId": NSNull(), "user": NSNull(), "userArn": NSNull()],
        ]
        if let a = ctx.authorizer { context["authorizer"] = a }
        var event: [String: Any] = [
            "version": "1.0", "resource": resource, "path": ctx.path, "httpMethod": request.method.rawValue,
            "headers": headers, "multiValueHeaders": multiHeaders,
            "queryStringParameters": query.isEmpty ? NSNull() : query, "multiValueQueryStringParameters": multiQuery.isEmpty ? NSNull() : multiQuery,
            "requestContext": context, "pathParameters": ctx.pathParameters.isEmpty ? NSNull() : ctx.pathParameters,
            "stageVariables": ctx.stageVariables.isEmpty ? NSNull() : ctx.stageVariables, "body": NSNull(), "isBase64Encoded": false,
        ]
        HTTPEvent20.setBody(&event, request, body)
        return event
    }

    /// `{"message":"Internal Server Error"}`: a function error or a result API Gateway cannot map.
    static func internalServerError() -> AWSResponse {
        RestJSON.response(["message": "Internal Server Error"], status: .internalServerError)
    }

    /// The answer for a 2.0 result: an object with `statusCode` describes the response; any other JSON is a 200
    /// `application/json` body (a string as itself); what is not JSON is a 500.
    static func response20(_ payload: [UInt8]) -> AWSResponse {
        guard let result = try? JSONSerialization.jsonObject(with: Data(payload), options: [.fragmentsAllowed]) else {
            return internalServerError()
        }
        guard let shaped = result as? [String: Any], shaped["statusCode"] != nil else {
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            if let text = result as? String { return AWSResponse(status: .ok, headers: headers, bytes: ByteBuffer(string: text)) }
            return AWSResponse(status: .ok, headers: headers, bytes: ByteBuffer(bytes: payload))
        }
        return shapedResponse(shaped, defaultContentType: "application/json") ?? internalServerError()
    }

    /// The answer for a 1.0 result: it must be an object with `statusCode`.
    static func response10(_ payload: [UInt8]) -> AWSResponse {
        guard let shaped = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any], shaped["statusCode"] != nil else {
            return internalServerError()
        }
        return shapedResponse(shaped, defaultContentType: nil) ?? internalServerError()
    }

    /// statusCode, headers (and 1.0's multiValueHeaders), cookies (2.0), body and isBase64Encoded; nil when malformed.
    static func shapedResponse(_ shaped: [String: Any], defaultContentType: String?) -> AWSResponse? {
        let code = (shaped["statusCode"] as? NSNumber)?.intValue ?? (shaped["statusCode"] as? String).flatMap { Int($0) }
        guard let code, (100...599).contains(code) else { return nil }
        var headers = HTTPFields()
        func text(_ value: Any) -> String { (value as? String) ?? (value as? NSNumber).map { "\($0)" } ?? "\(value)" }
        for (name, values) in (shaped["multiValueHeaders"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let n = HTTPField.Name(name) else { continue }
            for v in values as? [Any] ?? [] { headers.append(HTTPField(name: n, value: text(v))) }
        }
        for (name, value) in (shaped["headers"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let n = HTTPField.Name(name) else { continue }
            headers[n] = text(value)
        }
        for cookie in shaped["cookies"] as? [String] ?? [] { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        if headers[.contentType] == nil, let defaultContentType { headers[.contentType] = defaultContentType }
        var body: [UInt8] = []
        if let s = shaped["body"] as? String {
            if shaped["isBase64Encoded"] as? Bool == true {
                guard let d = Data(base64Encoded: s) else { return nil }
                body = Array(d)
            } else {
                body = Array(s.utf8)
            }
        } else if let other = shaped["body"], !(other is NSNull) {
            body = Array((try? JSONSerialization.data(withJSONObject: other, options: [.fragmentsAllowed, .withoutEscapingSlashes])) ?? Data())
        }
        return AWSResponse(status: HTTPResponse.Status(code: code), headers: headers, bytes: ByteBuffer(bytes: body))
    }
}
