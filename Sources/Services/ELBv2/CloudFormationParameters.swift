import Core

/// CloudFormation's ELBv2 properties as the Query API's parameters: the member names are the same
/// (`DefaultActions`, `ForwardConfig.TargetGroups`, `HealthCheckPath`...), so objects flatten to `A.B`, lists to
/// `A.member.N`, booleans to `true`/`false`, whole numbers without a fraction.
enum CloudFormationParameters {
    static func flatten(_ value: JSON, _ prefix: String, into out: inout [String: String]) {
        switch value {
        case .null: return
        case .bool(let b): out[prefix] = b ? "true" : "false"
        case .number(let n): out[prefix] = n == n.rounded() && abs(n) < 1e15 ? String(Int(n)) : String(n)
        case .string(let s): out[prefix] = s
        case .array(let a): for (i, v) in a.enumerated() { flatten(v, "\(prefix).member.\(i + 1)", into: &out) }
        case .object(let o): for (k, v) in o { flatten(v, prefix.isEmpty ? k : "\(prefix).\(k)", into: &out) }
        }
    }

    /// The named properties, flattened, under their own names.
    static func parameters(_ properties: [String: JSON], _ keys: [String]) -> [String: String] {
        var out: [String: String] = [:]
        for k in keys { if let v = properties[k] { flatten(v, k, into: &out) } }
        return out
    }

    /// `[{Key, Value}]` (attributes) as `Attributes.member.N.Key/Value`.
    static func attributes(_ list: JSON?) -> [String: String] {
        var out: [String: String] = [:]
        for (i, a) in (list?.array ?? []).enumerated() {
            out["Attributes.member.\(i + 1).Key"] = a["Key"]?.string ?? ""
            out["Attributes.member.\(i + 1).Value"] = a["Value"].map { $0.string ?? text($0) } ?? ""
        }
        return out
    }

    static func text(_ v: JSON) -> String {
        var out: [String: String] = [:]
        flatten(v, "v", into: &out)
        return out["v"] ?? ""
    }

    /// The stack's tags and the resource's `Tags`, as `Tags.member.N.Key/Value`.
    static func tags(_ request: ResourceRequest) -> [String: String] {
        var all = request.tags
        for t in request.properties["Tags"]?.array ?? [] {
            if let k = t["Key"]?.string { all[k] = t["Value"].map { $0.string ?? text($0) } ?? "" }
        }
        var out: [String: String] = [:]
        for (i, (k, v)) in all.sorted(by: { $0.key < $1.key }).enumerated() {
            out["Tags.member.\(i + 1).Key"] = k
            out["Tags.member.\(i + 1).Value"] = v
        }
        return out
    }

    /// A target's id and port as RegisterTargets takes them.
    static func targets(_ list: [JSON]) -> [String: String] {
        var out: [String: String] = [:]
        for (i, t) in list.enumerated() {
            out["Targets.member.\(i + 1).Id"] = t["Id"]?.string ?? ""
            if let p = t["Port"] { out["Targets.member.\(i + 1).Port"] = text(p) }
            if let z = t["AvailabilityZone"]?.string { out["Targets.member.\(i + 1).AvailabilityZone"] = z }
        }
        return out
    }
}
