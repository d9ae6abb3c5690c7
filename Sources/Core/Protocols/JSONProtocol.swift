import Foundation
import NIOCore

/// AWS JSON 1.0 / 1.1: `X-Amz-Target: <Prefix>.<Operation>`, a JSON object in, a JSON object out.
/// Timestamps travel as epoch seconds (numbers).
public enum JSONProtocol {
    /// The operation named by `X-Amz-Target` (`AmazonSQS.CreateQueue` → `CreateQueue`).
    public static func operation(_ request: AWSRequest) -> String? {
        guard let target = request.header("x-amz-target"), let dot = target.lastIndex(of: ".") else { return nil }
        return String(target[target.index(after: dot)...])
    }

    /// The request's JSON object; an empty body is `{}`. Not JSON, or not an object → SerializationException.
    public static func input(_ request: AWSRequest, limit: Int = 1 << 20) async throws -> [String: Any] {
        let body = try await request.collectBody(limit: limit)
        if body.readableBytes == 0 { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
            throw AWSError("SerializationException", "The request body is not a valid JSON object.")
        }
        return object
    }

    /// A JSON answer with the protocol's content type.
    public static func response(_ object: [String: Any], contentType: String = "application/x-amz-json-1.0") -> AWSResponse {
        var response = AWSResponse(bytes: JSONWriter.encode(object))
        response.headers[.contentType] = contentType
        return response
    }
}
