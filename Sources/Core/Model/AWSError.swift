import HTTPTypes

/// An error as AWS reports it: a code, a message, an HTTP status and whose fault it was.
/// Services throw it; the gateway renders it in the wire format of the service that threw it.
public struct AWSError: Error, Sendable, Equatable {
    public var code: String
    public var message: String
    public var status: HTTPResponse.Status
    /// `Sender` (client fault) or `Receiver` (server fault), as the Query and JSON protocols report it.
    public var isSenderFault: Bool
    /// Extra elements AWS adds to the error document (S3: `Key`, `BucketName`, `Condition`, ...).
    public var details: [(String, String)]
    /// Extra response headers (S3 `x-amz-delete-marker`, SQS `x-amzn-query-error` ...).
    public var headers: [(String, String)]
    /// The code the service's older Query protocol used (`AWS.SimpleQueueService.NonExistentQueue`): JSON answers
    /// carry it in `x-amzn-query-error` so SDKs keep raising the legacy codes user code catches.
    public var queryCode: String?

    public init(
        _ code: String, _ message: String, status: HTTPResponse.Status = .badRequest,
        details: [(String, String)] = [], headers: [(String, String)] = []
    ) {
        self.code = code
        self.message = message
        self.status = status
        self.isSenderFault = status.code < 500
        self.details = details
        self.headers = headers
        self.queryCode = nil
    }

    /// The same error with its legacy Query-protocol code.
    public func query(_ code: String) -> AWSError {
        var copy = self
        copy.queryCode = code
        return copy
    }

    public static func == (a: AWSError, b: AWSError) -> Bool {
        a.code == b.code && a.message == b.message && a.status == b.status
    }

    public func with(_ name: String, _ value: String) -> AWSError {
        var copy = self
        copy.details.append((name, value))
        return copy
    }

    // Errors every service shares.
    public static func internalError(_ message: String = "We encountered an internal error. Please try again.") -> AWSError {
        AWSError("InternalError", message, status: .internalServerError)
    }
    public static func notImplemented(_ what: String) -> AWSError {
        AWSError("NotImplemented", "\(what) is not implemented by Cloudless yet.", status: .notImplemented)
    }
    public static func signatureDoesNotMatch() -> AWSError {
        AWSError(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            status: .forbidden)
    }
    public static func invalidAccessKeyId() -> AWSError {
        AWSError("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", status: .forbidden)
    }
    public static func accessDenied(_ message: String = "Access Denied") -> AWSError {
        AWSError("AccessDenied", message, status: .forbidden)
    }
}
