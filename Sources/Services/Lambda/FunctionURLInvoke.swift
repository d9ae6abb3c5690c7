import Core
import Foundation
import HTTPTypes
import NIOCore

/// Requests to a function URL (`<url-id>.lambda-url.<region>.localhost:<port>`): the gateway hands them over unsigned;
/// each becomes a payload format 2.0 event for a RequestResponse invocation, and the result becomes the HTTP answer
/// as AWS maps it. CORS from the URL's configuration; preflights are answered without invoking.
extension LambdaService {
    public var hostLabels: [String] { ["lambda-url"] }

    public func hostedResponse(_ request: AWSRequest) async -> AWSResponse {
        let urlID = String(request.hostName.split(separator: ".").first ?? "")
        guard let c = try? store.db.readNow({ db in try FunctionURLConfig.find(urlID: urlID, db) }),
              let f = try? store.function(account: c.account, region: c.region, name: c.name),
              let (selected, alias) = try? Self.configuration(f, qualifier: c.qualifier.isEmpty ? nil : c.qualifier) else {
            return Self.forbidden()
        }
        let origin = request.header("origin")
        if request.method == .options, let cors = c.Cors, let origin, request.header("access-control-request-method") != nil {
            return Self.preflight(cors, origin: origin)
        }
        if c.AuthType == "AWS_IAM", request.header("authorization") == nil, !request.hasQuery("X-Amz-Signature") {
            return Self.forbidden()
        }
        var response: AWSResponse
        do {
            guard let body = try? await request.collectBody(limit: Self.maxSyncPayload) else {
                throw AWSError("RequestEntityTooLargeException", "Request must be smaller than \(Self.maxSyncPayload) bytes for the InvokeFunction operation",
                               status: .contentTooLarge)
            }
            let event = Self.urlEvent(request, body: Array(body.readableBytesView), config: c)
            // Out of the snapshot gate while the function runs: it may call back into Cloudless.
            let result = try await SnapshotGate.outside { try await run(f, Self.routed(f, selected, alias), payload: event, clientContext: nil, invokedARN: c.FunctionArn) }
            response = Self.urlResponse(result.outcome)
            response.headers[HTTPField.Name("x-amzn-RequestId")!] = result.requestID
        } catch let e as AWSError {
            response = RestJSON.response(["Message": e.message], status: e.status)
            response.headers[HTTPField.Name("x-amzn-ErrorType")!] = e.code
        } catch {
            response = Self.internalServerError()
        }
        if let cors = c.Cors, let origin, let allowed = Self.allowedOrigin(cors, origin) {
            response.headers[HTTPField.Name("Access-Control-Allow-Origin")!] = allowed
            if let expose = cors.ExposeHeaders, !expose.isEmpty {
                response.headers[HTTPField.Name("Access-Control-Expose-Headers")!] = expose.joined(separator: ",")
            }
            if cors.AllowCredentials == true { response.headers[HTTPField.Name("Access-Control-Allow-Credentials")!] = "true" }
            response.headers[HTTPField.Name("Vary")!] = "Origin"
        }
        return response
    }

    static func forbidden() -> AWSResponse {
        var r = RestJSON.response(["Message": "Forbidden. For troubleshooting Function URL authorization issues, see: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"],
                                  status: .forbidden)
        r.headers[HTTPField.Name("x-amzn-ErrorType")!] = "AccessDeniedException"
        return r
    }

    static func internalServerError() -> AWSResponse {
        var r = AWSResponse(status: .badGateway, bytes: ByteBuffer(string: "Internal Server Error"))
        r.headers[.contentType] = "text/plain; charset=utf-8"
        return r
    }

    /// The Access-Control-Allow-Origin an origin gets, nil when the configuration does not allow it.
    static func allowedOrigin(_ cors: FunctionURLConfig.CorsConfig, _ origin: String) -> String? {
        let origins = cors.AllowOrigins ?? []
        if origins.contains(origin) { return origin }
        return origins.contains("*") ? (cors.AllowCredentials == true ? origin : "*") : nil
    }

