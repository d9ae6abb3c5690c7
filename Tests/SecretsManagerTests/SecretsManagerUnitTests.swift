import Core
import Foundation
import Logging
import Synchronization
import Testing

@testable import SecretsManager

private func version(_ id: String, _ stages: [String], created: Double = 0) -> SecretVersion {
    SecretVersion(versionID: id, created: created, lastAccessed: nil, stages: stages, isBinary: false, wrappedKey: [], sealed: [])
}

@Suite struct VersionStageTests {
    @Test func aNewCurrentVersionMakesTheOldOnePrevious() {
        var versions = [version("v1", ["AWSPREVIOUS"]), version("v2", ["AWSCURRENT"]), version("v3", [])]
        let changed = SecretsManagerService.attach(["AWSCURRENT"], to: "v3", in: &versions)
        #expect(versions.map(\.stages) == [[], ["AWSPREVIOUS"], ["AWSCURRENT"]])
        #expect(changed == ["v1", "v2", "v3"])
    }

    @Test func movingCurrentBackToThePreviousVersionSwapsThem() {
        var versions = [version("v1", ["AWSPREVIOUS"]), version("v2", ["AWSCURRENT"])]
        SecretsManagerService.attach(["AWSCURRENT"], to: "v1", in: &versions)
        #expect(versions.map(\.stages) == [["AWSCURRENT"], ["AWSPREVIOUS"]])
    }

    @Test func customStagesMoveWithoutTouchingCurrent() {
        var versions = [version("v1", ["AWSCURRENT", "blue"]), version("v2", [])]
        SecretsManagerService.attach(["blue", "AWSPENDING"], to: "v2", in: &versions)
        #expect(versions.map(\.stages) == [["AWSCURRENT"], ["blue", "AWSPENDING"]])
    }

    @Test func onlyOldDeprecatedVersionsPastAHundredArePruned() {
        let now = 10_000_000.0
        var versions = (0..<101).map { version("v\($0)", [], created: now - 200_000 + Double($0)) }
        versions[0].stages = ["AWSCURRENT"]
        #expect(SecretsManagerService.prunable(versions, now: now) == ["v1"])
        let young = (0..<102).map { version("y\($0)", [], created: now - 10) }
        #expect(SecretsManagerService.prunable(young, now: now).isEmpty)
    }

    @Test func selectingAVersion() throws {
        let versions = [version("v1", ["AWSPREVIOUS"]), version("v2", ["AWSCURRENT"])]
        #expect(try SecretsManagerService.select(versions, versionID: nil, stage: nil).versionID == "v2")
        #expect(try SecretsManagerService.select(versions, versionID: "v1", stage: "AWSPREVIOUS").versionID == "v1")
        #expect(throws: AWSError.self) { try SecretsManagerService.select(versions, versionID: "v1", stage: "AWSCURRENT") }
        #expect(throws: AWSError.self) { try SecretsManagerService.select(versions, versionID: nil, stage: "AWSPENDING") }
    }
}

@Suite struct RandomPasswordTests {
    @Test func everyIncludedTypeAppearsAndExclusionsHold() {
        let classes: [[Character]] = [Array("abc"), Array("XYZ"), Array("789")]
        for _ in 0..<200 {
            let p = SecretsManagerService.password(length: 3, classes: classes, requireEach: true)
            #expect(p.count == 3)
            for c in classes { #expect(p.contains { c.contains($0) }) }
        }
        let long = SecretsManagerService.password(length: 4096, classes: [Array("ab")], requireEach: false)
        #expect(long.count == 4096 && long.allSatisfy { $0 == "a" || $0 == "b" })
        // Both letters turn up in roughly equal numbers: the draw is uniform.
        let a = long.filter { $0 == "a" }.count
        #expect((1800...2300).contains(a))
    }
}

@Suite struct RotationScheduleTests {
    @Test func ratesAndDays() throws {
        #expect(RotationSchedule.next(after: 0, RotationRules(AutomaticallyAfterDays: 30)) == Double(30 * 86_400))
        #expect(RotationSchedule.next(after: 0, RotationRules(ScheduleExpression: "rate(10 days)")) == Double(10 * 86_400))
        #expect(RotationSchedule.next(after: 0, RotationRules(ScheduleExpression: "rate(6 hours)")) == Double(6 * 3600))
        #expect(throws: AWSError.self) { try RotationSchedule.validate(RotationRules(ScheduleExpression: "rate(2 hours)")) }
        #expect(throws: AWSError.self) { try RotationSchedule.validate(RotationRules(AutomaticallyAfterDays: 3, ScheduleExpression: "rate(1 days)")) }
        #expect(throws: AWSError.self) { try RotationSchedule.validate(RotationRules(AutomaticallyAfterDays: 3, Duration: "25h")) }
    }

