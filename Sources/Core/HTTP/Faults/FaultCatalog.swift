/// The error codes a fault rule can name without saying more: each with the HTTP status and message AWS sends with
/// it, so that an SDK's retry logic sees the answer it would get from AWS. The throttling codes are those botocore's
/// standard retry mode treats as throttling (`retries/standard.py`), the transient ones those its status list
/// (500, 502, 503, 504) and `_retry.json` cover.
public enum FaultCatalog {
    public struct Entry: Sendable, Equatable {
        public let status: Int
        public let message: String
    }

    static let rateExceeded = "Rate exceeded"

    /// Codes AWS services send, by code. A code not listed is still allowed (400 unless the rule says otherwise).
    static let entries: [String: Entry] = [
        // Throttling.
        "ThrottlingException": Entry(status: 400, message: rateExceeded),
        "Throttling": Entry(status: 400, message: rateExceeded),
        "ThrottledException": Entry(status: 400, message: rateExceeded),
        "RequestThrottledException": Entry(status: 400, message: rateExceeded),
        "TooManyRequestsException": Entry(status: 429, message: rateExceeded),
        "LimitExceededException": Entry(status: 400, message: rateExceeded),
        "RequestLimitExceeded": Entry(status: 503, message: "Request limit exceeded."),
        "BandwidthLimitExceeded": Entry(status: 509, message: "Bandwidth limit exceeded."),
        "ProvisionedThroughputExceededException": Entry(
            status: 400,
            message: "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."),
        "TransactionInProgressException": Entry(status: 400, message: "The transaction with the given request token is already in progress."),
        "EC2ThrottledException": Entry(status: 400, message: rateExceeded),
        // SQS: 403 as botocore's legacy retry policy for SQS expects it.
        "RequestThrottled": Entry(status: 403, message: "The request was denied due to request throttling."),
        // S3.
        "SlowDown": Entry(status: 503, message: "Please reduce your request rate."),
        "InternalError": Entry(status: 500, message: "We encountered an internal error. Please try again."),
        "ServiceUnavailable": Entry(status: 503, message: "Service is unable to handle request."),
        "RequestTimeout": Entry(
            status: 400,
            message: "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed."),
        // Transient errors of the JSON and Query services.
        "InternalFailure": Entry(status: 500, message: "The request processing has failed because of an unknown error, exception or failure."),
        "InternalServerError": Entry(status: 500, message: "An internal error occurred."),
        "InternalServiceError": Entry(status: 500, message: "An internal error occurred."),
        "InternalServiceErrorException": Entry(status: 500, message: "An error occurred on the server side."),
        "ServiceException": Entry(status: 500, message: "The service encountered an internal error."),
        "ServiceUnavailableException": Entry(status: 503, message: "The service is unavailable. Please try again later."),
        "RequestTimeoutException": Entry(status: 408, message: "Request timed out."),
        "PriorRequestNotComplete": Entry(status: 400, message: "The request was rejected because a prior request is still being processed."),
        "BadGateway": Entry(status: 502, message: "Bad Gateway"),
        "GatewayTimeout": Entry(status: 504, message: "Gateway Timeout"),
    ]

    /// The code for a rule that gives a status and no code.
    static let codesByStatus: [Int: String] = [
        429: "TooManyRequestsException", 500: "InternalError", 502: "BadGateway", 503: "ServiceUnavailable",
        504: "GatewayTimeout", 509: "BandwidthLimitExceeded",
    ]

    public static func entry(_ code: String) -> Entry? { entries[code] }

    /// The status AWS sends a code with; 400 for a code not in the catalog.
    public static func defaultStatus(_ code: String) -> Int { entries[code]?.status ?? 400 }

    /// The message AWS sends a code with; for a code not in the catalog, one naming it.
    public static func defaultMessage(_ code: String) -> String {
        entries[code]?.message ?? "Fault injected by Cloudless: \(code)."
    }

    /// The code a rule with only a status answers with: the catalog's for that status, else a client or server fault.
    public static func code(forStatus status: Int) -> String {
        codesByStatus[status] ?? (status >= 500 ? "InternalFailure" : "ThrottlingException")
    }
}
