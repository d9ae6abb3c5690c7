import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import Testing

@testable import SecretsManager

// AWS::SecretsManager::RotationSchedule and ResourcePolicy through the provider, and the drift reading of secrets;
// read back through Secrets Manager's own operations.

/// A rotator that knows one function and records the steps it is asked to run.
final class CFNStepRotator: SecretRotator {
    let steps = Mutex<[String]>([])
    func canInvoke(functionARN: String) async -> Bool { functionARN.hasSuffix(":function:rotator") }
    func invoke(functionARN: String, step: RotationStep, secretARN: String, clientRequestToken: String) async throws {
        steps.withLock { $0.append(step.rawValue) }
    }
}

@Suite struct SecretsRotationAndPolicyTests {
    static let rotator = "arn:aws:lambda:us-east-1:000000000000:function:rotator"

    func withService(_ body: (SecretsManagerService, SecretsManagerResources, CFNStepRotator) async throws -> Void) async throws {
        let dir = NSTemporaryDirectory() + "cloudless-sm-cfn-rot-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rotator = CFNStepRotator()
        let service = try SecretsManagerService(directory: dir, clock: EmulatorClock(), masterKey: MasterKey(bytes: randomBytes(count: 32)),
                                                rotator: rotator, logger: Logger(label: "test"))
        try await body(service, service.resourceProvider, rotator)
    }

    func request(_ type: String, _ logicalId: String, _ properties: [String: JSON]) -> ResourceRequest {
        ResourceRequest(account: "000000000000", region: "us-east-1", stackName: "app", stackId: "arn:aws:cloudformation:us-east-1:000000000000:stack/app/1",
                        logicalId: logicalId, type: type, properties: properties, tags: ["aws:cloudformation:stack-name": "app", "env": "dev"])
    }

    let api = AWSRequest(method: .post, rawPath: "/", rawQuery: "", query: [], headers: HTTPFields(), host: "localhost",
                         body: RequestBody(buffer: ByteBuffer()),
                         caller: CallerIdentity(accountID: "000000000000", region: "us-east-1", accessKeyID: nil), requestID: "r")

    func describe(_ s: SecretsManagerService, _ id: String) throws -> [String: Any] {
        try s.describeSecret(api, Input(["SecretId": id]))
    }

    @Test func rotationScheduleTurnsRotationOnUpdatesAndCancels() async throws {
        try await withService { s, p, rotator in
            #expect(p.createOnlyProperties(of: "AWS::SecretsManager::RotationSchedule") == ["SecretId"])
            let secret = try await p.create(request("AWS::SecretsManager::Secret", "S", ["Name": .string("db"), "SecretString": .string("pw")]))
            var props: [String: JSON] = [
                "SecretId": .string("db"), "RotationLambdaARN": .string(Self.rotator),
                "RotationRules": .object(["AutomaticallyAfterDays": .string("30")]),
            ]
            let req = request("AWS::SecretsManager::RotationSchedule", "Rot", props)
            let state = try await p.create(req)
            #expect(state.ref == secret.ref && state.attributes["Id"] == .string(secret.ref))
            var d = try describe(s, "db")
            #expect(d["RotationEnabled"] as? Bool == true && d["RotationLambdaARN"] as? String == Self.rotator)
            #expect((d["RotationRules"] as? [String: Any])?["AutomaticallyAfterDays"] as? Int == 30)
            // RotateImmediatelyOnUpdate defaults to true: adding the schedule rotates at once, the four steps run.
            for _ in 0..<100 where rotator.steps.withLock({ $0.count }) < 4 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(rotator.steps.withLock { $0 } == ["createSecret", "setSecret", "testSecret", "finishSecret"])
            guard case .properties(let read) = try await p.currentProperties(req, state: state) else { Issue.record("no reading"); return }
            #expect(read["RotationLambdaARN"] == props["RotationLambdaARN"])
            #expect(read["RotationRules"] == .object(["AutomaticallyAfterDays": .number(30)]))

            // In place: a schedule expression, not rotated now.
            props["RotationRules"] = .object(["ScheduleExpression": .string("rate(10 days)"), "Duration": .string("2h")])
            props["RotateImmediatelyOnUpdate"] = .bool(false)
            let updated = try await p.update(request("AWS::SecretsManager::RotationSchedule", "Rot", props), previous: state)
            #expect(updated == state)
            d = try describe(s, "db")
            #expect((d["RotationRules"] as? [String: Any])?["ScheduleExpression"] as? String == "rate(10 days)")
            try await Task.sleep(for: .milliseconds(100))
            #expect(rotator.steps.withLock { $0.count } == 4)
            // RotateImmediatelyOnUpdate true (its default): the update rotates.
            props["RotateImmediatelyOnUpdate"] = nil
            _ = try await p.update(request("AWS::SecretsManager::RotationSchedule", "Rot", props), previous: state)
            for _ in 0..<100 where rotator.steps.withLock({ $0.count }) < 8 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(rotator.steps.withLock { $0.count } == 8)

            // AWS's errors on bad rules fail the resource.
            var bad = props
            bad["RotationRules"] = .object(["AutomaticallyAfterDays": .number(5000)])
            await #expect { try await p.update(self.request("AWS::SecretsManager::RotationSchedule", "Rot", bad), previous: state) }
                throws: { ($0 as? AWSError)?.message == "AutomaticallyAfterDays must be between 1 and 1000." }

            try await p.delete(req, state: state)
            try await p.delete(req, state: state)
            #expect(try describe(s, "db")["RotationEnabled"] as? Bool == false)
            #expect(try await p.currentProperties(req, state: state) == .deleted)
        }
    }

