import Core
import GRDB

/// Managed policies attached to roles, users and groups (recorded, not enforced).
extension IAMService {
    /// AWS's default quota of managed policies per identity.
    static let attachedPoliciesMax = 10

    func attach(_ kind: OwnerKind, _ input: IAMInput, _ caller: Caller) throws -> Answer {
        let owner = try input.requiredName(kind.member, max: kind.nameMax)
        let arn = try policyARN(input)
        try store.db.writeNow { db in
            guard let policy = try ManagedPolicy.fetch(db, arn: arn, account: caller.account) else {
                throw IAMError.notAttachable(arn)
            }
            let stored = try kind.require(db, account: caller.account, name: owner)
            let attached = try String.fetchAll(db, sql: "SELECT policy_arn FROM attachment WHERE account = ? AND kind = ? AND owner = ?",
                                               arguments: [caller.account, kind.rawValue, stored])
            if attached.contains(policy.arn) { return }  // attaching again is a no-op
            if attached.count >= Self.attachedPoliciesMax {
                throw IAMError.limitExceeded("Cannot exceed quota for PoliciesPer\(kind.rawValue.capitalized): \(Self.attachedPoliciesMax)")
            }
            try db.execute(sql: "INSERT INTO attachment (account, kind, owner, policy_arn, attached) VALUES (?, ?, ?, ?, ?)",
                           arguments: [caller.account, kind.rawValue, stored, policy.arn, caller.now])
        }
        return nil
    }

    func detach(_ kind: OwnerKind, _ input: IAMInput, _ caller: Caller) throws -> Answer {
        let owner = try input.requiredName(kind.member, max: kind.nameMax)
        let arn = try policyARN(input)
        _ = try IAMFormat.policyARN(arn)
        try store.db.writeNow { db in
            let stored = try kind.require(db, account: caller.account, name: owner)
            try db.execute(sql: "DELETE FROM attachment WHERE account = ? AND kind = ? AND owner = ? AND policy_arn = ?",
                           arguments: [caller.account, kind.rawValue, stored, arn])
            if db.changesCount == 0 { throw IAMError.policyNotFound(arn) }
        }
        return nil
    }

    func listAttached(_ kind: OwnerKind, _ input: IAMInput, _ caller: Caller) throws -> Answer {
        let owner = try input.requiredName(kind.member, max: kind.nameMax)
        let prefix = try input.pathPrefix() ?? "/"
        let (marker, maxItems) = try input.paging()
        let attached = try store.db.readNow { db in
            let stored = try kind.require(db, account: caller.account, name: owner)
            return try String.fetchAll(db, sql: "SELECT policy_arn FROM attachment WHERE account = ? AND kind = ? AND owner = ?",
                                       arguments: [caller.account, kind.rawValue, stored])
        }.compactMap { arn -> (name: String, arn: String)? in
            guard let (_, path, name) = try? IAMFormat.policyARN(arn), path.hasPrefix(prefix) else { return nil }
            return (name, arn)
        }
        let page = try Page(attached, key: \.name, marker: marker, maxItems: maxItems)
        return { xml in
            xml.members("AttachedPolicies", page.items) { xml, p in
                xml.element("PolicyName", p.name)
                xml.element("PolicyArn", p.arn)
            }
            xml.paging(page)
        }
    }

    /// The roles, users and groups a policy is attached to, in one listing paged across the three.
    func listEntitiesForPolicy(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let arn = try policyARN(input)
        let filter = input.optional("EntityFilter")
        let filters = ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"]
        if let filter, !filters.contains(filter) {
            throw IAMError.constraint("entityFilter", value: filter,
                                      "Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]")
        }
        let prefix = try input.pathPrefix() ?? "/"
        let (marker, maxItems) = try input.paging()
        let entities: [(kind: OwnerKind, name: String, id: String)] = try store.db.readNow { db in
            let policy = try ManagedPolicy.require(db, arn: arn, account: caller.account)
            var out: [(OwnerKind, String, String)] = []
            for kind in [OwnerKind.group, .user, .role] {
                if let filter, ["User", "Role", "Group"].contains(filter), filter.lowercased() != kind.rawValue { continue }
                let rows = try Row.fetchAll(db, sql: """
                    SELECT e.name, e.id, e.path FROM attachment a JOIN \(kind.table) e ON e.account = a.account AND e.name = a.owner
                    WHERE a.account = ? AND a.kind = ? AND a.policy_arn = ?
                    """, arguments: [caller.account, kind.rawValue, policy.arn])
                for row in rows where (row[2] as String).hasPrefix(prefix) { out.append((kind, row[0], row[1])) }
            }
            return out
        }
        let page = try Page(entities, key: { "\($0.kind.rawValue)/\($0.name)" }, marker: marker, maxItems: maxItems)
        return { xml in
            for (kind, element, nameTag, idTag) in [(OwnerKind.group, "PolicyGroups", "GroupName", "GroupId"),
                                                    (.user, "PolicyUsers", "UserName", "UserId"),
                                                    (.role, "PolicyRoles", "RoleName", "RoleId")] {
                xml.members(element, page.items.filter { $0.kind == kind }) { xml, e in
                    xml.element(nameTag, e.name)
                    xml.element(idTag, e.id)
                }
            }
            xml.paging(page)
        }
    }
}
