public import Foundation
public import HTTPTypes
public import Hummingbird
public import NIOCore

/// A request a resource provider makes of its own service, in-process (no HTTP): the stack's account and region
/// as the caller, a JSON body, and the answer's JSON read back.
public enum InternalCall {
    /// A request as `account` in `region` would send it. `target` is an X-Amz-Target (AWS JSON services).
    public static func request(account: String, region: String, method: HTTPRequest.Method = .post, path: String = "/",
                               query: [(String, String)] = [], target: String? = nil, body: JSON? = nil,
                               host: String = "localhost:4566") -> AWSRequest {
        var headers = HTTPFields()
        if let target { headers.set("x-amz-target", target) }
        headers[.contentType] = "application/json"
        let bytes = try? body.map { try JSONEncoder().encode($0) }
        let rawQuery = query.map { "\(percent($0.0))=\(percent($0.1))" }.joined(separator: "&")
        return AWSRequest(method: method, rawPath: path, rawQuery: rawQuery, query: query, headers: headers, host: host,
                          body: RequestBody(buffer: ByteBuffer(bytes: bytes ?? Data())),
                          caller: CallerIdentity(accountID: account, region: region, accessKeyID: nil),
                          requestID: UUID().uuidString)
    }

    /// A path segment or query value percent-encoded (unreserved characters kept).
    public static func percent(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// The answer's body as JSON (`{}` when empty or not JSON).
    public static func json(_ response: AWSResponse) async throws -> [String: JSON] {
        let sink = Sink()
        try await response.body.write(SinkWriter(sink: sink))
        guard !sink.bytes.isEmpty, let value = try? JSONDecoder().decode(JSON.self, from: Data(sink.bytes)) else { return [:] }
        return value.object ?? [:]
    }

    private final class Sink: @unchecked Sendable {
        var bytes: [UInt8] = []
    }

    private struct SinkWriter: ResponseBodyWriter {
        let sink: Sink
        mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes += Array(buffer.readableBytesView) }
        mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
            for b in buffers { sink.bytes += Array(b.readableBytesView) }
        }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
