import Core
import Foundation
import GRDB

/// DeleteSecret (a recovery window of 7–30 days, or at once), RestoreSecret, UpdateSecretVersionStage and tags.
extension SecretsManagerService {
    func deleteSecret(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let id = try input.required("SecretId")
        let window = try input.int("RecoveryWindowInDays")
        let force = try input.bool("ForceDeleteWithoutRecovery") ?? false
        if force && window != nil {
            throw SecretsError.invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
        }
        if let window, !(7...30).contains(window) {
            throw SecretsError.invalidParameter("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
        }
        let now = clock.now()
        return try store.db.writeNow { db in
            try purgeDue(db)
            guard var s = try find(id, r, db) else {
                // Forcing the deletion of a secret that does not exist is not an error (deletes stay idempotent): AWS
                // answers as if it had existed, with an ARN for the name.
                if force {
                    let name = id.hasPrefix("arn:") ? String(id.split(separator: ":").last ?? "") : id
                    let arn = id.hasPrefix("arn:") ? id : Self.newARN(account: r.caller.accountID, region: r.caller.region, name: id)
                    return ["ARN": arn, "Name": name, "DeletionDate": now]
                }
                throw SecretsError.notFound()
            }
            if s.primaryARN != nil { throw SecretsError.replica() }
            if s.isDeleted && !force { throw SecretsError.markedForDeletion() }
            if !s.record.replicas.isEmpty {
                throw SecretsError.invalidRequest("You can't delete secret \(s.name) that still has replica regions. Remove the replicas first.")
            }
            if force {
                try SecretStore.remove(arn: s.arn, db)
                return ["ARN": s.arn, "Name": s.name, "DeletionDate": now]
            }
            let purgeAt = now + Double(window ?? 30) * 86_400
            s.deleted = now
            s.purgeAt = purgeAt
            try SecretStore.save(s, db)
            return ["ARN": s.arn, "Name": s.name, "DeletionDate": purgeAt]
        }
    }

    func restoreSecret(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let id = try input.required("SecretId")
        return try store.db.writeNow { db in
            var s = try secret(id, r, db)
            if s.primaryARN != nil { throw SecretsError.replica() }
            s.deleted = nil
            s.purgeAt = nil
            try SecretStore.save(s, db)
            return ["ARN": s.arn, "Name": s.name]
        }
    }

    func updateSecretVersionStage(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let id = try input.required("SecretId")
        let stage = try input.required("VersionStage")
        guard (1...256).contains(stage.count) else { throw SecretsError.invalidParameter("Invalid VersionStage.") }
        let removeFrom = try input.string("RemoveFromVersionId")
        let moveTo = try input.string("MoveToVersionId")
        let now = clock.now()
        return try store.db.writeNow { db in
            var s = try writable(id, r, db)
            var versions = try SecretStore.versions(arn: s.arn, db)
            for vid in [removeFrom, moveTo].compactMap({ $0 }) where !versions.contains(where: { $0.versionID == vid }) {
                throw SecretsError.invalidParameter("The version \(vid) does not exist for this secret.")
            }
            let holder = versions.first { $0.stages.contains(stage) }
            if let holder, holder.versionID != moveTo, holder.versionID != removeFrom {
                throw SecretsError.invalidParameter(
                    "The staging label \(stage) is currently attached to version \(holder.versionID), so you must explicitly reference that version in RemoveFromVersionId.")
            }
            if let removeFrom, holder?.versionID != removeFrom {
                throw SecretsError.invalidParameter("The staging label \(stage) is not attached to version \(removeFrom).")
            }
            var changed: Set<String> = []
            if let moveTo {
                changed = Self.attach([stage], to: moveTo, in: &versions)
            } else if let removeFrom, let i = versions.firstIndex(where: { $0.versionID == removeFrom }) {
                if stage == "AWSCURRENT" {
                    throw SecretsError.invalidParameter("You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.")
                }
                versions[i].stages.removeAll { $0 == stage }
                changed = [removeFrom]
            }
            for v in versions where changed.contains(v.versionID) {
                try SecretStore.setStages(v.stages, arn: s.arn, versionID: v.versionID, db)
            }
            s.record.lastChanged = now
            try SecretStore.save(s, db)
            return ["ARN": s.arn, "Name": s.name]
        }
    }

    func tagResource(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let id = try input.required("SecretId")
        guard input.has("Tags") else { throw SecretsError.invalidParameter("You must provide a value for the Tags parameter.") }
        let tags = try Self.tags(input)
        let now = clock.now()
        return try store.db.writeNow { db in
            var s = try writable(id, r, db)
            s.record.tags = try Self.merge(s.record.tags, tags)
            s.record.tagged = true
            s.record.lastChanged = now
            try SecretStore.save(s, db)
            return [:]
        }
    }

    func untagResource(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let id = try input.required("SecretId")
        guard let keys = try input.strings("TagKeys") else {
            throw SecretsError.invalidParameter("You must provide a value for the TagKeys parameter.")
        }
        let now = clock.now()
        return try store.db.writeNow { db in
            var s = try writable(id, r, db)
            s.record.tags.removeAll { keys.contains($0.Key) }
            s.record.tagged = true
            s.record.lastChanged = now
            try SecretStore.save(s, db)
            return [:]
        }
    }
}
