import Core
import Foundation

/// A stack policy: which update actions (`Update:Modify`, `Update:Replace`, `Update:Delete`) a stack update may take
/// on which resources. Once a stack has one, whatever no statement allows is denied; an explicit Deny wins.
struct StackPolicy: Sendable {
    struct Statement: Sendable {
        var allow: Bool
        var actions: [String]?
        var notActions: [String]?
        var resources: [String]?
        var notResources: [String]?
        /// Operator (StringEquals, StringLike) → key (ResourceType) → accepted values.
        var conditions: [String: [String: [String]]]
    }

    var statements: [Statement]

    static let actionNames = ["Update:Modify", "Update:Replace", "Update:Delete", "Update:*"]

    static let maxLength = 16384

    init(body: String) throws {
        func invalid(_ detail: String) -> AWSError { CFNError.validation("Error validating stack policy: \(detail)") }
        guard let doc = try? JSON(parsing: Data(body.utf8)), doc.object != nil else { throw invalid("Invalid stack policy") }
        let list: [JSON]
        switch doc["Statement"] {
        case .array(let a)?: list = a
        case .object(let o)?: list = [.object(o)]
        default: throw invalid("Statement is missing")
        }
        func strings(_ v: JSON?) -> [String]? {
            switch v {
            case .string(let s)?: return [s]
            case .array(let a)?: return a.compactMap(\.string)
            default: return nil
            }
        }
        statements = try list.map { st -> Statement in
            guard let effect = st["Effect"]?.string, effect == "Allow" || effect == "Deny" else {
                throw invalid("Effect must be Allow or Deny")
            }
            let actions = strings(st["Action"]), notActions = strings(st["NotAction"])
            guard (actions == nil) != (notActions == nil) else { throw invalid("Exactly one of Action and NotAction is required") }
            for a in (actions ?? notActions ?? []) where !Self.actionNames.contains(a) {
                throw invalid("Unknown action \(a)")
            }
            let resources = strings(st["Resource"]), notResources = strings(st["NotResource"])
            guard (resources == nil) != (notResources == nil) else { throw invalid("Exactly one of Resource and NotResource is required") }
            guard st["Principal"] != nil else { throw invalid("Principal is required") }
            var conditions: [String: [String: [String]]] = [:]
            for (op, block) in st["Condition"]?.object ?? [:] {
                guard op == "StringEquals" || op == "StringLike", let keys = block.object else {
                    throw invalid("Unsupported condition \(op)")
                }
                for (key, v) in keys { conditions[op, default: [:]][key] = strings(v) ?? [] }
            }
            return Statement(allow: effect == "Allow", actions: actions, notActions: notActions, resources: resources,
                             notResources: notResources, conditions: conditions)
        }
    }

    /// A policy may name (without wildcards) only resources of the template it protects.
    func checkLogicalIds(in template: Template, existing: Bool = false) throws {
        for st in statements {
            for r in (st.resources ?? []) + (st.notResources ?? []) where r.hasPrefix("LogicalResourceId/") {
                let id = r.dropFirst("LogicalResourceId/".count)
                guard !id.contains("*"), !id.contains("?"), template.resources[String(id)] == nil else { continue }
                throw CFNError.validation("Error validating \(existing ? "existing " : "")stack policy: Unknown logical id '\(r)' in statement {} - stack policies can only be applied to logical ids referenced in the template")
            }
        }
    }

    /// Nil when the policy allows `action` on the resource, else the reason the update of it fails.
    func denial(action: String, logicalId: String, type: String) -> String? {
        let resource = "LogicalResourceId/\(logicalId)"
        var allowed = false
        for (i, st) in statements.enumerated() where st.matches(action: action, resource: resource, type: type) {
            if !st.allow {
                return "Action denied by stack policy: Statement [#\(i + 1)] does not allow [\(action)] for resource [\(resource)]"
            }
            allowed = true
        }
        return allowed ? nil : "Action not allowed by stack policy: no statement allows [\(action)] for resource [\(resource)]"
    }

    /// `*` and `?` wildcards, as the policy language has them.
    static func like(_ pattern: String, _ value: String) -> Bool {
        let p = Array(pattern), v = Array(value)
        var memo: [Int: Bool] = [:]
        func go(_ i: Int, _ j: Int) -> Bool {
            if let m = memo[i * (v.count + 1) + j] { return m }
            let r: Bool
            if i == p.count { r = j == v.count }
            else if p[i] == "*" { r = go(i + 1, j) || (j < v.count && go(i, j + 1)) }
            else { r = j < v.count && (p[i] == "?" || p[i] == v[j]) && go(i + 1, j + 1) }
            memo[i * (v.count + 1) + j] = r
            return r
        }
        return go(0, 0)
    }
}

extension StackPolicy.Statement {
    func matches(action: String, resource: String, type: String) -> Bool {
        let actionMatch = { (list: [String]) in list.contains { StackPolicy.like($0, action) } }
        if let actions, !actionMatch(actions) { return false }
        if let notActions, actionMatch(notActions) { return false }
        let resourceMatch = { (list: [String]) in list.contains { StackPolicy.like($0, resource) } }
        if let resources, !resourceMatch(resources) { return false }
        if let notResources, resourceMatch(notResources) { return false }
        for (op, keys) in conditions {
            for (key, values) in keys {
                guard key == "ResourceType" else { return false }
                let ok = op == "StringEquals" ? values.contains(type) : values.contains { StackPolicy.like($0, type) }
                if !ok { return false }
            }
        }
        return true
    }
}

