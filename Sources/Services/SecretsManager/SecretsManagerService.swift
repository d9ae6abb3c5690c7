import Core
import Foundation
import GRDB
import Logging

/// AWS Secrets Manager over AWS JSON 1.1 (`X-Amz-Target: secretsmanager.<Op>`). Values are sealed with AES-256-GCM
/// under per-version data keys wrapped by the master key; they never reach a log or an error message.
public struct SecretsManagerService: AWSService {
    public let signingName = "secretsmanager"
    public let wireProtocol = WireProtocol.json11
    public var jsonErrorMessageKey: String { "Message" }
    let store: SecretStore
    let clock: EmulatorClock
    let masterKey: MasterKey
    let rotator: any SecretRotator
    let logger: Logger

    public init(directory: String, clock: EmulatorClock, masterKey: MasterKey, rotator: any SecretRotator, logger: Logger) throws {
        store = try SecretStore(directory: directory)
        self.clock = clock
        self.masterKey = masterKey
        self.rotator = rotator
        self.logger = logger
    }

    public func reset() async throws { try store.reset() }

    public func operationName(for request: AWSRequest) -> String { JSONProtocol.operation(request) ?? "-" }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        guard let op = JSONProtocol.operation(request) else {
            throw AWSError("UnknownOperationException", "Secrets Manager is served over AWS JSON 1.1 (X-Amz-Target).")
        }
        let input = Input(try await JSONProtocol.input(request, limit: 1 << 20))
        let output: [String: Any]
        switch op {
        case "CreateSecret": output = try createSecret(request, input)
        case "PutSecretValue": output = try putSecretValue(request, input)
        case "UpdateSecret": output = try updateSecret(request, input)
        case "GetSecretValue": output = try getSecretValue(request, input)
        case "BatchGetSecretValue": output = try batchGetSecretValue(request, input)
        case "DescribeSecret": output = try describeSecret(request, input)
        case "ListSecrets": output = try listSecrets(request, input)
        case "ListSecretVersionIds": output = try listSecretVersionIds(request, input)
        case "DeleteSecret": output = try deleteSecret(request, input)
        case "RestoreSecret": output = try restoreSecret(request, input)
        case "UpdateSecretVersionStage": output = try updateSecretVersionStage(request, input)
        case "RotateSecret": output = try await rotateSecret(request, input)
        case "CancelRotateSecret": output = try cancelRotateSecret(request, input)
        case "TagResource": output = try tagResource(request, input)
        case "UntagResource": output = try untagResource(request, input)
        case "GetResourcePolicy": output = try getResourcePolicy(request, input)
        case "PutResourcePolicy": output = try putResourcePolicy(request, input)
        case "DeleteResourcePolicy": output = try deleteResourcePolicy(request, input)
        case "ValidateResourcePolicy": output = try validateResourcePolicy(request, input)
        case "GetRandomPassword": output = try getRandomPassword(request, input)
        case "ReplicateSecretToRegions": output = try replicateSecretToRegions(request, input)
        case "RemoveRegionsFromReplication": output = try removeRegionsFromReplication(request, input)
        case "StopReplicationToReplica": output = try stopReplicationToReplica(request, input)
        default:
            throw AWSError("UnknownOperationException", "The operation \(op) is not supported by Secrets Manager.")
        }
        return JSONProtocol.response(output, contentType: "application/x-amz-json-1.1")
    }

    // MARK: Finding secrets

    /// The secret a SecretId names: a name, a full ARN, or a partial ARN (without the 6-character suffix).
    /// Secrets whose deletion date has passed are gone first.
    func find(_ id: String, _ r: AWSRequest, _ db: Database) throws -> Secret? {
        // A SecretId that is not an ARN must be a valid name.
        if !id.hasPrefix("arn:") { try Self.validateName(id) }
        let found: Secret?
        if id.hasPrefix("arn:") {
            let parts = id.split(separator: ":", maxSplits: 6, omittingEmptySubsequences: false).map(String.init)
            if let s = try SecretStore.byARN(id, db) {
                found = s
            } else if parts.count == 7, parts[2] == "secretsmanager", parts[5] == "secret" {
                found = try SecretStore.byName(account: parts[4], region: parts[3], name: parts[6], db)
            } else {
                found = nil
            }
        } else {
            found = try SecretStore.byName(account: r.caller.accountID, region: r.caller.region, name: id, db)
        }
        // A secret whose recovery window has ended is gone, even before the sweep removes its rows.
        if let purgeAt = found?.purgeAt, purgeAt <= clock.now() { return nil }
        return found
    }

    /// The secret, or ResourceNotFoundException.
    func secret(_ id: String, _ r: AWSRequest, _ db: Database) throws -> Secret {
        guard let s = try find(id, r, db) else { throw SecretsError.notFound() }
        return s
    }

    /// A secret that can be changed: it exists, is not scheduled for deletion, and is not a replica.
    func writable(_ id: String, _ r: AWSRequest, _ db: Database) throws -> Secret {
        let s = try secret(id, r, db)
        if s.isDeleted { throw SecretsError.markedForDeletion() }
        if s.primaryARN != nil { throw SecretsError.replica() }
        return s
    }

    /// A replica reads through to its primary: the secret whose record and versions stand for `s`.
    func source(of s: Secret, _ db: Database) throws -> Secret {
        guard let primary = s.primaryARN else { return s }
        guard var p = try SecretStore.byARN(primary, db) else { return s }
        p.arn = s.arn
        p.region = s.region
        p.primaryARN = primary
        return p
    }

    func versionsARN(of s: Secret) -> String { s.primaryARN ?? s.arn }

    /// Remove secrets whose recovery window has ended.
    func purgeDue(_ db: Database) throws {
        let due = try String.fetchAll(db.cachedStatement(sql: "SELECT arn FROM secret WHERE purge_at <= ?"), arguments: [clock.now()])
        for arn in due { try SecretStore.remove(arn: arn, db) }
    }

    // MARK: Sealing values

    /// The authenticated data a sealed value is bound to: its secret and version.
    static func context(arn: String, versionID: String) -> String { "\(arn)|\(versionID)" }

    func seal(_ value: SecretValue, arn: String, versionID: String, now: Double) -> SecretVersion {
        let context = Self.context(arn: arn, versionID: versionID)
        let (key, wrapped) = masterKey.newDataKey(context: context)
        let sealed = AESGCM.seal(value.bytes, key: key, aad: Array(context.utf8))
        return SecretVersion(versionID: versionID, created: now, lastAccessed: nil, stages: [], isBinary: value.isBinary,
                             wrappedKey: wrapped, sealed: sealed)
    }

    func open(_ v: SecretVersion, arn: String) throws -> SecretValue {
        let context = Self.context(arn: arn, versionID: v.versionID)
        do {
            let key = try masterKey.unwrap(v.wrappedKey, context: context)
            let bytes = try AESGCM.open(v.sealed, key: key, aad: Array(context.utf8))
            return SecretValue(bytes: bytes, isBinary: v.isBinary)
        } catch {
            throw AWSError("DecryptionFailure", "Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
        }
    }
}

/// A secret value: text (SecretString) or bytes (SecretBinary).
struct SecretValue: Equatable {
    var bytes: [UInt8]
    var isBinary: Bool

    /// SecretString / SecretBinary in an answer (binary travels base64-encoded in JSON).
    func output(into out: inout [String: Any]) {
        if isBinary { out["SecretBinary"] = Data(bytes).base64EncodedString() } else { out["SecretString"] = String(decoding: bytes, as: UTF8.self) }
    }
}
