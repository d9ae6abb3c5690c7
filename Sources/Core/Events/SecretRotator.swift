/// How Secrets Manager runs a rotation function: the four steps of the rotation protocol, each an invocation of the
/// function with `{"Step", "SecretId", "ClientRequestToken", "RotationToken"}`. Core declares it; the Lambda service
/// implements it; the Emulator wires them. Without Lambda, the wiring answers that no function can be invoked.
public enum RotationStep: String, Sendable, CaseIterable {
    case createSecret, setSecret, testSecret, finishSecret
}

public protocol SecretRotator: Sendable {
    /// Whether `functionARN` names a function Secrets Manager may invoke.
    func canInvoke(functionARN: String) async -> Bool
    /// Run one step; throws when the function fails.
    func invoke(functionARN: String, step: RotationStep, secretARN: String, clientRequestToken: String) async throws
}

/// The rotator used while no Lambda service is wired: no function exists.
public struct NoFunctionsRotator: SecretRotator {
    public init() {}
    public func canInvoke(functionARN: String) async -> Bool { false }
    public func invoke(functionARN: String, step: RotationStep, secretARN: String, clientRequestToken: String) async throws {
        throw AWSError("ResourceNotFoundException", "Function not found: \(functionARN)", status: .notFound)
    }
}
