import Core
import Foundation
import HTTPTypes
import NIOCore

/// What an invoke carries into integrations, templates and the proxy event (`$context`, `requestContext`).
struct InvokeRequest {
    var apiID: String
    var account: String
    var region: String
    var stage: String
    var requestID: String
    var extendedRequestID: String
    var httpMethod: String
    /// The resource path after the stage (`/pets/7`).
    var path: String
    var resourcePath: String
    var resourceID: String
    var domainName: String
    var sourceIP: String
    var userAgent: String
    var headers: [(String, String)]
    var query: [(String, String)]
    var pathParameters: [String: String]
    var stageVariables: [String: String]
    var body: [UInt8]
    var contentType: String?
    var authorizer: [String: Any]?
    var requestTimeEpoch: Int64

    func header(_ name: String) -> String? { headers.last { $0.0.lowercased() == name.lowercased() }?.1 }
    func queryValue(_ name: String) -> String? { query.last { $0.0 == name }?.1 }

    /// `07/Dec/2026:18:44:18 +0000`, as HTTP APIs and function URLs write it.
    var requestTime: String { HTTPEvent20.requestTime(Double(requestTimeEpoch / 1000)) }

    /// `requestContext` of the proxy event (also `$context` in templates).
    var requestContext: [String: Any] {
        var c: [String: Any] = [
            "resourceId": resourceID, "resourcePath": resourcePath, "httpMethod": httpMethod, "extendedRequestId": extendedRequestID,
            "requestTime": requestTime, "path": "/\(stage)\(path)", "accountId": account, "protocol": "HTTP/1.1", "stage": stage,
            "domainPrefix": String(domainName.split(separator: ".").first ?? ""), "requestTimeEpoch": requestTimeEpoch,
            "requestId": requestID, "domainName": domainName, "apiId": apiID,
            "identity": ["cognitoIdentityPoolId": NSNull(), "accountId": NSNull(), "cognitoIdentityId": NSNull(), "caller": NSNull(),
                         "sourceIp": sourceIP, "principalOrgId": NSNull(), "accessKey": NSNull(), "cognitoAuthenticationType": NSNull(),
                         "cognitoAuthenticationProvider": NSNull(), "userArn": NSNull(), "userAgent": userAgent, "user": NSNull()],
        ]
        if let authorizer { c["authorizer"] = authorizer }
        return c
    }
}

enum RestProxy {
    static func isText(_ contentType: String?, _ bytes: [UInt8]) -> Bool {
        guard String(validating: bytes, as: UTF8.self) != nil else { return false }
        guard let t = contentType?.lowercased() else { return true }
        return !(t.hasPrefix("image/") || t.hasPrefix("audio/") || t.hasPrefix("video/") || t.contains("octet-stream") || t.contains("zip"))
    }

    /// The payload format 1.0 event of a Lambda proxy integration.
    static func event(_ r: InvokeRequest, binaryMediaTypes: [String] = []) -> [String: Any] {
        var headers: [String: Any] = [:], multiHeaders: [String: [String]] = [:]
        for (k, v) in r.headers {
            headers[k] = v
            multiHeaders[k, default: []].append(v)
        }
        var query: [String: Any] = [:], multiQuery: [String: [String]] = [:]
        for (k, v) in r.query {
            query[k] = v
            multiQuery[k, default: []].append(v)
        }
        let null = NSNull()
        var event: [String: Any] = [
            "resource": r.resourcePath, "path": r.path, "httpMethod": r.httpMethod,
            "headers": headers.isEmpty ? null : headers, "multiValueHeaders": multiHeaders.isEmpty ? null : multiHeaders,
            "queryStringParameters": query.isEmpty ? null : query, "multiValueQueryStringParameters": multiQuery.isEmpty ? null : multiQuery,
            "pathParameters": r.pathParameters.isEmpty ? null : r.pathParameters,
            "stageVariables": r.stageVariables.isEmpty ? null : r.stageVariables,
            "requestContext": r.requestContext, "body": null, "isBase64Encoded": false,
        ]
        if !r.body.isEmpty {
            let binary = binaryMediaTypes.contains { t in matches(mediaType: t, r.contentType) }
            if !binary, isText(r.contentType, r.body) {
                event["body"] = String(decoding: r.body, as: UTF8.self)
            } else {
                event["body"] = Data(r.body).base64EncodedString()
                event["isBase64Encoded"] = true
            }
        }
        return event
    }

    static func matches(mediaType pattern: String, _ contentType: String?) -> Bool {
        guard let ct = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
        let p = pattern.lowercased()
        if p == "*/*" { return true }
        if p.hasSuffix("/*") { return ct.hasPrefix(String(p.dropLast())) }
        return ct == p
    }

    static let resultKeys: Set<String> = ["statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded", "cookies"]

    /// The HTTP answer a proxy result describes; nil when it is malformed (API Gateway then answers 502).
    static func response(_ payload: [UInt8]) -> AWSResponse? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload), options: [.fragmentsAllowed]) as? [String: Any],
              Set(object.keys).isSubset(of: resultKeys) else { return nil }
        var status = 200
        if let code = object["statusCode"], !(code is NSNull) {
            if let s = code as? String, let n = Int(s) { status = n } else if !isBool(code), let n = code as? NSNumber {
                status = n.intValue
            } else { return nil }
        }
        guard (100...599).contains(status) else { return nil }
        var headers = HTTPFields()
        if let h = object["headers"], !(h is NSNull) {
            guard let h = h as? [String: Any] else { return nil }
            for (k, v) in h.sorted(by: { $0.key < $1.key }) {
                guard let n = HTTPField.Name(k) else { continue }
                headers[n] = scalar(v)
            }
        }
        if let m = object["multiValueHeaders"], !(m is NSNull) {
            guard let m = m as? [String: Any] else { return nil }
            for (k, v) in m.sorted(by: { $0.key < $1.key }) {
                guard let n = HTTPField.Name(k), let values = v as? [Any] else { continue }
                if headers[n] != nil, !values.isEmpty { headers[n] = nil }
                for value in values { headers.append(HTTPField(name: n, value: scalar(value))) }
            }
        }
        var bytes: [UInt8] = []
        if let b = object["body"], !(b is NSNull) {
            guard let text = b as? String else { return nil }
            if (object["isBase64Encoded"] as? Bool) == true {
                guard let d = Data(base64Encoded: text) else { return nil }
                bytes = Array(d)
            } else {
                bytes = Array(text.utf8)
            }
        }
        if headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return AWSResponse(status: HTTPResponse.Status(code: status), headers: headers, bytes: ByteBuffer(bytes: bytes))
    }

    static func scalar(_ v: Any) -> String {
        if let s = v as? String { return s }
        if isBool(v), let n = v as? NSNumber { return n.boolValue ? "true" : "false" }
        if let n = v as? NSNumber { return n.stringValue }
        return "\(v)"
    }

    /// JSON's true and false arrive as NSNumber too.
    static func isBool(_ v: Any) -> Bool {
        if type(of: v) == Bool.self { return true }
        guard let n = v as? NSNumber else { return false }
        return String(cString: n.objCType) == "c"
    }
}
