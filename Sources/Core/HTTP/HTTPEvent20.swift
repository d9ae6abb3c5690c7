import Foundation

/// Lambda's payload format 2.0 event for an HTTP request, as HTTP APIs and function URLs both send it, and the parts
/// API Gateway's 1.0 event shares with it (request time, body encoding).
public enum HTTPEvent20 {
    /// What the event says besides the request itself.
    public struct Context {
        public var apiID: String
        public var accountID: String
        public var routeKey: String
        public var stage: String
        public var requestID: String
        /// Seconds since 1970 (the emulator's clock).
        public var now: Double
        public var sourceIP: String
        /// `requestContext.authorizer`, when there is one.
        public var authorizer: [String: Any]?
        public var pathParameters: [String: String] = [:]
        public var stageVariables: [String: String] = [:]

        public init(apiID: String, accountID: String, routeKey: String, stage: String, requestID: String, now: Double,
                    sourceIP: String, authorizer: [String: Any]? = nil) {
            self.apiID = apiID
            self.accountID = accountID
            self.routeKey = routeKey
            self.stage = stage
            self.requestID = requestID
            self.now = now
            self.sourceIP = sourceIP
            self.authorizer = authorizer
        }
    }

    public static func event(_ request: AWSRequest, body: [UInt8], _ c: Context) -> [String: Any] {
        let (headers, cookies) = headersAndCookies(request, sourceIP: c.sourceIP)
        var context: [String: Any] = [
            "accountId": c.accountID, "apiId": c.apiID, "domainName": request.hostName, "domainPrefix": c.apiID,
            "http": ["method": request.method.rawValue, "path": request.rawPath, "protocol": "HTTP/1.1", "sourceIp": c.sourceIP,
                     "userAgent": request.header("user-agent") ?? ""],
            "requestId": c.requestID, "routeKey": c.routeKey, "stage": c.stage,
            "time": requestTime(c.now), "timeEpoch": Int64(c.now * 1000),
        ]
        if let a = c.authorizer { context["authorizer"] = a }
        var event: [String: Any] = [
            "version": "2.0", "routeKey": c.routeKey, "rawPath": request.rawPath, "rawQueryString": request.rawQuery,
            "headers": headers, "requestContext": context, "isBase64Encoded": false,
        ]
        if !cookies.isEmpty { event["cookies"] = cookies }
        let query = joinedQuery(request)
        if !query.isEmpty { event["queryStringParameters"] = query }
        if !c.pathParameters.isEmpty { event["pathParameters"] = c.pathParameters }
        if !c.stageVariables.isEmpty { event["stageVariables"] = c.stageVariables }
        setBody(&event, request, body)
        return event
    }

    /// Whether a body of this type reaches the function as text (else base64 with `isBase64Encoded: true`).
    public static func isTextBody(_ contentType: String?, _ bytes: [UInt8]) -> Bool {
        guard String(validating: bytes, as: UTF8.self) != nil else { return false }
        guard let type = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() else { return true }
        return type.hasPrefix("text/") || type.hasSuffix("+json") || type.hasSuffix("+xml")
            || ["application/json", "application/xml", "application/javascript", "application/x-www-form-urlencoded", "application/graphql"].contains(type)
    }

    /// `body` and `isBase64Encoded`; no `body` key for an empty body.
    public static func setBody(_ event: inout [String: Any], _ request: AWSRequest, _ body: [UInt8]) {
        guard !body.isEmpty else { return }
        if isTextBody(request.header("content-type"), body) {
            event["body"] = String(decoding: body, as: UTF8.self)
        } else {
            event["body"] = Data(body).base64EncodedString()
            event["isBase64Encoded"] = true
        }
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `14/Nov/2023:22:13:20 +0000` (without a DateFormatter, costly to make on every request).
    public static func requestTime(_ seconds: Double) -> String {
        var t = time_t(seconds.rounded(.down))
        var c = tm()
        gmtime_r(&t, &c)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(two(c.tm_mday))/\(months[Int(c.tm_mon)])/\(c.tm_year + 1900):\(two(c.tm_hour)):\(two(c.tm_min)):\(two(c.tm_sec)) +0000"
    }

    /// Headers lowercased with repeated values comma-joined, plus `host` and the X-Forwarded-* a front end adds; the
    /// cookies apart (`cookie` is not among the headers in 2.0).
    public static func headersAndCookies(_ request: AWSRequest, sourceIP: String) -> (headers: [String: String], cookies: [String]) {
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
        if headers["x-forwarded-for"] == nil { headers["x-forwarded-for"] = sourceIP }
        if headers["x-forwarded-proto"] == nil { headers["x-forwarded-proto"] = "http" }
        if headers["x-forwarded-port"] == nil { headers["x-forwarded-port"] = port }
        return (headers, cookies)
    }

    /// The query's values, repeated names comma-joined.
    public static func joinedQuery(_ request: AWSRequest) -> [String: String] {
        var query: [String: String] = [:]
        for (k, v) in request.query { if let old = query[k] { query[k] = old + "," + v } else { query[k] = v } }
        return query
    }
}