    @Test func cronExpressions() throws {
        // 2026-11-25T21:00:00Z is a Wednesday.
        let t: Double = 1_795_640_400
        let december1At16: Double = 1_796_140_800  // 2026-12-01T16:00Z
        let november30At0830: Double = 1_796_027_400  // 2026-11-30T08:30Z
        let twiceMonthly = try #require(Cron("cron(0 16 1,15 * ? *)"))
        #expect(twiceMonthly.next(after: t) == december1At16)
        let mondays = try #require(Cron("cron(30 8 ? * MON *)"))
        #expect(mondays.next(after: t) == november30At0830)
        #expect(Cron("cron(0 16 1 * MON *)") == nil)  // both day fields set
        #expect(Cron("cron(0 25 * * ? *)") == nil)
        #expect(Cron("rate(1 days)") == nil)
    }
}

/// A rotation function stand-in that records the steps it is asked to run.
final class RecordingRotator: SecretRotator {
    let steps = Mutex<[String]>([])
    func canInvoke(functionARN: String) async -> Bool { functionARN.hasSuffix(":rotator") }
    func invoke(functionARN: String, step: RotationStep, secretARN: String, clientRequestToken: String) async throws {
        steps.withLock { $0.append(step.rawValue) }
    }
}

@Suite struct RotationTests {
    @Test func scheduledRotationsRunTheFourStepsWhenTheClockSaysSo() async throws {
        let dir = NSTemporaryDirectory() + "cloudless-sm-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = EmulatorClock()
        let rotator = RecordingRotator()
        let service = try SecretsManagerService(directory: dir, clock: clock, masterKey: MasterKey(bytes: randomBytes(count: 32)),
                                                rotator: rotator, logger: Logger(label: "test"))
        let now = clock.now()
        var record = SecretRecord(lastChanged: now)
        record.rotationEnabled = true
        record.rotationLambdaARN = "arn:aws:lambda:us-east-1:000000000000:function:rotator"
        record.rotationRules = RotationRules(AutomaticallyAfterDays: 1)
        record.nextRotation = now + 86_400
        let secret = Secret(arn: "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf", account: "000000000000",
                            region: "us-east-1", name: "db", created: now, deleted: nil, purgeAt: nil, primaryARN: nil, record: record)
        try service.store.db.writeNow { db in try SecretStore.save(secret, db) }
        #expect(try await service.sweep() == 0)
        clock.advance(by: 86_401)
        #expect(try await service.sweep() == 1)
        #expect(rotator.steps.withLock { $0 } == ["createSecret", "setSecret", "testSecret", "finishSecret"])
        let after = try service.store.db.readNow { db in try SecretStore.byARN(secret.arn, db) }
        #expect(after?.record.lastRotated != nil)
        #expect((after?.record.nextRotation ?? 0) > clock.now())
        #expect(try await service.sweep() == 0)  // not due again
    }
}

/// A rotation function stand-in that records, at each step, what `probe` says about the version being rotated.
final class ProbingRotator: SecretRotator {
    let probe = Mutex<(@Sendable (String, String) -> String)?>(nil)
    let seen = Mutex<[String]>([])
    func canInvoke(functionARN: String) async -> Bool { true }
    func invoke(functionARN: String, step: RotationStep, secretARN: String, clientRequestToken: String) async throws {
        let probe = probe.withLock { $0 }
        seen.withLock { $0.append("\(step.rawValue): \(probe?(secretARN, clientRequestToken) ?? "")") }
    }
}

/// A rotation function stand-in whose createSecret step always fails; records the tokens it was given.
final class FailingRotator: SecretRotator {
    let tokens = Mutex<[String]>([])
    func canInvoke(functionARN: String) async -> Bool { true }
    func invoke(functionARN: String, step: RotationStep, secretARN: String, clientRequestToken: String) async throws {
        tokens.withLock { $0.append(clientRequestToken) }
        throw AWSError("ServiceException", "cannot rotate")
    }
}

/// AWS labels a rotation's new version id AWSPENDING before the first step; it has no value until createSecret puts one.
@Suite struct PendingVersionTests {
    static let arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf"

    /// A service holding one secret whose AWSCURRENT version "v1" is "s3cret", due to rotate in a day.
    static func service(_ rotator: some SecretRotator, clock: EmulatorClock, in dir: String) throws -> SecretsManagerService {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let service = try SecretsManagerService(directory: dir, clock: clock, masterKey: MasterKey(bytes: randomBytes(count: 32)),
                                                rotator: rotator, logger: Logger(label: "test"))
        let now = clock.now()
        var record = SecretRecord(lastChanged: now)
        record.rotationEnabled = true
        record.rotationLambdaARN = "arn:aws:lambda:us-east-1:000000000000:function:rotator"
        record.rotationRules = RotationRules(AutomaticallyAfterDays: 1)
        record.nextRotation = now + 86_400
        let secret = Secret(arn: arn, account: "000000000000", region: "us-east-1", name: "db", created: now, deleted: nil,
                            purgeAt: nil, primaryARN: nil, record: record)
        var v1 = service.seal(SecretValue(bytes: Array("s3cret".utf8), isBinary: false), arn: arn, versionID: "v1", now: now)
        v1.stages = ["AWSCURRENT"]
        try service.store.db.writeNow { db in
            try SecretStore.save(secret, db)
            try SecretStore.saveVersion(v1, arn: arn, db)
        }
        return service
    }

