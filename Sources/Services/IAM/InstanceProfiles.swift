import Core
import GRDB

/// An instance profile: a container for (at most) one role that EC2 instances assume.
struct InstanceProfile: Sendable {
    var account: String
    var name: String
    var id: String
    var path: String
    var tags: [Tag]
    var created: Double
    var roles: [Role] = []

    var arn: String { IAMFormat.arn(account: account, kind: "instance-profile", path: path, name: name) }

    func write(_ xml: inout XMLWriter) {
        xml.element("Path", path)
        xml.element("InstanceProfileName", name)
        xml.element("InstanceProfileId", id)
        xml.element("Arn", arn)
        xml.element("CreateDate", IAMFormat.date(created))
        xml.members("Roles", roles) { $1.write(&$0, .listed) }
        xml.tags(tags)
    }

    static let columns = "account, name, id, path, tags, created"

    init(row: Row) {
        account = row[0]; name = row[1]; id = row[2]; path = row[3]; tags = IAMStore.decode(row[4]); created = row[5]
    }

    init(account: String, name: String, path: String, tags: [Tag], created: Double) {
        self.account = account; self.name = name; self.path = path; self.tags = tags; self.created = created
        id = IAMFormat.uniqueID(prefix: "AIPA")
    }

    /// Profiles with their roles.
    static func fetchAll(_ db: Database, account: String, whereSQL: String = "", _ arguments: StatementArguments = []) throws -> [InstanceProfile] {
        var profiles = try Row.fetchAll(db, sql: "SELECT \(columns) FROM instance_profile WHERE account = ? \(whereSQL)",
                                        arguments: StatementArguments([account]) + arguments).map(InstanceProfile.init(row:))
        for i in profiles.indices {
            profiles[i].roles = try Row.fetchAll(db, sql: """
                SELECT r.account, r.name, r.id, r.path, r.assume_policy, r.description, r.max_session, r.tags, r.created
                FROM instance_profile_role p JOIN role r ON r.account = p.account AND r.name = p.role
                WHERE p.account = ? AND p.profile = ?
                """, arguments: [account, profiles[i].name]).map(Role.init(row:))
        }
        return profiles
    }

    static func require(_ db: Database, account: String, name: String) throws -> InstanceProfile {
        guard let p = try fetchAll(db, account: account, whereSQL: "AND name = ?", [name]).first else {
            throw IAMError.instanceProfileNotFound(name)
        }
        return p
    }

    func save(_ db: Database) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO instance_profile (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [account, name, id, path, IAMStore.encode(tags), created])
    }
}

extension IAMService {
    func createInstanceProfile(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("InstanceProfileName", max: 128)
        let path = try input.path()
        let tags = try input.tags()
        let profile = InstanceProfile(account: caller.account, name: name, path: path, tags: tags, created: caller.now)
        try store.db.writeNow { db in
            if try IAMStore.exists(db, "SELECT 1 FROM instance_profile WHERE account = ? AND name = ?", [caller.account, name]) {
                throw IAMError.alreadyExists("Instance Profile \(name) already exists.")
            }
            try profile.save(db)
        }
        return { xml in xml.group("InstanceProfile") { profile.write(&$0) } }
    }

    func getInstanceProfile(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("InstanceProfileName", max: 128)
        let profile = try store.db.readNow { db in try InstanceProfile.require(db, account: caller.account, name: name) }
        return { xml in xml.group("InstanceProfile") { profile.write(&$0) } }
    }

    func listInstanceProfiles(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let prefix = try input.pathPrefix() ?? "/"
        let (marker, maxItems) = try input.paging()
        let profiles = try store.db.readNow { db in try InstanceProfile.fetchAll(db, account: caller.account) }
            .filter { $0.path.hasPrefix(prefix) }
        let page = try Page(profiles, key: \.name, marker: marker, maxItems: maxItems)
        return { xml in
            xml.members("InstanceProfiles", page.items) { $1.write(&$0) }
            xml.paging(page)
        }
    }

    func listInstanceProfilesForRole(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let roleName = try input.requiredName("RoleName", max: Self.roleNameMax)
        let (marker, maxItems) = try input.paging()
        let profiles = try store.db.readNow { db in
            let role = try Role.require(db, account: caller.account, name: roleName)
            return try InstanceProfile.fetchAll(
                db, account: caller.account,
                whereSQL: "AND name IN (SELECT profile FROM instance_profile_role WHERE account = ? AND role = ?)",
                [caller.account, role.name])
        }
        let page = try Page(profiles, key: \.name, marker: marker, maxItems: maxItems)
        return { xml in
            xml.members("InstanceProfiles", page.items) { $1.write(&$0) }
            xml.paging(page)
        }
    }

    /// A profile holds one role: a second is over AWS's quota.
    func addRoleToInstanceProfile(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("InstanceProfileName", max: 128)
        let roleName = try input.requiredName("RoleName", max: Self.roleNameMax)
        try store.db.writeNow { db in
            let profile = try InstanceProfile.require(db, account: caller.account, name: name)
            let role = try Role.require(db, account: caller.account, name: roleName)
            if profile.roles.contains(where: { $0.name == role.name }) {
                throw IAMError.alreadyExists("Role \(role.name) is already in instance profile \(profile.name).")
            }
            if !profile.roles.isEmpty {
                throw IAMError.limitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
            }
            try db.execute(sql: "INSERT INTO instance_profile_role (account, profile, role) VALUES (?, ?, ?)",
                           arguments: [caller.account, profile.name, role.name])
        }
        return nil
    }

    func removeRoleFromInstanceProfile(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("InstanceProfileName", max: 128)
        let roleName = try input.requiredName("RoleName", max: Self.roleNameMax)
        try store.db.writeNow { db in
            let profile = try InstanceProfile.require(db, account: caller.account, name: name)
            let role = try Role.require(db, account: caller.account, name: roleName)
            try db.execute(sql: "DELETE FROM instance_profile_role WHERE account = ? AND profile = ? AND role = ?",
                           arguments: [caller.account, profile.name, role.name])
            if db.changesCount == 0 {
                throw IAMError.noSuchEntity("The role with name \(role.name) cannot be found in instance profile \(profile.name).")
            }
        }
        return nil
    }

    func deleteInstanceProfile(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("InstanceProfileName", max: 128)
        try store.db.writeNow { db in
            let profile = try InstanceProfile.require(db, account: caller.account, name: name)
            if !profile.roles.isEmpty {
                throw IAMError.deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
            }
            try db.execute(sql: "DELETE FROM instance_profile WHERE account = ? AND name = ?", arguments: [caller.account, profile.name])
        }
        return nil
    }

}
