import Core
import Foundation
import Logging
import Synchronization
import Testing

@testable import CloudFormation

/// Lambda as custom resources see it: every async invocation is recorded and answered by `reply` (nil: no answer),
/// by a PUT to the request's ResponseURL through the service's callback route.
final class FakeFunctions: FunctionEventSink {
    let requests = Mutex<[[String: JSON]]>([])
    let reply = Mutex<(@Sendable ([String: JSON]) -> [String: JSON]?)?>(nil)
    let service = Mutex<CloudFormationService?>(nil)

    func acceptsEvents(functionARN: String) -> Bool { functionARN.hasSuffix(":function:provider") }

    func invokeAsync(functionARN: String, payload: [UInt8], from principal: ServicePrincipal) throws {
        let doc = try JSONDecoder().decode(JSON.self, from: Data(payload)).object ?? [:]
        requests.withLock { $0.append(doc) }
        guard let answer = reply.withLock({ $0 })?(doc), let url = doc["ResponseURL"]?.string,
              let service = service.withLock({ $0 }) else { return }
        let path = String(url.split(separator: "?")[0].drop(while: { $0 != "/" }).dropFirst(2).drop(while: { $0 != "/" }))
        let body = Array(try JSONEncoder().encode(JSON.object(answer)))
        Task { _ = await service.internalResponse(method: .put, path: path, body: body) }
    }

    var log: [[String: JSON]] { requests.withLock { $0 } }
}

struct FakeSecrets: SecretResolver {
    func resolve(_ reference: SecretReference, account: String, region: String) throws -> String {
        guard reference.secretID == "db" else {
            throw AWSError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
        }
        if reference.jsonKey == "password" { return reference.versionStage == "AWSPREVIOUS" ? "old-pw" : "s3cret" }
        return "{\"password\":\"s3cret\"}"
    }
}

struct ExtrasHarness {
    let base: Harness
    let functions: FakeFunctions
    var service: CloudFormationService { base.service }
    let clock: EmulatorClock

    init(objects: [String: String] = [:]) throws {
        let functions = FakeFunctions()
        let clock = EmulatorClock()
        self.functions = functions
        self.clock = clock
        let dir = NSTemporaryDirectory() + "cfn-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let p = ThingProvider()
        let service = try CloudFormationService(directory: dir, clock: clock, providers: ResourceProviders([p]),
                                                objects: MemoryObjects(objects: objects), functions: functions,
                                                secrets: FakeSecrets(), endpoint: ServerEndpoint(), logger: Logger(label: "test"))
        base = Harness(dir: dir, provider: p, service: service)
        functions.service.withLock { $0 = service }
    }
}

extension Harness {
    init(dir: String, provider: ThingProvider, service: CloudFormationService) {
        self.dir = dir
        self.provider = provider
        self.service = service
    }
}

private func failure(_ body: () async throws -> Void) async -> AWSError? {
    do { try await body(); return nil } catch let e as AWSError { return e } catch { return AWSError("Other", "\(error)") }
}

let token = "arn:aws:lambda:us-east-1:123456789012:function:provider"

@Suite struct CustomResourceTests {
    let template = """
        Parameters:
          Size: {Type: Number, Default: 5}
        Resources:
          Res:
            Type: Custom::Thing
            Properties: {ServiceToken: "\(token)", Size: !Ref Size, Flag: true, Items: [1, two]}
          User:
            Type: Test::Thing
            Properties: {Greeting: !GetAtt Res.Greeting}
        Outputs:
          Id: {Value: !Ref Res}
        """