    @Test func theFirstStepFindsTheTokenPendingWithoutAValue() async throws {
        let dir = NSTemporaryDirectory() + "cloudless-sm-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = EmulatorClock()
        let rotator = ProbingRotator()
        let service = try Self.service(rotator, clock: clock, in: dir)
        rotator.probe.withLock {
            $0 = { arn, token in
                let versions = (try? service.store.db.readNow { db in try SecretStore.versions(arn: arn, db) }) ?? []
                let stages = versions.first { $0.versionID == token }?.stages ?? []
                let readable = (try? SecretsManagerService.selectValue(versions, versionID: token, stage: "AWSPENDING")) != nil
                return "\(stages) readable=\(readable)"
            }
        }
        clock.advance(by: 86_401)
        #expect(try await service.sweep() == 1)
        #expect(rotator.seen.withLock { $0.first } == "createSecret: [\"AWSPENDING\"] readable=false")
    }

    @Test func aScheduledRotationReattemptsAnUnfinishedOneWithItsToken() async throws {
        let dir = NSTemporaryDirectory() + "cloudless-sm-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = EmulatorClock()
        let rotator = FailingRotator()
        let service = try Self.service(rotator, clock: clock, in: dir)
        clock.advance(by: 86_401)
        #expect(try await service.sweep() == 1)
        clock.advance(by: 86_401)
        #expect(try await service.sweep() == 1)
        let tokens = rotator.tokens.withLock { $0 }
        #expect(tokens.count == 2 && tokens[0] == tokens[1])
        let stages = try service.store.db.readNow { db in try SecretStore.versions(arn: Self.arn, db).map(\.stages) }
        #expect(stages == [["AWSCURRENT"], ["AWSPENDING"]])
    }

    @Test func aValuePutWithThePendingTokenFillsThePendingVersion() throws {
        let dir = NSTemporaryDirectory() + "cloudless-sm-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = EmulatorClock()
        let service = try Self.service(RecordingRotator(), clock: clock, in: dir)
        let value = SecretValue(bytes: Array("n3w".utf8), isBinary: false)
        try service.store.db.writeNow { db in
            try service.labelPending("t1", arn: Self.arn, now: clock.now() + 1, db)
            let versions = try SecretStore.versions(arn: Self.arn, db)
            #expect(versions.map(\.stages) == [["AWSCURRENT"], ["AWSPENDING"]])
            #expect(throws: AWSError.self) { try SecretsManagerService.selectValue(versions, versionID: "t1", stage: "AWSPENDING") }
            #expect(throws: AWSError.self) { try SecretsManagerService.selectValue(versions, versionID: nil, stage: "AWSPENDING") }
            var secret = try #require(try SecretStore.byARN(Self.arn, db))
            let put = try service.putVersion(value, token: "t1", stages: ["AWSPENDING"], secret: &secret, now: clock.now() + 2, db)
            #expect(put.0 == "t1" && put.1 == ["AWSPENDING"])
            let after = try SecretStore.versions(arn: Self.arn, db)
            #expect(try service.open(SecretsManagerService.selectValue(after, versionID: "t1", stage: "AWSPENDING"), arn: Self.arn) == value)
            #expect(after.map(\.stages) == [["AWSCURRENT"], ["AWSPENDING"]])
        }
    }
}

@Suite struct SealingTests {
    @Test func valuesAreBoundToTheirSecretAndVersion() throws {
        let dir = NSTemporaryDirectory() + "cloudless-sm-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let service = try SecretsManagerService(directory: dir, clock: EmulatorClock(), masterKey: MasterKey(bytes: randomBytes(count: 32)),
                                                rotator: NoFunctionsRotator(), logger: Logger(label: "test"))
        let value = SecretValue(bytes: Array("hunter2".utf8), isBinary: false)
        let v = service.seal(value, arn: "arn:a", versionID: "v1", now: 0)
        #expect(!String(decoding: v.sealed, as: UTF8.self).contains("hunter2"))
        #expect(try service.open(v, arn: "arn:a") == value)
        #expect(throws: AWSError.self) { try service.open(v, arn: "arn:b") }
        var moved = v
        moved.versionID = "v2"
        #expect(throws: AWSError.self) { try service.open(moved, arn: "arn:a") }
    }
}
