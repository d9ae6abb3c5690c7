import Core
import Foundation
import Logging
import NIOCore
import Synchronization
import Testing

@testable import CloudFormation

/// An in-memory provider for `Test::Thing`: `Fail: true` fails create/update, `Name` is create-only,
/// `FailDelete: true` fails delete. It records every call.
final class ThingProvider: ResourceProvider {
    let things = Mutex<[String: [String: JSON]]>([:])
    let calls = Mutex<[String]>([])
    let counter = Mutex(0)
    var resourceTypes: [String] { ["Test::Thing"] }
    func createOnlyProperties(of type: String) -> Set<String> { ["Name"] }

    func create(_ request: ResourceRequest) async throws -> ResourceState {
        calls.withLock { $0.append("create \(request.logicalId)") }
        if request.properties["Fail"] == .bool(true) { throw AWSError("InvalidRequest", "thing \(request.logicalId) refused") }
        let n = counter.withLock { $0 += 1; return $0 }
        let id = (request.properties["Name"]?.string ?? request.logicalId) + "-\(n)"
        things.withLock { $0[id] = request.properties }
        return ResourceState(physicalId: id, attributes: ["Arn": .string("arn:thing:\(id)")])
    }

    func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        calls.withLock { $0.append("update \(request.logicalId)") }
        if request.properties["Fail"] == .bool(true) { throw AWSError("InvalidRequest", "thing \(request.logicalId) refused") }
        things.withLock { $0[previous.physicalId] = request.properties }
        return previous
    }

    func delete(_ request: ResourceRequest, state: ResourceState) async throws {
        calls.withLock { $0.append("delete \(request.logicalId)") }
        if request.properties["FailDelete"] == .bool(true) { throw AWSError("InvalidRequest", "cannot delete") }
        things.withLock { $0[state.physicalId] = nil }
    }

    var live: [String: [String: JSON]] { things.withLock { $0 } }
    var log: [String] { calls.withLock { $0 } }
}

struct Harness {
    let dir: String
    let provider: ThingProvider
    let service: CloudFormationService

    init(dir: String? = nil, provider: ThingProvider? = nil, objects: (any ObjectSource)? = nil) throws {
        self.dir = dir ?? NSTemporaryDirectory() + "cfn-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: self.dir, withIntermediateDirectories: true)
        let p = provider ?? ThingProvider()
        service = try CloudFormationService(directory: self.dir, clock: EmulatorClock(), providers: ResourceProviders([p]),
                                            objects: objects, logger: Logger(label: "test"))
        self.provider = p
    }

    var caller: CloudFormationService.Caller { .init(account: "123456789012", region: "us-east-1", now: Date().timeIntervalSince1970) }

    /// Perform an action and answer its XML.
    @discardableResult
    func call(_ action: String, _ p: [String: String] = [:]) async throws -> String {
        var params = p
        params["Action"] = action
        let answer = try await service.perform(action, params, caller)
        var xml = XMLWriter(declaration: false)
        if let answer { answer(&xml) }
        return String(buffer: xml.buffer)
    }

    func stack(_ name: String) throws -> Stack { try service.store.find(name, account: "123456789012", region: "us-east-1")! }

    func create(_ name: String, _ body: String, _ extra: [String: String] = [:]) async throws -> Stack {
        var p = extra
        p["StackName"] = name
        p["TemplateBody"] = body
        try await call("CreateStack", p)
        await service.settle()
        return try stack(name)
    }

    func update(_ name: String, _ body: String, _ extra: [String: String] = [:]) async throws -> Stack {
        var p = extra
        p["StackName"] = name
        p["TemplateBody"] = body
        try await call("UpdateStack", p)
        await service.settle()
        return try stack(name)
    }

    func events(_ name: String) throws -> [String] {
        let s = try stack(name)
        return try service.store.events(stackId: s.id).reversed().map { "\($0.logicalId) \($0.status)" }
    }
}

private func message(_ body: () async throws -> Void) async -> String? {
    do { try await body(); return nil } catch let e as AWSError { return e.message } catch { return "\(error)" }
}

@Suite struct EngineTests {
    let chain = """
        Parameters:
          Prefix: {Type: String, Default: p}
          Secret: {Type: String, NoEcho: true, Default: hush}
        Resources:
          A: {Type: Test::Thing, Properties: {Name: !Sub "${Prefix}-a"}}
          B: {Type: Test::Thing, Properties: {Parent: !GetAtt A.Arn}}
          C: {Type: Test::Thing, DependsOn: B}
        Outputs:
          AName: {Value: !Ref A, Export: {Name: !Sub "${AWS::StackName}-a"}}
          BArn: {Value: !GetAtt B.Arn, Description: b}
        """

