import Core
import Foundation
import GRDB

/// `AWS::IAM::User`, `AWS::IAM::Group` and `AWS::IAM::UserToGroupAddition` for CloudFormation, over CreateUser,
/// CreateGroup, AddUserToGroup, AttachUserPolicy, PutGroupPolicy... called in-process.
///
/// As for roles, the state remembers what the template made (`PolicyNames`, `Groups`, `Users`) so that an update
/// undoes only that and leaves alone what another resource (an `AWS::IAM::Policy`, a `UserToGroupAddition`) added.
extension IAMResources {
    static let identityTypes = ["AWS::IAM::User", "AWS::IAM::Group", "AWS::IAM::UserToGroupAddition"]

    func identityCreateOnly(_ type: String) -> Set<String> {
        switch type {
        case "AWS::IAM::User": return ["UserName"]
        case "AWS::IAM::Group": return ["GroupName"]
        default: return []
        }
    }

    // MARK: User

    func createUser(_ request: ResourceRequest) throws -> ResourceState {
        let p = request.properties
        try Self.refuseUnserved(p, ["LoginProfile", "PermissionsBoundary"], type: request.type)
        let name = try Self.string(p["UserName"], "UserName") ?? request.generatedName(limit: 64)
        var params = ["UserName": name]
        if let path = try Self.string(p["Path"], "Path") { params["Path"] = path }
        try Self.addTags(request, to: &params)
        let c = caller(request)
        let managed = try Self.strings(p["ManagedPolicyArns"], "ManagedPolicyArns")
        let policies = try Self.inlinePolicies(p["Policies"])
        let groups = try Self.strings(p["Groups"], "Groups")
        _ = try service.createUser(IAMInput(params), c)
        do {
            try syncManaged(.user, name, wanted: managed, before: [], c)
            try syncInline(.user, name, policies, before: [], request)
            for g in groups { _ = try service.addUserToGroup(IAMInput(["GroupName": g, "UserName": name]), c) }
            return try userState(request, name, policyNames: policies.map(\.name), groups: groups, managed: managed)
        } catch {
            try? deleteUser(request, name: name, groups: groups)
            throw error
        }
    }

    func updateUser(_ request: ResourceRequest, previous: ResourceState) throws -> ResourceState {
        let p = request.properties
        try Self.refuseUnserved(p, ["LoginProfile", "PermissionsBoundary"], type: request.type)
        let name = previous.physicalId
        let c = caller(request)
        _ = try service.updateUser(IAMInput(["UserName": name, "NewPath": try Self.string(p["Path"], "Path") ?? "/"]), c)
        let managed = try Self.strings(p["ManagedPolicyArns"], "ManagedPolicyArns")
        try syncManaged(.user, name, wanted: managed, before: previous.attributes["ManagedPolicyArns"]?.array?.compactMap(\.string) ?? [], c)
        let policies = try Self.inlinePolicies(p["Policies"])
        try syncInline(.user, name, policies, before: previous.attributes["PolicyNames"]?.array?.compactMap(\.string) ?? [], request)
        let groups = try Self.strings(p["Groups"], "Groups")
        let before = previous.attributes["Groups"]?.array?.compactMap(\.string) ?? []
        for g in groups where !before.contains(g) { _ = try service.addUserToGroup(IAMInput(["GroupName": g, "UserName": name]), c) }
        for g in before where !groups.contains(g) {
            _ = try? service.removeUserFromGroup(IAMInput(["GroupName": g, "UserName": name]), c)
        }
        var params: [String: String] = [:]
        try Self.addTags(request, to: &params)
        let tags = try IAMInput(params).tags()
        _ = try service.modify(User.self, c, name) { $0.tags = tags }
        return try userState(request, name, policyNames: policies.map(\.name), groups: groups, managed: managed)
    }

