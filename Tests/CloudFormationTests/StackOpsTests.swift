import Core
import Foundation
import Testing

@testable import CloudFormation

private func message(_ body: () async throws -> Void) async -> String? {
    do { try await body(); return nil } catch let e as AWSError { return e.message } catch { return "\(error)" }
}

@Suite struct TerminationProtectionTests {
    @Test func protectsFromDeletionUntilDisabled() async throws {
        let h = try Harness()
        let s = try await h.create("t1", "Resources:\n  A: {Type: Test::Thing}\n", ["EnableTerminationProtection": "true"])
        #expect(try await h.call("DescribeStacks", ["StackName": "t1"]).contains("<EnableTerminationProtection>true</EnableTerminationProtection>"))
        #expect(await message { try await h.call("DeleteStack", ["StackName": "t1"]) }
                == "Stack [t1] cannot be deleted while TerminationProtection is enabled")
        #expect(try h.stack("t1").status == "CREATE_COMPLETE")
        let answer = try await h.call("UpdateTerminationProtection", ["StackName": "t1", "EnableTerminationProtection": "false"])
        #expect(answer == "<StackId>\(s.id)</StackId>")
        #expect(try await h.call("DescribeStacks", ["StackName": "t1"]).contains("<EnableTerminationProtection>false</EnableTerminationProtection>"))
        try await h.call("DeleteStack", ["StackName": "t1"])
        await h.service.settle()
        #expect(try h.service.store.stack(id: s.id)?.status == "DELETE_COMPLETE")
        #expect(await message { try await h.call("UpdateTerminationProtection", ["StackName": "t1", "EnableTerminationProtection": "true"]) }
                == "Stack with id t1 does not exist")
    }

    @Test func concurrentChangesOfDifferentOptionsAllCount() async throws {
        let h = try Harness()
        let s = try await h.create("t3", "Resources:\n  A: {Type: Test::Thing}\n")
        let policy = "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"Update:*\", \"Principal\": \"*\", \"Resource\": \"*\"}]}"
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<20 {
                group.addTask {
                    if i % 2 == 0 {
                        try await h.call("UpdateTerminationProtection", ["StackName": "t3", "EnableTerminationProtection": "true"])
                    } else {
                        try await h.call("SetStackPolicy", ["StackName": "t3", "StackPolicyBody": policy])
                    }
                }
            }
            try await group.waitForAll()
        }
        let o = try h.service.store.options(stackId: s.id)
        #expect(o.terminationProtection && o.policy == policy)
    }

    @Test func survivesAnOperationRunningMeanwhile() async throws {
        let h = try Harness()
        _ = try await h.create("t2", "Resources:\n  A: {Type: Test::Thing}\n")
        try await h.call("UpdateTerminationProtection", ["StackName": "t2", "EnableTerminationProtection": "true"])
        _ = try await h.update("t2", "Resources:\n  A: {Type: Test::Thing, Properties: {V: 2}}\n")
        #expect(try h.service.store.options(stackId: h.stack("t2").id).terminationProtection)
    }
}

