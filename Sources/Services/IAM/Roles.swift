import Core
import GRDB

/// An IAM role as stored.
struct Role: Sendable {
    var account: String
    var name: String
    var id: String
    var path: String
    var assumePolicy: String
    var description: String?
    var maxSession: Int
    var tags: [Tag]
    var created: Double

    var arn: String { IAMFormat.arn(account: account, kind: "role", path: path, name: name) }

    /// What each answer shows: CreateRole leaves out what was not given, listings leave out RoleLastUsed and
    /// Tags (as AWS documents for ListRoles), GetRole shows all.
    enum Form { case created(maxSessionGiven: Bool), full, listed }

    func write(_ xml: inout XMLWriter, _ form: Form) {
        xml.element("Path", path)
        xml.element("RoleName", name)
        xml.element("RoleId", id)
        xml.element("Arn", arn)
        xml.element("CreateDate", IAMFormat.date(created))
        xml.element("AssumeRolePolicyDocument", IAMFormat.encodedDocument(assumePolicy))
        xml.element("Description", description)
        switch form {
        case .created(let given):
            if given { xml.element("MaxSessionDuration", maxSession) }
            xml.tags(tags)
        case .full:
            xml.element("MaxSessionDuration", maxSession)
            xml.tags(tags)
            xml.empty("RoleLastUsed")
        case .listed:
            xml.element("MaxSessionDuration", maxSession)
        }
    }

    static let columns = "account, name, id, path, assume_policy, description, max_session, tags, created"

    init(row: Row) {
        account = row[0]; name = row[1]; id = row[2]; path = row[3]; assumePolicy = row[4]; description = row[5]
        maxSession = row[6]; tags = IAMStore.decode(row[7]); created = row[8]
    }

    init(account: String, name: String, path: String, assumePolicy: String, description: String?, maxSession: Int,
         tags: [Tag], created: Double) {
        self.account = account; self.name = name; self.path = path; self.assumePolicy = assumePolicy
        self.description = description; self.maxSession = maxSession; self.tags = tags; self.created = created
        id = IAMFormat.uniqueID(prefix: "AROA")
    }

    static func fetch(_ db: Database, account: String, name: String) throws -> Role? {
        try Row.fetchOne(db, sql: "SELECT \(columns) FROM role WHERE account = ? AND name = ?", arguments: [account, name])
            .map(Role.init(row:))
    }

    static func require(_ db: Database, account: String, name: String) throws -> Role {
        guard let r = try fetch(db, account: account, name: name) else { throw IAMError.roleNotFound(name) }
        return r
    }

    func save(_ db: Database) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO role (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       arguments: [account, name, id, path, assumePolicy, description, maxSession, IAMStore.encode(tags), created])
    }
}

extension IAMService {
    static let roleNameMax = 64

    func policyDocument(_ input: IAMInput, _ name: String) throws -> String {
        let document = try input.string(name, max: 131072)!
        try IAMFormat.validatePolicy(document)
        return document
    }

    func createRole(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("RoleName", max: Self.roleNameMax)
        let path = try input.path()
        let document = try policyDocument(input, "AssumeRolePolicyDocument")
        let description = try input.string("Description", required: false, min: 0, max: 1000)
        let maxSession = try input.int("MaxSessionDuration", min: 3600, max: 43200)
        let tags = try input.tags()
        let role = Role(account: caller.account, name: name, path: path, assumePolicy: document, description: description,
                        maxSession: maxSession ?? 3600, tags: tags, created: caller.now)
        try store.db.writeNow { db in
            if try Role.fetch(db, account: caller.account, name: name) != nil {
                throw IAMError.alreadyExists("Role with name \(name) already exists.")
            }
            try role.save(db)
        }
        return { xml in xml.group("Role") { role.write(&$0, .created(maxSessionGiven: maxSession != nil)) } }
    }

    func getRole(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("RoleName", max: Self.roleNameMax)
        let role = try store.db.readNow { db in try Role.require(db, account: caller.account, name: name) }
        return { xml in xml.group("Role") { role.write(&$0, .full) } }
    }

    func listRoles(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let prefix = try input.pathPrefix() ?? "/"
        let (marker, maxItems) = try input.paging()
        let roles = try store.db.readNow { db in
            try Row.fetchAll(db, sql: "SELECT \(Role.columns) FROM role WHERE account = ?", arguments: [caller.account])
                .map(Role.init(row:)).filter { $0.path.hasPrefix(prefix) }
        }
        let page = try Page(roles, key: \.name, marker: marker, maxItems: maxItems)
        return { xml in
            xml.members("Roles", page.items) { role, r in r.write(&role, .listed) }
            xml.paging(page)
        }
    }

    func updateRole(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("RoleName", max: Self.roleNameMax)
        let description = try input.string("Description", required: false, min: 0, max: 1000)
        let maxSession = try input.int("MaxSessionDuration", min: 3600, max: 43200)
        _ = try modify(Role.self, caller, name) { role in
            if let description { role.description = description }
            if let maxSession { role.maxSession = maxSession }
        }
        return { _ in }
    }

    func updateRoleDescription(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("RoleName", max: Self.roleNameMax)
        let description = try input.string("Description", min: 0, max: 1000)!
        let role = try modify(Role.self, caller, name) { $0.description = description }
        return { xml in xml.group("Role") { role.write(&$0, .full) } }
    }

    func updateAssumeRolePolicy(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("RoleName", max: Self.roleNameMax)
        let document = try policyDocument(input, "PolicyDocument")
        _ = try modify(Role.self, caller, name) { $0.assumePolicy = document }
        return nil
    }

    /// AWS refuses to delete a role that is still in an instance profile or has policies.
    func deleteRole(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("RoleName", max: Self.roleNameMax)
        try store.db.writeNow { db in
            let role = try Role.require(db, account: caller.account, name: name)
            let args: StatementArguments = [caller.account, role.name]
            if try IAMStore.exists(db, "SELECT 1 FROM instance_profile_role WHERE account = ? AND role = ?", args) {
                throw IAMError.deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
            }
            if try IAMStore.exists(db, "SELECT 1 FROM attachment WHERE account = ? AND kind = 'role' AND owner = ?", args) {
                throw IAMError.deleteConflict("Cannot delete entity, must detach all policies first.")
            }
            if try IAMStore.exists(db, "SELECT 1 FROM inline_policy WHERE account = ? AND kind = 'role' AND owner = ?", args) {
                throw IAMError.deleteConflict("Cannot delete entity, must delete policies first.")
            }
            try db.execute(sql: "DELETE FROM role WHERE account = ? AND name = ?", arguments: args)
        }
        return nil
    }

}
