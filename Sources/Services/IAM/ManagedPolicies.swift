import Core
import GRDB

/// A managed policy as answers show it: a customer managed one of the account, or an AWS managed one
/// (`account` "aws") with the caller's attachment count.
struct ManagedPolicy: Sendable {
    var account: String
    var name: String
    var id: String
    var path: String
    var description: String?
    var defaultVersion: String
    var nextVersion: Int
    var tags: [Tag]
    var created: Double
    var updated: Double
    var attachmentCount = 0

    var arn: String { IAMFormat.arn(account: account, kind: "policy", path: path, name: name) }
    var isAWS: Bool { account == "aws" }

    /// Listings leave out Description and Tags (as AWS documents for ListPolicies).
    func write(_ xml: inout XMLWriter, listed: Bool = false) {
        xml.element("PolicyName", name)
        xml.element("PolicyId", id)
        xml.element("Arn", arn)
        xml.element("Path", path)
        xml.element("DefaultVersionId", defaultVersion)
        xml.element("AttachmentCount", attachmentCount)
        xml.element("PermissionsBoundaryUsageCount", 0)
        xml.element("IsAttachable", true)
        if !listed { xml.element("Description", description) }
        xml.element("CreateDate", IAMFormat.date(created))
        xml.element("UpdateDate", IAMFormat.date(updated))
        if !listed { xml.tags(tags) }
    }

    static let columns = "account, name, id, path, description, default_version, next_version, tags, created, updated"

    init(row: Row) {
        account = row[0]; name = row[1]; id = row[2]; path = row[3]; description = row[4]; defaultVersion = row[5]
        nextVersion = row[6]; tags = IAMStore.decode(row[7]); created = row[8]; updated = row[9]
    }

    init(account: String, name: String, path: String, description: String?, tags: [Tag], created: Double) {
        self.account = account; self.name = name; self.path = path; self.description = description; self.tags = tags
        self.created = created; updated = created; defaultVersion = "v1"; nextVersion = 2
        id = IAMFormat.uniqueID(prefix: "ANPA")
    }

    init(aws p: AWSManagedPolicy) {
        account = "aws"; name = p.name; id = p.id; path = p.path; description = p.description; defaultVersion = p.version
        nextVersion = 0; tags = []; created = AWSDate.parse(p.created) ?? 0; updated = AWSDate.parse(p.updated) ?? 0
    }

    func save(_ db: Database) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO policy (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       arguments: [account, name, id, path, description, defaultVersion, nextVersion, IAMStore.encode(tags),
                                   created, updated])
    }

    /// The policy an ARN names, seen from `account`: its own policies and AWS's; nil when there is none.
    static func fetch(_ db: Database, arn text: String, account: String) throws -> ManagedPolicy? {
        let (owner, path, name) = try IAMFormat.policyARN(text)
        var policy: ManagedPolicy
        if owner == "aws" {
            guard let p = AWSManagedPolicy.find(path: path, name: name) else { return nil }
            policy = ManagedPolicy(aws: p)
        } else {
            guard owner == account,
                  let row = try Row.fetchOne(db, sql: "SELECT \(columns) FROM policy WHERE account = ? AND name = ?", arguments: [owner, name]) else {
                return nil
            }
            policy = ManagedPolicy(row: row)
            guard policy.path == path else { return nil }
        }
        policy.attachmentCount = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM attachment WHERE account = ? AND policy_arn = ?",
                                                  arguments: [account, policy.arn]) ?? 0
        return policy
    }

    static func require(_ db: Database, arn: String, account: String) throws -> ManagedPolicy {
        guard let p = try fetch(db, arn: arn, account: account) else { throw IAMError.policyNotFound(arn) }
        return p
    }

    /// Only customer managed policies change; AWS's are not found for writing.
    static func requireOwn(_ db: Database, arn: String, account: String) throws -> ManagedPolicy {
        let p = try require(db, arn: arn, account: account)
        if p.isAWS { throw IAMError.policyNotFound(arn) }
        return p
    }
}

extension IAMService {
    func policyARN(_ input: IAMInput) throws -> String {
        try input.string("PolicyArn", min: 20, max: 2048)!
    }

    /// Customer policy paths: `/` or `/a/b/` of letters, digits and `.,+@=_-`.
    func policyPath(_ input: IAMInput) throws -> String {
        guard let v = try input.string("Path", required: false, max: 512) else { return "/" }
        let segments = v.split(separator: "/", omittingEmptySubsequences: false)
        let allowed = Set(".,+@=_-".utf8)
        func isPathByte(_ c: UInt8) -> Bool {
            (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || allowed.contains(c)
        }
        let inner = segments.dropFirst().dropLast()
        let valid = v.hasPrefix("/") && v.hasSuffix("/") && inner.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy(isPathByte) }
        guard valid else {
            throw IAMError.constraint("path", value: v, "Member must satisfy regular expression pattern: ((/[A-Za-z0-9\\.,\\+@=_-]+)*)/")
        }
        return v
    }