@Suite struct StackPolicyTests {
    @Test func evaluation() throws {
        let p = try StackPolicy(body: """
            {"Statement": [
              {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
              {"Effect": "Deny", "Action": ["Update:Replace", "Update:Delete"], "Principal": "*", "Resource": "LogicalResourceId/Db*"},
              {"Effect": "Deny", "Action": "Update:*", "Principal": "*", "Resource": "*",
               "Condition": {"StringLike": {"ResourceType": ["AWS::SQS::*"]}}}
            ]}
            """)
        #expect(p.denial(action: "Update:Modify", logicalId: "DbMain", type: "AWS::RDS::DBInstance") == nil)
        #expect(p.denial(action: "Update:Replace", logicalId: "DbMain", type: "AWS::RDS::DBInstance")
                == "Action denied by stack policy: Statement [#2] does not allow [Update:Replace] for resource [LogicalResourceId/DbMain]")
        #expect(p.denial(action: "Update:Modify", logicalId: "Q", type: "AWS::SQS::Queue")?.contains("Statement [#3]") == true)
        // Default deny once a policy exists; NotResource and StringEquals.
        let q = try StackPolicy(body: """
            {"Statement": {"Effect": "Allow", "Action": "Update:Modify", "Principal": "*", "NotResource": "LogicalResourceId/Keep",
                           "Condition": {"StringEquals": {"ResourceType": "Test::Thing"}}}}
            """)
        #expect(q.denial(action: "Update:Modify", logicalId: "Other", type: "Test::Thing") == nil)
        #expect(q.denial(action: "Update:Modify", logicalId: "Keep", type: "Test::Thing")?.hasPrefix("Action not allowed by stack policy") == true)
        #expect(q.denial(action: "Update:Modify", logicalId: "Other", type: "Test::Other") != nil)
        #expect(q.denial(action: "Update:Delete", logicalId: "Other", type: "Test::Thing") != nil)
        #expect(throws: AWSError.self) { try StackPolicy(body: "{\"Statement\": [{\"Effect\": \"Maybe\"}]}") }
        #expect(throws: AWSError.self) { try StackPolicy(body: "not json") }
    }

    let template = """
        Resources:
          A: {Type: Test::Thing, Properties: {V: 1}}
          B: {Type: Test::Thing, Properties: {V: 1}}
        """
    let protectA = """
        {"Statement": [{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
                       {"Effect": "Deny", "Action": "Update:*", "Principal": "*", "Resource": "LogicalResourceId/A"}]}
        """

    @Test func deniedUpdateFailsAndRollsBack() async throws {
        let h = try Harness()
        _ = try await h.create("p1", template, ["StackPolicyBody": protectA])
        #expect(try await h.call("GetStackPolicy", ["StackName": "p1"]).contains("LogicalResourceId/A"))
        let s = try await h.update("p1", "Resources:\n  A: {Type: Test::Thing, Properties: {V: 2}}\n  B: {Type: Test::Thing, Properties: {V: 2}}\n")
        #expect(s.status == "UPDATE_ROLLBACK_COMPLETE")
        let events = try h.service.store.events(stackId: s.id)
        let failed = try #require(events.first { $0.logicalId == "A" && $0.status == "UPDATE_FAILED" })
        #expect(failed.statusReason == "Action denied by stack policy: Statement [#2] does not allow [Update:Modify] for resource [LogicalResourceId/A]")
        #expect(h.provider.live[s.resources["A"]!.physicalId!]?["V"] == 1)
        #expect(h.provider.live[s.resources["B"]!.physicalId!]?["V"] == 1)  // B updated, then rolled back

        // A template without the resource the policy names is refused: the policy would name nothing.
        #expect(await message { try await h.call("UpdateStack", ["StackName": "p1", "TemplateBody": "Resources:\n  B: {Type: Test::Thing, Properties: {V: 1}}\n"]) }
                == "Error validating existing stack policy: Unknown logical id 'LogicalResourceId/A' in statement {} - stack policies can only be applied to logical ids referenced in the template")
        #expect(try h.stack("p1").status == "UPDATE_ROLLBACK_COMPLETE")

        // A policy for this update only lets it through, and is gone afterwards.
        let allowAll = "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"Update:*\", \"Principal\": \"*\", \"Resource\": \"*\"}]}"
        let done = try await h.update("p1", "Resources:\n  A: {Type: Test::Thing, Properties: {V: 3}}\n  B: {Type: Test::Thing, Properties: {V: 1}}\n",
                                      ["StackPolicyDuringUpdateBody": allowAll])
        #expect(done.status == "UPDATE_COMPLETE")
        #expect(try h.service.store.options(stackId: done.id).policyDuringUpdate == nil)
        #expect(try h.service.store.options(stackId: done.id).policy == protectA)
    }

    @Test func setStackPolicyAndErrors() async throws {
        let h = try Harness()
        _ = try await h.create("p2", template)
        #expect(try await h.call("GetStackPolicy", ["StackName": "p2"]) == "")
        let denyAll = "{\"Statement\": [{\"Effect\": \"Deny\", \"Action\": \"Update:*\", \"Principal\": \"*\", \"Resource\": \"*\"}]}"
        try await h.call("SetStackPolicy", ["StackName": "p2", "StackPolicyBody": denyAll])
        let s = try await h.update("p2", "Resources:\n  A: {Type: Test::Thing, Properties: {V: 1}}\n  B: {Type: Test::Thing, Properties: {V: 5}}\n")
        #expect(s.status == "UPDATE_ROLLBACK_COMPLETE")
        // Removing a resource is Update:Delete, denied too.
        let removed = try await h.update("p2", "Resources:\n  A: {Type: Test::Thing, Properties: {V: 1}}\n")
        #expect(removed.status == "UPDATE_ROLLBACK_COMPLETE")
        #expect(removed.resources["B"] != nil)
        #expect(try h.service.store.events(stackId: s.id).contains {
            $0.logicalId == "B" && $0.status == "UPDATE_FAILED"
                && $0.statusReason == "Action denied by stack policy: Statement [#1] does not allow [Update:Delete] for resource [LogicalResourceId/B]"
        })
        #expect(await message { try await h.call("SetStackPolicy", ["StackName": "p2", "StackPolicyBody": "{"]) }
                == "Error validating stack policy: Invalid stack policy")
        #expect(await message { try await h.call("SetStackPolicy", ["StackName": "p2", "StackPolicyBody": String(repeating: " ", count: 16385)]) }
                == "1 validation error detected: Value at 'stackPolicyBody' failed to satisfy constraint: Member must have length less than or equal to 16384")
        #expect(await message { try await h.call("SetStackPolicy", ["StackName": "p2", "StackPolicyBody": "{\"Statement\": [{\"Effect\": \"Deny\", \"Action\": \"Update:*\", \"Principal\": \"*\", \"Resource\": \"LogicalResourceId/Z\"}]}"]) }
                == "Error validating stack policy: Unknown logical id 'LogicalResourceId/Z' in statement {} - stack policies can only be applied to logical ids referenced in the template")
        #expect(await message { try await h.call("SetStackPolicy", ["StackName": "p2", "StackPolicyBody": denyAll, "StackPolicyURL": "http://x/y"]) }
                == "You cannot specify both StackPolicyURL and StackPolicyBody")
        #expect(await message { try await h.call("SetStackPolicy", ["StackName": "nope", "StackPolicyBody": denyAll]) }
                == "Stack with id nope does not exist")
        // A bad policy on CreateStack creates nothing.
        #expect(await message { try await h.call("CreateStack", ["StackName": "p3", "TemplateBody": template, "StackPolicyBody": "[]"]) } != nil)
        #expect(try h.service.store.find("p3", account: "123456789012", region: "us-east-1") == nil)
    }
}

