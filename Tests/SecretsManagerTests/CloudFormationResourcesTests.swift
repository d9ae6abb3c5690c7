import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Testing

@testable import SecretsManager

// AWS::SecretsManager::Secret through the provider, read back through Secrets Manager's own operations.

private func withService(_ body: (SecretsManagerService, SecretsManagerResources) async throws -> Void) async throws {
    let dir = NSTemporaryDirectory() + "cloudless-sm-cfn-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let service = try SecretsManagerService(directory: dir, clock: EmulatorClock(), masterKey: MasterKey(bytes: randomBytes(count: 32)),
                                            rotator: NoFunctionsRotator(), logger: Logger(label: "test"))
    try await body(service, service.resourceProvider)
}

private func request(_ logicalId: String, _ properties: [String: JSON]) -> ResourceRequest {
    ResourceRequest(account: "000000000000", region: "us-east-1", stackName: "app", stackId: "arn:aws:cloudformation:us-east-1:000000000000:stack/app/1",
                    logicalId: logicalId, type: "AWS::SecretsManager::Secret", properties: properties,
                    tags: ["aws:cloudformation:stack-name": "app"])
}

private let api = AWSRequest(method: .post, rawPath: "/", rawQuery: "", query: [], headers: HTTPFields(), host: "localhost",
                             body: RequestBody(buffer: ByteBuffer()),
                             caller: CallerIdentity(accountID: "000000000000", region: "us-east-1", accessKeyID: nil), requestID: "r")

private func value(_ s: SecretsManagerService, _ id: String) throws -> String? {
    try s.getSecretValue(api, Input(["SecretId": id]))["SecretString"] as? String
}

private func describe(_ s: SecretsManagerService, _ id: String) throws -> [String: Any] {
    try s.describeSecret(api, Input(["SecretId": id]))
}

private func tags(_ d: [String: Any]) -> [String: String] {
    var out: [String: String] = [:]
    for t in d["Tags"] as? [[String: Any]] ?? [] { out[t["Key"] as? String ?? ""] = t["Value"] as? String }
    return out
}

@Suite struct SecretsCloudFormationTests {
    @Test func secretWithValueCreateUpdateDelete() async throws {
        try await withService { s, p in
            #expect(p.createOnlyProperties(of: "AWS::SecretsManager::Secret") == ["Name"])
            var props: [String: JSON] = [
                "Name": .string("db/password"), "Description": .string("the db"), "SecretString": .string("hunter2"),
                "Tags": .array([.object(["Key": .string("team"), "Value": .string("a")])]),
            ]
            let st = try await p.create(request("Secret", props))
            #expect(st.ref.hasPrefix("arn:aws:secretsmanager:us-east-1:000000000000:secret:db/password-"))
            #expect(st.attributes["Id"] == .string(st.ref))
            #expect(try value(s, st.ref) == "hunter2")
            var d = try describe(s, "db/password")
            #expect(d["Description"] as? String == "the db")
            #expect(tags(d) == ["team": "a", "aws:cloudformation:stack-name": "app"])

            props["SecretString"] = .string("correct horse")
            props["Description"] = nil
            props["Tags"] = nil
            let updated = try await p.update(request("Secret", props), previous: st)
            #expect(updated == st)
            #expect(try value(s, st.ref) == "correct horse")
            d = try describe(s, st.ref)
            #expect((d["Description"] as? String ?? "").isEmpty)
            #expect(tags(d) == ["aws:cloudformation:stack-name": "app"])

            try await p.delete(request("Secret", props), state: st)
            #expect(throws: AWSError.self) { try describe(s, st.ref) }
            try await p.delete(request("Secret", props), state: st)  // already gone
            // Deleted at once: the name is free again.
            _ = try await p.create(request("Secret", props))
        }
    }

    @Test func generatedSecretStrings() async throws {
        try await withService { s, p in
            let gen: JSON = .object([
                "SecretStringTemplate": .string(#"{"username":"admin"}"#), "GenerateStringKey": .string("password"),
                "PasswordLength": .number(20), "ExcludeCharacters": .string("\"@/\\"), "ExcludePunctuation": .bool(true),
            ])
            let st = try await p.create(request("Db", ["GenerateSecretString": gen]))
            #expect(st.ref.contains(":secret:app-Db-"))
            let text = try #require(try value(s, st.ref))
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])
            #expect(obj["username"] == "admin")
            let password = try #require(obj["password"])
            #expect(password.count == 20)
            #expect(password.allSatisfy { $0.isLetter || $0.isNumber })

            // An update that keeps the generator keeps the password; a new template shape generates another.
            _ = try await p.update(request("Db", ["GenerateSecretString": gen, "Description": .string("d")]), previous: st)
            #expect(try value(s, st.ref) == text)
            var changed = gen.object!
            changed["SecretStringTemplate"] = .string(#"{"username":"root"}"#)
            _ = try await p.update(request("Db", ["GenerateSecretString": .object(changed)]), previous: st)
            let again = try #require(try value(s, st.ref))
            #expect(again.contains(#""username":"root""#))

            // Neither SecretString nor GenerateSecretString: a 32-character password.
            let plain = try await p.create(request("Plain", [:]))
            #expect(try value(s, plain.ref)?.count == 32)

            await #expect(throws: AWSError.self) {
                try await p.create(request("Both", ["SecretString": .string("x"), "GenerateSecretString": gen]))
            }
            await #expect(throws: AWSError.self) {
                try await p.create(request("Half", ["GenerateSecretString": .object(["GenerateStringKey": .string("k")])]))
            }
            _ = try await p.create(request("Named", ["Name": .string("named")]))
            let dup = await #expect(throws: AWSError.self) { try await p.create(request("Dup", ["Name": .string("named")])) }
            #expect(dup?.code == "ResourceExistsException")
        }
    }
}
