import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Testing

@testable import SecretsManager

// Issue 13: idempotent forced deletes, requests without a ClientRequestToken, tags as AWS lists them.

private func withService(_ body: (SecretsManagerService) async throws -> Void) async throws {
    let dir = NSTemporaryDirectory() + "cloudless-sm-fid-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let service = try SecretsManagerService(directory: dir, clock: EmulatorClock(), masterKey: MasterKey(bytes: randomBytes(count: 32)),
                                            rotator: NoFunctionsRotator(), logger: Logger(label: "test"))
    try await body(service)
}

private func api() -> AWSRequest {
    AWSRequest(method: .post, rawPath: "/", rawQuery: "", query: [], headers: HTTPFields(), host: "localhost:4566",
               body: RequestBody(buffer: ByteBuffer()), caller: CallerIdentity(accountID: "000000000000", region: "us-east-1", accessKeyID: nil),
               requestID: "r")
}

@Suite struct SecretsWireFidelityTests {
    @Test func forceDeletingAMissingSecretAnswersAsIfItExisted() async throws {
        try await withService { s in
            let out = try s.deleteSecret(api(), Input(["SecretId": "gone", "ForceDeleteWithoutRecovery": true]))
            #expect(out["Name"] as? String == "gone")
            let arn = out["ARN"] as? String ?? ""
            #expect(arn.hasPrefix("arn:aws:secretsmanager:us-east-1:000000000000:secret:gone-") && arn.count == "arn:aws:secretsmanager:us-east-1:000000000000:secret:gone-".count + 6)
            #expect(out["DeletionDate"] != nil)
            #expect(throws: AWSError.self) { try s.deleteSecret(api(), Input(["SecretId": "gone"])) }
        }
    }

    @Test func aMissingTokenIsRefusedBeforeTheLookup() async throws {
        try await withService { s in
            for call in [{ try s.putSecretValue(api(), Input(["SecretId": "none", "SecretString": "v"])) },
                         { try s.updateSecret(api(), Input(["SecretId": "none", "SecretString": "v"])) }] {
                #expect { try call() } throws: {
                    ($0 as? AWSError)?.code == "InvalidRequestException"
                        && ($0 as? AWSError)?.message == "You must provide a ClientRequestToken value. We recommend a UUID-type value."
                }
            }
        }
    }

    @Test func tagsOnceTouchedAreListedEvenEmpty() async throws {
        try await withService { s in
            _ = try s.createSecret(api(), Input(["Name": "t"]))
            func tags() throws -> [[String: String]]? {
                try s.store.db.readNow { db in
                    guard let secret = try SecretStore.byName(account: "000000000000", region: "us-east-1", name: "t", db) else { return nil }
                    return try s.summary(secret, stagesKey: "VersionIdsToStages", db)["Tags"] as? [[String: String]]
                }
            }
            #expect(try tags() == nil)
            _ = try s.tagResource(api(), Input(["SecretId": "t", "Tags": [["Key": "b", "Value": "1"], ["Key": "a", "Value": "2"]]]))
            #expect(try tags() == [["Key": "b", "Value": "1"], ["Key": "a", "Value": "2"]])
            _ = try s.untagResource(api(), Input(["SecretId": "t", "TagKeys": ["a", "b"]]))
            #expect(try tags() == [])
        }
    }
}
