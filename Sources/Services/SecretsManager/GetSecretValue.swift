import Core
import Foundation
import GRDB

/// Reading values: GetSecretValue, BatchGetSecretValue, and the SecretResolver other services use.
extension SecretsManagerService {
    /// The version a request selects: by VersionId (which must carry VersionStage if both are given), else by
    /// VersionStage, else AWSCURRENT.
    static func select(_ versions: [SecretVersion], versionID: String?, stage: String?) throws -> SecretVersion {
        if let versionID {
            guard let v = versions.first(where: { $0.versionID == versionID }) else { throw SecretsError.versionNotFound(id: versionID) }
            if let stage, !v.stages.contains(stage) {
                throw SecretsError.invalidRequest("You provided a VersionStage that is not associated to the provided VersionId.")
            }
            return v
        }
        let stage = stage ?? "AWSCURRENT"
        guard let v = versions.first(where: { $0.stages.contains(stage) }) else { throw SecretsError.versionNotFound(stage: stage) }
        return v
    }

    /// The version a read selects, which must have a value: a rotation's pending version has none until its
    /// createSecret step puts one, and reading it is "not found" (what that step probes for).
    static func selectValue(_ versions: [SecretVersion], versionID: String?, stage: String?) throws -> SecretVersion {
        let v = try select(versions, versionID: versionID, stage: stage)
        guard v.hasValue else {
            throw versionID.map { SecretsError.versionNotFound(id: $0) } ?? SecretsError.versionNotFound(stage: stage ?? "AWSCURRENT")
        }
        return v
    }

    /// Midnight UTC of a moment: LastAccessedDate is kept to the day.
    static func day(_ t: Double) -> Double { (t / 86_400).rounded(.down) * 86_400 }

    /// The value of one secret as GetSecretValue answers it; records the access day when it changes.
    func value(of s: Secret, versionID: String?, stage: String?, now: Double, _ db: Database) throws -> [String: Any] {
        if s.isDeleted { throw SecretsError.markedForDeletion() }
        let arn = versionsARN(of: s)
        let v = try Self.selectValue(try SecretStore.versions(arn: arn, db), versionID: versionID, stage: stage)
        var out: [String: Any] = ["ARN": s.arn, "Name": s.name, "VersionId": v.versionID, "VersionStages": v.stages, "CreatedDate": v.created]
        try open(v, arn: arn).output(into: &out)
        let today = Self.day(now)
        if v.lastAccessed != today {
            try db.cachedStatement(sql: "UPDATE version SET last_accessed = ? WHERE arn = ? AND version_id = ?")
                .execute(arguments: [today, arn, v.versionID])
        }
        if s.record.lastAccessed != today && s.primaryARN == nil {
            var updated = s
            updated.record.lastAccessed = today
            try SecretStore.save(updated, db)
        }
        return out
    }

    func getSecretValue(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let id = try input.required("SecretId")
        let versionID = try input.string("VersionId")
        let stage = try input.string("VersionStage")
        let now = clock.now()
        // A read, unless the access day changes: then the same lookup again in a write transaction.
        let day = Self.day(now)
        let fresh = try store.db.readNow { db -> [String: Any]? in
            let s = try secret(id, r, db)
            if s.isDeleted { throw SecretsError.markedForDeletion() }
            let arn = versionsARN(of: s)
            let v = try Self.selectValue(try SecretStore.versions(arn: arn, db), versionID: versionID, stage: stage)
            guard v.lastAccessed == day, s.primaryARN != nil || s.record.lastAccessed == day else { return nil }
            var out: [String: Any] = ["ARN": s.arn, "Name": s.name, "VersionId": v.versionID, "VersionStages": v.stages, "CreatedDate": v.created]
            try open(v, arn: arn).output(into: &out)
            return out
        }
        if let fresh { return fresh }
        return try store.db.writeNow { db in try value(of: try secret(id, r, db), versionID: versionID, stage: stage, now: now, db) }
    }

