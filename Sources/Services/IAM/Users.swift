import Core
import GRDB

/// An IAM user as stored.
struct User: Sendable {
    var account: String
    var name: String
    var id: String
    var path: String
    var tags: [Tag]
    var created: Double

    var arn: String { IAMFormat.arn(account: account, kind: "user", path: path, name: name) }

    /// Listings (ListUsers, GetGroup) leave out Tags, as AWS documents.
    func write(_ xml: inout XMLWriter, withTags: Bool = true) {
        xml.element("Path", path)
        xml.element("UserName", name)
        xml.element("UserId", id)
        xml.element("Arn", arn)
        xml.element("CreateDate", IAMFormat.date(created))
        if withTags { xml.tags(tags) }
    }

    static let columns = "account, name, id, path, tags, created"

    init(row: Row) {
        account = row[0]; name = row[1]; id = row[2]; path = row[3]; tags = IAMStore.decode(row[4]); created = row[5]
    }

    init(account: String, name: String, path: String, tags: [Tag], created: Double) {
        self.account = account; self.name = name; self.path = path; self.tags = tags; self.created = created
        id = IAMFormat.uniqueID(prefix: "AIDA")
    }

    static func fetch(_ db: Database, account: String, name: String) throws -> User? {
        try Row.fetchOne(db, sql: "SELECT \(columns) FROM user WHERE account = ? AND name = ?", arguments: [account, name])
            .map(User.init(row:))
    }

    static func require(_ db: Database, account: String, name: String) throws -> User {
        guard let u = try fetch(db, account: account, name: name) else { throw IAMError.userNotFound(name) }
        return u
    }

    func save(_ db: Database) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO user (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [account, name, id, path, IAMStore.encode(tags), created])
    }
}

extension IAMService {
    func createUser(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("UserName", max: 64)
        let path = try input.path()
        let tags = try input.tags()
        let user = User(account: caller.account, name: name, path: path, tags: tags, created: caller.now)
        try store.db.writeNow { db in
            if try User.fetch(db, account: caller.account, name: name) != nil {
                throw IAMError.alreadyExists("User with name \(name) already exists.")
            }
            try user.save(db)
        }
        return { xml in xml.group("User") { user.write(&$0) } }
    }

    /// Without UserName: the user whose IAM key signed the request, else the account's root user.
    func getUser(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.name("UserName", max: 128, required: false) ?? keys.user(of: caller.accessKeyID, account: caller.account)
        guard let name else {
            let account = caller.account
            let created = try store.db.writeNow { db in
                try db.execute(sql: "INSERT OR IGNORE INTO account (account, created) VALUES (?, ?)", arguments: [account, caller.now])
                return try Double.fetchOne(db, sql: "SELECT created FROM account WHERE account = ?", arguments: [account]) ?? caller.now
            }
            return { xml in
                xml.group("User") { xml in
                    xml.element("UserId", account)
                    xml.element("Arn", "arn:aws:iam::\(account):root")
                    xml.element("CreateDate", IAMFormat.date(created))
                }
            }
        }
        let user = try store.db.readNow { db in try User.require(db, account: caller.account, name: name) }
        return { xml in xml.group("User") { user.write(&$0) } }
    }

    func listUsers(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let prefix = try input.pathPrefix() ?? "/"
        let (marker, maxItems) = try input.paging()
        let users = try store.db.readNow { db in
            try Row.fetchAll(db, sql: "SELECT \(User.columns) FROM user WHERE account = ?", arguments: [caller.account])
                .map(User.init(row:)).filter { $0.path.hasPrefix(prefix) }
        }
        let page = try Page(users, key: \.name, marker: marker, maxItems: maxItems)
        return { xml in
            xml.members("Users", page.items) { $1.write(&$0, withTags: false) }
            xml.paging(page)
        }
    }

    /// A new name follows the user into its groups, policies and access keys.
    func updateUser(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("UserName", max: 128)
        let newPath = input.optional("NewPath") == nil ? nil : try input.path("NewPath")
        let newName = try input.name("NewUserName", max: 64, required: false)
        try store.db.writeNow { db in
            var user = try User.require(db, account: caller.account, name: name)
            let old = user.name
            if let newName, let other = try User.fetch(db, account: caller.account, name: newName), other.id != user.id {
                throw IAMError.alreadyExists("User with name \(newName) already exists.")
            }
            if let newPath { user.path = newPath }
            if let newName {
                user.name = newName
                let args: StatementArguments = [newName, caller.account, old]
                try db.execute(sql: "DELETE FROM user WHERE account = ? AND name = ?", arguments: [caller.account, old])
                try db.execute(sql: "UPDATE group_member SET user = ? WHERE account = ? AND user = ?", arguments: args)
                try db.execute(sql: "UPDATE inline_policy SET owner = ? WHERE account = ? AND kind = 'user' AND owner = ?", arguments: args)
                try db.execute(sql: "UPDATE attachment SET owner = ? WHERE account = ? AND kind = 'user' AND owner = ?", arguments: args)
                try db.execute(sql: "UPDATE access_key SET user = ? WHERE account = ? AND user = ?", arguments: args)
                keys.refresh(after: db)
            }
            try user.save(db)
        }
        return nil
    }

    /// AWS refuses to delete a user that still has access keys, policies or groups.
    func deleteUser(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName("UserName", max: 128)
        try store.db.writeNow { db in
            let user = try User.require(db, account: caller.account, name: name)
            let args: StatementArguments = [caller.account, user.name]
            if try IAMStore.exists(db, "SELECT 1 FROM access_key WHERE account = ? AND user = ?", args) {
                throw IAMError.deleteConflict("Cannot delete entity, must delete access keys first.")
            }
            if try IAMStore.exists(db, "SELECT 1 FROM inline_policy WHERE account = ? AND kind = 'user' AND owner = ?", args) {
                throw IAMError.deleteConflict("Cannot delete entity, must delete policies first.")
            }
            if try IAMStore.exists(db, "SELECT 1 FROM attachment WHERE account = ? AND kind = 'user' AND owner = ?", args) {
                throw IAMError.deleteConflict("Cannot delete entity, must detach all policies first.")
            }
            if try IAMStore.exists(db, "SELECT 1 FROM group_member WHERE account = ? AND user = ?", args) {
                throw IAMError.deleteConflict("Cannot delete entity, must remove users from group first.")
            }
            try db.execute(sql: "DELETE FROM user WHERE account = ? AND name = ?", arguments: args)
        }
        return nil
    }

}