    @Test func createsInOrderWithOutputsAndEvents() async throws {
        let h = try Harness()
        let s = try await h.create("s1", chain)
        #expect(s.status == "CREATE_COMPLETE")
        #expect(h.provider.log == ["create A", "create B", "create C"])
        #expect(s.outputs.map(\.key) == ["AName", "BArn"])
        #expect(s.outputs[0].value == "p-a-1")
        #expect(s.outputs[0].exportName == "s1-a")
        #expect(s.outputs[1].value == "arn:thing:B-2")
        #expect(h.provider.live["B-2"]?["Parent"] == "arn:thing:p-a-1")
        #expect(try h.events("s1") == ["s1 CREATE_IN_PROGRESS", "A CREATE_IN_PROGRESS", "A CREATE_COMPLETE",
                                       "B CREATE_IN_PROGRESS", "B CREATE_COMPLETE", "C CREATE_IN_PROGRESS", "C CREATE_COMPLETE",
                                       "s1 CREATE_COMPLETE"])
        let described = try await h.call("DescribeStacks", ["StackName": "s1"])
        #expect(described.contains("<StackStatus>CREATE_COMPLETE</StackStatus>"))
        #expect(described.contains("<ParameterKey>Secret</ParameterKey><ParameterValue>****</ParameterValue>"))
        #expect(described.contains("<OutputKey>AName</OutputKey><OutputValue>p-a-1</OutputValue><ExportName>s1-a</ExportName>"))
        let exports = try await h.call("ListExports")
        #expect(exports.contains("<Name>s1-a</Name><Value>p-a-1</Value>"))
        let resources = try await h.call("ListStackResources", ["StackName": "s1"])
        #expect(resources.contains("<LogicalResourceId>A</LogicalResourceId><PhysicalResourceId>p-a-1</PhysicalResourceId><ResourceType>Test::Thing</ResourceType>"))
        // A second stack imports the export; a duplicate export fails.
        let imp = try await h.create("s2", "Resources:\n  X: {Type: Test::Thing, Properties: {V: !ImportValue s1-a}}\n")
        #expect(imp.status == "CREATE_COMPLETE")
        #expect(h.provider.live.values.contains { $0["V"] == "p-a-1" })
    }

    @Test func apiErrors() async throws {
        let h = try Harness()
        _ = try await h.create("s1", chain)
        #expect(await message { try await h.call("CreateStack", ["StackName": "s1", "TemplateBody": chain]) } == "Stack [s1] already exists")
        #expect(await message { try await h.call("DescribeStacks", ["StackName": "nope"]) } == "Stack with id nope does not exist")
        #expect(await message { try await h.call("UpdateStack", ["StackName": "s1", "TemplateBody": chain]) } == "No updates are to be performed.")
        #expect(await message { try await h.call("CreateStack", ["StackName": "s3", "TemplateBody": "Resources: {}"]) }
                == "Template format error: At least one Resources member must be defined.")
        let valid = try await h.call("ValidateTemplate", ["TemplateBody": chain])
        #expect(valid.contains("<ParameterKey>Prefix</ParameterKey><DefaultValue>p</DefaultValue><NoEcho>false</NoEcho>"))
        let template = try await h.call("GetTemplate", ["StackName": "s1"])
        #expect(template.contains("Fn::") == false && template.contains("!Sub"))
    }

    @Test func failureRollsBackInReverseOrder() async throws {
        let h = try Harness()
        let body = """
            Resources:
              A: {Type: Test::Thing}
              B: {Type: Test::Thing, DependsOn: A}
              C: {Type: Test::Thing, DependsOn: B, Properties: {Fail: true}}
            """
        let s = try await h.create("s1", body)
        #expect(s.status == "ROLLBACK_COMPLETE")
        #expect(h.provider.live.isEmpty)
        #expect(h.provider.log == ["create A", "create B", "create C", "delete B", "delete A"])
        let events = try h.events("s1")
        #expect(events.contains("C CREATE_FAILED"))
        #expect(events.suffix(6) == ["s1 ROLLBACK_IN_PROGRESS", "B DELETE_IN_PROGRESS", "B DELETE_COMPLETE",
                                     "A DELETE_IN_PROGRESS", "A DELETE_COMPLETE", "s1 ROLLBACK_COMPLETE"])
        let rollbackEvent = try h.service.store.events(stackId: s.id).first { $0.status == "ROLLBACK_IN_PROGRESS" }
        #expect(rollbackEvent?.statusReason == "The following resource(s) failed to create: [C]. Rollback requested by user.")
        #expect(try h.service.store.events(stackId: s.id).first { $0.status == "CREATE_FAILED" }?.statusReason == "thing C refused")
    }

    @Test func unsupportedTypeFailsAndDisableRollbackKeepsResources() async throws {
        let h = try Harness()
        let body = "Resources:\n  A: {Type: Test::Thing}\n  Z: {Type: AWS::Nope::Thing, DependsOn: A}\n"
        let s = try await h.create("s1", body, ["DisableRollback": "true"])
        #expect(s.status == "CREATE_FAILED")
        #expect(s.resources["Z"]?.status == "CREATE_FAILED")
        #expect(s.resources["Z"]?.statusReason == "Resource type AWS::Nope::Thing is not supported by Cloudless")
        #expect(h.provider.live.count == 1)
        try await h.call("DeleteStack", ["StackName": "s1"])
        await h.service.settle()
        #expect(h.provider.live.isEmpty)
        let gone = try h.service.store.stack(id: s.id)!
        #expect(gone.status == "DELETE_COMPLETE")
        #expect(await message { try await h.call("DescribeStacks", ["StackName": "s1"]) } == "Stack with id s1 does not exist")
        let listed = try await h.call("ListStacks", ["StackStatusFilter.member.1": "DELETE_COMPLETE"])
        #expect(listed.contains("<StackName>s1</StackName>"))
    }

    @Test func updateInPlaceReplacementAndRemoval() async throws {
        let h = try Harness()
        let v1 = """
            Resources:
              A: {Type: Test::Thing, Properties: {Name: a, Size: 1}}
              B: {Type: Test::Thing, Properties: {Name: b, Ref: !Ref A}}
              C: {Type: Test::Thing}
            """
        let created = try await h.create("s1", v1)
        // A and C are created in one wave, concurrently: which gets which number varies, so ids are read back.
        let a = try #require(created.resources["A"]?.physicalId)
        let v2 = """
            Resources:
              A: {Type: Test::Thing, Properties: {Name: a, Size: 2}}
              B: {Type: Test::Thing, Properties: {Name: b2, Ref: !Ref A}}
            """
        let s = try await h.update("s1", v2)
        #expect(s.status == "UPDATE_COMPLETE")
        #expect(s.resources["A"]?.physicalId == a)
        #expect(s.resources["B"]?.physicalId == "b2-4")
        #expect(s.resources["C"] == nil)
        #expect(Set(h.provider.live.keys) == [a, "b2-4"])
        #expect(h.provider.log.suffix(4) == ["update A", "create B", "delete B", "delete C"])
        let events = try h.events("s1")
        #expect(events.contains("s1 UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"))
        #expect(events.last == "s1 UPDATE_COMPLETE")
        #expect(s.lastUpdated != nil)
    }

    @Test func failedUpdateRollsBack() async throws {
        let h = try Harness()
        _ = try await h.create("s1", "Resources:\n  A: {Type: Test::Thing, Properties: {Size: 1}}\n")
        let s = try await h.update("s1", """
            Resources:
              A: {Type: Test::Thing, Properties: {Size: 2}}
              N: {Type: Test::Thing, DependsOn: A}
              F: {Type: Test::Thing, DependsOn: N, Properties: {Fail: true}}
            """)
        #expect(s.status == "UPDATE_ROLLBACK_COMPLETE")
        #expect(Set(s.resources.keys) == ["A"])
        #expect(h.provider.live == ["A-1": ["Size": 1]])
        #expect(s.templateBody.contains("F:") == false)
        #expect(try h.events("s1").suffix(2) == ["s1 UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "s1 UPDATE_ROLLBACK_COMPLETE"])
    }

    @Test func retainIsHonouredOnDelete() async throws {
        let h = try Harness()
        _ = try await h.create("s1", "Resources:\n  A: {Type: Test::Thing, DeletionPolicy: Retain}\n  B: {Type: Test::Thing}\n")
        try await h.call("DeleteStack", ["StackName": "s1"])
        await h.service.settle()
        // A and B were created together (either may have got number 1): only A is left.
        #expect(h.provider.live.count == 1 && h.provider.live.keys.first?.hasPrefix("A-") == true)
        let s = try h.service.store.all(account: "123456789012", region: "us-east-1", includeDeleted: true)[0]
        #expect(try h.service.store.events(stackId: s.id).contains { $0.logicalId == "A" && $0.status == "DELETE_SKIPPED" })
        #expect(s.status == "DELETE_COMPLETE")
    }

    @Test func conditionsSkipResources() async throws {
        let h = try Harness()
        let body = """
            Parameters:
              Env: {Type: String, Default: dev}
            Conditions:
              Prod: !Equals [!Ref Env, prod]
            Resources:
              A: {Type: Test::Thing, Properties: {Extra: !If [Prod, big, !Ref AWS::NoValue]}}
              P: {Type: Test::Thing, Condition: Prod}
            """
        let s = try await h.create("s1", body)
        #expect(Set(s.resources.keys) == ["A"])
        #expect(h.provider.live["A-1"] == [:])
        let s2 = try await h.update("s1", body, ["Parameters.member.1.ParameterKey": "Env", "Parameters.member.1.ParameterValue": "prod"])
        #expect(s2.status == "UPDATE_COMPLETE")
        #expect(Set(s2.resources.keys) == ["A", "P"])
        #expect(h.provider.live["A-1"] == ["Extra": "big"])
    }

    @Test func restartRollsBackAnInterruptedCreate() async throws {
        let h = try Harness()
        let s = try await h.create("s1", "Resources:\n  A: {Type: Test::Thing}\n")
        // Pretend the emulator stopped in the middle of creating: the stack is saved CREATE_IN_PROGRESS.
        var stuck = s
        stuck.status = "CREATE_IN_PROGRESS"
        try h.service.store.save(stuck)
        let restarted = try Harness(dir: h.dir, provider: h.provider)
        await restarted.service.settle()
        let after = try restarted.service.store.stack(id: s.id)!
        #expect(after.status == "ROLLBACK_COMPLETE")
        #expect(h.provider.live.isEmpty)
    }
}
