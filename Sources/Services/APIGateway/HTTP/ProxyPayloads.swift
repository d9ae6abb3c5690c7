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
    /// Whether a body of this type reaches the function as text (else base64 with `isBase64Encoded: true`).
    static func isText(_ contentType: String?, _ bytes: [UInt8]) -> Bool {
        guard String(validating: bytes, as: UTF8.self) != nil else { return false }
        guard let type = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() else { return true }
        return type.hasPrefix("text/") || type.hasSuffix("+json") || type.hasSuffix("+xml")
            || ["application/json", "application/xml", "application/javascript", "application/x-www-form-urlencoded", "application/graphql"].contains(type)
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `14/Nov/2023:22:13:20 +0000` (without a DateFormatter, costly to make on every request).
    static func requestTime(_ seconds: Double) -> String {
        var t = time_t(seconds.rounded(.down))
        var c = tm()
        gmtime_r(&t, &c)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(two(c.tm_mday))/\(months[Int(c.tm_mon)])/\(c.tm_year + 1900):\(two(c.tm_hour)):\(two(c.tm_min)):\(two(c.tm_sec)) +0000"
    }

    /// Headers lowercased with repeated values comma-joined, and the cookies (`cookie` is not among the headers in 2.0).
    static func headers(_ request: AWSRequest, _ ctx: InvokeContext) -> (headers: [String: String], cookies: [String]) {
        var headers: [String: String] = [:]
        var cookies: [String] = []
        for field in request.headers {
            let name = field.name.canonicalName.lowercased()
            if name == "cookie" {
                cookies += field.value.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                continue
            }
            if let v = headers[name] { headers[name] = v + "," + field.value } else { headers[name] = field.value }
        }
        let port = request.host.split(separator: ":").dropFirst().last.map(String.init) ?? "80"
        // HTTP/1.1's Host is the request's authority, not among its header fields.
        if headers["host"] == nil { headers["host"] = request.hostName }
        if headers["x-forwarded-for"] == nil { headers["x-forwarded-for"] = ctx.sourceIP }
        if headers["x-forwarded-proto"] == nil { headers["x-forwarded-proto"] = "http" }
        if headers["x-forwarded-port"] == nil { headers["x-forwarded-port"] = port }
        return (headers, cookies)
    }

    /// The query's values, repeated names comma-joined (2.0).
    static func joinedQuery(_ request: AWSRequest) -> [String: String] {
        var query: [String: String] = [:]
        for (k, v) in request.query { if let old = query[k] { query[k] = old + "," + v } else { query[k] = v } }
        return query
    }

    static func setBody(_ event: inout [String: Any], _ request: AWSRequest, _ body: [UInt8]) {
        guard !body.isEmpty else { return }
        if isText(request.header("content-type"), body) {
            event["body"] = String(decoding: body, as: UTF8.self)
        } else {
            event["body"] = Data(body).base64EncodedString()
            event["isBase64Encoded"] = true
        }
    }

    /// Payload format 2.0.
    static func event20(_ request: AWSRequest, body: [UInt8], _ ctx: InvokeContext) -> [String: Any] {
        let (headers, cookies) = headers(request, ctx)
        var context: [String: Any] = [
            "accountId": ctx.account, "apiId": ctx.apiID, "domainName": request.hostName, "domainPrefix": ctx.apiID,
            "http": ["method": request.method.rawValue, "path": request.rawPath, "protocol": "HTTP/1.1", "sourceIp": ctx.sourceIP,
                     "userAgent": request.header("user-agent") ?? ""],
            "requestId": ctx.requestID, "routeKey": ctx.routeKey, "stage": ctx.stage,
            "time": requestTime(ctx.now), "timeEpoch": Int64(ctx.now * 1000),
        ]
        if let a = ctx.authorizer { context["authorizer"] = a }
        var event: [String: Any] = [
            "version": "2.0", "routeKey": ctx.routeKey, "rawPath": request.rawPath, "rawQueryString": request.rawQuery,
            "headers": headers, "requestContext": context, "isBase64Encoded": false,
        ]
        if !cookies.isEmpty { event["cookies"] = cookies }
        let query = joinedQuery(request)
        if !query.isEmpty { event["queryStringParameters"] = query }
        if !ctx.pathParameters.isEmpty { event["pathParameters"] = ctx.pathParameters }
        if !ctx.stageVariables.isEmpty { event["stageVariables"] = ctx.stageVariables }
        setBody(&event, request, body)
        return event
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
            "requestId": ctx.requestID, "requestTime": requestTime(ctx.now), "requestTimeEpoch": Int64(ctx.now * 1000),
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
        setBody(&event, request, body)
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
