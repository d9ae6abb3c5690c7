import Core
import Foundation
import Testing

@testable import IAM

// After a crash during a role's create, the provider finds the role again by the name the create used.
@Suite final class IAMInterruptedCreateTests {
    let folder = NSTemporaryDirectory() + "iam-cfn-interrupted-" + UUID().uuidString
    deinit { try? FileManager.default.removeItem(atPath: folder) }

    func request(_ properties: [String: JSON]) -> ResourceRequest {
        ResourceRequest(account: "123456789012", region: "us-east-1", stackName: "app",
                        stackId: "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1", logicalId: "Role",
                        type: "AWS::IAM::Role", properties: properties, tags: [:])
    }

    @Test func aRoleIsFoundByItsGeneratedOrGivenName() async throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let p = try IAMService(directory: folder, clock: EmulatorClock()).resourceProvider
        let trust: JSON = .object(["Version": .string("2012-10-17"), "Statement": .array([.object([
            "Effect": .string("Allow"), "Principal": .object(["Service": .string("lambda.amazonaws.com")]), "Action": .string("sts:AssumeRole"),
        ])])])
        let generated = request(["AssumeRolePolicyDocument": trust])
        #expect(try await p.interruptedCreate(generated) == nil)
        let made = try await p.create(generated)
        let found = try await p.interruptedCreate(generated)
        #expect(found?.physicalId == made.physicalId && found?.attributes["Arn"] == made.attributes["Arn"])
        // Other properties name another role (a replacement): not this one.
        #expect(try await p.interruptedCreate(request(["AssumeRolePolicyDocument": trust, "Description": .string("x")])) == nil)
        let named = request(["AssumeRolePolicyDocument": trust, "RoleName": .string("given")])
        _ = try await p.create(named)
        #expect(try await p.interruptedCreate(named)?.physicalId == "given")
        // What it finds, the rollback deletes.
        try await p.delete(named, state: try #require(try await p.interruptedCreate(named)))
        #expect(try await p.interruptedCreate(named) == nil)
    }
}
