import Core
import Foundation
import GRDB

/// `AWS::IAM::AccessKey` and `AWS::IAM::InstanceProfile` for CloudFormation, over CreateAccessKey, UpdateAccessKey,
/// CreateInstanceProfile, AddRoleToInstanceProfile... called in-process. A key made by a stack signs requests like
/// any other IAM key (the gateway's `CredentialProvider` reads the same table).
extension IAMResources {
    static let keyAndProfileTypes = ["AWS::IAM::AccessKey", "AWS::IAM::InstanceProfile"]

    func keyAndProfileCreateOnly(_ type: String) -> Set<String> {
        switch type {
        case "AWS::IAM::AccessKey": return ["UserName", "Serial"]
        case "AWS::IAM::InstanceProfile": return ["InstanceProfileName", "Path"]
        default: return []
        }
    }

    // MARK: AccessKey

    func createAccessKey(_ request: ResourceRequest) throws -> ResourceState {
        let p = request.properties
        guard let user = try Self.string(p["UserName"], "UserName") else {
            throw IAMError.constraint("userName", value: nil, "Member must not be null")
        }
        let status = try Self.keyStatus(p)
        let c = caller(request)
        let before = try keyIDs(of: user, c)
        _ = try service.createAccessKey(IAMInput(["UserName": user]), c)
        let key = try service.store.db.readNow { db in
            try Row.fetchAll(db, sql: "SELECT \(AccessKey.columns) FROM access_key WHERE account = ? AND user = ?",
                             arguments: [c.account, user]).map(AccessKey.init(row:)).first { !before.contains($0.id) }
        }
        guard let key else { throw AWSError.internalError() }
        if status != key.status {
            _ = try service.updateAccessKey(IAMInput(["AccessKeyId": key.id, "UserName": user, "Status": status]), c)
        }
        return ResourceState(physicalId: key.id, ref: key.id, attributes: [
            "SecretAccessKey": .string(key.secret), "UserName": .string(user),
        ])
    }

    func updateAccessKey(_ request: ResourceRequest, previous: ResourceState) throws -> ResourceState {
        let user = previous.attributes["UserName"]?.string ?? request.properties["UserName"]?.string ?? ""
        _ = try service.updateAccessKey(IAMInput(["AccessKeyId": previous.physicalId, "UserName": user, "Status": try Self.keyStatus(request.properties)]),
                                        caller(request))
        return previous
    }

    func deleteAccessKey(_ request: ResourceRequest, state: ResourceState) throws {
        let user = state.attributes["UserName"]?.string ?? request.properties["UserName"]?.string ?? ""
        _ = try service.deleteAccessKey(IAMInput(["AccessKeyId": state.physicalId, "UserName": user]), caller(request))
    }

    func keyIDs(of user: String, _ c: IAMService.Caller) throws -> Set<String> {
        try service.store.db.readNow { db in
            Set(try String.fetchAll(db, sql: "SELECT id FROM access_key WHERE account = ? AND user = ?", arguments: [c.account, user]))
        }
    }

    /// `Status`: Active (the default) or Inactive, as UpdateAccessKey checks it.
    static func keyStatus(_ p: [String: JSON]) throws -> String {
        let status = try string(p["Status"], "Status") ?? "Active"
        guard ["Active", "Inactive"].contains(status) else {
            throw IAMError.validation("1 validation error detected: Value '\(status)' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]")
        }
        return status
    }

    // MARK: InstanceProfile

    func createInstanceProfile(_ request: ResourceRequest) throws -> ResourceState {
        let p = request.properties
        let name = try Self.string(p["InstanceProfileName"], "InstanceProfileName") ?? request.generatedName(limit: 128)
        let roles = try Self.profileRoles(p)
        var params = ["InstanceProfileName": name]
        if let path = try Self.string(p["Path"], "Path") { params["Path"] = path }
        let c = caller(request)
        _ = try service.createInstanceProfile(IAMInput(params), c)
        do {
            for r in roles { _ = try service.addRoleToInstanceProfile(IAMInput(["InstanceProfileName": name, "RoleName": r]), c) }
        } catch {
            try? deleteInstanceProfile(request, name: name)
            throw error
        }
        return try profileState(request, name)
    }

    func updateInstanceProfile(_ request: ResourceRequest, previous: ResourceState) throws -> ResourceState {
        let name = previous.physicalId
        let wanted = try Self.profileRoles(request.properties)
        let c = caller(request)
        let current = try service.store.db.readNow { db in try InstanceProfile.require(db, account: c.account, name: name) }.roles.map(\.name)
        for r in current where !wanted.contains(r) {
            _ = try service.removeRoleFromInstanceProfile(IAMInput(["InstanceProfileName": name, "RoleName": r]), c)
        }
        for r in wanted where !current.contains(r) {
            _ = try service.addRoleToInstanceProfile(IAMInput(["InstanceProfileName": name, "RoleName": r]), c)
        }
        return try profileState(request, name)
    }

    func deleteInstanceProfile(_ request: ResourceRequest, name: String) throws {
        let c = caller(request)
        let profile = try service.store.db.readNow { db in try InstanceProfile.require(db, account: c.account, name: name) }
        for r in profile.roles {
            _ = try? service.removeRoleFromInstanceProfile(IAMInput(["InstanceProfileName": name, "RoleName": r.name]), c)
        }
        _ = try service.deleteInstanceProfile(IAMInput(["InstanceProfileName": name]), c)
    }

    func profileState(_ request: ResourceRequest, _ name: String) throws -> ResourceState {
        let profile = try service.store.db.readNow { db in try InstanceProfile.require(db, account: request.account, name: name) }
        return ResourceState(physicalId: name, ref: name, attributes: ["Arn": .string(profile.arn)])
    }

    /// `Roles`: required, at most one (an instance profile holds one role).
    static func profileRoles(_ p: [String: JSON]) throws -> [String] {
        let roles = try strings(p["Roles"], "Roles")
        if roles.isEmpty { throw IAMError.constraint("roles", value: nil, "Member must not be null") }
        if roles.count > 1 { throw IAMError.limitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1") }
        return roles
    }
}
