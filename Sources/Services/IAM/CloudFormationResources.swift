import Core
import Foundation
import GRDB

/// `AWS::IAM::Role`, `AWS::IAM::ManagedPolicy` and `AWS::IAM::Policy` (users, groups, keys and instance profiles are in
/// their own CloudFormation*.swift files) for CloudFormation, over the operations the
/// API serves (CreateRole, PutRolePolicy, AttachRolePolicy, CreatePolicy, CreatePolicyVersion...), called in-process
/// with the Query parameters they read.
///
/// Some properties a later update must undo are kept in the resource's state besides its GetAtt attributes: the
/// inline policies a role's `Policies` made (`PolicyNames`), and the identities a policy was attached to or put on
/// (`Roles`, `Users`, `Groups`, `PolicyName`), so that what another resource attached is left alone.
public struct IAMResources: ResourceProvider {
    let service: IAMService

    public var resourceTypes: [String] {
        ["AWS::IAM::Role", "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"] + Self.identityTypes + Self.keyAndProfileTypes
    }

    public func createOnlyProperties(of type: String) -> Set<String> {
        switch type {
        case "AWS::IAM::Role": return ["RoleName", "Path"]
        case "AWS::IAM::ManagedPolicy": return ["ManagedPolicyName", "Path", "Description"]
        default: return identityCreateOnly(type).union(keyAndProfileCreateOnly(type))
        }
    }

    public func create(_ request: ResourceRequest) async throws -> ResourceState {
        switch request.type {
        case "AWS::IAM::Role": return try createRole(request)
        case "AWS::IAM::ManagedPolicy": return try createManagedPolicy(request)
        case "AWS::IAM::Policy":
            let id = request.generatedName(limit: 128)
            return try putPolicy(request, id: id, previous: nil)
        case "AWS::IAM::User": return try createUser(request)
        case "AWS::IAM::Group": return try createGroup(request)
        case "AWS::IAM::UserToGroupAddition": return try addUsersToGroup(request, previous: nil)
        case "AWS::IAM::AccessKey": return try createAccessKey(request)
        case "AWS::IAM::InstanceProfile": return try createInstanceProfile(request)
        default: throw Self.unsupported(request.type)
        }
    }