    func createPolicy(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("PolicyName", max: 128)
        let path = try policyPath(input)
        let document = try policyDocument(input, "PolicyDocument")
        let description = try input.string("Description", required: false, min: 0, max: 1000)
        let tags = try input.tags()
        let policy = ManagedPolicy(account: caller.account, name: name, path: path, description: description, tags: tags,
                                   created: caller.now)
        try store.db.writeNow { db in
            if try IAMStore.exists(db, "SELECT 1 FROM policy WHERE account = ? AND name = ?", [caller.account, name]) {
                throw IAMError.alreadyExists("A policy called \(name) already exists. Duplicate names are not allowed.")
            }
            try policy.save(db)
            try db.execute(sql: "INSERT INTO policy_version (account, policy, version, document, created) VALUES (?, ?, 1, ?, ?)",
                           arguments: [caller.account, name, document, caller.now])
        }
        return { xml in xml.group("Policy") { policy.write(&$0) } }
    }

    func getPolicy(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let arn = try policyARN(input)
        let policy = try store.db.readNow { db in try ManagedPolicy.require(db, arn: arn, account: caller.account) }
        return { xml in xml.group("Policy") { policy.write(&$0) } }
    }

    /// The account's policies and AWS's, each with its attachment count in the account.
    func allPolicies(_ db: Database, account: String) throws -> [ManagedPolicy] {
        var counts: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT policy_arn, COUNT(*) FROM attachment WHERE account = ? GROUP BY policy_arn",
                                    arguments: [account]) {
            counts[row[0]] = row[1]
        }
        var all = try Row.fetchAll(db, sql: "SELECT \(ManagedPolicy.columns) FROM policy WHERE account = ?", arguments: [account])
            .map(ManagedPolicy.init(row:))
        all += AWSManagedPolicy.all.map(ManagedPolicy.init(aws:))
        for i in all.indices { all[i].attachmentCount = counts[all[i].arn] ?? 0 }
        return all
    }

    func listPolicies(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let scope = input.optional("Scope") ?? "All"
        guard ["All", "AWS", "Local"].contains(scope) else {
            throw IAMError.constraint("scope", value: scope, "Member must satisfy enum value set: [All, AWS, Local]")
        }
        let onlyAttached = input.bool("OnlyAttached") ?? false
        let prefix = try input.pathPrefix() ?? "/"
        let (marker, maxItems) = try input.paging()
        let policies = try store.db.readNow { db in try allPolicies(db, account: caller.account) }.filter { p in
            (scope == "All" || (scope == "AWS") == p.isAWS) && (!onlyAttached || p.attachmentCount > 0) && p.path.hasPrefix(prefix)
        }
        let page = try Page(policies, key: \.name, marker: marker, maxItems: maxItems)
        return { xml in
            xml.members("Policies", page.items) { $1.write(&$0, listed: true) }
            xml.paging(page)
        }
    }

    /// AWS refuses while the policy is attached or has versions besides the default one.
    func deletePolicy(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let arn = try policyARN(input)
        try store.db.writeNow { db in
            let policy = try ManagedPolicy.requireOwn(db, arn: arn, account: caller.account)
            if policy.attachmentCount > 0 {
                throw IAMError.deleteConflict("Cannot delete a policy attached to entities.")
            }
            let versions = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM policy_version WHERE account = ? AND policy = ?",
                                            arguments: [caller.account, policy.name]) ?? 0
            if versions > 1 {
                throw IAMError.deleteConflict(
                    "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
            }
            try db.execute(sql: "DELETE FROM policy_version WHERE account = ? AND policy = ?", arguments: [caller.account, policy.name])
            try db.execute(sql: "DELETE FROM policy WHERE account = ? AND name = ?", arguments: [caller.account, policy.name])
        }
        return nil
    }

    func tagPolicy(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let arn = try policyARN(input)
        let tags = try input.tags()
        try store.db.writeNow { db in
            var policy = try ManagedPolicy.requireOwn(db, arn: arn, account: caller.account)
            policy.tags = try Tag.merge(policy.tags, tags)
            try policy.save(db)
        }
        return nil
    }

    func untagPolicy(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let arn = try policyARN(input)
        let keys = input.list("TagKeys")
        try store.db.writeNow { db in
            var policy = try ManagedPolicy.requireOwn(db, arn: arn, account: caller.account)
            policy.tags = Tag.remove(policy.tags, keys: keys)
            try policy.save(db)
        }
        return nil
    }

    func listPolicyTags(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let arn = try policyARN(input)
        let (marker, maxItems) = try input.paging()
        let policy = try store.db.readNow { db in try ManagedPolicy.require(db, arn: arn, account: caller.account) }
        let page = try Page(ordered: policy.tags, marker: marker, maxItems: maxItems)
        return { xml in
            xml.tags(page.items, always: true)
            xml.paging(page)
        }
    }
}
