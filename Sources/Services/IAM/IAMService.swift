import Core
import Foundation

/// AWS IAM over the Query protocol (`Version=2010-05-08`). Global: state is per account, whatever the region.
/// Roles, users, groups, policies and instance profiles are stored and listed, not enforced; access keys it issues
/// sign requests (`credentials`).
public struct IAMService: AWSService {
    public let signingName = "iam"
    public let wireProtocol = WireProtocol.query
    public static let apiVersion = "2010-05-08"
    static let xmlns = "https://iam.amazonaws.com/doc/2010-05-08/"
    /// Errors carry the namespace too (`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">`).
    public var queryNamespace: String? { Self.xmlns }
    let store: IAMStore
    let keys: AccessKeyRegistry
    let clock: EmulatorClock

    public init(directory: String, clock: EmulatorClock) throws {
        store = try IAMStore(directory: directory)
        keys = try AccessKeyRegistry(store: store)
        self.clock = clock
    }

    /// The access keys IAM issued, for `--strict-auth` and for the account and identity of requests signed with them.
    public var credentials: any CredentialProvider { keys }

    public func reset() async throws {
        try store.reset()
        keys.reload([:])
    }

    public func operationName(for request: AWSRequest) -> String {
        request.queryValue("Action") ?? "-"
    }

    /// Who calls: the account, and the IAM user when the request is signed with a key IAM issued.
    struct Caller {
        var account: String
        var accessKeyID: String?
        var now: Double
    }

