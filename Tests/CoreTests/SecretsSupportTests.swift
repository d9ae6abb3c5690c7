import Foundation
import Testing

@testable import Core

@Suite struct SecretReferenceTests {
    @Test func ecsValueFromForms() {
        #expect(SecretReference(parsing: "db-password") == SecretReference(secretID: "db-password"))
        let arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf"
        #expect(SecretReference(parsing: arn) == SecretReference(secretID: arn))
        #expect(SecretReference(parsing: arn + ":password::") == SecretReference(secretID: arn, jsonKey: "password"))
        #expect(SecretReference(parsing: arn + "::AWSPREVIOUS:") == SecretReference(secretID: arn, versionStage: "AWSPREVIOUS"))
        #expect(SecretReference(parsing: arn + ":user:AWSCURRENT:1234")
                == SecretReference(secretID: arn, jsonKey: "user", versionStage: "AWSCURRENT", versionID: "1234"))
    }
}

@Suite struct MasterKeyTests {
    @Test func createdOnceKeptPrivateAndCheckedAfterwards() throws {
        let dir = NSTemporaryDirectory() + "cloudless-mk-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try MasterKey.load(folder: dir, environment: nil)
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/master.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try MasterKey.load(folder: dir, environment: nil).bytes == first.bytes)
        #expect(try MasterKey.load(folder: dir, environment: Hex.encode(first.bytes)).bytes == first.bytes)
        #expect(throws: MasterKey.Failure.self) { try MasterKey.load(folder: dir, environment: String(repeating: "ab", count: 32)) }
        #expect(throws: MasterKey.Failure.self) { try MasterKey.load(folder: dir, environment: "not hex") }
        let wrapped = first.newDataKey(context: "c")
        #expect(try first.unwrap(wrapped.wrapped, context: "c") == wrapped.key)
        #expect(throws: (any Error).self) { try first.unwrap(wrapped.wrapped, context: "d") }
    }
}
