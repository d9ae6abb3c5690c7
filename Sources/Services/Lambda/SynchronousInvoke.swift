import Core
import Foundation

/// Another service invokes a function and waits for its answer (an Application Load Balancer's `lambda` targets):
/// Lambda implements Core's `FunctionInvoker`.
extension LambdaService: FunctionInvoker {
    public func invoke(functionARN: String, payload: [UInt8], from principal: ServicePrincipal) async throws -> FunctionInvocationResult {
        let parts = functionARN.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 7, parts[0] == "arn", parts[2] == "lambda", parts[5] == "function",
              let f = try store.function(account: parts[4], region: parts[3], name: parts[6]) else {
            throw LambdaError.notFound(functionARN)
        }
        let (selected, alias) = try Self.configuration(f, qualifier: parts.count > 7 ? parts[7] : nil)
        let config = Self.routed(f, selected, alias)
        // Out of the snapshot gate while the function runs: it may call back into Cloudless.
        let result = try await SnapshotGate.outside { try await run(f, config, payload: payload, clientContext: nil, invokedARN: functionARN) }
        switch result.outcome {
        case .response(let bytes):
            return FunctionInvocationResult(payload: bytes, functionError: nil, executedVersion: config.Version)
        case .functionError(_, let document), .initError(_, let document):
            return FunctionInvocationResult(payload: document, functionError: "Unhandled", executedVersion: config.Version)
        case .exited(let code):
            return FunctionInvocationResult(payload: Self.errorDocument("Runtime.ExitError", "Runtime exited with error: exit status \(code)"),
                                            functionError: "Unhandled", executedVersion: config.Version)
        case .timedOut:
            return FunctionInvocationResult(payload: Self.errorDocument("Sandbox.Timedout", "Task timed out"),
                                            functionError: "Unhandled", executedVersion: config.Version)
        }
    }
}
