import Core

/// `DeletionPolicy` and `UpdateReplacePolicy`. No type Cloudless serves supports snapshots, and CloudFormation
/// falls back to Delete for such a type (the template is accepted, the resource deleted). `RetainExceptOnCreate`
/// retains, except when the operation that created the resource rolls back. A replaced resource follows its
/// UpdateReplacePolicy, a removed or deleted one its DeletionPolicy.
extension Template {
    static let deletionPolicies: Set<String> = ["Delete", "Retain", "Snapshot", "RetainExceptOnCreate"]
    static let updateReplacePolicies: Set<String> = ["Delete", "Retain", "Snapshot"]

    static func checkPolicies(_ name: String, _ resource: [String: JSON]) throws {
        if let p = resource["DeletionPolicy"] {
            guard let s = p.string, deletionPolicies.contains(s) else {
                throw CFNError.templateFormat("Unrecognized DeletionPolicy \(text(p) ?? "") for resource \(name)")
            }
        }
        if let p = resource["UpdateReplacePolicy"] {
            guard let s = p.string, updateReplacePolicies.contains(s) else {
                throw CFNError.templateFormat("Unrecognized UpdateReplacePolicy \(text(p) ?? "") for resource \(name)")
            }
        }
    }
}

extension StackEngine {
    /// Whether deleting `r` is skipped: `replaced` when an update replaced it, `inRollback` when the operation that
    /// created it is being rolled back.
    static func retains(_ r: StackResource, replaced: Bool, inRollback: Bool) -> Bool {
        switch replaced ? r.updateReplacePolicy : r.deletionPolicy {
        case "Retain": return true
        case "RetainExceptOnCreate": return !inRollback
        default: return false  // Delete, and Snapshot on types without snapshots
        }
    }
}
