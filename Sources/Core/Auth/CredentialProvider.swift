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
