import Core
import Foundation
import GRDB
import Testing

@testable import IAM

// AWS::IAM::User, Group, UserToGroupAddition, AccessKey and InstanceProfile through the provider, and the drift
// readings of roles, users and groups; read back through IAM's own operations.

@Suite final class IAMCloudFormationIdentityTests: IAMCloudFormationHarness {
    let folder = NSTemporaryDirectory() + "iam-cfn-id-tests-" + UUID().uuidString
    let caller = IAMService.Caller(account: "123456789012", accessKeyID: nil, now: 1_780_000_000)

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    func reading(_ p: IAMResources, _ r: ResourceRequest, _ s: ResourceState) async throws -> [String: JSON] {
        guard case .properties(let props) = try await p.currentProperties(r, state: s) else { throw AWSError("Test", "no properties") }
        return props
    }

    @Test func createOnlyProperties() throws {
        let p = try service().resourceProvider
        #expect(p.createOnlyProperties(of: "AWS::IAM::User") == ["UserName"])
        #expect(p.createOnlyProperties(of: "AWS::IAM::Group") == ["GroupName"])
        #expect(p.createOnlyProperties(of: "AWS::IAM::UserToGroupAddition").isEmpty)
        #expect(p.createOnlyProperties(of: "AWS::IAM::AccessKey") == ["UserName", "Serial"])
        #expect(p.createOnlyProperties(of: "AWS::IAM::InstanceProfile") == ["InstanceProfileName", "Path"])
        for t in ["AWS::IAM::User", "AWS::IAM::Group", "AWS::IAM::UserToGroupAddition", "AWS::IAM::AccessKey", "AWS::IAM::InstanceProfile"] {
            #expect(p.resourceTypes.contains(t))
        }
    }

