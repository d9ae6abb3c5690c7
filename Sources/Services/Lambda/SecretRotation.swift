import Core
import Foundation

/// Secrets Manager's rotation functions are Lambda functions: Lambda implements Core's `SecretRotator`.
extension LambdaService: SecretRotator {
    /// The function an ARN (or name) names, with the configuration its qualifier selects.
    func target(_ functionARN: String) throws -> (LambdaFunction, FunctionConfig)? {
        let parts = functionARN.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 7, parts[0] == "arn", parts[2] == "lambda", parts[5] == "function" else { return nil }
        guard let f = try store.function(account: parts[4], region: parts[3], name: parts[6]) else { return nil }
        let (config, _) = try Self.configuration(f, qualifier: parts.count > 7 ? parts[7] : nil)
        return (f, config)
    }

    public func canInvoke(functionARN: String) async -> Bool {
        (try? target(functionARN)) != nil
    }

    /// One step: `{"Step", "SecretId", "ClientRequestToken", "RotationToken"}` as Secrets Manager sends it; a function
    /// error fails the rotation.
    public func invoke(functionARN: String, step: RotationStep, secretARN: String, clientRequestToken: String) async throws {
        guard let (f, config) = try target(functionARN) else {
            throw LambdaError.notFound(functionARN)
        }
        let event: [String: Any] = ["Step": step.rawValue, "SecretId": secretARN, "ClientRequestToken": clientRequestToken,
                                    "RotationToken": UUID().uuidString.lowercased()]
        let payload = try JSONSerialization.data(withJSONObject: event)
        // Out of the snapshot gate while the function runs: it may call back into Cloudless.
        let result = try await SnapshotGate.outside { try await run(f, config, payload: [UInt8](payload), clientContext: nil) }
        if case .response = result.outcome { return }
        throw AWSError("RotationFailed", "The rotation function failed at step \(step.rawValue).")
    }
}
