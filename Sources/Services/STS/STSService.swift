import Core

/// AWS STS (Query protocol). GetCallerIdentity is what the aws CLI, Terraform and Pulumi call first.
public struct STSService: AWSService {
    public let signingName = "sts"
    public let wireProtocol = WireProtocol.query
    static let xmlns = "https://sts.amazonaws.com/doc/2011-06-15/"
    public static let apiVersion = "2011-06-15"

    /// Keys issued by IAM: a request signed with one is its user's.
    let credentials: (any CredentialProvider)?

    public init(credentials: (any CredentialProvider)? = nil) {
        self.credentials = credentials
    }

    public func reset() async throws {}

    public func operationName(for request: AWSRequest) -> String {
        request.queryValue("Action") ?? "-"
    }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        let params = try await QueryProtocol.parameters(request)
        guard let action = params["Action"] else {
            throw AWSError("MissingAction", "Missing Action")
        }
        switch action {
        case "GetCallerIdentity":
            return getCallerIdentity(request)
        default:
            throw AWSError("InvalidAction", "Could not find operation \(action) for version \(params["Version"] ?? "NO_VERSION_SPECIFIED")")
        }
    }

    /// The IAM user whose key signed the request; else the account's root user (the account comes from the access
    /// key: 12 digits, or the default).
    func getCallerIdentity(_ request: AWSRequest) -> AWSResponse {
        let account = request.caller.accountID
        let principal = request.caller.accessKeyID.flatMap { credentials?.principal(for: $0) }
        return QueryProtocol.response(action: "GetCallerIdentity", xmlns: Self.xmlns, requestID: request.requestID) { xml in
            xml.element("Arn", principal?.arn ?? ARN(service: "iam", region: "", account: account, resource: "root").description)
            xml.element("UserId", principal?.userID ?? account)
            xml.element("Account", account)
        }
    }
}