    @Test func groupAndUserCreateUpdateReadDelete() async throws {
        let iam = try service()
        let p = iam.resourceProvider
        let groupReq = request("AWS::IAM::Group", "Devs", [
            "Path": .string("/teams/"), "ManagedPolicyArns": .array([.string("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")]),
            "Policies": .array([.object(["PolicyName": .string("logs"), "PolicyDocument": allow("logs:*")])]),
        ])
        let group = try await p.create(groupReq)
        #expect(group.physicalId.hasPrefix("app-Devs-"))
        #expect(group.attributes["Arn"] == .string("arn:aws:iam::123456789012:group/teams/\(group.physicalId)"))
        #expect(try call(iam, "ListGroupPolicies", ["GroupName": group.physicalId]).contains("<member>logs</member>"))

        var userProps: [String: JSON] = [
            "UserName": .string("alice"), "Path": .string("/people/"), "Groups": .array([.string(group.physicalId)]),
            "ManagedPolicyArns": .array([.string("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")]),
            "Policies": .array([.object(["PolicyName": .string("sqs"), "PolicyDocument": allow("sqs:*")])]),
            "Tags": .array([.object(["Key": .string("team"), "Value": .string("a")])]),
        ]
        let user = try await p.create(request("AWS::IAM::User", "Alice", userProps))
        #expect(user.ref == "alice")
        #expect(user.attributes["Arn"] == .string("arn:aws:iam::123456789012:user/people/alice"))
        #expect(try call(iam, "ListGroupsForUser", ["UserName": "alice"]).contains("<GroupName>\(group.physicalId)</GroupName>"))
        let userXML = try call(iam, "GetUser", ["UserName": "alice"])
        #expect(userXML.contains("<Key>team</Key>") && userXML.contains("<Key>env</Key>") && !userXML.contains("aws:cloudformation"))

        // Drift reading: untouched, the user reads back as the template wrote it.
        var read = try await reading(p, request("AWS::IAM::User", "Alice", userProps), user)
        for key in ["UserName", "Path", "Groups", "ManagedPolicyArns", "Policies", "Tags"] { #expect(read[key] == userProps[key], "\(key)") }
        // A change outside the stack shows.
        _ = try call(iam, "DeleteUserPolicy", ["UserName": "alice", "PolicyName": "sqs"])
        read = try await reading(p, request("AWS::IAM::User", "Alice", userProps), user)
        #expect(read["Policies"] == nil)

        // A managed policy attached by another resource (an AWS::IAM::ManagedPolicy naming the user) survives updates.
        let other = try await p.create(request("AWS::IAM::ManagedPolicy", "Other", ["PolicyDocument": allow("s3:Get*"), "Users": .array([.string("alice")])]))
        // Update in place: a new path, no groups, other policies.
        userProps["Path"] = .string("/moved/")
        userProps["Groups"] = nil
        userProps["ManagedPolicyArns"] = nil
        userProps["Policies"] = .array([.object(["PolicyName": .string("s3"), "PolicyDocument": allow("s3:*")])])
        let updated = try await p.update(request("AWS::IAM::User", "Alice", userProps), previous: user)
        #expect(updated.attributes["Arn"] == .string("arn:aws:iam::123456789012:user/moved/alice"))
        #expect(!(try call(iam, "ListGroupsForUser", ["UserName": "alice"]).contains(group.physicalId)))
        #expect(!(try call(iam, "ListAttachedUserPolicies", ["UserName": "alice"]).contains("AWSLambdaBasicExecutionRole")))
        #expect(try call(iam, "ListUserPolicies", ["UserName": "alice"]).contains("<member>s3</member>"))
        #expect(try call(iam, "ListAttachedUserPolicies", ["UserName": "alice"]).contains(other.physicalId))
        try await p.delete(request("AWS::IAM::ManagedPolicy", "Other", [:]), state: other)

        let groupRead = try await reading(p, groupReq, group)
        for key in ["Path", "ManagedPolicyArns", "Policies"] { #expect(groupRead[key] == groupReq.properties[key], "\(key)") }

        // Delete is idempotent and leaves nothing.
        try await p.delete(request("AWS::IAM::User", "Alice", userProps), state: updated)
        try await p.delete(request("AWS::IAM::User", "Alice", userProps), state: updated)
        #expect(throws: AWSError.self) { try self.call(iam, "GetUser", ["UserName": "alice"]) }
        #expect(try await p.currentProperties(request("AWS::IAM::User", "Alice", userProps), state: updated) == .deleted)
        try await p.delete(groupReq, state: group)
        try await p.delete(groupReq, state: group)
        #expect(throws: AWSError.self) { try self.call(iam, "GetGroup", ["GroupName": group.physicalId]) }
    }

    @Test func loginProfileIsRefusedByName() async throws {
        let iam = try service()
        let p = iam.resourceProvider
        await #expect { try await p.create(self.request("AWS::IAM::User", "U", ["UserName": .string("u"), "LoginProfile": .object(["Password": .string("x")])])) }
            throws: { ($0 as? AWSError)?.message.contains("LoginProfile") == true }
        #expect(throws: AWSError.self) { try self.call(iam, "GetUser", ["UserName": "u"]) }
    }

    @Test func userToGroupAdditionAddsAndRemovesOnlyItsUsers() async throws {
        let iam = try service()
        let p = iam.resourceProvider
        _ = try call(iam, "CreateGroup", ["GroupName": "ops"])
        for u in ["u1", "u2", "u3"] { _ = try call(iam, "CreateUser", ["UserName": u]) }
        _ = try call(iam, "AddUserToGroup", ["GroupName": "ops", "UserName": "u3"])
        let req = request("AWS::IAM::UserToGroupAddition", "Add", ["GroupName": .string("ops"), "Users": .array([.string("u1"), .string("u2")])])
        let state = try await p.create(req)
        #expect(state.ref.hasPrefix("app-Add-"))
        var members = try call(iam, "GetGroup", ["GroupName": "ops"])
        #expect(members.contains("<UserName>u1</UserName>") && members.contains("<UserName>u2</UserName>"))
        let updated = try await p.update(request("AWS::IAM::UserToGroupAddition", "Add", ["GroupName": .string("ops"), "Users": .array([.string("u2")])]),
                                         previous: state)
        #expect(updated.physicalId == state.physicalId)
        #expect(try await reading(p, req, updated) == ["GroupName": .string("ops"), "Users": .array([.string("u2")])])
        members = try call(iam, "GetGroup", ["GroupName": "ops"])
        #expect(!members.contains("<UserName>u1</UserName>") && members.contains("<UserName>u2</UserName>"))
        // Another group, in place: u2 moves.
        _ = try call(iam, "CreateGroup", ["GroupName": "devs"])
        let moved = try await p.update(request("AWS::IAM::UserToGroupAddition", "Add", ["GroupName": .string("devs"), "Users": .array([.string("u2")])]),
                                       previous: updated)
        #expect(moved.physicalId == state.physicalId)
        #expect(!(try call(iam, "GetGroup", ["GroupName": "ops"]).contains("<UserName>u2</UserName>")))
        #expect(try call(iam, "GetGroup", ["GroupName": "devs"]).contains("<UserName>u2</UserName>"))
        try await p.delete(req, state: moved)
        try await p.delete(req, state: moved)
        #expect(!(try call(iam, "GetGroup", ["GroupName": "devs"]).contains("<UserName>u2</UserName>")))
        members = try call(iam, "GetGroup", ["GroupName": "ops"])
        #expect(members.contains("<UserName>u3</UserName>"))
        // A missing user fails the resource with IAM's error.
        await #expect { try await p.create(self.request("AWS::IAM::UserToGroupAddition", "Bad", ["GroupName": .string("ops"), "Users": .array([.string("nobody")])])) }
            throws: { ($0 as? AWSError)?.code == "NoSuchEntity" }
    }

    @Test func accessKeySignsAndChangesStatusInPlace() async throws {
        let iam = try service()
        let p = iam.resourceProvider
        _ = try call(iam, "CreateUser", ["UserName": "bot"])
        let req = request("AWS::IAM::AccessKey", "Key", ["UserName": .string("bot")])
        let key = try await p.create(req)
        #expect(key.ref.hasPrefix("AKIA") && key.ref == key.physicalId)
        let secret = try #require(key.attributes["SecretAccessKey"]?.string)
        // The key is one the gateway accepts: the credential provider knows its secret and account.
        #expect(iam.keys.secretKey(for: key.ref)?.secret == secret)
        #expect(iam.keys.secretKey(for: key.ref)?.account == "123456789012")
        #expect(try await reading(p, req, key) == ["UserName": .string("bot"), "Status": .string("Active")])
        _ = try await p.update(request("AWS::IAM::AccessKey", "Key", ["UserName": .string("bot"), "Status": .string("Inactive")]), previous: key)
        #expect(try await reading(p, req, key)["Status"] == .string("Inactive"))
        #expect(try call(iam, "ListAccessKeys", ["UserName": "bot"]).contains("<Status>Inactive</Status>"))
        await #expect { try await p.update(self.request("AWS::IAM::AccessKey", "Key", ["UserName": .string("bot"), "Status": .string("Off")]), previous: key) }
            throws: { ($0 as? AWSError)?.code == "ValidationError" }
        try await p.delete(req, state: key)
        try await p.delete(req, state: key)
        #expect(try await p.currentProperties(req, state: key) == .deleted)
        #expect(!(try call(iam, "ListAccessKeys", ["UserName": "bot"]).contains(key.ref)))
        #expect(iam.keys.secretKey(for: key.ref) == nil)
    }

    @Test func instanceProfileSwapsItsRole() async throws {
        let iam = try service()
        let p = iam.resourceProvider
        let trust = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#
        for r in ["r1", "r2"] { _ = try call(iam, "CreateRole", ["RoleName": r, "AssumeRolePolicyDocument": trust]) }
        let req = request("AWS::IAM::InstanceProfile", "Profile", ["Path": .string("/ec2/"), "Roles": .array([.string("r1")])])
        let profile = try await p.create(req)
        #expect(profile.attributes["Arn"] == .string("arn:aws:iam::123456789012:instance-profile/ec2/\(profile.physicalId)"))
        let req2 = request("AWS::IAM::InstanceProfile", "Profile", ["Path": .string("/ec2/"), "Roles": .array([.string("r2")])])
        _ = try await p.update(req2, previous: profile)
        let xml = try call(iam, "GetInstanceProfile", ["InstanceProfileName": profile.physicalId])
        #expect(xml.contains("<RoleName>r2</RoleName>") && !xml.contains("<RoleName>r1</RoleName>"))
        let read = try await reading(p, req2, profile)
        #expect(read["Roles"] == .array([.string("r2")]) && read["Path"] == .string("/ec2/"))
        await #expect { try await p.create(self.request("AWS::IAM::InstanceProfile", "Two", ["Roles": .array([.string("r1"), .string("r2")])])) }
            throws: { ($0 as? AWSError)?.code == "LimitExceeded" }
        try await p.delete(req2, state: profile)
        try await p.delete(req2, state: profile)
        #expect(throws: AWSError.self) { try self.call(iam, "GetInstanceProfile", ["InstanceProfileName": profile.physicalId]) }
        // The role is free again.
        _ = try call(iam, "DeleteRole", ["RoleName": "r2"])
    }

    @Test func roleDriftReading() async throws {
        let iam = try service()
        let p = iam.resourceProvider
        let trust: JSON = .object(["Version": .string("2012-10-17"), "Statement": .array([.object([
            "Effect": .string("Allow"), "Principal": .object(["Service": .string("lambda.amazonaws.com")]), "Action": .string("sts:AssumeRole"),
        ])])])
        let props: [String: JSON] = [
            "RoleName": .string("drifty"), "Path": .string("/svc/"), "AssumeRolePolicyDocument": trust, "Description": .string("d"),
            "MaxSessionDuration": .number(7200),
            "ManagedPolicyArns": .array([.string("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")]),
            "Policies": .array([.object(["PolicyName": .string("sqs"), "PolicyDocument": allow("sqs:*")])]),
            "Tags": .array([.object(["Key": .string("b"), "Value": .string("2")]), .object(["Key": .string("a"), "Value": .string("1")])]),
        ]
        let req = request("AWS::IAM::Role", "Role", props)
        let role = try await p.create(req)
        var read = try await reading(p, req, role)
        for (key, value) in props { #expect(read[key] == value, "\(key)") }
        _ = try call(iam, "UpdateRole", ["RoleName": "drifty", "MaxSessionDuration": "3600", "Description": "changed"])
        read = try await reading(p, req, role)
        #expect(read["MaxSessionDuration"] == .number(3600) && read["Description"] == .string("changed"))
        try await p.delete(req, state: role)
        #expect(try await p.currentProperties(req, state: role) == .deleted)
    }
}
