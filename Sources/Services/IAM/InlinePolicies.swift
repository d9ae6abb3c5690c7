import Core
import GRDB

/// The identities policies belong to: inline policies and attached managed policies are kept per kind and name.
enum OwnerKind: String, Sendable {
    case role, user, group

    var table: String {
        switch self {
        case .role: "role"
        case .user: "user"
        case .group: "grp"
        }
    }

    /// The request member naming the owner.
    var member: String {
        switch self {
        case .role: "RoleName"
        case .user: "UserName"
        case .group: "GroupName"
        }
    }

    var nameMax: Int { self == .role ? 64 : 128 }

    func notFound(_ name: String) -> AWSError {
        IAMError.noSuchEntity("The \(rawValue) with name \(name) cannot be found.")
    }

    /// The owner's name as stored (names match without case), or NoSuchEntity.
    func require(_ db: Database, account: String, name: String) throws -> String {
        guard let stored = try String.fetchOne(db, sql: "SELECT name FROM \(table) WHERE account = ? AND name = ?",
                                               arguments: [account, name]) else {
            throw notFound(name)
        }
        return stored
    }
}

extension IAMService {
    func putInlinePolicy(_ kind: OwnerKind, _ input: IAMInput, _ caller: Caller) throws -> Answer {
        let owner = try input.requiredName(kind.member, max: kind.nameMax)
        let name = try input.requiredName("PolicyName", max: 128)
        let document = try policyDocument(input, "PolicyDocument")
        try store.db.writeNow { db in
            let stored = try kind.require(db, account: caller.account, name: owner)
            // A new document under a name that differs only in case replaces the old one and its name.
            try db.execute(sql: "DELETE FROM inline_policy WHERE account = ? AND kind = ? AND owner = ? AND name = ?",
                           arguments: [caller.account, kind.rawValue, stored, name])
            try db.execute(sql: "INSERT INTO inline_policy (account, kind, owner, name, document) VALUES (?, ?, ?, ?, ?)",
                           arguments: [caller.account, kind.rawValue, stored, name, document])
        }
        return nil
    }

    func getInlinePolicy(_ kind: OwnerKind, _ input: IAMInput, _ caller: Caller) throws -> Answer {
        let owner = try input.requiredName(kind.member, max: kind.nameMax)
        let name = try input.requiredName("PolicyName", max: 128)
        let (stored, row) = try store.db.readNow { db in
            let stored = try kind.require(db, account: caller.account, name: owner)
            let row = try Row.fetchOne(db, sql: "SELECT name, document FROM inline_policy WHERE account = ? AND kind = ? AND owner = ? AND name = ?",
                                       arguments: [caller.account, kind.rawValue, stored, name])
            return (stored, row)
        }
        guard let row else {
            throw IAMError.noSuchEntity("The \(kind.rawValue) policy with name \(name) cannot be found.")
        }
        let policyName: String = row[0], document: String = row[1]
        return { xml in
            xml.element(kind.member, stored)
            xml.element("PolicyName", policyName)
            xml.element("PolicyDocument", IAMFormat.encodedDocument(document))
        }
    }

    func listInlinePolicies(_ kind: OwnerKind, _ input: IAMInput, _ caller: Caller) throws -> Answer {
        let owner = try input.requiredName(kind.member, max: kind.nameMax)
        let (marker, maxItems) = try input.paging()
        let names = try store.db.readNow { db in
            let stored = try kind.require(db, account: caller.account, name: owner)
            return try String.fetchAll(db, sql: "SELECT name FROM inline_policy WHERE account = ? AND kind = ? AND owner = ?",
                                       arguments: [caller.account, kind.rawValue, stored])
        }
        let page = try Page(names, key: { $0 }, marker: marker, maxItems: maxItems)
        return { xml in
            xml.stringMembers("PolicyNames", page.items)
            xml.paging(page)
        }
    }

    func deleteInlinePolicy(_ kind: OwnerKind, _ input: IAMInput, _ caller: Caller) throws -> Answer {
        let owner = try input.requiredName(kind.member, max: kind.nameMax)
        let name = try input.requiredName("PolicyName", max: 128)
        try store.db.writeNow { db in
            let stored = try kind.require(db, account: caller.account, name: owner)
            try db.execute(sql: "DELETE FROM inline_policy WHERE account = ? AND kind = ? AND owner = ? AND name = ?",
                           arguments: [caller.account, kind.rawValue, stored, name])
            if db.changesCount == 0 {
                throw IAMError.noSuchEntity("The \(kind.rawValue) policy with name \(name) cannot be found.")
            }
        }
        return nil
    }
}
