import Core
import Foundation
import Synchronization
import Testing

@testable import CloudFormation

/// CodeDeployLambdaAliasUpdate: the alias's update waits for a CodeDeploy deployment from the old version to the
/// new one, then completes; a failed deployment fails the update and leaves the alias to CodeDeploy's rollback.
@Suite struct AliasDeploymentUpdateTests {
    final class FakeDeployments: AliasDeployments {
        let started = Mutex<[[String]]>([])
        let polls = Mutex(0)
        let outcome: DeploymentOutcome
        let pollsBeforeOutcome: Int
        init(outcome: DeploymentOutcome, pollsBeforeOutcome: Int = 2) {
            self.outcome = outcome
            self.pollsBeforeOutcome = pollsBeforeOutcome
        }
        func deployLambdaAlias(account: String, region: String, application: String, group: String, function: String,
                               alias: String, currentVersion: String, targetVersion: String,
                               beforeHook: String?, afterHook: String?) async throws -> String {
            started.withLock { $0.append([application, group, function, alias, currentVersion, targetVersion, beforeHook ?? "-", afterHook ?? "-"]) }
            return "d-ABCDEFGHI"
        }
        func stopAliasDeployments(account: String, region: String, function: String, alias: String) async throws -> [String] { [] }
        func deploymentOutcome(account: String, region: String, id: String) async throws -> DeploymentOutcome? {
            polls.withLock { $0 += 1; return $0 > pollsBeforeOutcome ? outcome : nil }
        }
    }

    final class FakeAlias: ResourceProvider {
        let updates = Mutex<[String]>([])
        var resourceTypes: [String] { ["AWS::Lambda::Alias"] }
        func createOnlyProperties(of type: String) -> Set<String> { ["Name", "FunctionName"] }
        func create(_ request: ResourceRequest) async throws -> ResourceState { ResourceState(physicalId: "alias") }
        func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
            updates.withLock { $0.append(request.properties["FunctionVersion"]?.string ?? "") }
            return previous
        }
        func delete(_ request: ResourceRequest, state: ResourceState) async throws {}
    }

    func request() -> ResourceRequest {
        ResourceRequest(account: "123456789012", region: "us-east-1", stackName: "st", stackId: "id", logicalId: "FnAliaslive",
                        type: "AWS::Lambda::Alias",
                        properties: ["Name": "live", "FunctionName": "st-Fn-1", "FunctionVersion": "2"], tags: [:])
    }

    static let policy: [String: JSON] = ["ApplicationName": "app", "DeploymentGroupName": "group", "BeforeAllowTrafficHook": "pre"]

    @Test func successCompletesTheUpdateAfterTheDeployment() async throws {
        let deployments = FakeDeployments(outcome: DeploymentOutcome(succeeded: true))
        let inner = FakeAlias()
        let p = AliasDeploymentUpdate(inner: inner, deployments: deployments, policy: Self.policy, currentVersion: "1",
                                      pollInterval: .milliseconds(1))
        _ = try await p.update(request(), previous: ResourceState(physicalId: "alias"))
        #expect(deployments.started.withLock { $0 } == [["app", "group", "st-Fn-1", "live", "1", "2", "pre", "-"]])
        #expect(deployments.polls.withLock { $0 } == 3)
        #expect(inner.updates.withLock { $0 } == ["2"])
    }

    @Test func failureFailsTheUpdateNamingTheDeployment() async throws {
        let deployments = FakeDeployments(outcome: DeploymentOutcome(succeeded: false, message: "the hook reported Failed"))
        let inner = FakeAlias()
        let p = AliasDeploymentUpdate(inner: inner, deployments: deployments, policy: Self.policy, currentVersion: "1",
                                      pollInterval: .milliseconds(1))
        await #expect(throws: AWSError("InvalidRequest", "CodeDeploy deployment d-ABCDEFGHI failed: the hook reported Failed.")) {
            _ = try await p.update(request(), previous: ResourceState(physicalId: "alias"))
        }
        #expect(inner.updates.withLock { $0 }.isEmpty)
        // A create is direct.
        #expect(try await p.create(request()).physicalId == "alias")
        #expect(deployments.started.withLock { $0.count } == 1)
    }
}