@Suite struct StackRecoveryTests {
    @Test func rollbackStackAfterCreateFailed() async throws {
        let h = try Harness()
        let s = try await h.create("r1", "Resources:\n  A: {Type: Test::Thing}\n  B: {Type: Test::Thing, DependsOn: A, Properties: {Fail: true}}\n",
                                   ["DisableRollback": "true"])
        #expect(s.status == "CREATE_FAILED")
        #expect(await message { try await h.call("ContinueUpdateRollback", ["StackName": "r1"]) }
                == "ContinueUpdateRollback cannot be called from current stack status")
        let answer = try await h.call("RollbackStack", ["StackName": "r1"])
        #expect(answer == "<StackId>\(s.id)</StackId>")
        await h.service.settle()
        #expect(try h.stack("r1").status == "ROLLBACK_COMPLETE")
        #expect(h.provider.live.isEmpty)
        #expect(try h.events("r1").suffix(4) == ["r1 ROLLBACK_IN_PROGRESS", "A DELETE_IN_PROGRESS", "A DELETE_COMPLETE", "r1 ROLLBACK_COMPLETE"])
        #expect(await message { try await h.call("RollbackStack", ["StackName": "r1"]) }
                == "Stack \(s.id) is in ROLLBACK_COMPLETE state and can not be rolled back.")
    }

    @Test func rollbackStackKeepsRetainedResourcesUnlessRetainExceptOnCreate() async throws {
        let h = try Harness()
        let body = "Resources:\n  A: {Type: Test::Thing, DeletionPolicy: Retain}\n  B: {Type: Test::Thing, DependsOn: A, Properties: {Fail: true}}\n"
        let kept = try await h.create("r4", body, ["DisableRollback": "true"])
        try await h.call("RollbackStack", ["StackName": "r4"])
        await h.service.settle()
        #expect(try h.stack("r4").status == "ROLLBACK_COMPLETE")
        #expect(try h.events("r4").contains("A DELETE_SKIPPED"))
        #expect(h.provider.live[kept.resources["A"]!.physicalId!] != nil)
        let gone = try await h.create("r5", body, ["DisableRollback": "true"])
        try await h.call("RollbackStack", ["StackName": "r5", "RetainExceptOnCreate": "true"])
        await h.service.settle()
        #expect(try h.stack("r5").status == "ROLLBACK_COMPLETE")
        #expect(h.provider.live[gone.resources["A"]!.physicalId!] == nil)
    }

    @Test func aFailedUpdateIsUpdatedBackInTheRollback() async throws {
        let h = try Harness()
        _ = try await h.create("r6", "Resources:\n  A: {Type: Test::Thing, Properties: {V: 1}}\n")
        let s = try await h.update("r6", "Resources:\n  A: {Type: Test::Thing, Properties: {V: 2, Fail: true}}\n")
        #expect(s.status == "UPDATE_ROLLBACK_COMPLETE")
        #expect(h.provider.log.suffix(2) == ["update A", "update A"])  // the failed update, then the one back
        #expect(try h.events("r6").suffix(6) == ["A UPDATE_FAILED", "r6 UPDATE_ROLLBACK_IN_PROGRESS", "A UPDATE_IN_PROGRESS",
                                                 "A UPDATE_COMPLETE", "r6 UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
                                                 "r6 UPDATE_ROLLBACK_COMPLETE"])
        #expect(s.resources["A"]?.properties == ["V": 1])
    }

    @Test func anUpdateResumesFromUpdateFailed() async throws {
        let h = try Harness()
        let created = try await h.create("r7", "Resources:\n  A: {Type: Test::Thing, Properties: {V: 1}}\n  B: {Type: Test::Thing, Properties: {V: 1}}\n")
        let a = try #require(created.resources["A"]?.physicalId)
        // B's update fails: with DisableRollback, A keeps its update and B returns to its last stable properties.
        let failed = try await h.update("r7", "Resources:\n  A: {Type: Test::Thing, Properties: {V: 2}}\n  B: {Type: Test::Thing, DependsOn: A, Properties: {V: 2, Fail: true}}\n",
                                        ["DisableRollback": "true"])
        #expect(failed.status == "UPDATE_FAILED")
        #expect(failed.resources["B"]?.status == "UPDATE_FAILED")
        #expect(failed.resources["B"]?.properties == ["V": 1])
        #expect(h.provider.log.suffix(3) == ["update A", "update B", "update B"])  // B's update, then B's return
        #expect(try await h.call("DescribeStacks", ["StackName": "r7"]).contains("<DisableRollback>true</DisableRollback>"))
        // A fixed template resumes: B is updated, A (already there) is left alone.
        let resumed = try await h.update("r7", "Resources:\n  A: {Type: Test::Thing, Properties: {V: 2}}\n  B: {Type: Test::Thing, DependsOn: A, Properties: {V: 2}}\n")
        #expect(resumed.status == "UPDATE_COMPLETE")
        #expect(h.provider.log.last == "update B")
        #expect(h.provider.live[a]?["V"] == 2 && h.provider.live[resumed.resources["B"]!.physicalId!]?["V"] == 2)
    }

    @Test func anUpdateResumesFromCreateFailed() async throws {
        let h = try Harness()
        let s = try await h.create("r8", "Resources:\n  A: {Type: Test::Thing}\n  B: {Type: Test::Thing, DependsOn: A, Properties: {Fail: true}}\n",
                                   ["DisableRollback": "true"])
        #expect(s.status == "CREATE_FAILED")
        let resumed = try await h.update("r8", "Resources:\n  A: {Type: Test::Thing}\n  B: {Type: Test::Thing, DependsOn: A}\n")
        #expect(resumed.status == "UPDATE_COMPLETE")
        #expect(resumed.resources["A"]?.physicalId == s.resources["A"]?.physicalId)
        #expect(resumed.resources["B"]?.status == "CREATE_COMPLETE")
        #expect(h.provider.live.count == 2)
    }

    @Test func rollbackStackAfterUpdateFailed() async throws {
        let h = try Harness()
        _ = try await h.create("r2", "Resources:\n  A: {Type: Test::Thing, Properties: {V: 1}}\n")
        let s = try await h.update("r2", "Resources:\n  A: {Type: Test::Thing, Properties: {V: 2}}\n  B: {Type: Test::Thing, DependsOn: A, Properties: {Fail: true}}\n",
                                   ["DisableRollback": "true"])
        #expect(s.status == "UPDATE_FAILED")
        #expect(h.provider.live[s.resources["A"]!.physicalId!]?["V"] == 2)
        try await h.call("RollbackStack", ["StackName": "r2"])
        await h.service.settle()
        let after = try h.stack("r2")
        #expect(after.status == "UPDATE_ROLLBACK_COMPLETE")
        #expect(h.provider.live[after.resources["A"]!.physicalId!]?["V"] == 1)
        #expect(after.resources["B"] == nil)
        #expect(after.templateBody.contains("V: 1}}\n") && !after.templateBody.contains("B:"))
    }

    @Test func continueUpdateRollbackSkippingAResource() async throws {
        let h = try Harness()
        _ = try await h.create("r3", "Resources:\n  A: {Type: Test::Thing, Properties: {V: 1}}\n")
        var s = try h.stack("r3")
        // Make the rollback fail: the old properties (what the rollback returns to) say Fail.
        s.resources["A"]!.properties["Fail"] = .bool(true)
        try h.service.store.save(s)
        s = try await h.update("r3", "Resources:\n  A: {Type: Test::Thing, Properties: {V: 2}}\n  B: {Type: Test::Thing, DependsOn: A, Properties: {Fail: true}}\n")
        #expect(s.status == "UPDATE_ROLLBACK_FAILED")
        #expect(s.resources["A"]?.status == "UPDATE_FAILED")
        #expect(await message { try await h.call("CancelUpdateStack", ["StackName": "r3"]) }
                == "CancelUpdateStack cannot be called from current stack status")
        #expect(await message { try await h.call("UpdateStack", ["StackName": "r3", "UsePreviousTemplate": "true"]) }?
            .contains("UPDATE_ROLLBACK_FAILED state and can not be updated") == true)
        // Tried again without skipping: fails again.
        try await h.call("ContinueUpdateRollback", ["StackName": "r3"])
        await h.service.settle()
        #expect(try h.stack("r3").status == "UPDATE_ROLLBACK_FAILED")
        #expect(await message { try await h.call("ContinueUpdateRollback", ["StackName": "r3", "ResourcesToSkip.member.1": "Z"]) }
                == "Resource Z does not exist for stack r3")
        try await h.call("ContinueUpdateRollback", ["StackName": "r3", "ResourcesToSkip.member.1": "A"])
        await h.service.settle()
        let after = try h.stack("r3")
        #expect(after.status == "UPDATE_ROLLBACK_COMPLETE")
        #expect(after.resources["A"]?.status == "UPDATE_COMPLETE")
        #expect(h.provider.live[after.resources["A"]!.physicalId!]?["V"] == 2)  // skipped: left as it is
        #expect(try h.events("r3").suffix(4) == ["r3 UPDATE_ROLLBACK_IN_PROGRESS", "A UPDATE_COMPLETE",
                                                  "r3 UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "r3 UPDATE_ROLLBACK_COMPLETE"])
        // A skipped resource's state is unknown: drift detection leaves it NOT_CHECKED until an update completes.
        let one = try await h.call("DetectStackResourceDrift", ["StackName": "r3", "LogicalResourceId": "A"])
        #expect(one.contains("<StackResourceDriftStatus>NOT_CHECKED</StackResourceDriftStatus>"))
        #expect(try await h.detectDrift("r3").contains("<StackDriftStatus>IN_SYNC</StackDriftStatus>"))
        _ = try await h.update("r3", "Resources:\n  A: {Type: Test::Thing, Properties: {V: 7}}\n")
        #expect(try h.stack("r3").status == "UPDATE_COMPLETE")
        let checked = try await h.call("DetectStackResourceDrift", ["StackName": "r3", "LogicalResourceId": "A"])
        #expect(checked.contains("<StackResourceDriftStatus>IN_SYNC</StackResourceDriftStatus>"))
    }
}