    /// Everything that would stop DeleteUser goes first: policies, the template's groups, and the user's access keys
    /// (an `AWS::IAM::AccessKey` of the stack is deleted before its user anyway).
    func deleteUser(_ request: ResourceRequest, name: String, groups: [String]) throws {
        let c = caller(request)
        try removePolicies(.user, name, c)
        let (memberOf, keys) = try service.store.db.readNow { db in
            (try String.fetchAll(db, sql: "SELECT grp FROM group_member WHERE account = ? AND user = ?", arguments: [c.account, name]),
             try String.fetchAll(db, sql: "SELECT id FROM access_key WHERE account = ? AND user = ?", arguments: [c.account, name]))
        }
        for g in memberOf { _ = try? service.removeUserFromGroup(IAMInput(["GroupName": g, "UserName": name]), c) }
        for k in keys { _ = try? service.deleteAccessKey(IAMInput(["AccessKeyId": k, "UserName": name]), c) }
        _ = try service.deleteUser(IAMInput(["UserName": name]), c)
    }

    func userState(_ request: ResourceRequest, _ name: String, policyNames: [String], groups: [String], managed: [String]) throws -> ResourceState {
        let user = try service.store.db.readNow { db in try User.require(db, account: request.account, name: name) }
        return ResourceState(physicalId: name, ref: name, attributes: [
            "Arn": .string(user.arn), "PolicyNames": .array(policyNames.map { .string($0) }), "Groups": .array(groups.map { .string($0) }),
            "ManagedPolicyArns": .array(managed.map { .string($0) }),
        ])
    }

    // MARK: Group

    func createGroup(_ request: ResourceRequest) throws -> ResourceState {
        let p = request.properties
        let name = try Self.string(p["GroupName"], "GroupName") ?? request.generatedName(limit: 128)
        var params = ["GroupName": name]
        if let path = try Self.string(p["Path"], "Path") { params["Path"] = path }
        let managed = try Self.strings(p["ManagedPolicyArns"], "ManagedPolicyArns")
        let policies = try Self.inlinePolicies(p["Policies"])
        let c = caller(request)
        _ = try service.createGroup(IAMInput(params), c)
        do {
            try syncManaged(.group, name, wanted: managed, before: [], c)
            try syncInline(.group, name, policies, before: [], request)
            return try groupState(request, name, policyNames: policies.map(\.name), managed: managed)
        } catch {
            try? deleteGroup(request, name: name)
            throw error
        }
    }

    func updateGroup(_ request: ResourceRequest, previous: ResourceState) throws -> ResourceState {
        let p = request.properties
        let name = previous.physicalId
        let c = caller(request)
        _ = try service.updateGroup(IAMInput(["GroupName": name, "NewPath": try Self.string(p["Path"], "Path") ?? "/"]), c)
        let managed = try Self.strings(p["ManagedPolicyArns"], "ManagedPolicyArns")
        try syncManaged(.group, name, wanted: managed, before: previous.attributes["ManagedPolicyArns"]?.array?.compactMap(\.string) ?? [], c)
        let policies = try Self.inlinePolicies(p["Policies"])
        try syncInline(.group, name, policies, before: previous.attributes["PolicyNames"]?.array?.compactMap(\.string) ?? [], request)
        return try groupState(request, name, policyNames: policies.map(\.name), managed: managed)
    }

    /// Members left in the group (added outside the stack) are removed: CloudFormation's delete does not fail on them.
    func deleteGroup(_ request: ResourceRequest, name: String) throws {
        let c = caller(request)
        try removePolicies(.group, name, c)
        let members = try service.store.db.readNow { db in
            try String.fetchAll(db, sql: "SELECT user FROM group_member WHERE account = ? AND grp = ?", arguments: [c.account, name])
        }
        for u in members { _ = try? service.removeUserFromGroup(IAMInput(["GroupName": name, "UserName": u]), c) }
        _ = try service.deleteGroup(IAMInput(["GroupName": name]), c)
    }

    func groupState(_ request: ResourceRequest, _ name: String, policyNames: [String], managed: [String]) throws -> ResourceState {
        let group = try service.store.db.readNow { db in try Group.require(db, account: request.account, name: name) }
        return ResourceState(physicalId: name, ref: name, attributes: [
            "Arn": .string(group.arn), "GroupId": .string(group.id), "PolicyNames": .array(policyNames.map { .string($0) }),
            "ManagedPolicyArns": .array(managed.map { .string($0) }),
        ])
    }

    // MARK: UserToGroupAddition

