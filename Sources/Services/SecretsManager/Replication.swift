import Core
import Foundation
import GRDB

/// Replicas: a replica is a secret of the same name and suffix in another region of this emulator. It has no value
/// of its own: reads go to its primary, and it cannot be changed until StopReplicationToReplica promotes it.
extension SecretsManagerService {
    static func replicationStatus(_ r: Replica) -> [String: Any] {
        var out: [String: Any] = ["Region": r.Region, "Status": r.Status]
        if let k = r.KmsKeyId { out["KmsKeyId"] = k }
        if let m = r.StatusMessage { out["StatusMessage"] = m }
        return out
    }

    /// The replica ARN of `arn` in `region`: the same name and suffix.
    static func replicaARN(_ arn: String, region: String) -> String {
        var parts = arn.split(separator: ":", maxSplits: 6, omittingEmptySubsequences: false).map(String.init)
        parts[3] = region
        return parts.joined(separator: ":")
    }

    func addReplicas(_ list: [[String: Any]], to primary: inout Secret, force: Bool, _ db: Database) throws {
        for entry in list {
            guard let region = entry["Region"] as? String, Region.isValid(region) else {
                throw SecretsError.invalidParameter("Invalid replica region.")
            }
            if region == primary.region { throw SecretsError.invalidParameter("Invalid replica region: it is the primary region.") }
            let kms = entry["KmsKeyId"] as? String
            var replica = Replica(Region: region, KmsKeyId: kms, Status: "InSync", StatusMessage: "Replication succeeded")
            if let existing = try SecretStore.byName(account: primary.account, region: region, name: primary.name, db),
               existing.primaryARN != primary.arn {
                if force && existing.primaryARN == nil {
                    try SecretStore.remove(arn: existing.arn, db)
                } else {
                    replica.Status = "Failed"
                    replica.StatusMessage = "Replication failed: Secret name already exists in Region: \(region)."
                }
            }
            if replica.Status == "InSync" {
                let copy = Secret(arn: Self.replicaARN(primary.arn, region: region), account: primary.account, region: region,
                                  name: primary.name, created: clock.now(), deleted: nil, purgeAt: nil, primaryARN: primary.arn,
                                  record: SecretRecord(kmsKeyId: kms, lastChanged: clock.now()))
                try SecretStore.save(copy, db)
            }
            primary.record.replicas.removeAll { $0.Region == region }
            primary.record.replicas.append(replica)
        }
    }

    func replicateSecretToRegions(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let id = try input.required("SecretId")
        guard let regions = try input.objects("AddReplicaRegions"), !regions.isEmpty else {
            throw SecretsError.invalidParameter("You must provide a value for the AddReplicaRegions parameter.")
        }
        let force = try input.bool("ForceOverwriteReplicaSecret") ?? false
        return try store.db.writeNow { db in
            var s = try writable(id, r, db)
            try addReplicas(regions, to: &s, force: force, db)
            s.record.lastChanged = clock.now()
            try SecretStore.save(s, db)
            return ["ARN": s.arn, "ReplicationStatus": s.record.replicas.map(Self.replicationStatus)]
        }
    }

    func removeRegionsFromReplication(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let id = try input.required("SecretId")
        guard let regions = try input.strings("RemoveReplicaRegions"), !regions.isEmpty else {
            throw SecretsError.invalidParameter("You must provide a value for the RemoveReplicaRegions parameter.")
        }
        return try store.db.writeNow { db in
            var s = try writable(id, r, db)
            for region in regions {
                guard s.record.replicas.contains(where: { $0.Region == region }) else {
                    throw SecretsError.invalidParameter("The secret has no replica in \(region).")
                }
                let arn = Self.replicaARN(s.arn, region: region)
                if try SecretStore.byARN(arn, db)?.primaryARN == s.arn { try SecretStore.remove(arn: arn, db) }
                s.record.replicas.removeAll { $0.Region == region }
            }
            s.record.lastChanged = clock.now()
            try SecretStore.save(s, db)
            return ["ARN": s.arn, "ReplicationStatus": s.record.replicas.map(Self.replicationStatus)]
        }
    }

    /// Promote a replica to a standalone secret: it takes a copy of the primary's metadata and versions (sealed again,
    /// since a sealed value is bound to its secret's ARN).
    func stopReplicationToReplica(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let id = try input.required("SecretId")
        let now = clock.now()
        return try store.db.writeNow { db in
            var replica = try secret(id, r, db)
            guard let primaryARN = replica.primaryARN, var primary = try SecretStore.byARN(primaryARN, db) else {
                throw SecretsError.invalidRequest("StopReplicationToReplica must be called on a replica secret, in its Region.")
            }
            let kms = replica.record.kmsKeyId
            replica.record = primary.record
            replica.record.kmsKeyId = kms
            replica.record.replicas = []
            replica.record.lastChanged = now
            replica.primaryARN = nil
            for v in try SecretStore.versions(arn: primaryARN, db) {
                var copy = v.hasValue ? seal(try open(v, arn: primaryARN), arn: replica.arn, versionID: v.versionID, now: v.created) : v
                copy.stages = v.stages
                copy.lastAccessed = v.lastAccessed
                try SecretStore.saveVersion(copy, arn: replica.arn, db)
            }
            try SecretStore.save(replica, db)
            primary.record.replicas.removeAll { $0.Region == replica.region }
            try SecretStore.save(primary, db)
            return ["ARN": replica.arn]
        }
    }
}
