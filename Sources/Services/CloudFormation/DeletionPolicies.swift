import Core
import Foundation

/// `DeletionPolicy` and `UpdateReplacePolicy`. No type Cloudless serves supports snapshots, and CloudFormation
/// falls back to Delete for such a type (the template is accepted, the resource deleted). `RetainExceptOnCreate`
/// retains, except when the operation that created the resource rolls back. A replaced resource follows its
/// UpdateReplacePolicy, a removed or deleted one its DeletionPolicy.
extension Template {
    static let deletionPolicies: Set<String> = ["Delete", "Retain", "Snapshot", "RetainExceptOnCreate"]
    static let updateReplacePolicies: Set<String> = ["Delete", "Retain", "Snapshot"]

    /// With `AWS::LanguageExtensions`, a policy may be a `Ref` to a parameter: the stack's value, else the default.
    static func resolvePolicyReferences(_ json: JSON, parameters: [String: String]?) -> JSON {
        guard var top = json.object, var resources = top["Resources"]?.object else { return json }
        let declared = top["Parameters"]?.object ?? [:]
        for (id, r) in resources {
            guard var o = r.object else { continue }
            for key in ["DeletionPolicy", "UpdateReplacePolicy"] {
                guard let name = o[key]?["Ref"]?.string, o[key]?.object?.count == 1, let p = declared[name],
                      let value = parameters?[name] ?? p["Default"].flatMap(text) else { continue }
                o[key] = .string(value)
            }
            resources[id] = .object(o)
        }
        top["Resources"] = .object(resources)
        return .object(top)
    }

    static func policyText(_ v: JSON) -> String {
        if let t = text(v) { return t }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(v)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// A change set's PolicyAction for a resource the change replaces (Snapshot falls back to Delete).
    static func replacePolicyAction(_ r: Resource) -> String {
        r.updateReplacePolicy == "Retain" ? "ReplaceAndRetain" : "ReplaceAndDelete"
    }

    static func checkPolicies(_ name: String, _ resource: [String: JSON]) throws {
        if let p = resource["DeletionPolicy"] {
            guard let s = p.string, deletionPolicies.contains(s) else {
                throw CFNError.templateFormat("Unrecognized DeletionPolicy \(policyText(p)) for resource \(name)")
            }
        }
        if let p = resource["UpdateReplacePolicy"] {
            guard let s = p.string, updateReplacePolicies.contains(s) else {
                throw CFNError.templateFormat("Unrecognized UpdateReplacePolicy \(policyText(p)) for resource \(name)")
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