    @Test func requestsFollowAWSsShapeAndDataFeedsGetAtt() async throws {
        let h = try ExtrasHarness()
        h.functions.reply.withLock { $0 = { doc in
            ["Status": "SUCCESS", "PhysicalResourceId": .string("phys-\(doc["RequestType"]!.string!)"),
             "Data": .object(["Greeting": "hello"]), "StackId": doc["StackId"]!, "RequestId": doc["RequestId"]!,
             "LogicalResourceId": doc["LogicalResourceId"]!]
        } }
        var s = try await h.base.create("c1", template)
        #expect(s.status == "CREATE_COMPLETE")
        #expect(s.outputs.first?.value == "phys-Create")
        #expect(h.base.provider.live.values.contains { $0["Greeting"] == "hello" })
        let create = try #require(h.functions.log.first)
        #expect(create["RequestType"] == "Create")
        #expect(create["ResourceType"] == "Custom::Thing")
        #expect(create["LogicalResourceId"] == "Res")
        #expect(create["StackId"]?.string == s.id)
        #expect(create["PhysicalResourceId"] == nil)
        // Scalars arrive as strings, as AWS sends them.
        #expect(create["ResourceProperties"]?["Size"] == "5")
        #expect(create["ResourceProperties"]?["Flag"] == "true")
        #expect(create["ResourceProperties"]?["Items"] == .array(["1", "two"]))
        #expect(create["ResourceProperties"]?["ServiceToken"]?.string == token)
        #expect(create["ResponseURL"]?.string?.contains("/_cloudless/cloudformation/callback/") == true)
        #expect(create["ResponseURL"]?.string?.contains("X-Amz-Signature=") == true)

        s = try await h.base.update("c1", template, ["Parameters.member.1.ParameterKey": "Size", "Parameters.member.1.ParameterValue": "6"])
        #expect(s.status == "UPDATE_COMPLETE")
        let update = h.functions.log[1]
        #expect(update["RequestType"] == "Update")
        #expect(update["PhysicalResourceId"] == "phys-Create")
        #expect(update["ResourceProperties"]?["Size"] == "6")
        #expect(update["OldResourceProperties"]?["Size"] == "5")
        // The function answered with a new physical id: the old one gets a Delete in the cleanup.
        let delete = h.functions.log[2]
        #expect(delete["RequestType"] == "Delete")
        #expect(delete["PhysicalResourceId"] == "phys-Create")
        #expect(s.outputs.first?.value == "phys-Update")

        // Another function is refused, and the update rolls back without asking any.
        let count = h.functions.log.count
        let moved = try await h.base.update("c1", template.replacingOccurrences(of: "function:provider", with: "function:provider2"))
        #expect(moved.status == "UPDATE_ROLLBACK_COMPLETE")
        #expect(try h.service.store.events(stackId: moved.id).contains { $0.statusReason == "Modifying service token is not allowed." })
        #expect(h.functions.log.count == count)

        try await h.base.call("DeleteStack", ["StackName": "c1"])
        await h.service.settle()
        #expect(h.functions.log.last?["RequestType"] == "Delete")
        #expect(h.functions.log.last?["PhysicalResourceId"] == "phys-Update")
    }

