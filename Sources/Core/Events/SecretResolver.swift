/// Resolving a secret reference to its value, for services that inject secrets (ECS task definitions, Lambda):
/// a name, a full ARN, or a partial ARN (without the 6-character suffix), optionally followed (in ARN form) by
/// `:json-key:version-stage:version-id`, as ECS's `valueFrom` allows. Secrets Manager implements it.
public struct SecretReference: Sendable, Equatable {
    /// Name, full ARN or partial ARN.
    public var secretID: String
    public var jsonKey: String?
    public var versionStage: String?
    public var versionID: String?

    public init(secretID: String, jsonKey: String? = nil, versionStage: String? = nil, versionID: String? = nil) {
        self.secretID = secretID
        self.jsonKey = jsonKey
        self.versionStage = versionStage
        self.versionID = versionID
    }

    /// Parse `arn:aws:secretsmanager:<region>:<account>:secret:<name>[:json-key[:stage[:version]]]` or a bare name.
    /// Empty fields mean "not given" (`...:secret:db::AWSPREVIOUS:`).
    public init(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 7, parts[0] == "arn", parts[2] == "secretsmanager", parts[5] == "secret" else {
            self.init(secretID: text)
            return
        }
        func field(_ i: Int) -> String? { parts.count > i && !parts[i].isEmpty ? parts[i] : nil }
        self.init(secretID: parts[0...6].joined(separator: ":"), jsonKey: field(7), versionStage: field(8), versionID: field(9))
    }
}

public protocol SecretResolver: Sendable {
    /// The value a reference names, in the account and region of the caller; a JSON key picks one field of a
    /// JSON secret. Throws AWS's errors (ResourceNotFoundException...).
    func resolve(_ reference: SecretReference, account: String, region: String) throws -> String
}
