import Core
import Foundation
import GRDB

/// DescribeSecret, ListSecrets (filters, sorting, pagination) and ListSecretVersionIds.
extension SecretsManagerService {
    /// The fields DescribeSecret and ListSecrets share; `stagesKey` differs between them
    /// (VersionIdsToStages / SecretVersionsToStages). Unset fields are left out, as AWS does.
    func summary(_ s: Secret, stagesKey: String, _ db: Database) throws -> [String: Any] {
        let r = s.record
        var out: [String: Any] = ["ARN": s.arn, "Name": s.name, "CreatedDate": s.created, "LastChangedDate": r.lastChanged]
        if let d = r.description { out["Description"] = d }
        if let k = r.kmsKeyId { out["KmsKeyId"] = k }
        if let t = r.type { out["Type"] = t }
        if let a = r.lastAccessed { out["LastAccessedDate"] = Self.day(a) }
        if let d = s.deleted { out["DeletedDate"] = d }
        if let e = r.rotationEnabled { out["RotationEnabled"] = e }
        if let l = r.rotationLambdaARN { out["RotationLambdaARN"] = l }
        if let rules = r.rotationRules { out["RotationRules"] = Self.rules(rules) }
        if let l = r.lastRotated { out["LastRotatedDate"] = l }
        if r.rotationEnabled == true, let n = r.nextRotation { out["NextRotationDate"] = n }
        // A secret never tagged has no Tags; one whose tags were all removed shows an empty list, as AWS answers.
        if !r.tags.isEmpty || r.tagged == true { out["Tags"] = r.tags.map { ["Key": $0.Key, "Value": $0.Value] } }
        var stages: [String: [String]] = [:]
        for v in try SecretStore.versions(arn: versionsARN(of: s), db) where !v.stages.isEmpty { stages[v.versionID] = v.stages }
        if !stages.isEmpty { out[stagesKey] = stages }
        if let primary = s.primaryARN, let arn = ARN(primary) {
            out["PrimaryRegion"] = arn.region
        } else if !r.replicas.isEmpty {
            out["PrimaryRegion"] = s.region
            out["ReplicationStatus"] = r.replicas.map(Self.replicationStatus)
        }
        return out
    }

    static func rules(_ r: RotationRules) -> [String: Any] {
        var out: [String: Any] = [:]
        if let d = r.AutomaticallyAfterDays { out["AutomaticallyAfterDays"] = d }
        if let d = r.Duration { out["Duration"] = d }
        if let e = r.ScheduleExpression { out["ScheduleExpression"] = e }
        return out
    }

    func describeSecret(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let id = try input.required("SecretId")
        return try store.db.readNow { db in
            try summary(try source(of: try secret(id, r, db), db), stagesKey: "VersionIdsToStages", db)
        }
    }

    /// One page of `items` after an opaque NextToken (the base64 offset), and the token of the next page.
    static func page<T>(_ items: [T], token: String?, limit: Int) throws -> ([T], String?) {
        var start = 0
        if let token {
            guard let d = Data(base64Encoded: token), let s = String(data: d, encoding: .utf8), let n = Int(s), n >= 0, n <= items.count else {
                throw AWSError("InvalidNextTokenException", "The NextToken value is invalid.")
            }
            start = n
        }
        let end = min(items.count, start + limit)
        let next = end < items.count ? Data(String(end).utf8).base64EncodedString() : nil
        return (Array(items[start..<end]), next)
    }

    func listSecrets(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let limit = try input.int("MaxResults") ?? 100
        guard (1...100).contains(limit) else { throw SecretsError.invalidParameter("MaxResults must be between 1 and 100.") }
        let includeDeleted = try input.bool("IncludePlannedDeletion") ?? false
        let filters = try SecretFilter.parse(try input.objects("Filters") ?? [])
        let order = try input.string("SortOrder") ?? "asc"
        guard order == "asc" || order == "desc" else { throw SecretsError.invalidParameter("SortOrder must be asc or desc.") }
        let sortBy = try input.string("SortBy") ?? "created-date"
        let now = clock.now()
        return try store.db.readNow { db in
            var secrets = try SecretStore.all(account: r.caller.accountID, region: r.caller.region, db)
                .filter { (includeDeleted || !$0.isDeleted) && ($0.purgeAt ?? .infinity) > now }
                .map { try source(of: $0, db) }
                .filter { s in filters.allSatisfy { $0.matches(s) } }
            switch sortBy {
            case "name": secrets.sort { $0.name < $1.name }
            case "last-changed-date": secrets.sort { $0.record.lastChanged < $1.record.lastChanged }
            case "last-accessed-date": secrets.sort { ($0.record.lastAccessed ?? 0) < ($1.record.lastAccessed ?? 0) }
            case "created-date": break  // stored order
            default: throw SecretsError.invalidParameter("SortBy must be one of created-date, last-accessed-date, last-changed-date, name.")
            }
            if order == "desc" { secrets.reverse() }
            let (page, next) = try Self.page(secrets, token: try input.string("NextToken"), limit: limit)
            var out: [String: Any] = ["SecretList": try page.map { try summary($0, stagesKey: "SecretVersionsToStages", db) }]
            if let next { out["NextToken"] = next }
            return out
        }
    }

