/// Who is calling, in AWS's terms: the account and region a request's state lives in.
public struct CallerIdentity: Sendable, Hashable {
    public var accountID: String
    public var region: String
    public var accessKeyID: String?

    public init(accountID: String, region: String, accessKeyID: String?) {
        self.accountID = accountID
        self.region = region
        self.accessKeyID = accessKeyID
    }
}

public enum AccountID {
    /// A 12-digit access key *is* the account id (as LocalStack and Floci do); any other key maps to the default.
    public static func from(accessKey: String?, default defaultAccount: String) -> String {
        guard let key = accessKey, key.utf8.count == 12, key.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            return defaultAccount
        }
        return key
    }

    public static func isValid(_ s: String) -> Bool {
        s.utf8.count == 12 && s.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }
}

public enum Region {
    public static func isValid(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 32 && s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
    }
}

/// `arn:aws:<service>:<region>:<account>:<resource>`
public struct ARN: Sendable, Hashable, CustomStringConvertible {
    public var partition = "aws"
    public var service: String
    public var region: String
    public var account: String
    public var resource: String

    public init(service: String, region: String, account: String, resource: String) {
        self.service = service
        self.region = region
        self.account = account
        self.resource = resource
    }

    public init?(_ string: String) {
        let parts = string.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn" else { return nil }
        partition = String(parts[1])
        service = String(parts[2])
        region = String(parts[3])
        account = String(parts[4])
        resource = String(parts[5])
    }

    public var description: String { "arn:\(partition):\(service):\(region):\(account):\(resource)" }
}
