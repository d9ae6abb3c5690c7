import Core

extension CloudFormationService {
    /// CreateStack's `OnFailure` (DO_NOTHING, ROLLBACK, DELETE), which excludes `DisableRollback`.
    static func onFailure(_ p: [String: String]) throws -> String? {
        guard let value = p["OnFailure"], !value.isEmpty else { return nil }
        guard ["DO_NOTHING", "ROLLBACK", "DELETE"].contains(value) else {
            throw CFNError.validation("1 validation error detected: Value '\(value)' at 'onFailure' failed to satisfy constraint: Member must satisfy enum value set: [DO_NOTHING, ROLLBACK, DELETE]")
        }
        if p["DisableRollback"] != nil {
            throw CFNError.validation("You cannot specify both DisableRollback and OnFailure.")
        }
        return value
    }
}
