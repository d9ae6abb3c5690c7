import Core
import Foundation
import GRDB

/// Tags on log groups: the older TagLogGroup / UntagLogGroup / ListTagsLogGroup (by name) and TagResource /
/// UntagResource / ListTagsForResource (by ARN, without the trailing `:*`). Both see the same tags.
extension LogsService {
    /// Keys 1–128 characters, values up to 256, at most 50 per request.
    static func validateTags(_ tags: [String: String], member: String) throws {
        if tags.count > 50 { throw LogsError.validation(nil, at: member, "Member must have length less than or equal to 50") }
        for (k, v) in tags {
            if k.isEmpty || k.count > 128 {
                throw LogsError.validation(k, at: "\(member).key", k.isEmpty ? "Member must have length greater than or equal to 1"
                                                                           : "Member must have length less than or equal to 128")
            }
            if v.count > 256 { throw LogsError.validation(v, at: "\(member).value", "Member must have length less than or equal to 256") }
        }
    }

    /// Adds or replaces tags; a group may carry 50.
    func addTags(_ tags: [String: String], to g: LogGroup, _ db: Database) throws {
        let merged = g.tags.merging(tags) { _, new in new }
        if merged.count > 50 { throw AWSError("TooManyTagsException", "A resource can have no more than 50 tags.") }
        try LogStore.setTags(merged, group: g.id, db)
    }

    func tagLogGroup(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let name = try input.required("logGroupName")
        try LogsNames.validateGroup(name)
        guard let tags = try input.stringMap("tags") else { throw LogsError.validation(nil, at: "tags", "Member must not be null") }
        try Self.validateTags(tags, member: "tags")
        try store.db.writeNow { db in try addTags(tags, to: try group(named: name, r, db), db) }
        return [:]
    }

    func untagLogGroup(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let name = try input.required("logGroupName")
        try LogsNames.validateGroup(name)
        guard let keys = try input.strings("tags") else { throw LogsError.validation(nil, at: "tags", "Member must not be null") }
        try store.db.writeNow { db in
            let g = try group(named: name, r, db)
            try LogStore.setTags(g.tags.filter { !keys.contains($0.key) }, group: g.id, db)
        }
        return [:]
    }

    func listTagsLogGroup(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let name = try input.required("logGroupName")
        try LogsNames.validateGroup(name)
        return try store.db.readNow { db in ["tags": try group(named: name, r, db).tags] }
    }

    /// The log group a tagging ARN names in the caller's account and region.
    func taggedGroup(_ input: Input, _ r: AWSRequest, _ db: Database) throws -> LogGroup {
        let arn = try input.required("resourceArn")
        guard ARN(arn) != nil else {
            throw LogsError.validation(arn, at: "resourceArn", "Member must satisfy regular expression pattern: [\\w+=/:,.@-]*")
        }
        guard let (account, region, name) = Self.groupARN(arn), account == r.caller.accountID, region == r.caller.region,
              let g = try LogStore.group(account: account, region: region, name: name, db) else {
            throw LogsError.groupNotFound()
        }
        return g
    }

    func tagResource(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        guard let tags = try input.stringMap("tags") else { throw LogsError.validation(nil, at: "tags", "Member must not be null") }
        try Self.validateTags(tags, member: "tags")
        try store.db.writeNow { db in try addTags(tags, to: try taggedGroup(input, r, db), db) }
        return [:]
    }

    func untagResource(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        guard let keys = try input.strings("tagKeys") else { throw LogsError.validation(nil, at: "tagKeys", "Member must not be null") }
        try store.db.writeNow { db in
            let g = try taggedGroup(input, r, db)
            try LogStore.setTags(g.tags.filter { !keys.contains($0.key) }, group: g.id, db)
        }
        return [:]
    }

    func listTagsForResource(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        try store.db.readNow { db in ["tags": try taggedGroup(input, r, db).tags] }
    }
}