/// SetStackPolicy, GetStackPolicy, and the policies CreateStack and UpdateStack take.
extension CloudFormationService {
    /// A policy given as a body or as a URL of Cloudless's S3, validated against the template it protects; nil when
    /// neither is given.
    func policyBody(_ p: [String: String], body: String, url: String, _ caller: Caller, _ template: Template) async throws -> String? {
        let b = p[body].flatMap { $0.isEmpty ? nil : $0 }, u = p[url].flatMap { $0.isEmpty ? nil : $0 }
        if b != nil, u != nil { throw CFNError.validation("You cannot specify both \(url) and \(body)") }
        var text = b
        if text == nil, let u { text = try await TemplateURL.read(u, objects: objects, ownHost: caller.host) }
        guard let text else { return nil }
        if b != nil, text.count > StackPolicy.maxLength {
            let member = body.prefix(1).lowercased() + body.dropFirst()
            throw CFNError.validation("1 validation error detected: Value at '\(member)' failed to satisfy constraint: Member must have length less than or equal to \(StackPolicy.maxLength)")
        }
        try StackPolicy(body: text).checkLogicalIds(in: template)
        return text
    }

    func setStackPolicy(_ p: [String: String], _ caller: Caller) async throws -> Answer {
        let s = try liveStack(p, caller)
        let template = try Template(body: s.templateBody)
        guard let body = try await policyBody(p, body: "StackPolicyBody", url: "StackPolicyURL", caller, template) else {
            throw CFNError.validation("Either StackPolicyBody or StackPolicyURL must be specified.")
        }
        try store.updateOptions(stackId: s.id) { $0.policy = body }
        return nil
    }

    func getStackPolicy(_ p: [String: String], _ caller: Caller) throws -> Answer {
        let s = try liveStack(p, caller)
        let body = try store.options(stackId: s.id).policy
        return { $0.element("StackPolicyBody", body) }
    }

    /// UpdateStack's StackPolicyBody (replaces the stack's) and StackPolicyDuringUpdateBody (this update only),
    /// checked against the new template, as the stack's policy is when it stays.
    func updatePolicies(_ p: [String: String], _ caller: Caller, _ template: Template,
                        stackId: String) async throws -> (policy: String?, duringUpdate: String?) {
        let policy = try await policyBody(p, body: "StackPolicyBody", url: "StackPolicyURL", caller, template)
        let during = try await policyBody(p, body: "StackPolicyDuringUpdateBody", url: "StackPolicyDuringUpdateURL", caller, template)
        if policy == nil, let existing = try store.options(stackId: stackId).policy {
            try StackPolicy(body: existing).checkLogicalIds(in: template, existing: true)
        }
        return (policy, during)
    }

    func saveUpdatePolicies(_ policies: (policy: String?, duringUpdate: String?), stackId: String) throws {
        try store.updateOptions(stackId: stackId) { o in
            if let p = policies.policy { o.policy = p }
            o.policyDuringUpdate = policies.duringUpdate
        }
    }
}

/// The engine's side: a stack update asks the policy before it modifies, replaces or deletes a resource.
extension StackEngine {
    /// The policy in force for the update under way (StackPolicyDuringUpdateBody first), if any.
    func updatePolicy(_ stackId: String) -> StackPolicy? {
        guard let o = try? store.options(stackId: stackId), let body = o.policyDuringUpdate ?? o.policy else { return nil }
        return try? StackPolicy(body: body)
    }

    /// Why the policy refuses this change of a resource (nil: allowed, or a creation, which no policy governs).
    func policyDenial(_ stackId: String, _ logicalId: String, _ type: String, _ action: Job.Action) -> String? {
        guard action != .create, let policy = updatePolicy(stackId) else { return nil }
        return policy.denial(action: action == .replace ? "Update:Replace" : "Update:Modify", logicalId: logicalId, type: type)
    }

    /// Resources an update would remove that the policy protects: each fails (UPDATE_FAILED) and so does the update.
    func deniedRemovals(_ s: inout Stack, enabled: [String], old: [String: StackResource]) -> String? {
        guard !old.isEmpty, let policy = updatePolicy(s.id) else { return nil }
        var failed: [String] = []
        for r in old.values.sorted(by: { $0.logicalId < $1.logicalId }) where !enabled.contains(r.logicalId) && r.state != nil {
            if let reason = policy.denial(action: "Update:Delete", logicalId: r.logicalId, type: r.type) {
                try? resourceEvent(&s, s.resources[r.logicalId] ?? r, "UPDATE_FAILED", reason)
                failed.append(r.logicalId)
            }
        }
        return failed.isEmpty ? nil : "The following resource(s) failed to update: [\(failed.joined(separator: ", "))]."
    }

    /// The end of an update: StackPolicyDuringUpdateBody no longer applies, nor (once it completed) what
    /// ContinueUpdateRollback skipped.
    func endUpdate(_ stackId: String) {
        let completed = (try? store.stack(id: stackId))??.status == "UPDATE_COMPLETE"
        try? store.updateOptions(stackId: stackId) { o in
            o.policyDuringUpdate = nil
            if completed { o.skippedInRollback = [] }
        }
        cancelRequests.remove(stackId)
    }
}
