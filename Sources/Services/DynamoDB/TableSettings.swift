import Core
import Foundation
import GRDB

/// Tags, Time to Live, continuous backups and account limits: settings stored on the table document.
extension DynamoDBService {
    /// The table an ARN names (`arn:aws:dynamodb:<region>:<account>:table/<name>`).
    func tableName(arn: String, _ s: Scope) throws -> String {
        let prefix = "arn:aws:dynamodb:\(s.region):\(s.account):table/"
        guard arn.hasPrefix(prefix) else {
            throw DDBError.validation("Invalid TableArn: Invalid ResourceArn provided as input \(arn)")
        }
        return String(arn.dropFirst(prefix.count).prefix { $0 != "/" })
    }

    /// Change one table's document in a write transaction; a missing table is AWS's "not found" for ARNs.
    func modify(_ s: Scope, _ name: String, notFound: AWSError? = nil, _ change: (inout TableSchema, Database) throws -> Void) throws -> TableSchema {
        try store.db.writeNow { db in
            guard var t = try DynamoDBStore.table(s, name, db) else { throw notFound ?? DDBError.tableNotFound(name) }
            try change(&t, db)
            try store.save(&t, s, db)
            return t
        }
    }

    func tagResource(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let arn = try input.required("ResourceArn")
        let tags = try input.objects("Tags") ?? []
        _ = try modify(s, try tableName(arn: arn, s), notFound: Self.arnNotFound(arn)) { t, _ in
            for tag in tags { if let k = tag["Key"] as? String { t.tags[k] = tag["Value"] as? String ?? "" } }
            guard t.tags.count <= 50 else { throw AWSError("LimitExceededException", "Too many tags on the resource (50 at most)") }
        }
        return [:]
    }

    func untagResource(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let arn = try input.required("ResourceArn")
        let keys = try input.strings("TagKeys") ?? []
        _ = try modify(s, try tableName(arn: arn, s), notFound: Self.arnNotFound(arn)) { t, _ in
            for k in keys { t.tags[k] = nil }
        }
        return [:]
    }

    func listTagsOfResource(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let arn = try input.required("ResourceArn")
        guard let t = try store.table(s, try tableName(arn: arn, s)) else { throw Self.arnNotFound(arn) }
        return ["Tags": t.tags.keys.sorted().map { ["Key": $0, "Value": t.tags[$0]!] }]
    }

    static func arnNotFound(_ arn: String) -> AWSError {
        AWSError("ResourceNotFoundException", "Requested resource not found: ResourcArn: \(arn) not found")
    }

    func updateTimeToLive(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let name = try input.tableName()
        guard let spec = try input.object("TimeToLiveSpecification"), let enabled = (spec["Enabled"] as? NSNumber)?.boolValue,
              let attribute = spec["AttributeName"] as? String, !attribute.isEmpty else {
            throw DDBError.validation("1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null")
        }
        _ = try modify(s, name) { t, db in
            if enabled {
                guard !t.ttlEnabled else { throw DDBError.validation("TimeToLive is already enabled") }
            } else {
                guard t.ttlEnabled else { throw DDBError.validation("TimeToLive is already disabled") }
                guard t.ttlAttribute == attribute else {
                    throw DDBError.validation("TimeToLive attribute name is different from the one currently enabled")
                }
            }
            t.ttlEnabled = enabled
            t.ttlAttribute = attribute
            try DynamoDBStore.refreshExpiry(t, db)
        }
        return ["TimeToLiveSpecification": ["Enabled": enabled, "AttributeName": attribute]]
    }

    func describeTimeToLive(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let name = try input.tableName()
        guard let t = try store.table(s, name) else { throw DDBError.tableNotFound(name) }
        var d: [String: Any] = ["TimeToLiveStatus": t.ttlEnabled ? "ENABLED" : "DISABLED"]
        if t.ttlEnabled, let a = t.ttlAttribute { d["AttributeName"] = a }
        return ["TimeToLiveDescription": d]
    }

    func describeContinuousBackups(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let name = try input.tableName()
        guard let t = try store.table(s, name) else { throw AWSError("TableNotFoundException", "Table not found: \(name)") }
        return Self.continuousBackups(t)
    }

    func updateContinuousBackups(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let name = try input.tableName()
        guard let spec = try input.object("PointInTimeRecoverySpecification"),
              let enabled = (spec["PointInTimeRecoveryEnabled"] as? NSNumber)?.boolValue else {
            throw DDBError.validation("1 validation error detected: Value null at 'pointInTimeRecoverySpecification' failed to satisfy constraint: Member must not be null")
        }
        let t = try modify(s, name, notFound: AWSError("TableNotFoundException", "Table not found: \(name)")) { t, _ in
            t.pointInTimeRecovery = enabled
        }
        return Self.continuousBackups(t)
    }

    static func continuousBackups(_ t: TableSchema) -> [String: Any] {
        ["ContinuousBackupsDescription": [
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": ["PointInTimeRecoveryStatus": t.pointInTimeRecovery ? "ENABLED" : "DISABLED"],
        ]]
    }

    func describeLimits() -> [String: Any] {
        ["AccountMaxReadCapacityUnits": 80000, "AccountMaxWriteCapacityUnits": 80000,
         "TableMaxReadCapacityUnits": 40000, "TableMaxWriteCapacityUnits": 40000]
    }
}
