import Core
import Foundation

/// An `AWS::Lambda::Alias` whose `UpdatePolicy` is `CodeDeployLambdaAliasUpdate` (what SAM's DeploymentPreference
/// writes): when a stack update changes its `FunctionVersion`, CloudFormation does not point the alias at the new
/// version itself; it starts a CodeDeploy deployment of the named group (CurrentVersion = old, TargetVersion = new,
/// the hooks) and waits for it. Success completes the alias's update; failure fails the resource, and the stack
/// rolls back (CodeDeploy has already put the alias back). A create, and a rollback's update, act on the alias directly.
struct AliasDeploymentUpdate: ResourceProvider {
    let inner: any ResourceProvider
    let deployments: any AliasDeployments
    let policy: [String: JSON]
    let currentVersion: String
    var pollInterval: Duration = .milliseconds(200)

    var resourceTypes: [String] { inner.resourceTypes }
    func createOnlyProperties(of type: String) -> Set<String> { inner.createOnlyProperties(of: type) }
    func create(_ request: ResourceRequest) async throws -> ResourceState { try await inner.create(request) }
    func delete(_ request: ResourceRequest, state: ResourceState) async throws { try await inner.delete(request, state: state) }
    func currentProperties(_ request: ResourceRequest, state: ResourceState) async throws -> ResourceReading {
        try await inner.currentProperties(request, state: state)
    }
    func interruptedCreate(_ request: ResourceRequest) async throws -> ResourceState? { try await inner.interruptedCreate(request) }

    func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        func text(_ key: String) -> String? { policy[key].flatMap { $0.string ?? $0.int.map(String.init) } }
        guard let application = text("ApplicationName"), let group = text("DeploymentGroupName") else {
            throw AWSError("ValidationError", "CodeDeployLambdaAliasUpdate requires ApplicationName and DeploymentGroupName.")
        }
        let p = request.properties
        let function = p["FunctionName"]?.string ?? ""
        let target = p["FunctionVersion"].flatMap { $0.string ?? $0.int.map(String.init) } ?? ""
        let id = try await deployments.deployLambdaAlias(
            account: request.account, region: request.region, application: application, group: group, function: function,
            alias: p["Name"]?.string ?? "", currentVersion: currentVersion, targetVersion: target,
            beforeHook: text("BeforeAllowTrafficHook"), afterHook: text("AfterAllowTrafficHook"))
        // The deployment moves on the emulator's clock (a canary's wait ends when the clock is moved); the wait holds
        // no snapshot gate, so saves and the hooks' own requests go on meanwhile.
        while true {
            try Task.checkCancellation()
            if let outcome = try await deployments.deploymentOutcome(account: request.account, region: request.region, id: id) {
                guard outcome.succeeded else {
                    throw AWSError("InvalidRequest", "CodeDeploy deployment \(id) failed"
                        + (outcome.message.map { $0.isEmpty ? "" : ": \($0)" } ?? "") + ".")
                }
                break
            }
            try await SnapshotGate.outside { try await Task.sleep(for: pollInterval) }
        }
        return try await inner.update(request, previous: previous)
    }
}

extension StackEngine {
    /// The alias's provider wrapped in `AliasDeploymentUpdate` when the update goes through CodeDeploy: the resource
    /// declares CodeDeployLambdaAliasUpdate, CodeDeploy is linked and the version changes. Else `provider` itself.
    func aliasDeploymentProvider(_ provider: any ResourceProvider, _ decl: Template.Resource, _ eval: Evaluator, _ s: Stack,
                                 _ sent: [String: JSON], previous: [String: JSON]?) -> any ResourceProvider {
        guard decl.type == "AWS::Lambda::Alias", let deployments = links.aliasDeployments,
              let declared = decl.body["UpdatePolicy"]?["CodeDeployLambdaAliasUpdate"],
              let old = previous?["FunctionVersion"].flatMap({ $0.string ?? $0.int.map(String.init) }),
              let new = sent["FunctionVersion"].flatMap({ $0.string ?? $0.int.map(String.init) }), old != new,
              let policy = try? resolvedReferences(eval.resolveProperties(["P": declared]), s)["P"]?.object
        else { return provider }
        return AliasDeploymentUpdate(inner: provider, deployments: deployments, policy: policy, currentVersion: old)
    }
}

extension StackEngine {
    /// Before a rollback updates an alias back: a CodeDeploy deployment still shifting it (a cancelled update, one a
    /// restart interrupted) is stopped with rollback and waited for, so that it cannot move the alias afterwards.
    func settleAliasDeployments(_ type: String, _ properties: [String: JSON], _ s: Stack) async {
        guard type == "AWS::Lambda::Alias", let deployments = links.aliasDeployments,
              let function = properties["FunctionName"]?.string, let alias = properties["Name"]?.string,
              let ids = try? await deployments.stopAliasDeployments(account: s.account, region: s.region, function: function, alias: alias)
        else { return }
        for id in ids {
            while (try? await deployments.deploymentOutcome(account: s.account, region: s.region, id: id)) == .some(nil) {
                do { try await SnapshotGate.outside { try await Task.sleep(for: .milliseconds(200)) } } catch { return }
            }
        }
    }
}
