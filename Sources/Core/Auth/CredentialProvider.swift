/// Access keys issued while the emulator runs (IAM CreateAccessKey). `--strict-auth` consults it after the
/// static `--credentials`; the gateway asks it which account a key acts in.
public protocol CredentialProvider: Sendable {
    /// The secret of an active key and the account that issued it; nil for an unknown, inactive or deleted key.
    func secretKey(for accessKeyID: String) -> (secret: String, account: String)?
    /// Who signs with the key, as STS GetCallerIdentity names it (`arn:aws:iam::<account>:user/<name>`, `AIDA...`).
    func principal(for accessKeyID: String) -> (arn: String, userID: String)?
}

extension CredentialProvider {
    public func principal(for accessKeyID: String) -> (arn: String, userID: String)? { nil }
}

/// Several providers asked in order (IAM's access keys, then ECS task roles' temporary keys).
public struct CredentialProviders: CredentialProvider {
    let providers: [any CredentialProvider]

    public init(_ providers: [any CredentialProvider]) { self.providers = providers }

    public func secretKey(for accessKeyID: String) -> (secret: String, account: String)? {
        for p in providers { if let found = p.secretKey(for: accessKeyID) { return found } }
        return nil
    }

    public func principal(for accessKeyID: String) -> (arn: String, userID: String)? {
        for p in providers { if let found = p.principal(for: accessKeyID) { return found } }
        return nil
    }
}