    func batchGetSecretValue(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let ids = try input.strings("SecretIdList")
        let filters = try input.objects("Filters")
        if (ids == nil) == (filters == nil) {
            throw SecretsError.invalidParameter("You must provide either SecretIdList or Filters, but not both.")
        }
        let now = clock.now()
        if let ids {
            if ids.isEmpty || ids.count > 20 { throw SecretsError.invalidParameter("SecretIdList must contain 1 to 20 secret ids.") }
            if input.has("MaxResults") {
                throw SecretsError.invalidParameter("MaxResults can only be used with Filters.")
            }
            return try store.db.writeNow { db in
                var values: [[String: Any]] = []
                var errors: [[String: Any]] = []
                for id in ids {
                    do {
                        values.append(try value(of: try secret(id, r, db), versionID: nil, stage: nil, now: now, db))
                    } catch let e as AWSError {
                        errors.append(["SecretId": id, "ErrorCode": e.code, "Message": e.message])
                    }
                }
                return ["SecretValues": values, "Errors": errors]
            }
        }
        let limit = try input.int("MaxResults") ?? 20
        guard (1...20).contains(limit) else { throw SecretsError.invalidParameter("MaxResults must be between 1 and 20.") }
        let parsed = try SecretFilter.parse(filters ?? [])
        return try store.db.writeNow { db in
            let matching = try SecretStore.all(account: r.caller.accountID, region: r.caller.region, db)
                .filter { !$0.isDeleted && ($0.purgeAt ?? .infinity) > now }
                .map { try source(of: $0, db) }
                .filter { s in parsed.allSatisfy { $0.matches(s) } }
            let (page, next) = try Self.page(matching, token: try input.string("NextToken"), limit: limit)
            var values: [[String: Any]] = []
            var errors: [[String: Any]] = []
            for s in page {
                do {
                    values.append(try value(of: s, versionID: nil, stage: nil, now: now, db))
                } catch let e as AWSError {
                    errors.append(["SecretId": s.arn, "ErrorCode": e.code, "Message": e.message])
                }
            }
            var out: [String: Any] = ["SecretValues": values, "Errors": errors]
            if let next { out["NextToken"] = next }
            return out
        }
    }
}

extension SecretsManagerService: SecretResolver {
    /// ECS and Lambda references: the value (AWSCURRENT unless a stage or version is named), or one key of a JSON value.
    public func resolve(_ reference: SecretReference, account: String, region: String) throws -> String {
        try store.db.readNow { db in
            var s: Secret?
            if reference.secretID.hasPrefix("arn:") {
                s = try SecretStore.byARN(reference.secretID, db)
                if s == nil {
                    let parts = reference.secretID.split(separator: ":", maxSplits: 6).map(String.init)
                    if parts.count == 7 { s = try SecretStore.byName(account: parts[4], region: parts[3], name: parts[6], db) }
                }
            } else {
                s = try SecretStore.byName(account: account, region: region, name: reference.secretID, db)
            }
            guard let s, (s.purgeAt ?? .infinity) > clock.now() else { throw SecretsError.notFound() }
            if s.isDeleted { throw SecretsError.markedForDeletion() }
            let arn = versionsARN(of: s)
            let v = try Self.selectValue(try SecretStore.versions(arn: arn, db), versionID: reference.versionID, stage: reference.versionStage)
            let value = try open(v, arn: arn)
            let text = value.isBinary ? Data(value.bytes).base64EncodedString() : String(decoding: value.bytes, as: UTF8.self)
            guard let key = reference.jsonKey else { return text }
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], let field = object[key] else {
                throw SecretsError.invalidRequest("The secret value is not a JSON object with the key \(key).")
            }
            if let s = field as? String { return s }
            let data = (try? JSONSerialization.data(withJSONObject: field, options: [.fragmentsAllowed])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
    }
}
