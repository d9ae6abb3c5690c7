import Core
import Foundation
import GRDB

/// Drift reading: what IAM holds now for a stack's role, user, group or instance profile, in the template's property
/// names and shapes (policy documents as objects, lists in the template's order).
extension IAMResources {
    public func currentProperties(_ request: ResourceRequest, state: ResourceState) async throws -> ResourceReading {
        let name = state.physicalId
        let account = request.account
        return try service.store.db.readNow { db -> ResourceReading in
            switch request.type {
            case "AWS::IAM::Role":
                guard let row = try Row.fetchOne(db, sql: "SELECT \(Role.columns) FROM role WHERE account = ? AND name = ?",
                                                 arguments: [account, name]) else { return .deleted }
                let role = Role(row: row)
                var out: [String: JSON] = [
                    "RoleName": .string(role.name), "Path": .string(role.path), "AssumeRolePolicyDocument": Self.documentJSON(role.assumePolicy),
                    "MaxSessionDuration": .number(Double(role.maxSession)),
                ]
                if let d = role.description, !d.isEmpty { out["Description"] = .string(d) }
                try Self.readPolicies(.role, role.name, account, request, state, db, into: &out)
                Self.readTags(role.tags, request, into: &out)
                return .properties(out)
            case "AWS::IAM::User":
                guard let user = try User.fetch(db, account: account, name: name) else { return .deleted }
                var out: [String: JSON] = ["UserName": .string(user.name), "Path": .string(user.path)]
                try Self.readPolicies(.user, user.name, account, request, state, db, into: &out)
                let groups = try String.fetchAll(db, sql: "SELECT grp FROM group_member WHERE account = ? AND user = ?", arguments: [account, name])
                let mine = state.attributes["Groups"]?.array?.compactMap(\.string) ?? []
                let listed = mine.filter { groups.contains($0) }
                if !listed.isEmpty { out["Groups"] = .array(listed.map { .string($0) }) }
                Self.readTags(user.tags, request, into: &out)
                return .properties(out)
            case "AWS::IAM::Group":
                guard let group = try? Group.require(db, account: account, name: name) else { return .deleted }
                var out: [String: JSON] = ["GroupName": .string(group.name), "Path": .string(group.path)]
                try Self.readPolicies(.group, group.name, account, request, state, db, into: &out)
                return .properties(out)
            case "AWS::IAM::InstanceProfile":
                guard let profile = try InstanceProfile.fetchAll(db, account: account, whereSQL: "AND name = ?", [name]).first else { return .deleted }
                return .properties([
                    "InstanceProfileName": .string(profile.name), "Path": .string(profile.path),
                    "Roles": .array(profile.roles.map { .string($0.name) }),
                ])
            case "AWS::IAM::AccessKey":
                guard let status = try String.fetchOne(db, sql: "SELECT status FROM access_key WHERE account = ? AND id = ?", arguments: [account, name])
                else { return .deleted }
                var out: [String: JSON] = ["UserName": state.attributes["UserName"] ?? .string(""), "Status": .string(status)]
                // Serial only asks for a new key; it is not kept.
                if let serial = request.properties["Serial"] { out["Serial"] = serial }
                return .properties(out)
            case "AWS::IAM::UserToGroupAddition":
                let group = state.attributes["GroupName"]?.string ?? ""
                guard (try? Group.require(db, account: account, name: group)) != nil else { return .deleted }
                let members = try String.fetchAll(db, sql: "SELECT user FROM group_member WHERE account = ? AND grp = ?", arguments: [account, group])
                let mine = (state.attributes["Users"]?.array?.compactMap(\.string) ?? []).filter { members.contains($0) }
                return .properties(["GroupName": .string(group), "Users": .array(mine.map { .string($0) })])
            default:
                return .notChecked
            }
        }
    }

    /// `ManagedPolicyArns` (every attached policy) and `Policies` (the inline policies the template made).
    static func readPolicies(_ kind: OwnerKind, _ name: String, _ account: String, _ request: ResourceRequest, _ state: ResourceState,
                             _ db: Database, into out: inout [String: JSON]) throws {
        let attached = try String.fetchAll(db, sql: "SELECT policy_arn FROM attachment WHERE account = ? AND kind = ? AND owner = ?",
                                           arguments: [account, kind.rawValue, name])
        if !attached.isEmpty {
            let order = (request.properties["ManagedPolicyArns"]?.array ?? []).compactMap(\.string)
            out["ManagedPolicyArns"] = .array(attached.sorted { (order.firstIndex(of: $0) ?? Int.max, $0) < (order.firstIndex(of: $1) ?? Int.max, $1) }
                .map { .string($0) })
        }
        let mine = state.attributes["PolicyNames"]?.array?.compactMap(\.string) ?? []
        var policies: [JSON] = []
        for policy in mine {
            guard let doc = try String.fetchOne(db, sql: "SELECT document FROM inline_policy WHERE account = ? AND kind = ? AND owner = ? AND name = ?",
                                                arguments: [account, kind.rawValue, name, policy]) else { continue }
            policies.append(.object(["PolicyName": .string(policy), "PolicyDocument": documentJSON(doc)]))
        }
        if !policies.isEmpty { out["Policies"] = .array(policies) }
    }

    /// The identity's own tags (IAM keeps no `aws:` ones; the stack's tags, applied to every resource, are not the
    /// template's unless it repeats them), in the template's order.
    static func readTags(_ all: [Tag], _ request: ResourceRequest, into out: inout [String: JSON]) {
        let order = (request.properties["Tags"]?.array ?? []).compactMap { $0["Key"]?.string }
        let tags = all.filter { order.contains($0.key) || request.tags[$0.key] == nil }
        guard !tags.isEmpty else { return }
        let sorted = tags.sorted { (order.firstIndex(of: $0.key) ?? Int.max, $0.key) < (order.firstIndex(of: $1.key) ?? Int.max, $1.key) }
        out["Tags"] = .array(sorted.map { .object(["Key": .string($0.key), "Value": .string($0.value)]) })
    }

    /// A stored policy document as an object (as templates write it); text that is not JSON as it is.
    static func documentJSON(_ text: String) -> JSON {
        for candidate in [text, text.removingPercentEncoding ?? text] {
            if let doc = try? JSONDecoder().decode(JSON.self, from: Data(candidate.utf8)) { return doc }
        }
        return .string(text)
    }
}