    static func preflight(_ cors: FunctionURLConfig.CorsConfig, origin: String) -> AWSResponse {
        var r = AWSResponse(status: .ok)
        guard let allowed = allowedOrigin(cors, origin) else { return r }
        r.headers[HTTPField.Name("Access-Control-Allow-Origin")!] = allowed
        if let m = cors.AllowMethods, !m.isEmpty { r.headers[HTTPField.Name("Access-Control-Allow-Methods")!] = m.joined(separator: ",") }
        if let h = cors.AllowHeaders, !h.isEmpty { r.headers[HTTPField.Name("Access-Control-Allow-Headers")!] = h.joined(separator: ",") }
        if let e = cors.ExposeHeaders, !e.isEmpty { r.headers[HTTPField.Name("Access-Control-Expose-Headers")!] = e.joined(separator: ",") }
        if let age = cors.MaxAge { r.headers[HTTPField.Name("Access-Control-Max-Age")!] = String(age) }
        if cors.AllowCredentials == true { r.headers[HTTPField.Name("Access-Control-Allow-Credentials")!] = "true" }
        r.headers[HTTPField.Name("Vary")!] = "Origin"
        return r
    }

    /// The payload format 2.0 event of a URL request.
    static func urlEvent(_ request: AWSRequest, body: [UInt8], config c: FunctionURLConfig) -> [UInt8] {
        let sourceIP = request.header("x-forwarded-for")?.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "127.0.0.1"
        var authorizer: [String: Any]?
        if c.AuthType == "AWS_IAM" {
            authorizer = ["iam": ["accessKey": request.caller.accessKeyID ?? "", "accountId": c.account, "callerId": c.account,
                                  "cognitoIdentity": NSNull(), "principalOrgId": NSNull(), "userArn": "arn:aws:iam::\(c.account):root",
                                  "userId": c.account]]
        }
        let context = HTTPEvent20.Context(
            apiID: c.urlID, accountID: c.AuthType == "AWS_IAM" ? c.account : "anonymous", routeKey: "$default", stage: "$default",
            requestID: UUID().uuidString.lowercased(), now: Date().timeIntervalSince1970, sourceIP: sourceIP, authorizer: authorizer)
        let event = HTTPEvent20.event(request, body: body, context)
        return Array((try? JSONSerialization.data(withJSONObject: event, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8))
    }

    /// The HTTP answer for an invocation's outcome: a result with `statusCode` describes the response; any other
    /// JSON result is a 200 `application/json` body (a string as itself); a failed invocation is a 502.
    static func urlResponse(_ outcome: InvocationOutcome) -> AWSResponse {
        guard case .response(let bytes) = outcome,
              let result = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else {
            return internalServerError()
        }
        var headers = HTTPFields()
        guard let shaped = result as? [String: Any], let code = (shaped["statusCode"] as? NSNumber)?.intValue else {
            headers[.contentType] = "application/json"
            if let text = result as? String { return AWSResponse(status: .ok, headers: headers, bytes: ByteBuffer(string: text)) }
            return AWSResponse(status: .ok, headers: headers, bytes: ByteBuffer(bytes: bytes))
        }
        guard (100...599).contains(code) else { return internalServerError() }
        for (name, value) in shaped["headers"] as? [String: Any] ?? [:] {
            guard let n = HTTPField.Name(name) else { continue }
            headers[n] = (value as? String) ?? (value as? NSNumber).map { "\($0)" } ?? "\(value)"
        }
        for cookie in shaped["cookies"] as? [String] ?? [] { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        if headers[.contentType] == nil { headers[.contentType] = "application/json" }
        var body: [UInt8] = []
        if let text = shaped["body"] as? String {
            body = shaped["isBase64Encoded"] as? Bool == true ? Array(Data(base64Encoded: text) ?? Data()) : Array(text.utf8)
        } else if let other = shaped["body"], !(other is NSNull) {
            body = Array((try? JSONSerialization.data(withJSONObject: other, options: [.fragmentsAllowed, .withoutEscapingSlashes])) ?? Data())
        }
        return AWSResponse(status: HTTPResponse.Status(code: code), headers: headers, bytes: ByteBuffer(bytes: body))
    }
}
