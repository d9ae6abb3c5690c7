public import HTTPTypes

/// The wire formats of AWS services. Each service speaks one (SQS speaks two: JSON 1.0 and Query);
/// the gateway renders errors in the format of the request.
public enum WireProtocol: Sendable {
    case restXML
    case query
    case json10
    case json11
    case restJSON
}

/// A service as the gateway sees it: a signing name, an operation handler, and a way to empty its state.
public protocol AWSService: Sendable {
    /// The SigV4 signing name (`s3`, `sts`, `sqs`...). Also the key in the health report.
    var signingName: String { get }
    /// The protocol its errors are rendered in, unless the request says otherwise.
    var wireProtocol: WireProtocol { get }
    /// Handle one request. Throw `AWSError` for AWS-shaped failures.
    func handle(_ request: AWSRequest) async throws -> AWSResponse
    /// The operation name for the request log line (best effort, no body reading).
    func operationName(for request: AWSRequest) -> String
    /// Forget all state (POST /_cloudless/reset).
    func reset() async throws
    /// Prefix of `__type` in JSON errors (`com.amazonaws.sqs#`).
    var errorTypePrefix: String? { get }
    /// The XML namespace of Query error documents (IAM), and for a JSON service that also speaks the Query protocol
    /// (SQS) the namespace of its Query answers: a request without `X-Amz-Target` then gets its errors as Query XML.
    var queryNamespace: String? { get }
    /// The member that carries the message in JSON errors: `message` for most services, `Message` for some
    /// (Secrets Manager).
    var jsonErrorMessageKey: String { get }
    /// The same for one error, where the key depends on the error's shape (Lambda: `Message` or `message`).
    func jsonErrorMessageKey(for error: AWSError) -> String
    /// Whether JSON error bodies carry `__type` (Lambda's do not: the code travels in `x-amzn-ErrorType` alone).
    var jsonErrorTypeInBody: Bool { get }
    /// An answer for an internal path under `/_cloudless/<signingName>/` (Lambda's code downloads), or nil.
    func internalResponse(method: HTTPRequest.Method, path: String) async -> AWSResponse?
    /// The same with the request's body (at most 1 MiB): ECS's test hooks take JSON. Defaults to `internalResponse`.
    func internalResponse(method: HTTPRequest.Method, path: String, body: [UInt8]) async -> AWSResponse?
    /// Whether an unsigned request may pass even with --strict-auth (S3's CORS preflights and website endpoints,
    /// which browsers call without credentials).
    func acceptsUnsigned(method: HTTPRequest.Method, hostName: String, rawPath: String) -> Bool
    /// Host labels that address endpoints the service runs itself rather than its API (Lambda's function URLs,
    /// `<url-id>.lambda-url.<region>.localhost`): a request whose Host has one as its second label is not
    /// identified nor authenticated by the gateway but handed to `hostedResponse` as sent.
    var hostLabels: [String] { get }
    /// The answer to a request for one of `hostLabels` (the caller is the default account, the region the Host's).
    func hostedResponse(_ request: AWSRequest) async -> AWSResponse
}

extension AWSService {
    /// Prefix of `__type` in JSON errors (`com.amazonaws.sqs#`); nil for none.
    public var errorTypePrefix: String? { nil }
    public var queryNamespace: String? { nil }
    public var jsonErrorMessageKey: String { "message" }
    public func jsonErrorMessageKey(for error: AWSError) -> String { jsonErrorMessageKey }
    public var jsonErrorTypeInBody: Bool { true }
    public func internalResponse(method: HTTPRequest.Method, path: String) async -> AWSResponse? { nil }
    public func internalResponse(method: HTTPRequest.Method, path: String, body: [UInt8]) async -> AWSResponse? {
        await internalResponse(method: method, path: path)
    }
    public func acceptsUnsigned(method: HTTPRequest.Method, hostName: String, rawPath: String) -> Bool { false }
    public var hostLabels: [String] { [] }
    public func hostedResponse(_ request: AWSRequest) async -> AWSResponse { AWSResponse(status: .notFound) }
}
