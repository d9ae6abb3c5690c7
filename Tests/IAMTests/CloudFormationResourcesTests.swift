import Core
import Foundation
import Testing

@testable import IAM

// AWS::IAM::Role, AWS::IAM::ManagedPolicy and AWS::IAM::Policy through the provider, read back through IAM's own
// operations (their Query answers).

@Suite final class IAMCloudFormationTests: IAMCloudFormationHarness {
    let folder = NSTemporaryDirectory() + "iam-cfn-tests-" + UUID().uuidString
    let caller = IAMService.Caller(account: "123456789012", accessKeyID: nil, now: 1_780_000_000)
    let trust: JSON = .object(["Version": .string("2012-10-17"), "Statement": .array([.object([
        "Effect": .string("Allow"), "Principal": .object(["Service": .string("lambda.amazonaws.com")]), "Action": .string("sts:AssumeRole"),
    ])])])

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    @Test func roleCreateUpdateDelete() async throws {
        let iam = try service()
        let p = iam.resourceProvider
        #expect(p.createOnlyProperties(of: "AWS::IAM::Role") == ["RoleName", "Path"])
        var props: [String: JSON] = [
            "RoleName": .string("fn-role"), "Path": .string("/svc/"), "AssumeRolePolicyDocument": trust,
            "Description": .string("for the function"), "MaxSessionDuration": .number(7200),
            "ManagedPolicyArns": .array([.string("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")]),
            "Policies": .array([.object(["PolicyName": .string("sqs"), "PolicyDocument": allow("sqs:*")])]),
            "Tags": .array([.object(["Key": .string("team"), "Value": .string("a")])]),
        ]
        let role = try await p.create(request("AWS::IAM::Role", "Role", props))
        #expect(role.ref == "fn-role")
        #expect(role.attributes["Arn"] == .string("arn:aws:iam::123456789012:role/svc/fn-role"))
        #expect(role.attributes["RoleId"]?.string?.hasPrefix("AROA") == true)
        let got = try call(iam, "GetRole", ["RoleName": "fn-role"])
        #expect(got.contains("<Description>for the function</Description>"))
        #expect(got.contains("<MaxSessionDuration>7200</MaxSessionDuration>"))
        #expect(got.contains("<Key>team</Key><Value>a</Value>") && got.contains("<Key>env</Key><Value>dev</Value>"))
        #expect(!got.contains("aws:cloudformation"))
        #expect(try call(iam, "ListAttachedRolePolicies", ["RoleName": "fn-role"]).contains("AWSLambdaBasicExecutionRole"))
        #expect(try call(iam, "GetRolePolicy", ["RoleName": "fn-role", "PolicyName": "sqs"]).contains("sqs%3A%2A"))

        // An inline policy put by another resource survives the role's updates.
        _ = try call(iam, "PutRolePolicy", ["RoleName": "fn-role", "PolicyName": "other",
                                            "PolicyDocument": #"{"Version":"2012-10-17","Statement":[]}"#])
        props["Description"] = nil
        props["MaxSessionDuration"] = nil
        props["ManagedPolicyArns"] = nil
        props["Policies"] = .array([.object(["PolicyName": .string("logs"), "PolicyDocument": allow("logs:*")])])
        let updated = try await p.update(request("AWS::IAM::Role", "Role", props), previous: role)
        #expect(updated.attributes["RoleId"] == role.attributes["RoleId"])
        let after = try call(iam, "GetRole", ["RoleName": "fn-role"])
        #expect(after.contains("<MaxSessionDuration>3600</MaxSessionDuration>"))
        #expect(!after.contains("<Description>"))
        #expect(!(try call(iam, "ListAttachedRolePolicies", ["RoleName": "fn-role"]).contains("AWSLambdaBasicExecutionRole")))
        let inline = try call(iam, "ListRolePolicies", ["RoleName": "fn-role"])
        #expect(inline.contains("<member>logs</member>") && inline.contains("<member>other</member>") && !inline.contains("<member>sqs</member>"))

        // Deleting removes its policies first, as DeleteRole requires.
        try await p.delete(request("AWS::IAM::Role", "Role", props), state: updated)
        #expect(throws: AWSError.self) { try call(iam, "GetRole", ["RoleName": "fn-role"]) }
        try await p.delete(request("AWS::IAM::Role", "Role", props), state: updated)  // already gone
    }

    @Test func generatedRoleNamesAndErrors() async throws {
        let iam = try service()
        let p = iam.resourceProvider
        let long = ResourceRequest(account: "123456789012", region: "us-east-1", stackName: String(repeating: "s", count: 80), stackId: "x",
                                   logicalId: "Role", type: "AWS::IAM::Role", properties: ["AssumeRolePolicyDocument": trust], tags: [:])
        let role = try await p.create(long)
        #expect(role.ref.count == 64)
        // A policy that does not exist: IAM's error, and no half-made role is left.
        let bad = await #expect(throws: AWSError.self) {
            try await p.create(self.request("AWS::IAM::Role", "Bad", ["RoleName": .string("bad"), "AssumeRolePolicyDocument": self.trust,
                                                                     "ManagedPolicyArns": .array([.string("arn:aws:iam::aws:policy/Nope")])]))
        }
        #expect(bad?.code == "NoSuchEntity")
        #expect(throws: AWSError.self) { try self.call(iam, "GetRole", ["RoleName": "bad"]) }
        await #expect(throws: AWSError.self) { try await p.create(self.request("AWS::IAM::Role", "NoTrust", [:])) }
    }

    @Test func managedPolicyVersionsAndAttachments() async throws {
        let iam = try service()
        let p = iam.resourceProvider
        _ = try await p.create(request("AWS::IAM::Role", "R1", ["RoleName": .string("r1"), "AssumeRolePolicyDocument": trust]))
        _ = try await p.create(request("AWS::IAM::Role", "R2", ["RoleName": .string("r2"), "AssumeRolePolicyDocument": trust]))
        var props: [String: JSON] = ["ManagedPolicyName": .string("reader"), "PolicyDocument": allow("s3:Get*"),
                                     "Description": .string("reads"), "Roles": .array([.string("r1")])]
        let policy = try await p.create(request("AWS::IAM::ManagedPolicy", "Policy", props))
        #expect(policy.ref == "arn:aws:iam::123456789012:policy/reader")
        #expect(policy.attributes["PolicyArn"] == .string(policy.ref))
        #expect(policy.attributes["DefaultVersionId"] == .string("v1"))
        #expect(policy.attributes["AttachmentCount"] == .number(1))
        #expect(try call(iam, "ListAttachedRolePolicies", ["RoleName": "r1"]).contains(policy.ref))

        // Six document changes: the oldest versions make room, the newest is the default.
        var state = policy
        for i in 1...6 {
            props["PolicyDocument"] = allow("s3:Get\(i)")
            props["Roles"] = .array([.string("r2")])
            state = try await p.update(request("AWS::IAM::ManagedPolicy", "Policy", props), previous: state)
        }
        #expect(state.attributes["DefaultVersionId"] == .string("v7"))
        let versions = try call(iam, "ListPolicyVersions", ["PolicyArn": policy.ref])
        #expect(versions.components(separatedBy: "<VersionId>").count - 1 == 5)
        #expect(try call(iam, "GetPolicyVersion", ["PolicyArn": policy.ref, "VersionId": "v7"]).contains("s3%3AGet6"))
        #expect(!(try call(iam, "ListAttachedRolePolicies", ["RoleName": "r1"]).contains(policy.ref)))
        #expect(try call(iam, "ListAttachedRolePolicies", ["RoleName": "r2"]).contains(policy.ref))

        try await p.delete(request("AWS::IAM::ManagedPolicy", "Policy", props), state: state)
        #expect(throws: AWSError.self) { try self.call(iam, "GetPolicy", ["PolicyArn": policy.ref]) }
    }

    @Test func inlinePolicyResource() async throws {
        let iam = try service()
        let p = iam.resourceProvider
        _ = try await p.create(request("AWS::IAM::Role", "R1", ["RoleName": .string("r1"), "AssumeRolePolicyDocument": trust]))
        _ = try call(iam, "CreateUser", ["UserName": "u1"])
        let props: [String: JSON] = ["PolicyName": .string("inline"), "PolicyDocument": allow("sqs:*"),
                                     "Roles": .array([.string("r1")]), "Users": .array([.string("u1")])]
        let pol = try await p.create(request("AWS::IAM::Policy", "Inline", props))
        #expect(pol.ref.hasPrefix("app-Inline-"))
        #expect(try call(iam, "ListRolePolicies", ["RoleName": "r1"]).contains("<member>inline</member>"))
        #expect(try call(iam, "ListUserPolicies", ["UserName": "u1"]).contains("<member>inline</member>"))

        // Renamed and taken off the user: the old policy goes from both.
        var changed = props
        changed["PolicyName"] = .string("renamed")
        changed["Users"] = nil
        let updated = try await p.update(request("AWS::IAM::Policy", "Inline", changed), previous: pol)
        #expect(updated.ref == pol.ref)
        let rolePolicies = try call(iam, "ListRolePolicies", ["RoleName": "r1"])
        #expect(rolePolicies.contains("<member>renamed</member>") && !rolePolicies.contains("<member>inline</member>"))
        #expect(!(try call(iam, "ListUserPolicies", ["UserName": "u1"]).contains("<member>")))

        try await p.delete(request("AWS::IAM::Policy", "Inline", changed), state: updated)
        #expect(!(try call(iam, "ListRolePolicies", ["RoleName": "r1"]).contains("<member>")))
        await #expect(throws: AWSError.self) {
            try await p.create(self.request("AWS::IAM::Policy", "NoOwner", ["PolicyName": .string("x"), "PolicyDocument": self.allow("s3:*")]))
        }
    }
}