    @Test func failedAnswerRollsBackAndDeletesWhatWasCreated() async throws {
        let h = try ExtrasHarness()
        h.functions.reply.withLock { $0 = { doc in
            doc["ResourceProperties"]?["Mode"] == "fail" && doc["RequestType"] == "Create"
                ? ["Status": "FAILED", "Reason": "no way", "PhysicalResourceId": "x"]
                : ["Status": "SUCCESS", "PhysicalResourceId": .string("ok-\(doc["LogicalResourceId"]!.string!)")]
        } }
        let body = """
            Resources:
              Good: {Type: AWS::CloudFormation::CustomResource, Properties: {ServiceToken: "\(token)"}}
              Bad: {Type: Custom::Bad, DependsOn: Good, Properties: {ServiceToken: "\(token)", Mode: fail}}
            """
        let s = try await h.base.create("c2", body)
        #expect(s.status == "ROLLBACK_COMPLETE")
        let reason = try h.service.store.events(stackId: s.id).first { $0.logicalId == "Bad" && $0.status == "CREATE_FAILED" }?.statusReason
        #expect(reason?.hasPrefix("Received response status [FAILED] from custom resource. Message returned: no way (RequestId: ") == true)
        #expect(h.functions.log.map { "\($0["LogicalResourceId"]!.string!) \($0["RequestType"]!.string!)" }
                    == ["Good Create", "Bad Create", "Bad Delete", "Good Delete"])
        // The failed resource's Delete names the physical id its FAILED answer gave.
        #expect(h.functions.log[2]["PhysicalResourceId"] == "x")
    }

    @Test func noEchoMasksWhatGetAttReadsInDescribeStacks() async throws {
        let h = try ExtrasHarness()
        h.functions.reply.withLock { $0 = { _ in
            ["Status": "SUCCESS", "PhysicalResourceId": "vault-1", "NoEcho": .bool(true), "Data": .object(["Token": "t0ps3cret"])]
        } }
        _ = try await h.base.create("c5", """
            Resources:
              Vault: {Type: Custom::Vault, Properties: {ServiceToken: "\(token)"}}
            Outputs:
              Token: {Value: !GetAtt Vault.Token}
              Inline: {Value: !Sub "token=${Vault.Token}"}
              Id: {Value: !Ref Vault}
            """)
        let described = try await h.base.call("DescribeStacks", ["StackName": "c5"])
        #expect(described.contains("<OutputKey>Token</OutputKey><OutputValue>****</OutputValue>"))
        #expect(described.contains("<OutputKey>Inline</OutputKey><OutputValue>****</OutputValue>"))
        #expect(described.contains("<OutputKey>Id</OutputKey><OutputValue>vault-1</OutputValue>"))
        #expect(!described.contains("t0ps3cret"))
    }

    @Test func answersDoNotWaitForALongOperation() async throws {
        let h = try ExtrasHarness()
        // A timeout far beyond the bound below, so a loaded machine cannot blur "answered early" with "waited it out".
        let body = "Resources:\n  Silent: {Type: Custom::Silent, Properties: {ServiceTimeout: 600, ServiceToken: \"\(token)\"}}\n"
        let id = "arn:aws:cloudformation:us-east-1:123456789012:stack/slow/1"
        try h.service.store.save(Stack(id: id, name: "slow", account: "123456789012", region: "us-east-1", status: "CREATE_IN_PROGRESS",
                                       description: nil, created: 0, templateBody: body, parameters: [], tags: [],
                                       disableRollback: false, capabilities: [], outputs: [], resources: [:]))
        await h.service.engine.start(id, .create)
        let started = Date()
        await h.service.engine.wait(id, seconds: 0.3)
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(try h.service.store.stack(id: id)?.status == "CREATE_IN_PROGRESS")
        // Then the silent function's timeout passes on the emulator's clock, however late the resource read it.
        for _ in 0..<200 {
            h.clock.advance(by: 601)
            if try h.service.store.stack(id: id)?.isInProgress == false { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        await h.service.settle()
        #expect(try h.service.store.stack(id: id)?.status == "ROLLBACK_COMPLETE")
    }

    @Test func noAnswerFailsAfterServiceTimeout() async throws {
        let h = try ExtrasHarness()
        let started = Date()
        let s = try await h.base.create("c3", """
            Resources:
              Silent: {Type: Custom::Silent, Properties: {ServiceToken: "\(token)", ServiceTimeout: 1}}
            """)
        #expect(s.status == "ROLLBACK_COMPLETE")
        #expect(Date().timeIntervalSince(started) < 10)
        let reason = try h.service.store.events(stackId: s.id).first { $0.status == "CREATE_FAILED" }?.statusReason
        #expect(reason?.hasPrefix("CloudFormation did not receive a response from your Custom Resource.") == true)
        let missing = try await h.base.create("c4", """
            Resources:
              R: {Type: Custom::R, Properties: {ServiceToken: "arn:aws:lambda:us-east-1:123456789012:function:nope"}}
            """)
        #expect(missing.status == "ROLLBACK_COMPLETE")
    }
}

@Suite struct CustomResourceAnswerTests {
    @Test func answersAreReadAsAWSReadsThem() throws {
        let ok = try CustomResourceProvider.answer(Array(#"{"Status":"SUCCESS","PhysicalResourceId":"p","Data":{"A":"1"},"NoEcho":true}"#.utf8),
                                                   requestId: "r", physicalId: nil)
        #expect(ok.physicalId == "p" && ok.data == ["A": "1"] && ok.noEcho && ok.failure == nil)
        let kept = try CustomResourceProvider.answer(Array(#"{"Status":"SUCCESS"}"#.utf8), requestId: "r", physicalId: "old")
        #expect(kept.physicalId == "old")
        let failed = try CustomResourceProvider.answer(Array(#"{"Status":"FAILED","Reason":"why"}"#.utf8), requestId: "r", physicalId: nil)
        #expect(failed.failure == "Received response status [FAILED] from custom resource. Message returned: why (RequestId: r)")
        #expect(throws: AWSError.self) { try CustomResourceProvider.answer(Array("nope".utf8), requestId: "r", physicalId: nil) }
        #expect(throws: AWSError.self) { try CustomResourceProvider.answer(Array(#"{"Status":"DONE"}"#.utf8), requestId: "r", physicalId: nil) }
        let big = #"{"Status":"SUCCESS","Data":{"A":""# + String(repeating: "x", count: 4100) + #""}}"#
        #expect(throws: AWSError.self) { try CustomResourceProvider.answer(Array(big.utf8), requestId: "r", physicalId: nil) }
    }
}

@Suite struct DynamicReferenceTests {
    @Test func parsesEveryForm() throws {
        let a = try DynamicReferences.secretReference("db")
        #expect(a.secretID == "db" && a.jsonKey == nil)
        let b = try DynamicReferences.secretReference("db:SecretString:password:AWSPREVIOUS")
        #expect(b.secretID == "db" && b.jsonKey == "password" && b.versionStage == "AWSPREVIOUS" && b.versionID == nil)
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
        let c = try DynamicReferences.secretReference(arn + ":SecretString:password::v1")
        #expect(c.secretID == arn && c.jsonKey == "password" && c.versionStage == nil && c.versionID == "v1")
        #expect(throws: AWSError.self) { try DynamicReferences.secretReference("db:SecretBinary") }
        #expect(throws: AWSError.self) { try DynamicReferences.secretReference("db:SecretString:k:AWSCURRENT:v1") }
    }

    @Test func providersGetValuesWhileTheStackKeepsReferences() async throws {
        let h = try ExtrasHarness()
        let s = try await h.base.create("d1", """
            Resources:
              T:
                Type: Test::Thing
                Properties:
                  Password: "{{resolve:secretsmanager:db:SecretString:password}}"
                  Dsn: "user:{{resolve:secretsmanager:db:SecretString:password:AWSPREVIOUS}}@host"
            """)
        #expect(s.status == "CREATE_COMPLETE")
        let live = try #require(h.base.provider.live.values.first)
        #expect(live["Password"] == "s3cret")
        #expect(live["Dsn"] == "user:old-pw@host")
        #expect(s.resources["T"]?.properties["Password"] == "{{resolve:secretsmanager:db:SecretString:password}}")
        let shown = try h.service.store.events(stackId: s.id).compactMap(\.properties).joined()
        #expect(!shown.contains("s3cret") && shown.contains("{{resolve:secretsmanager:db:SecretString:password}}"))
    }

    @Test func unservedOrMissingReferencesFailTheResource() async throws {
        let h = try ExtrasHarness()
        let s = try await h.base.create("d2", "Resources:\n  T: {Type: Test::Thing, Properties: {V: '{{resolve:ssm:/my/param}}'}}\n")
        #expect(s.status == "ROLLBACK_COMPLETE")
        let reason = try h.service.store.events(stackId: s.id).first { $0.status == "CREATE_FAILED" }?.statusReason ?? ""
        #expect(reason.contains("{{resolve:ssm:/my/param}}") && reason.contains("SSM"))
        let m = try await h.base.create("d3", "Resources:\n  T: {Type: Test::Thing, Properties: {V: '{{resolve:secretsmanager:nope}}'}}\n")
        let why = try h.service.store.events(stackId: m.id).first { $0.status == "CREATE_FAILED" }?.statusReason ?? ""
        #expect(why.hasPrefix("Secrets Manager can't find the specified secret."))
    }
}

@Suite struct NestedStackTests {
    let child = """
        Parameters:
          Label: {Type: String}
        Resources:
          Inner: {Type: Test::Thing, Properties: {Label: !Ref Label}}
        Outputs:
          InnerId: {Value: !Ref Inner}
        """

    func parent(_ label: String, fail: Bool = false) -> String {
        """
        Resources:
          Child:
            Type: AWS::CloudFormation::Stack
            Properties:
              TemplateURL: https://s3.amazonaws.com/templates/\(fail ? "bad" : "child").yaml
              Parameters: {Label: \(label)}
          User: {Type: Test::Thing, Properties: {From: !GetAtt Child.Outputs.InnerId}}
        """
    }

    @Test func childIsARealStackWhoseLifeFollowsTheParent() async throws {
        let bad = "Parameters:\n  Label: {Type: String}\nResources:\n  Inner: {Type: Test::Thing, Properties: {Fail: true}}\n"
        let h = try ExtrasHarness(objects: ["templates/child.yaml": child, "templates/bad.yaml": bad])
        let s = try await h.base.create("p1", parent("one"))
        #expect(s.status == "CREATE_COMPLETE")
        let childId = try #require(s.resources["Child"]?.physicalId)
        let c = try #require(try h.service.store.stack(id: childId))
        #expect(c.name.hasPrefix("p1-Child-") && c.name.count == "p1-Child-".count + 13)
        #expect(c.parentId == s.id && c.rootId == s.id && c.status == "CREATE_COMPLETE")
        #expect(h.base.provider.live["Inner-1"]?["Label"] == "one")
        #expect(h.base.provider.live.values.contains { $0["From"] == "Inner-1" })
        let described = try await h.base.call("DescribeStacks", ["StackName": childId])
        #expect(described.contains("<ParentId>\(s.id)</ParentId><RootId>\(s.id)</RootId>"))

        let u = try await h.base.update("p1", parent("two"))
        #expect(u.status == "UPDATE_COMPLETE")
        #expect(try h.service.store.stack(id: childId)?.status == "UPDATE_COMPLETE")
        #expect(h.base.provider.live["Inner-1"]?["Label"] == "two")

        try await h.base.call("DeleteStack", ["StackName": "p1"])
        await h.service.settle()
        #expect(try h.service.store.stack(id: childId)?.status == "DELETE_COMPLETE")
        #expect(h.base.provider.live.isEmpty)

        let f = try await h.base.create("p2", parent("x", fail: true))
        #expect(f.status == "ROLLBACK_COMPLETE")
        let reason = try h.service.store.events(stackId: f.id).first { $0.logicalId == "Child" && $0.status == "CREATE_FAILED" }?.statusReason
        #expect(reason?.hasPrefix("Embedded stack arn:aws:cloudformation:us-east-1:123456789012:stack/p2-Child-") == true)
        #expect(reason?.hasSuffix("was not successfully created: The following resource(s) failed to create: [Inner].") == true)
        let children = try h.service.store.all(account: "123456789012", region: "us-east-1", includeDeleted: true)
            .filter { $0.parentId == f.id }
        #expect(children.count == 1 && children[0].status == "DELETE_COMPLETE")
    }

    @Test func nestedIAMNeedsTheCapabilityOnTheParent() async throws {
        let iam = "Resources:\n  Role: {Type: AWS::IAM::Role, Properties: {AssumeRolePolicyDocument: {}}}\n"
        let h = try ExtrasHarness(objects: ["templates/child.yaml": iam])
        let s = try await h.base.create("p3", "Resources:\n  Child: {Type: AWS::CloudFormation::Stack, Properties: {TemplateURL: https://s3.amazonaws.com/templates/child.yaml}}\n")
        #expect(s.status == "ROLLBACK_COMPLETE")
        let reason = try h.service.store.events(stackId: s.id).first { $0.status == "CREATE_FAILED" }?.statusReason
        #expect(reason == "Requires capabilities : [CAPABILITY_IAM]")
    }
}

@Suite struct WaitConditionTests {
    func signal(_ h: ExtrasHarness, _ url: String, _ doc: String) async {
        let path = String(url.split(separator: "?")[0].drop(while: { $0 != "/" }).dropFirst(2).drop(while: { $0 != "/" }))
        _ = await h.service.internalResponse(method: .put, path: path, body: Array(doc.utf8))
    }

    let body = """
        Resources:
          Handle: {Type: AWS::CloudFormation::WaitConditionHandle}
          Wait: {Type: AWS::CloudFormation::WaitCondition, Properties: {Handle: !Ref Handle, Timeout: 30, Count: 2}}
        Outputs:
          Data: {Value: !GetAtt Wait.Data}
          Url: {Value: !Ref Handle}
        """

    /// The handle's URL once the stack has created it.
    func handleURL(_ h: ExtrasHarness, _ stack: String) async throws -> String {
        for _ in 0..<100 {
            if let s = try h.service.store.find(stack, account: "123456789012", region: "us-east-1"),
               let url = s.resources["Handle"]?.physicalId { return url }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw AWSError("Timeout", "no handle")
    }

    @Test func completesOnCountSignalsWithTheirData() async throws {
        let h = try ExtrasHarness()
        let signals = Task {
            let handle = try await handleURL(h, "w1")
            #expect(handle.contains("/_cloudless/cloudformation/callback/"))
            await signal(h, handle, #"{"Status":"SUCCESS","Reason":"r","UniqueId":"a","Data":"first"}"#)
            await signal(h, handle, #"{"Status":"SUCCESS","Reason":"r","UniqueId":"b","Data":"second"}"#)
        }
        let started = Date()
        try await h.base.call("CreateStack", ["StackName": "w1", "TemplateBody": body])
        try await signals.value
        await h.service.settle()
        // Well inside the condition's 30 s Timeout: it completed on the signals (a loaded machine may take seconds).
        #expect(Date().timeIntervalSince(started) < 25)
        let s = try h.base.stack("w1")
        #expect(s.status == "CREATE_COMPLETE")
        #expect(s.outputs.first { $0.key == "Data" }?.value == #"{"a":"first","b":"second"}"#)
    }

    @Test func failureSignalAndTimeoutFailIt() async throws {
        let h = try ExtrasHarness()
        let failing = Task {
            let url = try await handleURL(h, "w2")
            await signal(h, url, #"{"Status":"FAILURE","Reason":"disk full","UniqueId":"i-1","Data":""}"#)
        }
        try await h.base.call("CreateStack", ["StackName": "w2", "TemplateBody": body])
        try await failing.value
        await h.service.settle()
        let s = try h.base.stack("w2")
        #expect(s.status == "ROLLBACK_COMPLETE")
        let reason = try h.service.store.events(stackId: s.id).first { $0.status == "CREATE_FAILED" }?.statusReason
        #expect(reason == "WaitCondition received failed message: 'disk full' for uniqueId: i-1")

        let late = Task {
            _ = try await handleURL(h, "w3")
            // Past the 30 s timeout, however late the wait condition read the clock.
            for _ in 0..<100 {
                h.clock.advance(by: 31)
                if let s = try h.service.store.find("w3", account: "123456789012", region: "us-east-1"), !s.isInProgress { break }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        try await h.base.call("CreateStack", ["StackName": "w3", "TemplateBody": body])
        try await late.value
        await h.service.settle()
        let t = try h.base.stack("w3")
        #expect(t.status == "ROLLBACK_COMPLETE")
        let why = try h.service.store.events(stackId: t.id).first { $0.status == "CREATE_FAILED" }?.statusReason
        #expect(why == "WaitCondition timed out. Received 0 conditions when expecting 2")
    }
}

@Suite struct LanguageExtensionTests {
    @Test func lengthAndToJsonString() async throws {
        let h = try ExtrasHarness()
        let s = try await h.base.create("l1", """
            Transform: AWS::LanguageExtensions
            Parameters:
              Names: {Type: CommaDelimitedList, Default: "a,b,c"}
            Resources:
              T:
                Type: Test::Thing
                Properties:
                  Count: {"Fn::Length": !Ref Names}
                  Literal: {"Fn::Length": [1, 2]}
                  Doc: {"Fn::ToJsonString": {k: !Ref Names, n: 1}}
            """, ["Capabilities.member.1": "CAPABILITY_AUTO_EXPAND"])
        #expect(s.status == "CREATE_COMPLETE")
        let live = try #require(h.base.provider.live.values.first)
        #expect(live["Count"] == 3)
        #expect(live["Literal"] == 2)
        #expect(live["Doc"] == #"{"k":["a","b","c"],"n":1}"#)
        let without = try await h.base.create("l2", "Resources:\n  T: {Type: Test::Thing, Properties: {C: {'Fn::Length': [1]}}}\n")
        #expect(without.status == "ROLLBACK_COMPLETE")
    }
}

@Suite struct ForEachTests {
    let body = """
        Transform: AWS::LanguageExtensions
        Parameters:
          Names: {Type: CommaDelimitedList, Default: "a,b"}
        Resources:
          Fn::ForEach::Things:
            - Name
            - !Ref Names
            - Thing${Name}:
                Type: Test::Thing
                Properties:
                  Label: !Ref Name
                  Full: !Sub "thing-${Name}"
                  Fn::ForEach::Extras: [Extra, [x, y], {"&{Extra}Flag": "${Name}-${Extra}"}]
        Outputs:
          Fn::ForEach::Out:
            - Name
            - !Ref Names
            - Out${Name}: {Value: !Ref "Thing${Name}"}
        """

    @Test func expandsWithTheStacksValuesOrTheDefaults() async throws {
        let byDefault = try Template(body: body)
        #expect(byDefault.resources.keys.sorted() == ["Thinga", "Thingb"])
        let h = try ExtrasHarness()
        let s = try await h.base.create("fe1", body, ["Capabilities.member.1": "CAPABILITY_AUTO_EXPAND",
                                                      "Parameters.member.1.ParameterKey": "Names",
                                                      "Parameters.member.1.ParameterValue": "red, blue,green"])
        #expect(s.status == "CREATE_COMPLETE")
        #expect(s.resources.keys.sorted() == ["Thingblue", "Thinggreen", "Thingred"])
        let blue = try #require(h.base.provider.live.values.first { $0["Label"] == "blue" })
        #expect(blue["Full"] == "thing-blue" && blue["xFlag"] == "blue-x" && blue["yFlag"] == "blue-y")
        #expect(s.outputs.map(\.key) == ["Outblue", "Outgreen", "Outred"])
        #expect(s.outputs.first?.value == s.resources["Thingblue"]?.physicalId)
    }

    @Test func changeSetsExpandWithTheirValues() async throws {
        let h = try ExtrasHarness()
        try await h.base.call("CreateChangeSet", ["StackName": "fe2", "ChangeSetName": "c1", "ChangeSetType": "CREATE",
                                                  "TemplateBody": body, "Parameters.member.1.ParameterKey": "Names",
                                                  "Parameters.member.1.ParameterValue": "p,q"])
        let changes = try h.base.stack("fe2").changeSets.last?.changes.map { "\($0.action) \($0.logicalId)" }
        #expect(changes == ["Add Thingp", "Add Thingq"])
    }

    @Test func refusals() throws {
        func message(_ text: String) -> String? {
            do { _ = try Template(body: text); return nil } catch let e as AWSError { return e.message } catch { return "\(error)" }
        }
        let head = "Transform: AWS::LanguageExtensions\nParameters:\n  One: {Type: String, Default: a}\nResources:\n"
        #expect(message(head + "  Fn::ForEach::L: [N, [a, a], {T: {Type: Test::Thing}}]\n")
                    == "Template format error: Fn::ForEach::L: duplicate key T after Fn::ForEach expansion")
        #expect(message(head + "  Fn::ForEach::L: [N, !Ref One, {\"T${N}\": {Type: Test::Thing}}]\n")
                    == "Template format error: Fn::ForEach::L: Fn::ForEach collection parameter One must be a list type")
        #expect(message(head + "  Fn::ForEach::L: [N, {T: {Type: Test::Thing}}]\n")
                    == "Template format error: Fn::ForEach::L: Fn::ForEach takes [identifier, collection, {key: fragment}]")
    }
}

@Suite struct ExportsInUseTests {
    @Test func importedExportsCannotGoAway() async throws {
        let h = try ExtrasHarness()
        let exporter = "Parameters:\n  V: {Type: String, Default: one}\nResources:\n  T: {Type: Test::Thing}\nOutputs:\n  O: {Value: !Ref V, Export: {Name: shared}}\n"
        _ = try await h.base.create("e1", exporter)
        _ = try await h.base.create("e2", "Resources:\n  T: {Type: Test::Thing, Properties: {V: !ImportValue shared}}\n")
        // A stack whose creation failed and rolled back imports nothing.
        let failed = try await h.base.create("e3", "Resources:\n  T: {Type: Test::Thing, Properties: {V: !ImportValue shared, Fail: true}}\n")
        #expect(failed.status == "ROLLBACK_COMPLETE")
        let imports = try await h.base.call("ListImports", ["ExportName": "shared"])
        #expect(imports.contains("<Imports><member>e2</member></Imports>"))
        let none = await failure { try await h.base.call("ListImports", ["ExportName": "other"]) }
        #expect(none?.message == "Export 'other' is not imported by any stack.")

        var s = try await h.base.update("e1", exporter, ["Parameters.member.1.ParameterKey": "V", "Parameters.member.1.ParameterValue": "two"])
        #expect(s.status == "UPDATE_ROLLBACK_COMPLETE")
        var events = try h.service.store.events(stackId: s.id)
        #expect(events.first { $0.status == "UPDATE_ROLLBACK_IN_PROGRESS" }?.statusReason == "Cannot update export shared as it is in use by e2.")
        s = try await h.base.update("e1", "Resources:\n  T: {Type: Test::Thing}\n")
        events = try h.service.store.events(stackId: s.id)
        #expect(s.status == "UPDATE_ROLLBACK_COMPLETE")
        #expect(events.first { $0.status == "UPDATE_ROLLBACK_IN_PROGRESS" }?.statusReason == "Cannot delete export shared as it is in use by e2.")

        try await h.base.call("DeleteStack", ["StackName": "e1"])
        await h.service.settle()
        s = try h.base.stack("e1")
        #expect(s.status == "DELETE_FAILED")
        #expect(s.statusReason == "Export shared cannot be deleted as it is in use by e2")

        try await h.base.call("DeleteStack", ["StackName": "e2"])
        try await h.base.call("DeleteStack", ["StackName": "e3"])
        await h.service.settle()
        try await h.base.call("DeleteStack", ["StackName": "e1"])
        await h.service.settle()
        #expect(try h.service.store.all(account: "123456789012", region: "us-east-1", includeDeleted: false).isEmpty)
    }
}

@Suite struct CapabilityTests {
    @Test func iamNamedIamAndAutoExpand() throws {
        let role = "Resources:\n  R: {Type: AWS::IAM::Role, Properties: {AssumeRolePolicyDocument: {}}}\n"
        let named = "Resources:\n  R: {Type: AWS::IAM::Role, Properties: {RoleName: x, AssumeRolePolicyDocument: {}}}\n"
        func check(_ body: String, _ given: [String], direct: Bool = true) -> String? {
            do {
                try Capabilities.check(body: body, template: try Template(body: body), given: given, direct: direct)
                return nil
            } catch let e as AWSError { return "\(e.code): \(e.message)" } catch { return "\(error)" }
        }
        #expect(check(role, []) == "InsufficientCapabilitiesException: Requires capabilities : [CAPABILITY_IAM]")
        #expect(check(role, ["CAPABILITY_IAM"]) == nil)
        #expect(check(role, ["CAPABILITY_NAMED_IAM"]) == nil)
        #expect(check(named, ["CAPABILITY_IAM"]) == "InsufficientCapabilitiesException: Requires capabilities : [CAPABILITY_NAMED_IAM]")
        let sam = "Transform: AWS::Serverless-2016-10-31\nResources:\n  Q: {Type: AWS::SQS::Queue}\n"
        #expect(check(sam, []) == "InsufficientCapabilitiesException: Requires capabilities : [CAPABILITY_AUTO_EXPAND]")
        #expect(check(sam, [], direct: false) == nil)
        #expect(check(sam, ["CAPABILITY_AUTO_EXPAND"]) == nil)
    }

    @Test func validateTemplateNamesTheCapabilities() async throws {
        let h = try ExtrasHarness()
        let body = "Resources:\n  R: {Type: AWS::IAM::Role, Properties: {AssumeRolePolicyDocument: {}}}\n  Q: {Type: Test::Thing}\n"
        for action in ["ValidateTemplate", "GetTemplateSummary"] {
            let xml = try await h.base.call(action, ["TemplateBody": body])
            #expect(xml.contains("<Capabilities><member>CAPABILITY_IAM</member></Capabilities><CapabilitiesReason>The following resource(s) require capabilities: [AWS::IAM::Role]</CapabilitiesReason>"))
        }
        let plain = try await h.base.call("ValidateTemplate", ["TemplateBody": "Resources:\n  Q: {Type: Test::Thing}\n"])
        #expect(!plain.contains("Capabilities"))
    }
}

@Suite struct OnFailureAndPagingTests {
    @Test func onFailureDeleteAndDoNothing() async throws {
        let h = try ExtrasHarness()
        let bad = "Resources:\n  A: {Type: Test::Thing}\n  B: {Type: Test::Thing, DependsOn: A, Properties: {Fail: true}}\n"
        try await h.base.call("CreateStack", ["StackName": "f1", "TemplateBody": bad, "OnFailure": "DELETE"])
        await h.service.settle()
        let all = try h.service.store.all(account: "123456789012", region: "us-east-1", includeDeleted: true)
        #expect(all.first { $0.name == "f1" }?.status == "DELETE_COMPLETE")
        #expect(h.base.provider.live.isEmpty)
        let kept = try await h.base.create("f2", bad, ["OnFailure": "DO_NOTHING"])
        #expect(kept.status == "CREATE_FAILED")
        let both = await failure { try await h.base.call("CreateStack", ["StackName": "f3", "TemplateBody": bad, "OnFailure": "ROLLBACK", "DisableRollback": "true"]) }
        #expect(both?.message == "You cannot specify both DisableRollback and OnFailure.")
        let wrong = await failure { try await h.base.call("CreateStack", ["StackName": "f3", "TemplateBody": bad, "OnFailure": "KEEP"]) }
        #expect(wrong?.code == "ValidationError")
    }

    @Test func pagesOfAHundred() throws {
        let items = Array(0..<250)
        let (a, t1) = try Paging.page(items, token: nil)
        #expect(a == Array(0..<100) && t1 != nil)
        let (b, t2) = try Paging.page(items, token: t1)
        #expect(b == Array(100..<200) && t2 != nil)
        let (c, t3) = try Paging.page(items, token: t2)
        #expect(c == Array(200..<250) && t3 == nil)
        #expect(throws: AWSError.self) { try Paging.page(items, token: "garbage") }
    }
}

@Suite struct CallbackTests {
    @Test func presignedStyleURLsTakePutsLikeS3() async throws {
        let endpoint = ServerEndpoint()
        endpoint.set(host: "0.0.0.0", port: 4599)
        let callbacks = Callbacks(endpoint: endpoint)
        let key = "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1|Res|req-1"
        let url = callbacks.url(key: key, region: "us-east-1", now: 0)
        #expect(url.hasPrefix("http://127.0.0.1:4599/_cloudless/cloudformation/callback/arn%3Aaws%3Acloudformation%3A"))
        #expect(url.contains("?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=19700101T000000Z&"))
        #expect(Callbacks.key(ofURL: url) == key)
        let path = String(url.dropFirst("http://127.0.0.1:4599".count).split(separator: "?")[0])
        #expect(callbacks.handle(method: .get, path: path, body: [])?.status == .methodNotAllowed)
        let put = callbacks.handle(method: .put, path: path, body: Array("{}".utf8))
        #expect(put?.status == .ok && put?.headers[values: .init("etag")!] == ["\"99914b932bd37a50b983c5e7c90ae93b\""])
        #expect(callbacks.handle(method: .put, path: "/_cloudless/cloudformation/other", body: []) == nil)
        #expect(callbacks.take(key) == Array("{}".utf8))
        #expect(callbacks.take(key) == nil)
    }
}
