import Core
import Foundation
import GRDB

/// CreateLogGroup, DeleteLogGroup, DescribeLogGroups, ListLogGroups and retention policies.
extension LogsService {
    static let retentionDays = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]
    static let logGroupClasses = ["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"]

    func createLogGroup(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let name = try input.required("logGroupName")
        try LogsNames.validateGroup(name)
        let tags = try input.stringMap("tags") ?? [:]
        try Self.validateTags(tags, member: "tags")
        let kmsKeyId = try input.string("kmsKeyId")
        if let k = kmsKeyId, k.count > 256 {
            throw LogsError.validation(k, at: "kmsKeyId", "Member must have length less than or equal to 256")
        }
        let logGroupClass = try input.string("logGroupClass") ?? "STANDARD"
        guard Self.logGroupClasses.contains(logGroupClass) else {
            throw LogsError.validation(logGroupClass, at: "logGroupClass", "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]")
        }
        let protection = try input.bool("deletionProtectionEnabled") ?? false
        let now = nowMillis
        try store.db.writeNow { db in
            if try LogStore.group(account: r.caller.accountID, region: r.caller.region, name: name, db) != nil {
                throw LogsError.groupExists()
            }
            _ = try LogStore.insertGroup(account: r.caller.accountID, region: r.caller.region, name: name, created: now,
                                         kmsKeyId: kmsKeyId, logGroupClass: logGroupClass, deletionProtection: protection,
                                         tags: tags, db)
        }
        return [:]
    }

    func deleteLogGroup(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let name = try input.required("logGroupName")
        try LogsNames.validateGroup(name)
        try store.db.writeNow { db in
            let g = try group(named: name, r, db)
            try LogStore.deleteGroup(g.id, db)
        }
        return [:]
    }

    /// A group as DescribeLogGroups lists it. With a name pattern AWS answers only the identifying fields.
    static func describe(_ g: LogGroup, brief: Bool = false) -> [String: Any] {
        var out: [String: Any] = [
            "logGroupName": g.name, "creationTime": g.created, "metricFilterCount": g.metricFilterCount, "arn": g.arn + ":*",
            "logGroupArn": g.arn, "logGroupClass": g.logGroupClass,
        ]
        if brief { return out }
        out["storedBytes"] = g.storedBytes
        out["deletionProtectionEnabled"] = g.deletionProtection
        if let days = g.retentionInDays { out["retentionInDays"] = days }
        if let k = g.kmsKeyId { out["kmsKeyId"] = k }
        return out
    }

    func describeLogGroups(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let prefix = try input.string("logGroupNamePrefix")
        let pattern = try input.string("logGroupNamePattern")
        if prefix != nil && pattern != nil {
            throw LogsError.invalidParameter("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
        }
        if let prefix { try LogsNames.validatePrefix(prefix, member: "logGroupNamePrefix") }
        let limit = try input.limit(max: 50, default: 50)
        let logGroupClass = try input.string("logGroupClass")
        let identifiers = try input.strings("logGroupIdentifiers")
        let names: Set<String>? = identifiers.map { ids in
            Set(ids.map { id in
                guard id.hasPrefix("arn:"), let (account, region, name) = Self.groupARN(id) else { return id }
                return account == r.caller.accountID && region == r.caller.region ? name : ""
            })
        }
        let token = try input.nextToken()
        return try store.db.readNow { db in
            let groups = try LogStore.groups(account: r.caller.accountID, region: r.caller.region, db).filter { g in
                (prefix.map { g.name.hasPrefix($0) } ?? true)
                    && (pattern.map { $0.isEmpty || g.name.contains($0) } ?? true)
                    && (logGroupClass.map { g.logGroupClass == $0 } ?? true)
                    && (names.map { $0.contains(g.name) } ?? true)
            }
            let (page, next) = try Self.page(groups, token: token, limit: limit)
            var out: [String: Any] = ["logGroups": page.map { Self.describe($0, brief: pattern != nil) }]
            if let next { out["nextToken"] = next }
            return out
        }
    }

    /// ListLogGroups' pattern: alternatives joined by `|`, each a case-sensitive substring, or a prefix after `^`.
    static func matchesListPattern(_ pattern: String, _ name: String) -> Bool {
        pattern.split(separator: "|").contains { alt in
            alt.hasPrefix("^") ? name.hasPrefix(alt.dropFirst()) : name.contains(alt)
        }
    }

    func listLogGroups(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let pattern = try input.string("logGroupNamePattern")
        let limit = try input.limit(max: 1000, default: 50)
        let logGroupClass = try input.string("logGroupClass")
        let token = try input.nextToken()
        return try store.db.readNow { db in
            let groups = try LogStore.groups(account: r.caller.accountID, region: r.caller.region, db).filter { g in
                (pattern.map { Self.matchesListPattern($0, g.name) } ?? true) && (logGroupClass.map { g.logGroupClass == $0 } ?? true)
            }
            let (page, next) = try Self.page(groups, token: token, limit: limit)
            var out: [String: Any] = [
                "logGroups": page.map { ["logGroupName": $0.name, "logGroupArn": $0.arn, "logGroupClass": $0.logGroupClass] },
            ]
            if let next { out["nextToken"] = next }
            return out
        }
    }

    func putRetentionPolicy(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let name = try input.required("logGroupName")
        try LogsNames.validateGroup(name)
        guard let days = try input.int64("retentionInDays") else {
            throw LogsError.validation(nil, at: "retentionInDays", "Member must not be null")
        }
        guard Self.retentionDays.contains(Int(clamping: days)) else {
            let set = Self.retentionDays.map(String.init).joined(separator: ", ")
            throw LogsError.validation(String(days), at: "retentionInDays", "Member must satisfy enum value set: [\(set)]")
        }
        try store.db.writeNow { db in
            let g = try group(named: name, r, db)
            try LogStore.setRetention(Int(days), group: g.id, db)
        }
        return [:]
    }

    func deleteRetentionPolicy(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let name = try input.required("logGroupName")
        try LogsNames.validateGroup(name)
        try store.db.writeNow { db in
            let g = try group(named: name, r, db)
            try LogStore.setRetention(nil, group: g.id, db)
        }
        return [:]
    }
}
