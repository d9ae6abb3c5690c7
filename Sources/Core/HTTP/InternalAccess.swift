public import Hummingbird
import HTTPTypes
import NIOCore

/// Who may read the internal endpoints that show an account's data: the request log (`/_cloudless/requests`, its
/// stream), SQS peek (`/_cloudless/sqs/peek/<account>/…`) and Lambda's asynchronous queue
/// (`/_cloudless/lambda/async-queue/<account>/…`). Without --strict-auth, anyone sees every account (as
/// before). With it, only a request signed with a valid key, as any AWS call: a SigV4 header, or SigV4 query
/// parameters (a presigned URL) for the browser's EventSource, which cannot send headers. The signer then sees only
/// its own account: the log is filtered to it, and another account's queue is refused.
public struct InternalAccess: Sendable {
    public enum Outcome: Sendable {
        /// Not guarded (or no --strict-auth): every account.
        case anyone
        /// Signed by a valid key of this account.
        case account(String)
        /// Refused: the answer to send.
        case denied(Response)
    }

    let auth: AuthSettings
    let verifier: SignatureVerifier
    let clock: EmulatorClock

    public init(auth: AuthSettings, verifier: SignatureVerifier, clock: EmulatorClock) {
        self.auth = auth
        self.verifier = verifier
        self.clock = clock
    }

    static let peekPrefix = "/_cloudless/sqs/peek/"
    static let asyncQueuePrefix = "/_cloudless/lambda/async-queue/"
    /// Endpoints whose first path segment after the prefix is the account whose data they show.
    static let accountPrefixes = [peekPrefix, asyncQueuePrefix]

    /// Whether a path shows account data.
    public static func guards(_ path: Substring) -> Bool {
        path == "/_cloudless/requests" || path == "/_cloudless/requests/stream" || accountPrefixes.contains { path.hasPrefix($0) }
    }

    public func check(_ request: Request, rawPath: Substring, rawQuery: Substring) async -> Outcome {
        guard auth.strict, Self.guards(rawPath) else { return .anyone }
        let query = Percent.parseQuery(String(rawQuery), plusIsSpace: false) ?? []
        let creds = RequestCredentials.parse(authorization: request.headers[.authorization], query: query)
        do {
            try creds.validate()
            _ = try await verifier.verify(
                creds, service: "cloudless", method: request.method, rawPath: String(rawPath), query: query, headers: request.headers,
                host: request.head.authority ?? "", now: clock.now(),
                payloadHash: { Hex.encode(SHA256.hash([UInt8]())) })  // these are GETs: no body
        } catch let error as AWSError {
            return .denied(Self.refusal(error.code, error.message, status: error.status))
        } catch {
            return .denied(Self.refusal("AccessDenied", "The request could not be authenticated.", status: .forbidden))
        }
        let account = auth.account(for: creds.accessKeyID)
        if let owner = Self.ownerAccount(rawPath), owner != account {
            return .denied(Self.refusal("AccessDenied",
                                        "The key of account \(account) may not read the data of account \(owner).",
                                        status: .forbidden))
        }
        return .account(account)
    }

    /// The account segment of a peek or async-queue path (percent-decoded).
    static func ownerAccount(_ path: Substring) -> String? {
        guard let prefix = accountPrefixes.first(where: { path.hasPrefix($0) }) else { return nil }
        let first = path.dropFirst(prefix.count).prefix(while: { $0 != "/" })
        return Percent.decode(first) ?? String(first)
    }

    /// A JSON error, in the shape these endpoints answer errors (`{"error": …}`), with the AWS code and message.
    static func refusal(_ code: String, _ message: String, status: HTTPResponse.Status) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        let text = "{\"error\":\(JSONString.quote(code)),\"message\":\(JSONString.quote(message))}"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
