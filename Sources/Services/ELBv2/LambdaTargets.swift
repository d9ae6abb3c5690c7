import Core
import Foundation
import HTTPTypes
import NIOCore

/// A `lambda` target: the request becomes the ALB event, the function's answer the response; a function error or an
/// answer that is not one gives 502.
extension DataPlane {
    static let maxLambdaBody = 1 << 20

    func invokeLambda(_ tg: TargetGroup, _ target: RegisteredTarget, _ request: ProxyRequest) async -> AWSResponse {
        guard let body = try? await request.body.collect(limit: Self.maxLambdaBody) else {
            return Self.plain(.contentTooLarge, "413 Request Entity Too Large")
        }
        let multi = tg.attributes["lambda.multi_value_headers.enabled"] == "true"
        let event = Self.albEvent(tg.arn, request, body: Array(body.readableBytesView), multiValue: multi)
        guard let payload = try? JSONSerialization.data(withJSONObject: event) else { return Self.plain(.badGateway, "502 Bad Gateway") }
        began(tg.arn, target)
        defer { ended(tg.arn, target) }
        guard let result = try? await functions.invoke(functionARN: target.id, payload: [UInt8](payload), from: .elasticLoadBalancing),
              result.functionError == nil else {
            return Self.plain(.badGateway, "502 Bad Gateway")
        }
        return Self.albResponse(result.payload, multiValue: multi) ?? Self.plain(.badGateway, "502 Bad Gateway")
    }

    static func isText(_ contentType: String?) -> Bool {
        guard let ct = contentType?.lowercased() else { return true }
        return ct.hasPrefix("text/") || ct.contains("json") || ct.contains("xml") || ct.contains("javascript")
            || ct.contains("x-www-form-urlencoded")
    }

    /// The event an Application Load Balancer sends a function (query values stay URL-encoded, as AWS sends them).
    static func albEvent(_ tgARN: String, _ r: ProxyRequest, body: [UInt8], multiValue: Bool) -> [String: Any] {
        var event: [String: Any] = ["requestContext": ["elb": ["targetGroupArn": tgARN]], "httpMethod": r.method.rawValue,
                                    "path": r.rawPath]
        let pairs: [(String, String)] = r.rawQuery.split(separator: "&").map { item in
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(kv[0]), kv.count > 1 ? String(kv[1]) : "")
        }
        var headerPairs: [(String, String)] = r.headers.map { ($0.name.canonicalName, $0.value) }
        headerPairs.append(("x-forwarded-for", r.sourceIP))
        headerPairs.append(("x-forwarded-proto", "http"))
        headerPairs.append(("x-forwarded-port", String(r.port)))
        if multiValue {
            event["multiValueQueryStringParameters"] = Dictionary(grouping: pairs, by: \.0).mapValues { $0.map(\.1) }
            event["multiValueHeaders"] = Dictionary(grouping: headerPairs, by: \.0).mapValues { $0.map(\.1) }
        } else {
            event["queryStringParameters"] = Dictionary(pairs, uniquingKeysWith: { _, last in last })
            event["headers"] = Dictionary(headerPairs, uniquingKeysWith: { _, last in last })
        }
        let text = isText(r.headers[.contentType])
        if text, let s = String(validating: body, as: UTF8.self) {
            event["body"] = s
            event["isBase64Encoded"] = false
        } else {
            event["body"] = Data(body).base64EncodedString()
            event["isBase64Encoded"] = true
        }
        return event
    }

    /// `{"statusCode", "statusDescription", "headers" | "multiValueHeaders", "body", "isBase64Encoded"}` as a response.
    static func albResponse(_ payload: [UInt8], multiValue: Bool) -> AWSResponse? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any] else { return nil }
        let code = (object["statusCode"] as? Int) ?? Int(object["statusCode"] as? String ?? "")
        guard let code, (100...599).contains(code) else { return nil }
        var headers = HTTPFields()
        if multiValue, let m = object["multiValueHeaders"] as? [String: Any] {
            for (k, v) in m.sorted(by: { $0.key < $1.key }) {
                for value in (v as? [Any]) ?? [] { if let n = HTTPField.Name(k) { headers.append(HTTPField(name: n, value: "\(value)")) } }
            }
        } else if let h = object["headers"] as? [String: Any] {
            for (k, v) in h.sorted(by: { $0.key < $1.key }) { if let n = HTTPField.Name(k) { headers.append(HTTPField(name: n, value: "\(v)")) } }
        }
        var bytes: [UInt8] = []
        if let body = object["body"] as? String {
            if object["isBase64Encoded"] as? Bool == true {
                guard let d = Data(base64Encoded: body) else { return nil }
                bytes = [UInt8](d)
            } else {
                bytes = Array(body.utf8)
            }
        }
        let reason = (object["statusDescription"] as? String).map { d in String(d.drop(while: { $0.isNumber || $0 == " " })) }
        let status = reason.map { $0.isEmpty ? HTTPResponse.Status(code: code) : HTTPResponse.Status(code: code, reasonPhrase: $0) } ?? HTTPResponse.Status(code: code)
        return AWSResponse(status: status, headers: headers, bytes: ByteBuffer(bytes: bytes))
    }
}
