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

extension Region {
    /// AWS's commercial, China and GovCloud regions (for arguments AWS validates against its region list).
    public static let known: Set<String> = [
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2",
        "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2",
        "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1", "il-central-1", "me-south-1",
        "me-central-1", "mx-central-1", "sa-east-1", "cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1",
    ]
}
