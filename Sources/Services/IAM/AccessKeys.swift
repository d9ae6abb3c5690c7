import Core
import GRDB

/// An access key as stored. Its secret is shown once, by CreateAccessKey.
struct AccessKey: Sendable {
    var id: String
    var account: String
    var user: String?
    var secret: String
    var status: String
    var created: Double

    static let columns = "id, account, user, secret, status, created"

    init(row: Row) {
        id = row[0]; account = row[1]; user = row[2]; secret = row[3]; status = row[4]; created = row[5]
    }

    init(account: String, user: String?, created: Double) {
        id = IAMFormat.accessKeyID(); secret = IAMFormat.secretAccessKey(); status = "Active"
        self.account = account; self.user = user; self.created = created
    }

    func writeMetadata(_ xml: inout XMLWriter) {
        xml.element("UserName", user)
        xml.element("AccessKeyId", id)
        xml.element("Status", status)
        xml.element("CreateDate", IAMFormat.date(created))
    }
}

extension IAMService {
    /// AWS's quota of access keys per user (and for the root user).
    static let accessKeysMax = 2

    /// The user a key operation is for: UserName, else the user whose IAM key signed the request, else nil (the
    /// account's root user).
    func keyOwner(_ db: Database, _ input: IAMInput, _ caller: Caller) throws -> String? {
        if let name = try input.name("UserName", max: 128, required: false) {
            return try User.require(db, account: caller.account, name: name).name
        }
        return keys.user(of: caller.accessKeyID, account: caller.account)
    }

    func accessKeyID(_ input: IAMInput) throws -> String {
        let id = try input.string("AccessKeyId", min: 16, max: 128)!
        guard id.utf8.allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }) else {
            throw IAMError.constraint("accessKeyId", value: id, "Member must satisfy regular expression pattern: [\\w]+")
        }
        return id
    }

    func createAccessKey(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let key = try store.db.writeNow { db in
            let owner = try keyOwner(db, input, caller)
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM access_key WHERE account = ? AND user IS ?",
                                         arguments: [caller.account, owner]) ?? 0
            if count >= Self.accessKeysMax {
                throw IAMError.limitExceeded("Cannot exceed quota for AccessKeysPerUser: \(Self.accessKeysMax)")
            }
            let key = AccessKey(account: caller.account, user: owner, created: caller.now)
            try db.execute(sql: "INSERT INTO access_key (\(AccessKey.columns)) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [key.id, key.account, key.user, key.secret, key.status, key.created])
            keys.refresh(after: db)
            return key
        }
        return { xml in
            xml.group("AccessKey") { xml in
                xml.element("UserName", key.user)
                xml.element("AccessKeyId", key.id)
                xml.element("Status", key.status)
                xml.element("SecretAccessKey", key.secret)
                xml.element("CreateDate", IAMFormat.date(key.created))
            }
        }
    }

    func listAccessKeys(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let (marker, maxItems) = try input.paging()
        let list = try store.db.readNow { db in
            let owner = try keyOwner(db, input, caller)
            return try Row.fetchAll(db, sql: "SELECT \(AccessKey.columns) FROM access_key WHERE account = ? AND user IS ? ORDER BY created, id",
                                    arguments: [caller.account, owner]).map(AccessKey.init(row:))
        }
        let page = try Page(ordered: list, marker: marker, maxItems: maxItems)
        return { xml in
            xml.members("AccessKeyMetadata", page.items) { $1.writeMetadata(&$0) }
            xml.paging(page)
        }
    }

    /// An Inactive key stops signing requests at once; Active again, it signs again.
    func updateAccessKey(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let id = try accessKeyID(input)
        let status = try input.required("Status")
        guard ["Active", "Inactive"].contains(status) else {
            throw IAMError.validation("1 validation error detected: Value at 'status' failed to satisfy constraint: Member must satisfy enum value set")
        }
        try store.db.writeNow { db in
            let owner = try keyOwner(db, input, caller)
            try db.execute(sql: "UPDATE access_key SET status = ? WHERE id = ? AND account = ? AND user IS ?",
                           arguments: [status, id, caller.account, owner])
            if db.changesCount == 0 { throw IAMError.accessKeyNotFound(id) }
            keys.refresh(after: db)
        }
        return nil
    }

    func deleteAccessKey(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let id = try accessKeyID(input)
        try store.db.writeNow { db in
            let owner = try keyOwner(db, input, caller)
            try db.execute(sql: "DELETE FROM access_key WHERE id = ? AND account = ? AND user IS ?", arguments: [id, caller.account, owner])
            if db.changesCount == 0 { throw IAMError.accessKeyNotFound(id) }
            keys.refresh(after: db)
        }
        return nil
    }

    /// Use is not tracked: a key answers as one never used (`N/A`), as AWS does for a new key.
    func getAccessKeyLastUsed(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let id = try accessKeyID(input)
        let key = try store.db.readNow { db in
            try Row.fetchOne(db, sql: "SELECT \(AccessKey.columns) FROM access_key WHERE id = ? AND account = ?",
                             arguments: [id, caller.account]).map(AccessKey.init(row:))
        }
        guard let key else { throw IAMError.accessKeyNotFound(id) }
        return { xml in
            xml.element("UserName", key.user)
            xml.group("AccessKeyLastUsed") { xml in
                xml.element("ServiceName", "N/A")
                xml.element("Region", "N/A")
            }
        }
    }
}
