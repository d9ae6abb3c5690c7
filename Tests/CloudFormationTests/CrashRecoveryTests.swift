import Core
import Foundation
import Synchronization
import Testing

@testable import CloudFormation

/// `Test::Slow`: its create makes the thing at once, then waits until released (as an ECS service's create waits
/// until the service is stable); `interruptedCreate` finds a thing by the name the create used.
final class HalfMadeProvider: ResourceProvider {
    let things = Mutex<[String: [String: JSON]]>([:])
    let released = Mutex(false)
    var resourceTypes: [String] { ["Test::Slow", "Test::Quick"] }
    func createOnlyProperties(of type: String) -> Set<String> { ["Name"] }

    func name(_ request: ResourceRequest) -> String { request.properties["Name"]?.string ?? request.generatedName(limit: 64) }

    func create(_ request: ResourceRequest) async throws -> ResourceState {
        let name = name(request)
        things.withLock { $0[name] = request.properties }
        while request.type == "Test::Slow" && !released.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        return ResourceState(physicalId: name)
    }

    func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState { previous }

    func delete(_ request: ResourceRequest, state: ResourceState) async throws {
        things.withLock { $0[state.physicalId] = nil }
    }

    func interruptedCreate(_ request: ResourceRequest) async throws -> ResourceState? {
        let name = name(request)
        return things.withLock { $0[name] } == nil ? nil : ResourceState(physicalId: name)
    }

    var live: Set<String> { Set(things.withLock { $0.keys }) }
}

@Suite struct CrashRecoveryTests {
    func harness(_ dir: String, _ p: HalfMadeProvider) throws -> CloudFormationService {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return try CloudFormationService(directory: dir, clock: EmulatorClock(), providers: ResourceProviders([p]),
                                         objects: nil, logger: .init(label: "test"))
    }

    let caller = CloudFormationService.Caller(account: "123456789012", region: "us-east-1", now: Date().timeIntervalSince1970)

