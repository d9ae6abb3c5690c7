public import HTTPTypes
public import Hummingbird
public import NIOCore
import Synchronization

/// A request after the gateway has found its service and caller: path and query decoded once, here,
/// so that no service parses HTTP itself.
public struct AWSRequest: Sendable {
    public var method: HTTPRequest.Method
    /// The path as the client sent it (percent-encoded), without the query.
    public var rawPath: String
    /// The raw query string (without `?`), as sent.
    public var rawQuery: String
    /// Decoded query items, in order.
    public var query: [(String, String)]
    public var headers: HTTPFields
    /// The Host the client addressed (`127.0.0.1:4566`, `bucket.s3.localhost.localstack.cloud:4566`, ...).
    public var host: String
    public var body: RequestBody
    public var caller: CallerIdentity
    public var requestID: String
    /// What the signature of the request says, when it was signed (used by streaming chunk verification).
    public var signature: RequestSignature?
    /// Where a service reports the operation it found in the body (a Query form's `Action`), set by the gateway only
    /// when `operationName(for:)` could not name it: the request log then names it without reading the body twice.
    public var operationReport: OperationReport?

    public init(
        method: HTTPRequest.Method, rawPath: String, rawQuery: String, query: [(String, String)], headers: HTTPFields,
        host: String, body: RequestBody, caller: CallerIdentity, requestID: String, signature: RequestSignature? = nil
    ) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.query = query
        self.headers = headers
        self.host = host
        self.body = body
        self.caller = caller
        self.requestID = requestID
        self.signature = signature
    }

    /// First value of a query parameter.
    public func queryValue(_ name: String) -> String? {
        query.first(where: { $0.0 == name })?.1
    }

    public func hasQuery(_ name: String) -> Bool {
        query.contains(where: { $0.0 == name })
    }

    public func header(_ name: String) -> String? { headers.value(name) }

    /// Host without the port.
    public var hostName: String {
        if host.hasPrefix("[") { return String(host.prefix(while: { $0 != "]" }).dropFirst()) }
        return String(host.split(separator: ":", maxSplits: 1).first ?? "")
    }

    /// Collect the whole body, refusing more than `limit` bytes (for small XML/JSON/form documents only).
    public func collectBody(limit: Int) async throws -> ByteBuffer {
        try await body.collect(limit: limit)
    }
}

/// The operation a service found in a request's body, for the request log (see `AWSRequest.operationReport`).
public final class OperationReport: Sendable {
    private let name = Mutex<String?>(nil)
    public init() {}
    public var value: String? { name.withLock { $0 } }
    public func report(_ operation: String) { name.withLock { $0 = operation } }
}

/// Details of a verified (or, without --strict-auth, merely parsed) SigV4 signature that a service may need
/// later, e.g. to verify `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` chunk signatures.
public struct RequestSignature: Sendable {
    public var accessKeyID: String
    public var amzDate: String
    public var scope: String
    public var seedSignature: String
    /// Present only when the secret is known and verification is on.
    public var signingKey: [UInt8]?

    public init(accessKeyID: String, amzDate: String, scope: String, seedSignature: String, signingKey: [UInt8]?) {
        self.accessKeyID = accessKeyID
        self.amzDate = amzDate
        self.scope = scope
        self.seedSignature = seedSignature
        self.signingKey = signingKey
    }
}

/// What a service answers. The body streams when it is large (S3 GET); small documents are one buffer.
public struct AWSResponse: Sendable {
    public var status: HTTPResponse.Status
    public var headers: HTTPFields
    public var body: ResponseBody

    public init(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], body: ResponseBody = ResponseBody()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], bytes: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = ResponseBody(byteBuffer: bytes)
    }

    public init(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], xml: XMLWriter) {
        var h = headers
        h[.contentType] = "application/xml"
        self.init(status: status, headers: h, bytes: xml.buffer)
    }
}

extension HTTPFields {
    /// Set a header by its lowercase or canonical name.
    public mutating func set(_ name: String, _ value: String) {
        if let n = HTTPField.Name(name) { self[n] = value }
    }

    /// The value of a header by name (any case), several fields joined as `self[name]` joins them. Scans the fields
    /// instead of making an `HTTPField.Name` (validated, lowercased) and joining even a single value into a new
    /// string: services look up a dozen headers per request.
    public func value(_ name: String) -> String? {
        let key = name.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) ? name.lowercased() : name
        var first: String?
        var rest: [String] = []
        for f in self where f.name.canonicalName == key {
            if first == nil { first = f.value } else { rest.append(f.value) }
        }
        guard let first, !rest.isEmpty else { return first }
        return ([first] + rest).joined(separator: key == "cookie" ? "; " : ", ")
    }
}

extension RequestBody {
    /// The whole body in one buffer, refusing more than `limit` bytes (small documents only: XML, JSON, forms).
    public func collect(limit: Int) async throws -> ByteBuffer {
        var out = ByteBuffer()
        for try await var chunk in self {
            if out.readableBytes + chunk.readableBytes > limit {
                throw AWSError("MaxMessageLengthExceeded", "Your request was too big.")
            }
            out.writeBuffer(&chunk)
        }
        return out
    }
}