    public func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        switch request.type {
        case "AWS::IAM::Role": return try updateRole(request, previous: previous)
        case "AWS::IAM::ManagedPolicy": return try updateManagedPolicy(request, previous: previous)
        case "AWS::IAM::Policy": return try putPolicy(request, id: previous.physicalId, previous: previous)
        case "AWS::IAM::User": return try updateUser(request, previous: previous)
        case "AWS::IAM::Group": return try updateGroup(request, previous: previous)
        case "AWS::IAM::UserToGroupAddition": return try addUsersToGroup(request, previous: previous)
        case "AWS::IAM::AccessKey": return try updateAccessKey(request, previous: previous)
        case "AWS::IAM::InstanceProfile": return try updateInstanceProfile(request, previous: previous)
        default: throw Self.unsupported(request.type)
        }
    }

    public func delete(_ request: ResourceRequest, state: ResourceState) async throws {
        do {
            switch request.type {
            case "AWS::IAM::Role": try deleteRole(request, name: state.physicalId)
            case "AWS::IAM::ManagedPolicy": try deleteManagedPolicy(request, arn: state.physicalId)
            case "AWS::IAM::Policy":
                let name = state.attributes["PolicyName"]?.string ?? request.properties["PolicyName"]?.string ?? ""
                for (kind, owners) in Self.recorded(state.attributes) { removeInline(request, kind, owners, name) }
            case "AWS::IAM::User":
                try deleteUser(request, name: state.physicalId, groups: state.attributes["Groups"]?.array?.compactMap(\.string) ?? [])
            case "AWS::IAM::Group": try deleteGroup(request, name: state.physicalId)
            case "AWS::IAM::UserToGroupAddition": removeUsersFromGroup(request, state: state)
            case "AWS::IAM::AccessKey": try deleteAccessKey(request, state: state)
            case "AWS::IAM::InstanceProfile": try deleteInstanceProfile(request, name: state.physicalId)
            default: throw Self.unsupported(request.type)
            }
        } catch let e as AWSError where e.code == "NoSuchEntity" {}
    }

    // MARK: Role

    func createRole(_ request: ResourceRequest) throws -> ResourceState {
        let p = request.properties
        let name = try Self.string(p["RoleName"], "RoleName") ?? request.generatedName(limit: 64)
        guard let trust = p["AssumeRolePolicyDocument"], !trust.isNull else {
            throw IAMError.constraint("assumeRolePolicyDocument", value: nil, "Member must not be null")
        }
        var params = ["RoleName": name, "AssumeRolePolicyDocument": try Self.document(trust)]
        if let path = try Self.string(p["Path"], "Path") { params["Path"] = path }
        if let d = try Self.string(p["Description"], "Description") { params["Description"] = d }
        if let m = try Self.number(p["MaxSessionDuration"]) { params["MaxSessionDuration"] = m }
        try Self.addTags(request, to: &params)
        let c = caller(request)
        _ = try service.createRole(IAMInput(params), c)
        do {
            for arn in try Self.strings(p["ManagedPolicyArns"], "ManagedPolicyArns") {
                _ = try service.attach(.role, IAMInput(["RoleName": name, "PolicyArn": arn]), c)
            }
            let policies = try Self.inlinePolicies(p["Policies"])
            for (policyName, document) in policies {
                _ = try service.putInlinePolicy(.role, IAMInput(["RoleName": name, "PolicyName": policyName, "PolicyDocument": document]), c)
            }
            return try roleState(request, name, policyNames: policies.map(\.name))
        } catch {
            try? deleteRole(request, name: name)
            throw error
        }
    }

    func updateRole(_ request: ResourceRequest, previous: ResourceState) throws -> ResourceState {
        let p = request.properties
        let name = previous.physicalId
        let c = caller(request)
        guard let trust = p["AssumeRolePolicyDocument"], !trust.isNull else {
            throw IAMError.constraint("assumeRolePolicyDocument", value: nil, "Member must not be null")
        }
        _ = try service.updateAssumeRolePolicy(IAMInput(["RoleName": name, "PolicyDocument": try Self.document(trust)]), c)
        let description = try Self.string(p["Description"], "Description")
        _ = try service.updateRole(IAMInput([
            "RoleName": name, "Description": description ?? "", "MaxSessionDuration": try Self.number(p["MaxSessionDuration"]) ?? "3600",
        ]), c)
        // A description the template no longer gives is removed, not left empty.
        if description == nil { _ = try service.modify(Role.self, c, name) { $0.description = nil } }
        // Managed policies: exactly the listed ones.
        let wanted = try Self.strings(p["ManagedPolicyArns"], "ManagedPolicyArns")
        let attached = try service.store.db.readNow { db in
            try String.fetchAll(db, sql: "SELECT policy_arn FROM attachment WHERE account = ? AND kind = 'role' AND owner = ?",
                                arguments: [c.account, name])
        }
        for arn in wanted where !attached.contains(arn) {
            _ = try service.attach(.role, IAMInput(["RoleName": name, "PolicyArn": arn]), c)
        }
        for arn in attached where !wanted.contains(arn) {
            _ = try service.detach(.role, IAMInput(["RoleName": name, "PolicyArn": arn]), c)
        }
        // Inline policies: the listed ones, and those an earlier version of the template listed are removed.
        let policies = try Self.inlinePolicies(p["Policies"])
        for (policyName, document) in policies {
            _ = try service.putInlinePolicy(.role, IAMInput(["RoleName": name, "PolicyName": policyName, "PolicyDocument": document]), c)
        }
        let before = previous.attributes["PolicyNames"]?.array?.compactMap(\.string) ?? []
        for old in before where !policies.contains(where: { $0.name == old }) {
            removeInline(request, .role, [name], old)
        }
        var params: [String: String] = [:]
        try Self.addTags(request, to: &params)
        let tags = try IAMInput(params).tags()
        _ = try service.modify(Role.self, c, name) { $0.tags = tags }
        return try roleState(request, name, policyNames: policies.map(\.name))
    }

    func deleteRole(_ request: ResourceRequest, name: String) throws {
        let c = caller(request)
        let (attached, inline) = try service.store.db.readNow { db in
            (try String.fetchAll(db, sql: "SELECT policy_arn FROM attachment WHERE account = ? AND kind = 'role' AND owner = ?",
                                 arguments: [c.account, name]),
             try String.fetchAll(db, sql: "SELECT name FROM inline_policy WHERE account = ? AND kind = 'role' AND owner = ?",
                                 arguments: [c.account, name]))
        }
        for arn in attached { _ = try service.detach(.role, IAMInput(["RoleName": name, "PolicyArn": arn]), c) }
        for policy in inline { _ = try service.deleteInlinePolicy(.role, IAMInput(["RoleName": name, "PolicyName": policy]), c) }
        _ = try service.deleteRole(IAMInput(["RoleName": name]), c)
    }

    func roleState(_ request: ResourceRequest, _ name: String, policyNames: [String]) throws -> ResourceState {
        let role = try service.store.db.readNow { db in try Role.require(db, account: request.account, name: name) }
        return ResourceState(physicalId: name, ref: name, attributes: [
            "Arn": .string(role.arn), "RoleId": .string(role.id), "PolicyNames": .array(policyNames.map { .string($0) }),
        ])
    }

    // MARK: ManagedPolicy

    func createManagedPolicy(_ request: ResourceRequest) throws -> ResourceState {
        let p = request.properties
        let name = try Self.string(p["ManagedPolicyName"], "ManagedPolicyName") ?? request.generatedName(limit: 128)
        guard let doc = p["PolicyDocument"], !doc.isNull else {
            throw IAMError.constraint("policyDocument", value: nil, "Member must not be null")
        }
        var params = ["PolicyName": name, "PolicyDocument": try Self.document(doc)]
        if let path = try Self.string(p["Path"], "Path") { params["Path"] = path }
        if let d = try Self.string(p["Description"], "Description") { params["Description"] = d }
        let c = caller(request)
        _ = try service.createPolicy(IAMInput(params), c)
        let policy = try managedPolicy(named: name, c)
        do {
            let owners = try Self.owners(p)
            for (kind, names) in owners {
                for owner in names { _ = try service.attach(kind, IAMInput([kind.member: owner, "PolicyArn": policy.arn]), c) }
            }
            return try policyState(request, policy.arn, owners: owners)
        } catch {
            try? deleteManagedPolicy(request, arn: policy.arn)
            throw error
        }
    }

    func updateManagedPolicy(_ request: ResourceRequest, previous: ResourceState) throws -> ResourceState {
        let p = request.properties
        let arn = previous.physicalId
        let c = caller(request)
        guard let doc = p["PolicyDocument"], !doc.isNull else {
            throw IAMError.constraint("policyDocument", value: nil, "Member must not be null")
        }
        let document = try Self.document(doc)
        let (policy, versions) = try service.store.db.readNow { db in
            let policy = try ManagedPolicy.requireOwn(db, arn: arn, account: c.account)
            return (policy, try PolicyVersion.all(db, policy))
        }
        if versions.first(where: \.isDefault)?.document != document {
            // A new default version; the oldest other version makes room when all five are used, as CloudFormation does.
            if versions.count >= 5, let oldest = versions.filter({ !$0.isDefault }).min(by: { $0.number < $1.number }) {
                _ = try service.deletePolicyVersion(IAMInput(["PolicyArn": arn, "VersionId": oldest.id]), c)
            }
            _ = try service.createPolicyVersion(IAMInput(["PolicyArn": arn, "PolicyDocument": document, "SetAsDefault": "true"]), c)
        }
        let owners = try Self.owners(p)
        let before = Self.recorded(previous.attributes)
        for (kind, names) in owners {
            for owner in names where !(before[kind] ?? []).contains(owner) {
                _ = try service.attach(kind, IAMInput([kind.member: owner, "PolicyArn": policy.arn]), c)
            }
        }
        for (kind, names) in before {
            for owner in names where !(owners[kind] ?? []).contains(owner) {
                do { _ = try service.detach(kind, IAMInput([kind.member: owner, "PolicyArn": policy.arn]), c) } catch let e as AWSError
                    where e.code == "NoSuchEntity" {}
            }
        }
        return try policyState(request, arn, owners: owners)
    }

    func deleteManagedPolicy(_ request: ResourceRequest, arn: String) throws {
        let c = caller(request)
        let (attachments, versions) = try service.store.db.readNow { db in
            let policy = try ManagedPolicy.requireOwn(db, arn: arn, account: c.account)
            let rows = try Row.fetchAll(db, sql: "SELECT kind, owner FROM attachment WHERE account = ? AND policy_arn = ?",
                                        arguments: [c.account, arn])
            return (rows.map { (OwnerKind(rawValue: $0[0]) ?? .role, $0[1] as String) }, try PolicyVersion.all(db, policy))
        }
        for (kind, owner) in attachments { _ = try service.detach(kind, IAMInput([kind.member: owner, "PolicyArn": arn]), c) }
        for v in versions where !v.isDefault { _ = try service.deletePolicyVersion(IAMInput(["PolicyArn": arn, "VersionId": v.id]), c) }
        _ = try service.deletePolicy(IAMInput(["PolicyArn": arn]), c)
    }

    func managedPolicy(named name: String, _ c: IAMService.Caller) throws -> ManagedPolicy {
        try service.store.db.readNow { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT \(ManagedPolicy.columns) FROM policy WHERE account = ? AND name = ?",
                                             arguments: [c.account, name]) else { throw IAMError.policyNotFound(name) }
            return ManagedPolicy(row: row)
        }
    }

    func policyState(_ request: ResourceRequest, _ arn: String, owners: [OwnerKind: [String]]) throws -> ResourceState {
        let policy = try service.store.db.readNow { db in
            try service.allPolicies(db, account: request.account).first { $0.arn == arn }
        }
        guard let policy else { throw IAMError.policyNotFound(arn) }
        var attributes: [String: JSON] = [
            "PolicyArn": .string(arn), "PolicyId": .string(policy.id), "DefaultVersionId": .string(policy.defaultVersion),
            "AttachmentCount": .number(Double(policy.attachmentCount)), "IsAttachable": .bool(true),
            "PermissionsBoundaryUsageCount": .number(0), "CreateDate": .string(IAMFormat.date(policy.created)),
            "UpdateDate": .string(IAMFormat.date(policy.updated)),
        ]
        Self.record(owners, into: &attributes)
        return ResourceState(physicalId: arn, ref: arn, attributes: attributes)
    }

    // MARK: Policy (inline)

    func putPolicy(_ request: ResourceRequest, id: String, previous: ResourceState?) throws -> ResourceState {
        let p = request.properties
        guard let name = try Self.string(p["PolicyName"], "PolicyName") else {
            throw IAMError.constraint("policyName", value: nil, "Member must not be null")
        }
        guard let doc = p["PolicyDocument"], !doc.isNull else {
            throw IAMError.constraint("policyDocument", value: nil, "Member must not be null")
        }
        let document = try Self.document(doc)
        let owners = try Self.owners(p)
        if owners.values.allSatisfy(\.isEmpty) {
            throw IAMError.invalidInput("At least one of [Groups, Roles, Users] must be non-empty.")
        }
        let c = caller(request)
        for (kind, names) in owners {
            for owner in names {
                _ = try service.putInlinePolicy(kind, IAMInput([kind.member: owner, "PolicyName": name, "PolicyDocument": document]), c)
            }
        }
        if let previous {
            let oldName = previous.attributes["PolicyName"]?.string ?? name
            for (kind, names) in Self.recorded(previous.attributes) {
                let stale = oldName == name ? names.filter { !(owners[kind] ?? []).contains($0) } : names
                removeInline(request, kind, stale, oldName)
            }
        }
        var attributes: [String: JSON] = ["Id": .string(id), "PolicyName": .string(name)]
        Self.record(owners, into: &attributes)
        return ResourceState(physicalId: id, ref: id, attributes: attributes)
    }

    /// Remove an inline policy from identities, those already gone (or without it) skipped.
    func removeInline(_ request: ResourceRequest, _ kind: OwnerKind, _ owners: [String], _ name: String) {
        for owner in owners {
            _ = try? service.deleteInlinePolicy(kind, IAMInput([kind.member: owner, "PolicyName": name]), caller(request))
        }
    }

    // MARK: Support

    static let ownerProperties: [(String, OwnerKind)] = [("Roles", .role), ("Users", .user), ("Groups", .group)]

    static func owners(_ p: [String: JSON]) throws -> [OwnerKind: [String]] {
        var out: [OwnerKind: [String]] = [:]
        for (property, kind) in ownerProperties { out[kind] = try strings(p[property], property) }
        return out
    }

    static func recorded(_ attributes: [String: JSON]) -> [OwnerKind: [String]] {
        var out: [OwnerKind: [String]] = [:]
        for (property, kind) in ownerProperties { out[kind] = attributes[property]?.array?.compactMap(\.string) ?? [] }
        return out
    }

    static func record(_ owners: [OwnerKind: [String]], into attributes: inout [String: JSON]) {
        for (property, kind) in ownerProperties { attributes[property] = .array((owners[kind] ?? []).map { .string($0) }) }
    }

    /// `Policies`: [{PolicyName, PolicyDocument}].
    static func inlinePolicies(_ v: JSON?) throws -> [(name: String, document: String)] {
        guard let v, !v.isNull else { return [] }
        guard let list = v.array else { throw IAMError.invalidInput("Policies must be a list.") }
        return try list.map { item in
            guard let name = item["PolicyName"]?.string, let doc = item["PolicyDocument"], !doc.isNull else {
                throw IAMError.invalidInput("Each of Policies needs a PolicyName and a PolicyDocument.")
            }
            return (name, try document(doc))
        }
    }

    /// A policy document: an object (as templates write it) serialized, or JSON text as given.
    static func document(_ v: JSON) throws -> String {
        if let s = v.string { return s }
        guard let o = v.object else { throw IAMError.malformedPolicy("Syntax errors in policy.") }
        let data = try JSONSerialization.data(withJSONObject: o.mapValues(\.any), options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    static func string(_ v: JSON?, _ name: String) throws -> String? {
        guard let v, !v.isNull else { return nil }
        guard let s = v.string else { throw IAMError.invalidInput("\(name) must be a string.") }
        return s
    }

    static func number(_ v: JSON?) throws -> String? {
        guard let v, !v.isNull else { return nil }
        if let n = v.int { return String(n) }
        if let s = v.string { return s }
        throw IAMError.invalidInput("Expected a number.")
    }

    static func strings(_ v: JSON?, _ name: String) throws -> [String] {
        guard let v, !v.isNull else { return [] }
        guard let list = v.array?.compactMap(\.string), list.count == v.array?.count else {
            throw IAMError.invalidInput("\(name) must be a list of strings.")
        }
        return list
    }

    /// The resource's `Tags` and the stack's, as `Tags.member.N` parameters; `aws:` keys are the caller's to skip
    /// (IAM refuses them).
    static func addTags(_ request: ResourceRequest, to params: inout [String: String]) throws {
        var tags = request.tags.filter { !$0.key.lowercased().hasPrefix("aws:") }
        for tag in request.properties["Tags"]?.array ?? [] {
            guard let key = tag["Key"]?.string, let value = tag["Value"]?.string else {
                throw IAMError.invalidInput("Each tag needs a Key and a Value.")
            }
            tags[key] = value
        }
        for (i, (k, v)) in tags.sorted(by: { $0.key < $1.key }).enumerated() {
            params["Tags.member.\(i + 1).Key"] = k
            params["Tags.member.\(i + 1).Value"] = v
        }
    }

    func caller(_ request: ResourceRequest) -> IAMService.Caller {
        IAMService.Caller(account: request.account, accessKeyID: nil, now: service.clock.now())
    }

    static func unsupported(_ type: String) -> AWSError {
        AWSError("InvalidRequest", "Resource type \(type) is not served by IAM.")
    }
}

extension IAMService {
    /// The CloudFormation provider of roles and policies.
    public var resourceProvider: IAMResources { IAMResources(service: self) }
}
