import Core
import Foundation

/// UpdateTerminationProtection, CreateStack's EnableTerminationProtection and DeleteStack's refusal.
extension CloudFormationService {
    func updateTerminationProtection(_ p: [String: String], _ caller: Caller) throws -> Answer {
        let flag = try Self.required(p, "EnableTerminationProtection").lowercased()
        guard flag == "true" || flag == "false" else {
            throw CFNError.validation("1 validation error detected: Value '\(p["EnableTerminationProtection"] ?? "")' at 'enableTerminationProtection' failed to satisfy constraint: Member must be a boolean")
        }
        let s = try liveStack(p, caller)
        try store.updateOptions(stackId: s.id) { $0.terminationProtection = flag == "true" }
        return { $0.element("StackId", s.id) }
    }

    /// DeleteStack's check.
    func checkTerminationProtection(_ s: Stack) throws {
        if try store.options(stackId: s.id).terminationProtection {
            throw CFNError.validation("Stack [\(s.name)] cannot be deleted while TerminationProtection is enabled")
        }
    }

    /// CreateStack's EnableTerminationProtection and StackPolicyBody / StackPolicyURL, validated before anything is
    /// saved.
    func creationOptions(_ p: [String: String], _ caller: Caller, _ template: Template) async throws -> StackOptions {
        var o = StackOptions()
        o.terminationProtection = p["EnableTerminationProtection"]?.lowercased() == "true"
        o.policy = try await policyBody(p, body: "StackPolicyBody", url: "StackPolicyURL", caller, template)
        return o
    }
}