    func listSecretVersionIds(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let id = try input.required("SecretId")
        let limit = try input.int("MaxResults") ?? 100
        guard (1...100).contains(limit) else { throw SecretsError.invalidParameter("MaxResults must be between 1 and 100.") }
        let deprecated = try input.bool("IncludeDeprecated") ?? false
        return try store.db.readNow { db in
            let s = try secret(id, r, db)
            let versions = try SecretStore.versions(arn: versionsARN(of: s), db).filter { deprecated || !$0.stages.isEmpty }
            let (page, next) = try Self.page(versions, token: try input.string("NextToken"), limit: limit)
            var out: [String: Any] = ["ARN": s.arn, "Name": s.name, "Versions": page.map { v -> [String: Any] in
                var e: [String: Any] = ["VersionId": v.versionID, "CreatedDate": v.created, "KmsKeyIds": ["DefaultEncryptionKey"]]
                if !v.stages.isEmpty { e["VersionStages"] = v.stages }
                if let a = v.lastAccessed { e["LastAccessedDate"] = a }
                return e
            }]
            if let next { out["NextToken"] = next }
            return out
        }
    }
}

/// A ListSecrets / BatchGetSecretValue filter: a key and values (OR-ed; `!value` negates), keys AND-ed.
struct SecretFilter {
    var key: String
    var values: [String]

    static let keys: Set<String> = ["description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all"]

    static func parse(_ list: [[String: Any]]) throws -> [SecretFilter] {
        if list.count > 10 { throw SecretsError.invalidParameter("You can specify at most 10 filters.") }
        return try list.map { f in
            guard let key = f["Key"] as? String, keys.contains(key) else {
                throw AWSError("ValidationException", "1 validation error detected: Value at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [all, name, tag-key, description, tag-value, primary-region, owning-service]")
            }
            guard let values = f["Values"] as? [String], !values.isEmpty, values.count <= 10 else {
                throw SecretsError.invalidParameter("Invalid filter values for key \(key).")
            }
            return SecretFilter(key: key, values: values)
        }
    }

    /// Values are prefixes; description and `all` ignore case. A negated value matches secrets the plain one doesn't.
    func matches(_ s: Secret) -> Bool {
        values.contains { raw in
            let negated = raw.hasPrefix("!")
            let value = negated ? String(raw.dropFirst()) : raw
            return matchesPrefix(value, s) != negated
        }
    }

    private func matchesPrefix(_ value: String, _ s: Secret) -> Bool {
        let r = s.record
        switch key {
        case "name": return s.name.hasPrefix(value)
        case "description":
            // Each word of the value must begin a word of the description (any case).
            let words = (r.description ?? "").lowercased().split(whereSeparator: { $0.isWhitespace })
            let wanted = value.lowercased().split(whereSeparator: { $0.isWhitespace })
            return !wanted.isEmpty && wanted.allSatisfy { w in words.contains { $0.hasPrefix(w) } }
        case "tag-key": return r.tags.contains { $0.Key.hasPrefix(value) }
        case "tag-value": return r.tags.contains { $0.Value.hasPrefix(value) }
        case "primary-region": return (s.primaryARN.flatMap { ARN($0)?.region } ?? s.region).hasPrefix(value)
        case "owning-service": return false
        default:
            // `all`: every word of the value must start some word of the name, description, tags or region.
            let haystack = ([s.name, r.description ?? "", s.region] + r.tags.flatMap { [$0.Key, $0.Value] })
                .flatMap { $0.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }) }
            let words = value.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber })
            return !words.isEmpty && words.allSatisfy { w in haystack.contains { $0.hasPrefix(w) } }
        }
    }
}