    /// A create in flight when the emulator stops: its resource exists in its service but not in the stack. After
    /// the restart the provider finds it again and the rollback deletes it, after the ones made before it.
    @Test func restartDeletesWhatAnInterruptedCreateMade() async throws {
        let dir = NSTemporaryDirectory() + "cfn-crash-" + UUID().uuidString
        let p = HalfMadeProvider()
        let service = try harness(dir, p)
        let body = "Resources:\n  Quick: {Type: Test::Quick}\n  Slow: {Type: Test::Slow, DependsOn: Quick}\n"
        let create = Task { _ = try await service.perform("CreateStack", ["Action": "CreateStack", "StackName": "s", "TemplateBody": body], caller) }
        // Wait until the slow resource exists in its "service" while the stack still waits for its create.
        while p.live.count < 2 { try await Task.sleep(for: .milliseconds(5)) }
        let stuck = try service.store.find("s", account: "123456789012", region: "us-east-1")!
        #expect(stuck.status == "CREATE_IN_PROGRESS")
        #expect(stuck.resources["Slow"]?.state == nil && stuck.resources["Slow"]?.status == "CREATE_IN_PROGRESS")
        #expect(stuck.resources["Quick"]?.state != nil)

        // The "crash": a second service on the same folder while the first one's task never finishes its write.
        let restarted = try harness(dir, p)
        await restarted.settle()
        let after = try restarted.store.stack(id: stuck.id)!
        #expect(after.status == "ROLLBACK_COMPLETE")
        #expect(p.live.isEmpty)
        let events = try restarted.store.events(stackId: stuck.id).reversed().map { "\($0.logicalId) \($0.status)" }
        #expect(events.suffix(6) == ["s ROLLBACK_IN_PROGRESS", "Slow DELETE_IN_PROGRESS", "Slow DELETE_COMPLETE",
                                     "Quick DELETE_IN_PROGRESS", "Quick DELETE_COMPLETE", "s ROLLBACK_COMPLETE"])
        create.cancel()
        p.released.withLock { $0 = true }
    }

    /// Resources of one wave are recorded as each completes: a fast one is the stack's while a slow one of the same
    /// wave is still being made.
    @Test func aWaveRecordsEachResourceAsItCompletes() async throws {
        let dir = NSTemporaryDirectory() + "cfn-crash-" + UUID().uuidString
        let p = HalfMadeProvider()
        let service = try harness(dir, p)
        let body = "Resources:\n  Quick: {Type: Test::Quick, Properties: {Name: q}}\n  Slow: {Type: Test::Slow, Properties: {Name: s}}\n"
        let create = Task { _ = try await service.perform("CreateStack", ["Action": "CreateStack", "StackName": "w", "TemplateBody": body], caller) }
        var recorded = false
        for _ in 0..<400 where !recorded {
            let s = try service.store.find("w", account: "123456789012", region: "us-east-1")
            recorded = s?.resources["Quick"]?.state?.physicalId == "q"
            if !recorded { try await Task.sleep(for: .milliseconds(5)) }
        }
        #expect(recorded)
        #expect(try service.store.find("w", account: "123456789012", region: "us-east-1")?.resources["Slow"]?.state == nil)
        p.released.withLock { $0 = true }
        _ = try await create.value
        await service.settle()
        #expect(try service.store.find("w", account: "123456789012", region: "us-east-1")?.status == "CREATE_COMPLETE")
    }

    /// Generated names look random but are the same for the same stack, resource and properties, so a restart finds
    /// them again; other properties (a replacement) give another name.
    @Test func generatedNamesAreStablePerRequest() {
        func request(_ props: [String: JSON], logicalId: String = "Queue", stackId: String = "arn:stack/s/1") -> ResourceRequest {
            ResourceRequest(account: "1", region: "us-east-1", stackName: "s", stackId: stackId, logicalId: logicalId,
                            type: "AWS::SQS::Queue", properties: props, tags: ["t": "1"])
        }
        let a = request(["VisibilityTimeout": .number(30)]).generatedName(limit: 80)
        #expect(a == request(["VisibilityTimeout": .number(30)]).generatedName(limit: 80))
        #expect(a.hasPrefix("s-Queue-") && a.count == "s-Queue-".count + 13)
        #expect(a.dropFirst(8).allSatisfy { $0.isUppercase || $0.isNumber })
        #expect(a != request(["VisibilityTimeout": .number(60)]).generatedName(limit: 80))
        #expect(a != request(["VisibilityTimeout": .number(30)], logicalId: "Other").generatedName(limit: 80))
        #expect(a != request(["VisibilityTimeout": .number(30)], stackId: "arn:stack/s/2").generatedName(limit: 80))
        #expect(request([:]).generatedName(limit: 20).count == 20)
        #expect(request([:]).generatedName(lowercase: true) == request([:]).generatedName().lowercased())
    }

    /// A stack made by a CREATE change set starts with REVIEW_IN_PROGRESS "User Initiated" (sam deploy reads it).
    @Test func changeSetStackStartsWithReviewEvent() async throws {
        let dir = NSTemporaryDirectory() + "cfn-crash-" + UUID().uuidString
        let service = try harness(dir, HalfMadeProvider())
        _ = try await service.perform("CreateChangeSet", ["Action": "CreateChangeSet", "StackName": "r", "ChangeSetName": "c1",
                                                          "ChangeSetType": "CREATE", "TemplateBody": "Resources:\n  Q: {Type: Test::Quick}\n"], caller)
        let s = try service.store.find("r", account: "123456789012", region: "us-east-1")!
        let events = try service.store.events(stackId: s.id)
        #expect(events.map(\.status) == ["REVIEW_IN_PROGRESS"])
        #expect(events.first?.statusReason == "User Initiated" && events.first?.logicalId == "r")
        // A second change set on the same stack under review adds no event.
        _ = try await service.perform("CreateChangeSet", ["Action": "CreateChangeSet", "StackName": "r", "ChangeSetName": "c2",
                                                          "ChangeSetType": "CREATE", "TemplateBody": "Resources:\n  Q: {Type: Test::Quick}\n"], caller)
        #expect(try service.store.events(stackId: s.id).count == 1)
    }

    /// An update in flight when the emulator stops may already have changed its resource: after the restart the
    /// rollback updates it back to the properties it had, though its record still shows them.
    @Test func restartUndoesAnInterruptedUpdate() async throws {
        let h = try Harness()
        let s = try await h.create("u", "Resources:\n  A: {Type: Test::Thing, Properties: {Size: 1}}\n")
        let physical = s.resources["A"]!.physicalId!
        // Pretend the update to Size 2 reached the provider and then the emulator stopped.
        var stuck = s
        stuck.status = "UPDATE_IN_PROGRESS"
        stuck.previousResources = s.resources
        stuck.previousTemplateBody = s.templateBody
        stuck.templateBody = "Resources:\n  A: {Type: Test::Thing, Properties: {Size: 2}}\n"
        stuck.resources["A"]!.status = "UPDATE_IN_PROGRESS"
        try h.service.store.save(stuck)
        h.provider.things.withLock { $0[physical] = ["Size": .number(2)] }
        let restarted = try Harness(dir: h.dir, provider: h.provider)
        await restarted.service.settle()
        #expect(try restarted.service.store.stack(id: s.id)!.status == "UPDATE_ROLLBACK_COMPLETE")
        #expect(h.provider.live[physical] == ["Size": .number(1)])
    }

    /// A replacement in flight when the emulator stops: the new resource exists, the stack still names the old one.
    /// After the restart the new one is deleted and the old one is the stack's again.
    @Test func restartDeletesAnInterruptedReplacement() async throws {
        let dir = NSTemporaryDirectory() + "cfn-crash-" + UUID().uuidString
        let p = HalfMadeProvider()
        p.released.withLock { $0 = true }
        let service = try harness(dir, p)
        _ = try await service.perform("CreateStack", ["Action": "CreateStack", "StackName": "r",
                                                      "TemplateBody": "Resources:\n  S: {Type: Test::Slow, Properties: {Name: a}}\n"], caller)
        await service.settle()
        #expect(p.live == ["a"])
        p.released.withLock { $0 = false }
        let update = Task { _ = try await service.perform("UpdateStack", ["Action": "UpdateStack", "StackName": "r",
                                                                          "TemplateBody": "Resources:\n  S: {Type: Test::Slow, Properties: {Name: b}}\n"], caller) }
        while p.live.count < 2 { try await Task.sleep(for: .milliseconds(5)) }
        let id = try service.store.find("r", account: "123456789012", region: "us-east-1")!.id

        let restarted = try harness(dir, p)
        await restarted.settle()
        let after = try restarted.store.stack(id: id)!
        #expect(after.status == "UPDATE_ROLLBACK_COMPLETE")
        #expect(after.resources["S"]?.physicalId == "a" && after.resources["S"]?.replacementProperties == nil)
        #expect(p.live == ["a"])
        update.cancel()
        p.released.withLock { $0 = true }
    }
}
