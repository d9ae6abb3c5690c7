/// How requests are authenticated. Verification is off by default (any key works and only picks the account);
/// `--strict-auth` checks every signature against the configured credentials.
public struct AuthSettings: Sendable {
    public var strict: Bool
    /// access key id → secret access key
    public var credentials: [String: String]
    public var defaultAccount: String
    public var defaultRegion: String
    /// Keys issued at runtime (IAM), consulted after `credentials`.
    public var provider: (any CredentialProvider)?

    public init(strict: Bool, credentials: [String: String], defaultAccount: String, defaultRegion: String,
                provider: (any CredentialProvider)? = nil) {
        self.strict = strict
        self.credentials = credentials
        self.defaultAccount = defaultAccount
        self.defaultRegion = defaultRegion
        self.provider = provider
    }

    /// The secret of a static or issued key.
    public func secret(for accessKeyID: String) -> String? {
        credentials[accessKeyID] ?? provider?.secretKey(for: accessKeyID)?.secret
    }

    /// The account a key acts in: the IAM account that issued it, else the key itself when it is 12 digits, else
    /// the default account.
    public func account(for accessKeyID: String?) -> String {
        if let key = accessKeyID, credentials[key] == nil, let issued = provider?.secretKey(for: key) {
            return issued.account
        }
        return AccountID.from(accessKey: accessKeyID, default: defaultAccount)
    }
}

/// What the request says about who signed it, before any verification.
public enum RequestCredentials: Sendable {
    case sigV4Header(SigV4Authorization)
    case sigV4Presigned(SigV4Presign)
    case sigV2Header(accessKey: String, signature: String)
    case sigV2Presigned(accessKey: String, signature: String, expires: String)
    case anonymous
    /// A presigned URL missing one of its X-Amz-* parameters.
    case malformedPresign

    public var accessKeyID: String? {
        switch self {
        case .sigV4Header(let a): return a.accessKeyId
        case .sigV4Presigned(let p): return p.credential.accessKeyId
        case .sigV2Header(let k, _), .sigV2Presigned(let k, _, _): return k
        case .anonymous, .malformedPresign: return nil
        }
    }

    /// Checks AWS makes on every presigned URL, verified or not.
    public func validate() throws {
        switch self {
        case .malformedPresign:
            throw AWSError("AuthorizationQueryParametersError",
                           "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
        case .sigV4Presigned(let p) where p.expires > 604800 || p.expires < 1:
            throw AWSError("AuthorizationQueryParametersError",
                           p.expires < 1 ? "X-Amz-Expires must be non-negative" : "X-Amz-Expires must be less than a week (in seconds) that is 604800")
        default:
            return
        }
    }

    /// The service named in the SigV4 credential scope.
    public var scopeService: String? {
        switch self {
        case .sigV4Header(let a): return a.service
        case .sigV4Presigned(let p): return p.credential.service
        case .sigV2Header, .sigV2Presigned: return "s3"  // only S3 still accepts SigV2
        case .anonymous, .malformedPresign: return nil
        }
    }

    public var scopeRegion: String? {
        switch self {
        case .sigV4Header(let a): return a.region
        case .sigV4Presigned(let p): return p.credential.region
        default: return nil
        }
    }

    /// Read the credentials from the Authorization header or the query of a presigned URL.
    public static func parse(authorization: String?, query: [(String, String)]) -> RequestCredentials {
        if let auth = authorization {
            if auth.hasPrefix("AWS4-HMAC-SHA256"), let a = SigV4Authorization(header: auth) {
                return .sigV4Header(a)
            }
            if auth.hasPrefix("AWS ") {
                let rest = auth.dropFirst(4)
                if let colon = rest.lastIndex(of: ":") {
                    return .sigV2Header(accessKey: String(rest[..<colon]), signature: String(rest[rest.index(after: colon)...]))
                }
            }
        }
        if query.contains(where: { $0.0 == "X-Amz-Credential" || $0.0 == "X-Amz-Algorithm" }) {
            guard let p = SigV4Presign(query: query) else { return .malformedPresign }
            return .sigV4Presigned(p)
        }
        if let key = query.first(where: { $0.0 == "AWSAccessKeyId" })?.1,
           let sig = query.first(where: { $0.0 == "Signature" })?.1 {
            let expires = query.first(where: { $0.0 == "Expires" })?.1 ?? ""
            return .sigV2Presigned(accessKey: key, signature: sig, expires: expires)
        }
        return .anonymous
    }
}