/// `Test::Slow`: updates take `Seconds` (cancellable).
final class SlowProvider: ResourceProvider {
    var resourceTypes: [String] { ["Test::Slow"] }
    func createOnlyProperties(of type: String) -> Set<String> { [] }
    func create(_ request: ResourceRequest) async throws -> ResourceState { ResourceState(physicalId: request.logicalId) }
    func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        try await Task.sleep(for: .seconds(request.properties["Seconds"]?.double ?? 0))
        return previous
    }
    func delete(_ request: ResourceRequest, state: ResourceState) async throws {}
}

@Suite struct CancelUpdateTests {
    @Test func cancelStopsTheUpdateAndRollsBack() async throws {
        let dir = NSTemporaryDirectory() + "cfn-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let things = ThingProvider()
        let service = try CloudFormationService(directory: dir, clock: EmulatorClock(), providers: ResourceProviders([things, SlowProvider()]),
                                                logger: .init(label: "test"))
        let caller = CloudFormationService.Caller(account: "123456789012", region: "us-east-1", now: Date().timeIntervalSince1970)
        func call(_ action: String, _ p: [String: String]) async throws { _ = try await service.perform(action, p, caller) }
        try await call("CreateStack", ["StackName": "c1", "TemplateBody": "Resources:\n  T: {Type: Test::Thing, Properties: {V: 1}}\n  S: {Type: Test::Slow, Properties: {Seconds: 0}}\n"])
        await service.settle()
        // The update answers after its wait; run it aside and cancel once S is updating.
        let update = Task {
            try await call("UpdateStack", ["StackName": "c1", "TemplateBody": "Resources:\n  T: {Type: Test::Thing, Properties: {V: 2}}\n  S: {Type: Test::Slow, DependsOn: T, Properties: {Seconds: 30}}\n"])
        }
        let started = ContinuousClock.now
        var status = ""
        while ContinuousClock.now - started < .seconds(10) {
            let s = try service.store.find("c1", account: "123456789012", region: "us-east-1")!
            status = s.status
            if s.resources["S"]?.status == "UPDATE_IN_PROGRESS" { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(status == "UPDATE_IN_PROGRESS")
        try await call("CancelUpdateStack", ["StackName": "c1"])
        try await update.value
        await service.settle()
        #expect(ContinuousClock.now - started < .seconds(10))
        let s = try service.store.find("c1", account: "123456789012", region: "us-east-1")!
        #expect(s.status == "UPDATE_ROLLBACK_COMPLETE")
        let events = try service.store.events(stackId: s.id).reversed()
        #expect(events.contains { $0.logicalId == "S" && $0.status == "UPDATE_FAILED" && $0.statusReason == "Resource update cancelled" })
        #expect(events.contains { $0.logicalId == "c1" && $0.status == "UPDATE_ROLLBACK_IN_PROGRESS" && $0.statusReason == "Stack update cancelled" })
        #expect(things.live[s.resources["T"]!.physicalId!]?["V"] == 1)
        // The next update is not cancelled by the earlier request.
        try await call("UpdateStack", ["StackName": "c1", "TemplateBody": "Resources:\n  T: {Type: Test::Thing, Properties: {V: 3}}\n  S: {Type: Test::Slow, Properties: {Seconds: 0}}\n"])
        await service.settle()
        #expect(try service.store.find("c1", account: "123456789012", region: "us-east-1")!.status == "UPDATE_COMPLETE")
    }
}

@Suite struct StackOptionsRestartTests {
    @Test func protectionPolicyAndDriftSurviveARestart() async throws {
        let h = try Harness()
        _ = try await h.create("k1", "Resources:\n  A: {Type: Test::Thing, Properties: {V: 1}}\n",
                               ["EnableTerminationProtection": "true",
                                "StackPolicyBody": "{\"Statement\": [{\"Effect\": \"Deny\", \"Action\": \"Update:*\", \"Principal\": \"*\", \"Resource\": \"*\"}]}"])
        _ = try await h.detectDrift("k1")
        let again = try Harness(dir: h.dir, provider: h.provider)
        let described = try await again.call("DescribeStacks", ["StackName": "k1"])
        #expect(described.contains("<EnableTerminationProtection>true</EnableTerminationProtection>"))
        #expect(described.contains("<StackDriftStatus>IN_SYNC</StackDriftStatus>"))
        #expect(try await again.call("GetStackPolicy", ["StackName": "k1"]).contains("Deny"))
        #expect(try await again.call("DescribeStackResourceDrifts", ["StackName": "k1"]).contains("<StackResourceDriftStatus>IN_SYNC</StackResourceDriftStatus>"))
    }
}
