import Core
import Foundation
import HTTPTypes
import NIOCore

/// SQS's Query protocol answered in JSON, as AWS does when a Query request asks for it (`Accept: application/json`):
/// `{"<Action>Response": {"<Action>Result": {...}, "ResponseMetadata": {"RequestId": "..."}}}`, errors as
/// `{"Error": {"Type", "Code", "Message"}, "RequestId"}`. Attribute maps travel as lists of Name/Value entries and the
/// message and URL lists under AWS's lower-case names (`messages`, `queueUrls`).
enum SQSQueryJSON {
    static func wanted(_ request: AWSRequest) -> Bool {
        request.header("accept")?.lowercased().contains("application/json") == true
    }

    static func response(action: String, output: [String: Any]?, requestID: String) -> AWSResponse {
        var inner: [String: Any] = ["ResponseMetadata": ["RequestId": requestID]]
        if let output { inner["\(action)Result"] = result(output) }
        return encode(["\(action)Response": inner], status: .ok)
    }

    static func error(_ e: AWSError, requestID: String) -> AWSResponse {
        let error: [String: Any] = ["Type": e.isSenderFault ? "Sender" : "Receiver", "Code": e.queryCode ?? e.code, "Message": e.message]
        var response = encode(["Error": error, "RequestId": requestID], status: e.status)
        for (k, v) in e.headers { response.headers.set(k, v) }
        return response
    }

    /// The JSON-protocol output reshaped as the Query model names and nests it.
    static func result(_ output: [String: Any]) -> [String: Any] {
        var out: [String: Any] = [:]
        for (key, value) in output {
            switch key {
            case "Messages": out["messages"] = (value as? [[String: Any]] ?? []).map(result)
            case "QueueUrls", "queueUrls": out["queueUrls"] = value
            case "Attributes", "Tags", "MessageAttributes":
                let map = value as? [String: Any] ?? [:]
                let (k, v) = key == "Tags" ? ("Key", "Value") : ("Name", "Value")
                out[key] = map.keys.sorted().map { [k: $0, v: map[$0]!] }
            default: out[key] = value
            }
        }
        return out
    }

    static func encode(_ object: [String: Any], status: HTTPResponse.Status) -> AWSResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes, .sortedKeys])) ?? Data("{}".utf8)
        var response = AWSResponse(status: status, bytes: ByteBuffer(bytes: data))
        response.headers[.contentType] = "application/json"
        return response
    }
}
