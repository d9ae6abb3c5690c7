import Core
import Foundation
import GRDB

/// Creating secrets and their versions: CreateSecret, PutSecretValue, UpdateSecret, and the staging-label rules they
/// share with UpdateSecretVersionStage.
extension SecretsManagerService {
    static let nameCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_+=.@-")

    static func validateName(_ name: String) throws {
        guard isValidName(name) else {
            throw AWSError("ValidationException",
                           "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
        }
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 512 && name.allSatisfy { nameCharacters.contains($0) }
    }

    static func validateDescription(_ d: String?) throws {
        if let d, d.count > 2048 { throw SecretsError.invalidParameter("Description must be at most 2048 characters.") }
    }

    /// `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 random letters and digits>`.
    static func newARN(account: String, region: String, name: String) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let suffix = String(randomBytes(count: 6).map { alphabet[Int($0) % alphabet.count] })
        return ARN(service: "secretsmanager", region: region, account: account, resource: "secret:\(name)-\(suffix)").description
    }

    static func tags(_ input: Input, _ name: String = "Tags") throws -> [Tag] {
        guard let list = try input.objects(name) else { return [] }
        var out: [Tag] = []
        for t in list {
            guard let key = t["Key"] as? String, let value = t["Value"] as? String ?? (t["Value"] == nil ? "" : nil) else {
                throw SecretsError.invalidParameter("Invalid tag: each tag needs a Key and a Value.")
            }
            guard (1...128).contains(key.count), value.count <= 256 else {
                throw SecretsError.invalidParameter("Tag keys must be 1 to 128 characters and values at most 256 characters.")
            }
            if key.lowercased().hasPrefix("aws:") {
                throw SecretsError.invalidParameter("Tag keys can't start with aws: (reserved for AWS use).")
            }
            out.append(Tag(Key: key, Value: value))
        }
        return out
    }

    /// Tags with `added` set over `existing` (same key: the new value, kept in place).
    static func merge(_ existing: [Tag], _ added: [Tag]) throws -> [Tag] {
        var out = existing
        for t in added {
            if let i = out.firstIndex(where: { $0.Key == t.Key }) { out[i] = t } else { out.append(t) }
        }
        if out.count > 50 { throw SecretsError.invalidParameter("A secret can have at most 50 tags.") }
        return out
    }

    func createSecret(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let name = try input.required("Name")
        try Self.validateName(name)
        let description = try input.string("Description")
        try Self.validateDescription(description)
        let value = try input.value()
        let token = try input.token()
        if value != nil && token == nil { throw SecretsError.tokenRequired() }
        let tags = try Self.merge([], Self.tags(input))
        let replicaRegions = try input.objects("AddReplicaRegions") ?? []
        let force = try input.bool("ForceOverwriteReplicaSecret") ?? false
        let now = clock.now()
        return try store.db.writeNow { db in
            try purgeDue(db)
            if let existing = try SecretStore.byName(account: r.caller.accountID, region: r.caller.region, name: name, db) {
                if existing.isDeleted {
                    throw SecretsError.invalidRequest("You can't create this secret because a secret with this name is already scheduled for deletion.")
                }
                // A retried CreateSecret (same token, same value) answers as the first one did.
                if let token, let value, let v = try SecretStore.versions(arn: existing.arn, db).first(where: { $0.versionID == token && $0.hasValue }) {
                    if try open(v, arn: existing.arn) == value { return ["ARN": existing.arn, "Name": name, "VersionId": token] }
                }
                throw AWSError("ResourceExistsException", "The operation failed because the secret \(name) already exists.")
            }
            var secret = Secret(
                arn: Self.newARN(account: r.caller.accountID, region: r.caller.region, name: name), account: r.caller.accountID,
                region: r.caller.region, name: name, created: now, deleted: nil, purgeAt: nil, primaryARN: nil,
                record: SecretRecord(description: description, kmsKeyId: try input.string("KmsKeyId"), tags: tags, lastChanged: now,
                                     type: try input.string("Type")))
            var out: [String: Any] = ["ARN": secret.arn, "Name": name]
            if let value, let token {
                var v = seal(value, arn: secret.arn, versionID: token, now: now)
                v.stages = ["AWSCURRENT"]
                try SecretStore.saveVersion(v, arn: secret.arn, db)
                out["VersionId"] = token
            }
            if !replicaRegions.isEmpty {
                try addReplicas(replicaRegions, to: &secret, force: force, db)
                out["ReplicationStatus"] = secret.record.replicas.map(Self.replicationStatus)
            }
            try SecretStore.save(secret, db)
            return out
        }
    }