    @Test func anUnknownRotationFunctionFailsWithAWSErrorAndChangesNothing() async throws {
        try await withService { s, p, rotator in
            _ = try await p.create(request("AWS::SecretsManager::Secret", "S", ["Name": .string("u"), "SecretString": .string("x")]))
            await #expect { try await p.create(self.request("AWS::SecretsManager::RotationSchedule", "R", [
                "SecretId": .string("u"), "RotationLambdaARN": .string("arn:aws:lambda:us-east-1:000000000000:function:missing"),
                "RotationRules": .object(["AutomaticallyAfterDays": .number(30)]),
            ])) } throws: { ($0 as? AWSError)?.code == "AccessDeniedException" }
            #expect(try describe(s, "u")["RotationEnabled"] == nil)
            #expect(rotator.steps.withLock { $0.isEmpty })
        }
    }

    @Test func aScheduleAddedWithoutImmediateRotationWaits() async throws {
        try await withService { s, p, rotator in
            _ = try await p.create(request("AWS::SecretsManager::Secret", "S", ["Name": .string("later"), "SecretString": .string("x")]))
            _ = try await p.create(request("AWS::SecretsManager::RotationSchedule", "R", [
                "SecretId": .string("later"), "RotationLambdaARN": .string(Self.rotator),
                "RotationRules": .object(["AutomaticallyAfterDays": .number(7)]), "RotateImmediatelyOnUpdate": .string("false"),
            ]))
            try await Task.sleep(for: .milliseconds(100))
            #expect(rotator.steps.withLock { $0.isEmpty })
            let d = try describe(s, "later")
            #expect(d["RotationEnabled"] as? Bool == true && d["NextRotationDate"] != nil)
        }
    }

    @Test func hostedRotationLambdaIsRefusedByName() async throws {
        try await withService { s, p, _ in
            _ = try await p.create(request("AWS::SecretsManager::Secret", "S", ["Name": .string("h"), "SecretString": .string("x")]))
            await #expect { try await p.create(self.request("AWS::SecretsManager::RotationSchedule", "R", [
                "SecretId": .string("h"), "HostedRotationLambda": .object(["RotationType": .string("MySQLSingleUser")]),
                "RotationRules": .object(["AutomaticallyAfterDays": .number(30)]),
            ])) } throws: { ($0 as? AWSError)?.message.contains("HostedRotationLambda") == true }
            #expect(try describe(s, "h")["RotationEnabled"] == nil)
        }
    }

    @Test func resourcePolicyPutBlockedAndDeleted() async throws {
        try await withService { s, p, _ in
            #expect(p.createOnlyProperties(of: "AWS::SecretsManager::ResourcePolicy") == ["SecretId"])
            let secret = try await p.create(request("AWS::SecretsManager::Secret", "S", ["Name": .string("pol"), "SecretString": .string("x")]))
            let doc: JSON = .object(["Version": .string("2012-10-17"), "Statement": .array([.object([
                "Effect": .string("Allow"), "Principal": .object(["AWS": .string("arn:aws:iam::111122223333:root")]),
                "Action": .string("secretsmanager:GetSecretValue"), "Resource": .string("*"),
            ])])])
            let req = request("AWS::SecretsManager::ResourcePolicy", "Pol", ["SecretId": .string(secret.ref), "ResourcePolicy": doc])
            let state = try await p.create(req)
            #expect(state.ref == secret.ref)
            let stored = try s.getResourcePolicy(api, Input(["SecretId": "pol"]))["ResourcePolicy"] as? String
            #expect(stored?.contains("111122223333") == true)
            #expect(try await p.currentProperties(req, state: state) == .properties(req.properties))

            // BlockPublicPolicy defaults to true: a policy open to everyone fails, the old one stays.
            let open: JSON = .object(["Version": .string("2012-10-17"), "Statement": .array([.object([
                "Effect": .string("Allow"), "Principal": .string("*"), "Action": .string("secretsmanager:GetSecretValue"), "Resource": .string("*"),
            ])])])
            await #expect { try await p.update(self.request("AWS::SecretsManager::ResourcePolicy", "Pol", ["SecretId": .string(secret.ref), "ResourcePolicy": open]),
                                               previous: state) } throws: { ($0 as? AWSError)?.code == "PublicPolicyException" }
            #expect((try s.getResourcePolicy(api, Input(["SecretId": "pol"]))["ResourcePolicy"] as? String) == stored)
            _ = try await p.update(request("AWS::SecretsManager::ResourcePolicy", "Pol", [
                "SecretId": .string(secret.ref), "ResourcePolicy": open, "BlockPublicPolicy": .bool(false),
            ]), previous: state)
            #expect((try s.getResourcePolicy(api, Input(["SecretId": "pol"]))["ResourcePolicy"] as? String)?.contains("\"*\"") == true)

            try await p.delete(req, state: state)
            try await p.delete(req, state: state)
            #expect(try s.getResourcePolicy(api, Input(["SecretId": "pol"]))["ResourcePolicy"] == nil)
            #expect(try await p.currentProperties(req, state: state) == .deleted)
        }
    }

    @Test func secretDriftReading() async throws {
        try await withService { s, p, _ in
            let props: [String: JSON] = [
                "Name": .string("drift"), "Description": .string("d"), "SecretString": .string("v1"),
                "Tags": .array([.object(["Key": .string("team"), "Value": .string("a")])]),
            ]
            let req = request("AWS::SecretsManager::Secret", "S", props)
            let state = try await p.create(req)
            guard case .properties(let read) = try await p.currentProperties(req, state: state) else { Issue.record("no reading"); return }
            #expect(read == props)
            _ = try s.putSecretValue(api, Input(["SecretId": "drift", "SecretString": "v2", "ClientRequestToken": UUID().uuidString]))
            guard case .properties(let after) = try await p.currentProperties(req, state: state) else { Issue.record("no reading"); return }
            #expect(after["SecretString"] == .string("v2"))
            // A generated value is write-only: read back as the template gives it.
            let gen = request("AWS::SecretsManager::Secret", "G", ["GenerateSecretString": .object(["PasswordLength": .number(12)])])
            let g = try await p.create(gen)
            guard case .properties(let genRead) = try await p.currentProperties(gen, state: g) else { Issue.record("no reading"); return }
            #expect(genRead["GenerateSecretString"] == gen.properties["GenerateSecretString"] && genRead["SecretString"] == nil)
            try await p.delete(req, state: state)
            #expect(try await p.currentProperties(req, state: state) == .deleted)
        }
    }
}