    func addUsersToGroup(_ request: ResourceRequest, previous: ResourceState?) throws -> ResourceState {
        let p = request.properties
        guard let group = try Self.string(p["GroupName"], "GroupName") else {
            throw IAMError.constraint("groupName", value: nil, "Member must not be null")
        }
        let users = try Self.strings(p["Users"], "Users")
        if users.isEmpty { throw IAMError.constraint("users", value: nil, "Member must not be null") }
        let c = caller(request)
        for u in users { _ = try service.addUserToGroup(IAMInput(["GroupName": group, "UserName": u]), c) }
        // GroupName and Users both change in place: what the previous version added and this one does not is removed.
        let before = previous?.attributes["Users"]?.array?.compactMap(\.string) ?? []
        let beforeGroup = previous?.attributes["GroupName"]?.string ?? group
        for u in before where beforeGroup != group || !users.contains(u) {
            _ = try? service.removeUserFromGroup(IAMInput(["GroupName": beforeGroup, "UserName": u]), c)
        }
        let id = previous?.physicalId ?? request.generatedName(limit: 128)
        return ResourceState(physicalId: id, ref: id, attributes: [
            "Id": .string(id), "GroupName": .string(group), "Users": .array(users.map { .string($0) }),
        ])
    }

    func removeUsersFromGroup(_ request: ResourceRequest, state: ResourceState) {
        let group = state.attributes["GroupName"]?.string ?? request.properties["GroupName"]?.string ?? ""
        for u in state.attributes["Users"]?.array?.compactMap(\.string) ?? [] {
            _ = try? service.removeUserFromGroup(IAMInput(["GroupName": group, "UserName": u]), caller(request))
        }
    }

    // MARK: Shared by users, groups and roles

    /// Attach the `wanted` managed policies and detach those the template listed `before` and no longer does; what
    /// another resource attached (an `AWS::IAM::ManagedPolicy` naming the identity) stays.
    func syncManaged(_ kind: OwnerKind, _ name: String, wanted: [String], before: [String], _ c: IAMService.Caller) throws {
        let attached = try service.store.db.readNow { db in
            try String.fetchAll(db, sql: "SELECT policy_arn FROM attachment WHERE account = ? AND kind = ? AND owner = ?",
                                arguments: [c.account, kind.rawValue, name])
        }
        for arn in wanted where !attached.contains(arn) { _ = try service.attach(kind, IAMInput([kind.member: name, "PolicyArn": arn]), c) }
        for arn in before where !wanted.contains(arn) && attached.contains(arn) {
            _ = try service.detach(kind, IAMInput([kind.member: name, "PolicyArn": arn]), c)
        }
    }

    /// Put the template's inline policies; remove those an earlier version of the template listed and this one does not.
    func syncInline(_ kind: OwnerKind, _ name: String, _ policies: [(name: String, document: String)], before: [String],
                    _ request: ResourceRequest) throws {
        let c = caller(request)
        for (policyName, document) in policies {
            _ = try service.putInlinePolicy(kind, IAMInput([kind.member: name, "PolicyName": policyName, "PolicyDocument": document]), c)
        }
        for old in before where !policies.contains(where: { $0.name == old }) { removeInline(request, kind, [name], old) }
    }

    func removePolicies(_ kind: OwnerKind, _ name: String, _ c: IAMService.Caller) throws {
        let (attached, inline) = try service.store.db.readNow { db in
            (try String.fetchAll(db, sql: "SELECT policy_arn FROM attachment WHERE account = ? AND kind = ? AND owner = ?",
                                 arguments: [c.account, kind.rawValue, name]),
             try String.fetchAll(db, sql: "SELECT name FROM inline_policy WHERE account = ? AND kind = ? AND owner = ?",
                                 arguments: [c.account, kind.rawValue, name]))
        }
        for arn in attached { _ = try service.detach(kind, IAMInput([kind.member: name, "PolicyArn": arn]), c) }
        for policy in inline { _ = try service.deleteInlinePolicy(kind, IAMInput([kind.member: name, "PolicyName": policy]), c) }
    }

    /// Properties Cloudless does not serve fail the resource, naming the property, rather than being ignored.
    static func refuseUnserved(_ p: [String: JSON], _ names: [String], type: String) throws {
        for name in names where p[name].map({ !$0.isNull }) == true {
            throw AWSError("InvalidRequest", "Property \(name) of \(type) is not served by Cloudless.")
        }
    }
}
