/// Lambda functions invoked synchronously by another service, and an alias's traffic shifted by one: an Application
/// Load Balancer's `lambda` targets, CodeDeploy's lifecycle hooks and its canary and linear deployments of an alias.
/// Core declares them; Lambda implements them; the Emulator wires them.
public struct FunctionInvocationResult: Sendable {
    /// The function's answer (its error document when `functionError` is set).
    public var payload: [UInt8]
    /// `Unhandled` or `Handled` when the function failed, as Invoke's X-Amz-Function-Error says.
    public var functionError: String?
    /// The version that ran (an alias's weighted choice).
    public var executedVersion: String

    public init(payload: [UInt8], functionError: String?, executedVersion: String) {
        self.payload = payload
        self.functionError = functionError
        self.executedVersion = executedVersion
    }
}

public protocol FunctionInvoker: Sendable {
    /// Invoke (RequestResponse) the function `functionARN` names, qualified or not, as `principal` (the calling service)
    /// would. Throws AWS's error when the function does not exist or cannot be invoked.
    func invoke(functionARN: String, payload: [UInt8], from principal: ServicePrincipal) async throws -> FunctionInvocationResult
}

/// An alias's versions: `version` gets what `additionalVersion` does not (`additionalWeight`, 0–1).
public struct AliasRouting: Sendable, Equatable {
    public var version: String
    public var additionalVersion: String?
    public var additionalWeight: Double

    public init(version: String, additionalVersion: String? = nil, additionalWeight: Double = 0) {
        self.version = version
        self.additionalVersion = additionalVersion
        self.additionalWeight = additionalWeight
    }
}

public protocol FunctionAliasTraffic: Sendable {
    /// The alias's routing. `aliasARN` is `arn:aws:lambda:<region>:<account>:function:<name>:<alias>`.
    func aliasRouting(aliasARN: String) async throws -> AliasRouting
    /// UpdateAlias's FunctionVersion and RoutingConfig (a new RevisionId, as the API would).
    func setAliasRouting(aliasARN: String, _ routing: AliasRouting) async throws
    /// Whether the published version exists.
    func versionExists(functionARN: String, version: String) async -> Bool
}