    /// Store a new version of `secret` (or recognise a retry): the shared path of PutSecretValue, UpdateSecret and
    /// rotation. Returns the version id and its stages.
    func putVersion(_ value: SecretValue, token: String, stages requested: [String]?, secret: inout Secret, now: Double,
                    _ db: Database) throws -> (String, [String]) {
        var versions = try SecretStore.versions(arn: secret.arn, db)
        // The version a rotation made for this token has no value yet: this call gives it one.
        let pending = versions.first(where: { $0.versionID == token && !$0.hasValue })
        versions.removeAll { $0.versionID == pending?.versionID }
        if let existing = versions.first(where: { $0.versionID == token }) {
            // Same token: a retry is a no-op when the value matches; otherwise versions are immutable.
            guard try open(existing, arn: secret.arn) == value else {
                throw AWSError("ResourceExistsException", "You can't modify an existing version, you can only create a new version.")
            }
            return (token, existing.stages)
        }
        let stages = requested ?? ["AWSCURRENT"]
        if let bad = stages.first(where: { $0.isEmpty || $0.count > 256 }) {
            throw SecretsError.invalidParameter("Invalid VersionStage: \(bad)")
        }
        if stages.count > 20 { throw SecretsError.invalidParameter("A version can have at most 20 staging labels.") }
        var v = seal(value, arn: secret.arn, versionID: token, now: now)
        v.stages = pending?.stages ?? []
        versions.append(v)
        let changed = Self.attach(stages, to: token, in: &versions)
        v.stages = versions.last!.stages
        try SecretStore.saveVersion(v, arn: secret.arn, db)
        for other in versions where changed.contains(other.versionID) && other.versionID != token {
            try SecretStore.setStages(other.stages, arn: secret.arn, versionID: other.versionID, db)
        }
        for gone in Self.prunable(versions, now: now) {
            try db.execute(sql: "DELETE FROM version WHERE arn = ? AND version_id = ?", arguments: [secret.arn, gone])
        }
        secret.record.lastChanged = now
        try SecretStore.save(secret, db)
        return (token, v.stages)
    }

    /// Put `stages` on version `target`, taking each from the version that had it; when AWSCURRENT moves, its
    /// previous holder becomes AWSPREVIOUS. Returns the ids of the versions whose stages changed.
    @discardableResult
    static func attach(_ stages: [String], to target: String, in versions: inout [SecretVersion]) -> Set<String> {
        var changed: Set<String> = [target]
        guard let t = versions.firstIndex(where: { $0.versionID == target }) else { return [] }
        for stage in stages where !versions[t].stages.contains(stage) {
            if stage == "AWSCURRENT", let old = versions.firstIndex(where: { $0.stages.contains("AWSCURRENT") }) {
                for i in versions.indices where versions[i].stages.contains("AWSPREVIOUS") {
                    versions[i].stages.removeAll { $0 == "AWSPREVIOUS" }
                    changed.insert(versions[i].versionID)
                }
                // The old current version keeps only AWSPREVIOUS: a pending label it also held goes (as AWS does).
                versions[old].stages.removeAll { $0 == "AWSCURRENT" || ($0 == "AWSPENDING" && old != t) }
                if old != t { versions[old].stages.append("AWSPREVIOUS") }
                changed.insert(versions[old].versionID)
            } else {
                for i in versions.indices where i != t && versions[i].stages.contains(stage) {
                    versions[i].stages.removeAll { $0 == stage }
                    changed.insert(versions[i].versionID)
                }
            }
            versions[t].stages.removeAll { $0 == stage }
            versions[t].stages.append(stage)
        }
        // The version that is current now is never also the previous one.
        if stages.contains("AWSCURRENT") { versions[t].stages.removeAll { $0 == "AWSPREVIOUS" } }
        return changed
    }

    /// Versions without staging labels are deprecated; past 100 versions, the oldest deprecated ones more than a
    /// day old are removed, as Secrets Manager does.
    static func prunable(_ versions: [SecretVersion], now: Double) -> [String] {
        var excess = versions.count - 100
        var out: [String] = []
        for v in versions where excess > 0 && v.stages.isEmpty && v.created < now - 86_400 {
            out.append(v.versionID)
            excess -= 1
        }
        return out
    }

    func putSecretValue(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let id = try input.required("SecretId")
        let value = try input.value()
        let token = try input.token()
        let stages = try input.strings("VersionStages")
        // Without a token (a raw request: SDKs fill one in) AWS refuses before it looks the secret up.
        guard let token else { throw SecretsError.tokenRequired() }
        let now = clock.now()
        return try store.db.writeNow { db in
            var secret = try writable(id, r, db)
            guard let value else {
                throw SecretsError.invalidRequest("You must provide either SecretString or SecretBinary.")
            }
            let (versionID, versionStages) = try putVersion(value, token: token, stages: stages, secret: &secret, now: now, db)
            return ["ARN": secret.arn, "Name": secret.name, "VersionId": versionID, "VersionStages": versionStages]
        }
    }

    func updateSecret(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let id = try input.required("SecretId")
        let description = try input.string("Description")
        try Self.validateDescription(description)
        let kmsKeyId = try input.string("KmsKeyId")
        let value = try input.value()
        let token = try input.token()
        // A new value without a token (a raw request) is refused before the secret is looked up, as AWS does.
        if value != nil && token == nil { throw SecretsError.tokenRequired() }
        let now = clock.now()
        return try store.db.writeNow { db in
            var secret = try writable(id, r, db)
            if let description { secret.record.description = description }
            if let kmsKeyId { secret.record.kmsKeyId = kmsKeyId }
            if let type = try input.string("Type") { secret.record.type = type }
            secret.record.lastChanged = now
            var out: [String: Any] = ["ARN": secret.arn, "Name": secret.name]
            if let value {
                guard let token else { throw SecretsError.tokenRequired() }
                out["VersionId"] = try putVersion(value, token: token, stages: nil, secret: &secret, now: now, db).0
            }
            try SecretStore.save(secret, db)
            return out
        }
    }
}
