import Core
import GRDB

/// An IAM group as stored; members are in `group_member`.
struct Group: Sendable {
    var account: String
    var name: String
    var id: String
    var path: String
    var created: Double

    var arn: String { IAMFormat.arn(account: account, kind: "group", path: path, name: name) }

    func write(_ xml: inout XMLWriter) {
        xml.element("Path", path)
        xml.element("GroupName", name)
        xml.element("GroupId", id)
        xml.element("Arn", arn)
        xml.element("CreateDate", IAMFormat.date(created))
    }

    static let columns = "account, name, id, path, created"

    init(row: Row) {
        account = row[0]; name = row[1]; id = row[2]; path = row[3]; created = row[4]
    }

    init(account: String, name: String, path: String, created: Double) {
        self.account = account; self.name = name; self.path = path; self.created = created
        id = IAMFormat.uniqueID(prefix: "AGPA")
    }

    static func require(_ db: Database, account: String, name: String) throws -> Group {
        guard let row = try Row.fetchOne(db, sql: "SELECT \(columns) FROM grp WHERE account = ? AND name = ?", arguments: [account, name]) else {
            throw IAMError.groupNotFound(name)
        }
        return Group(row: row)
    }

    func save(_ db: Database) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO grp (\(Self.columns)) VALUES (?, ?, ?, ?, ?)",
                       arguments: [account, name, id, path, created])
    }
}

extension IAMService {
    func createGroup(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("GroupName", max: 128)
        let path = try input.path()
        let group = Group(account: caller.account, name: name, path: path, created: caller.now)
        try store.db.writeNow { db in
            if try IAMStore.exists(db, "SELECT 1 FROM grp WHERE account = ? AND name = ?", [caller.account, name]) {
                throw IAMError.alreadyExists("Group with name \(name) already exists.")
            }
            try group.save(db)
        }
        return { xml in xml.group("Group") { group.write(&$0) } }
    }

    /// The group and its users (paged).
    func getGroup(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("GroupName", max: 128)
        let (marker, maxItems) = try input.paging()
        let (group, users) = try store.db.readNow { db in
            let group = try Group.require(db, account: caller.account, name: name)
            let users = try Row.fetchAll(db, sql: """
                SELECT u.account, u.name, u.id, u.path, u.tags, u.created FROM group_member m JOIN user u ON u.account = m.account AND u.name = m.user
                WHERE m.account = ? AND m.grp = ?
                """, arguments: [caller.account, group.name]).map(User.init(row:))
            return (group, users)
        }
        let page = try Page(users, key: \.name, marker: marker, maxItems: maxItems)
        return { xml in
            xml.group("Group") { group.write(&$0) }
            xml.members("Users", page.items) { $1.write(&$0, withTags: false) }
            xml.paging(page)
        }
    }

    func listGroups(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let prefix = try input.pathPrefix() ?? "/"
        let (marker, maxItems) = try input.paging()
        let groups = try store.db.readNow { db in
            try Row.fetchAll(db, sql: "SELECT \(Group.columns) FROM grp WHERE account = ?", arguments: [caller.account])
                .map(Group.init(row:)).filter { $0.path.hasPrefix(prefix) }
        }
        let page = try Page(groups, key: \.name, marker: marker, maxItems: maxItems)
        return { xml in
            xml.members("Groups", page.items) { $1.write(&$0) }
            xml.paging(page)
        }
    }

    func listGroupsForUser(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("UserName", max: 128)
        let (marker, maxItems) = try input.paging()
        let groups = try store.db.readNow { db in
            let user = try User.require(db, account: caller.account, name: name)
            return try Row.fetchAll(db, sql: """
                SELECT g.account, g.name, g.id, g.path, g.created FROM group_member m
                JOIN grp g ON g.account = m.account AND g.name = m.grp WHERE m.account = ? AND m.user = ?
                """, arguments: [caller.account, user.name]).map(Group.init(row:))
        }
        let page = try Page(groups, key: \.name, marker: marker, maxItems: maxItems)
        return { xml in
            xml.members("Groups", page.items) { $1.write(&$0) }
            xml.paging(page)
        }
    }

    /// A new name follows the group into its memberships and policies.
    func updateGroup(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("GroupName", max: 128)
        let newPath = input.optional("NewPath") == nil ? nil : try input.path("NewPath")
        let newName = try input.name("NewGroupName", max: 128, required: false)
        try store.db.writeNow { db in
            var group = try Group.require(db, account: caller.account, name: name)
            let old = group.name
            if let newName, let other = try? Group.require(db, account: caller.account, name: newName), other.id != group.id {
                throw IAMError.alreadyExists("Group with name \(newName) already exists.")
            }
            if let newPath { group.path = newPath }
            if let newName {
                group.name = newName
                let args: StatementArguments = [newName, caller.account, old]
                try db.execute(sql: "DELETE FROM grp WHERE account = ? AND name = ?", arguments: [caller.account, old])
                try db.execute(sql: "UPDATE group_member SET grp = ? WHERE account = ? AND grp = ?", arguments: args)
                try db.execute(sql: "UPDATE inline_policy SET owner = ? WHERE account = ? AND kind = 'group' AND owner = ?", arguments: args)
                try db.execute(sql: "UPDATE attachment SET owner = ? WHERE account = ? AND kind = 'group' AND owner = ?", arguments: args)
            }
            try group.save(db)
        }
        return nil
    }

    /// AWS refuses to delete a group that still has members or policies.
    func deleteGroup(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("GroupName", max: 128)
        try store.db.writeNow { db in
            let group = try Group.require(db, account: caller.account, name: name)
            let args: StatementArguments = [caller.account, group.name]
            if try IAMStore.exists(db, "SELECT 1 FROM group_member WHERE account = ? AND grp = ?", args) {
                throw IAMError.deleteConflict("Cannot delete entity, must remove users from group first.")
            }
            if try IAMStore.exists(db, "SELECT 1 FROM inline_policy WHERE account = ? AND kind = 'group' AND owner = ?", args) {
                throw IAMError.deleteConflict("Cannot delete entity, must delete policies first.")
            }
            if try IAMStore.exists(db, "SELECT 1 FROM attachment WHERE account = ? AND kind = 'group' AND owner = ?", args) {
                throw IAMError.deleteConflict("Cannot delete entity, must detach all policies first.")
            }
            try db.execute(sql: "DELETE FROM grp WHERE account = ? AND name = ?", arguments: args)
        }
        return nil
    }

    func addUserToGroup(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let groupName = try input.requiredName("GroupName", max: 128)
        let userName = try input.requiredName("UserName", max: 128)
        try store.db.writeNow { db in
            let group = try Group.require(db, account: caller.account, name: groupName)
            let user = try User.require(db, account: caller.account, name: userName)
            try db.execute(sql: "INSERT OR IGNORE INTO group_member (account, grp, user) VALUES (?, ?, ?)",
                           arguments: [caller.account, group.name, user.name])
        }
        return nil
    }

    func removeUserFromGroup(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let groupName = try input.requiredName("GroupName", max: 128)
        let userName = try input.requiredName("UserName", max: 128)
        try store.db.writeNow { db in
            let group = try Group.require(db, account: caller.account, name: groupName)
            let user = try User.require(db, account: caller.account, name: userName)
            try db.execute(sql: "DELETE FROM group_member WHERE account = ? AND grp = ? AND user = ?",
                           arguments: [caller.account, group.name, user.name])
            if db.changesCount == 0 {
                throw IAMError.noSuchEntity("User \(user.name) is not in group \(group.name).")
            }
        }
        return nil
    }
}