    /// What an operation writes inside `<ActionResult>`; nil for operations without output.
    typealias Answer = ((inout XMLWriter) -> Void)?

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        let parameters = try await QueryProtocol.parameters(request)
        guard let action = parameters["Action"] else {
            throw AWSError("MissingAction", "Missing Action")
        }
        let caller = Caller(account: request.caller.accountID, accessKeyID: request.caller.accessKeyID, now: clock.now())
        let answer = try perform(action, IAMInput(parameters), caller, version: parameters["Version"])
        return QueryProtocol.response(action: action, xmlns: Self.xmlns, requestID: request.requestID, result: answer)
    }

    func perform(_ action: String, _ input: IAMInput, _ caller: Caller, version: String?) throws -> Answer {
        switch action {
        // Roles
        case "CreateRole": return try createRole(input, caller)
        case "GetRole": return try getRole(input, caller)
        case "ListRoles": return try listRoles(input, caller)
        case "UpdateRole": return try updateRole(input, caller)
        case "UpdateRoleDescription": return try updateRoleDescription(input, caller)
        case "UpdateAssumeRolePolicy": return try updateAssumeRolePolicy(input, caller)
        case "DeleteRole": return try deleteRole(input, caller)
        case "TagRole": return try tag(Role.self, input, caller)
        case "UntagRole": return try untag(Role.self, input, caller)
        case "ListRoleTags": return try listTags(Role.self, input, caller)
        // Inline policies
        case "PutRolePolicy": return try putInlinePolicy(.role, input, caller)
        case "GetRolePolicy": return try getInlinePolicy(.role, input, caller)
        case "ListRolePolicies": return try listInlinePolicies(.role, input, caller)
        case "DeleteRolePolicy": return try deleteInlinePolicy(.role, input, caller)
        case "PutUserPolicy": return try putInlinePolicy(.user, input, caller)
        case "GetUserPolicy": return try getInlinePolicy(.user, input, caller)
        case "ListUserPolicies": return try listInlinePolicies(.user, input, caller)
        case "DeleteUserPolicy": return try deleteInlinePolicy(.user, input, caller)
        case "PutGroupPolicy": return try putInlinePolicy(.group, input, caller)
        case "GetGroupPolicy": return try getInlinePolicy(.group, input, caller)
        case "ListGroupPolicies": return try listInlinePolicies(.group, input, caller)
        case "DeleteGroupPolicy": return try deleteInlinePolicy(.group, input, caller)
        // Managed policies
        case "CreatePolicy": return try createPolicy(input, caller)
        case "GetPolicy": return try getPolicy(input, caller)
        case "ListPolicies": return try listPolicies(input, caller)
        case "DeletePolicy": return try deletePolicy(input, caller)
        case "CreatePolicyVersion": return try createPolicyVersion(input, caller)
        case "GetPolicyVersion": return try getPolicyVersion(input, caller)
        case "ListPolicyVersions": return try listPolicyVersions(input, caller)
        case "DeletePolicyVersion": return try deletePolicyVersion(input, caller)
        case "SetDefaultPolicyVersion": return try setDefaultPolicyVersion(input, caller)
        case "TagPolicy": return try tagPolicy(input, caller)
        case "UntagPolicy": return try untagPolicy(input, caller)
        case "ListPolicyTags": return try listPolicyTags(input, caller)
        // Attachments
        case "AttachRolePolicy": return try attach(.role, input, caller)
        case "DetachRolePolicy": return try detach(.role, input, caller)
        case "ListAttachedRolePolicies": return try listAttached(.role, input, caller)
        case "AttachUserPolicy": return try attach(.user, input, caller)
        case "DetachUserPolicy": return try detach(.user, input, caller)
        case "ListAttachedUserPolicies": return try listAttached(.user, input, caller)
        case "AttachGroupPolicy": return try attach(.group, input, caller)
        case "DetachGroupPolicy": return try detach(.group, input, caller)
        case "ListAttachedGroupPolicies": return try listAttached(.group, input, caller)
        case "ListEntitiesForPolicy": return try listEntitiesForPolicy(input, caller)
        // Users and groups
        case "CreateUser": return try createUser(input, caller)
        case "GetUser": return try getUser(input, caller)
        case "ListUsers": return try listUsers(input, caller)
        case "UpdateUser": return try updateUser(input, caller)
        case "DeleteUser": return try deleteUser(input, caller)
        case "TagUser": return try tag(User.self, input, caller)
        case "UntagUser": return try untag(User.self, input, caller)
        case "ListUserTags": return try listTags(User.self, input, caller)
        case "CreateGroup": return try createGroup(input, caller)
        case "GetGroup": return try getGroup(input, caller)
        case "ListGroups": return try listGroups(input, caller)
        case "UpdateGroup": return try updateGroup(input, caller)
        case "DeleteGroup": return try deleteGroup(input, caller)
        case "AddUserToGroup": return try addUserToGroup(input, caller)
        case "RemoveUserFromGroup": return try removeUserFromGroup(input, caller)
        case "ListGroupsForUser": return try listGroupsForUser(input, caller)
        // Access keys
        case "CreateAccessKey": return try createAccessKey(input, caller)
        case "ListAccessKeys": return try listAccessKeys(input, caller)
        case "UpdateAccessKey": return try updateAccessKey(input, caller)
        case "DeleteAccessKey": return try deleteAccessKey(input, caller)
        case "GetAccessKeyLastUsed": return try getAccessKeyLastUsed(input, caller)
        // Instance profiles
        case "CreateInstanceProfile": return try createInstanceProfile(input, caller)
        case "GetInstanceProfile": return try getInstanceProfile(input, caller)
        case "ListInstanceProfiles": return try listInstanceProfiles(input, caller)
        case "ListInstanceProfilesForRole": return try listInstanceProfilesForRole(input, caller)
        case "AddRoleToInstanceProfile": return try addRoleToInstanceProfile(input, caller)
        case "RemoveRoleFromInstanceProfile": return try removeRoleFromInstanceProfile(input, caller)
        case "DeleteInstanceProfile": return try deleteInstanceProfile(input, caller)
        case "TagInstanceProfile": return try tag(InstanceProfile.self, input, caller)
        case "UntagInstanceProfile": return try untag(InstanceProfile.self, input, caller)
        case "ListInstanceProfileTags": return try listTags(InstanceProfile.self, input, caller)
        default:
            throw AWSError("InvalidAction", "Could not find operation \(action) for version \(version ?? "NO_VERSION_SPECIFIED")")
        }
    }
}
