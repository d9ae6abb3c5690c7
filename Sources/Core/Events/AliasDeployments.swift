/// CodeDeploy as CloudFormation reaches it for an `AWS::Lambda::Alias` whose `UpdatePolicy` is
/// `CodeDeployLambdaAliasUpdate`: a change of the alias's version becomes a Lambda deployment of the named group, and
/// the stack waits for its outcome. Core declares it, CodeDeploy implements it, the Emulator wires it.
public protocol AliasDeployments: Sendable {
    /// Start a deployment shifting `alias` of `function` from `currentVersion` to `targetVersion` with the group's
    /// configuration and the hooks (function names or ARNs). Returns the deployment's id. Throws AWSError (CodeDeploy's).
    func deployLambdaAlias(account: String, region: String, application: String, group: String, function: String,
                           alias: String, currentVersion: String, targetVersion: String,
                           beforeHook: String?, afterHook: String?) async throws -> String
    /// The deployment's outcome once it has one: true when it succeeded, false when it failed or was stopped; nil
    /// while it runs.
    func deploymentOutcome(account: String, region: String, id: String) async throws -> DeploymentOutcome?
    /// Before a stack rollback sets the alias back itself: stop (with rollback) the deployments still shifting it
    /// (the stack update was cancelled, or a restart interrupted it). Returns their ids, and those of rollbacks under
    /// way, for the caller to wait on (`deploymentOutcome`).
    func stopAliasDeployments(account: String, region: String, function: String, alias: String) async throws -> [String]
}

/// How a deployment ended.
public struct DeploymentOutcome: Sendable, Equatable {
    public var succeeded: Bool
    /// CodeDeploy's errorInformation message, for the resource's status reason.
    public var message: String?

    public init(succeeded: Bool, message: String? = nil) {
        self.succeeded = succeeded
        self.message = message
    }
}
