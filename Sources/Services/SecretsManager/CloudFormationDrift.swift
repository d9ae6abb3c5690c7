import Core
import Foundation

/// Drift reading: what Secrets Manager holds now for a stack's secret, rotation schedule or resource policy, in the
/// template's property names. Write-only properties (GenerateSecretString, which only shaped the first value) are
/// not readable: they come back as the template gives them, as CloudFormation leaves them out of drift checks.
extension SecretsManagerResources {
    public func currentProperties(_ request: ResourceRequest, state: ResourceState) async throws -> ResourceReading {
        let r = internalRequest(request)
        let described: [String: Any]
        do {
            described = try service.describeSecret(r, Input(["SecretId": state.physicalId]))
        } catch let e as AWSError where e.code == "ResourceNotFoundException" { return .deleted }
        if described["DeletedDate"] != nil { return .deleted }
        switch request.type {
        case "AWS::SecretsManager::Secret": return .properties(try currentSecret(request, r, described))
        case "AWS::SecretsManager::RotationSchedule": return Self.currentRotation(request, described)
        case "AWS::SecretsManager::ResourcePolicy": return try currentPolicy(request, r, state)
        default: return .notChecked
        }
    }

    func currentSecret(_ request: ResourceRequest, _ r: AWSRequest, _ d: [String: Any]) throws -> [String: JSON] {
        let p = request.properties
        var out: [String: JSON] = ["Name": .string(d["Name"] as? String ?? "")]
        if let s = d["Description"] as? String, !s.isEmpty { out["Description"] = .string(s) }
        if let k = d["KmsKeyId"] as? String { out["KmsKeyId"] = .string(k) }
        if p["SecretString"] != nil, let value = try service.getSecretValue(r, Input(["SecretId": d["ARN"] as? String ?? ""]))["SecretString"] as? String {
            out["SecretString"] = .string(value)
        }
        if let g = p["GenerateSecretString"] { out["GenerateSecretString"] = g }
        if let replicas = p["ReplicaRegions"] { out["ReplicaRegions"] = replicas }
        // The stack's tags (applied to every resource) are not the template's unless it repeats them.
        let given = Set((p["Tags"]?.array ?? []).compactMap { $0["Key"]?.string })
        let tags = (d["Tags"] as? [[String: String]] ?? []).filter { t in
            let key = t["Key"] ?? ""
            return given.contains(key) || (request.tags[key] == nil && !key.lowercased().hasPrefix("aws:"))
        }
        if !tags.isEmpty {
            out["Tags"] = Self.inTemplateOrder(tags.map { .object(["Key": .string($0["Key"] ?? ""), "Value": .string($0["Value"] ?? "")]) },
                                               p["Tags"], key: "Key")
        }
        return out
    }

    /// Rotation turned off (CancelRotateSecret) means the schedule is gone.
    static func currentRotation(_ request: ResourceRequest, _ d: [String: Any]) -> ResourceReading {
        guard d["RotationEnabled"] as? Bool == true else { return .deleted }
        var out: [String: JSON] = ["SecretId": request.properties["SecretId"] ?? .string(d["ARN"] as? String ?? "")]
        if let l = d["RotationLambdaARN"] as? String { out["RotationLambdaARN"] = .string(l) }
        if let rules = d["RotationRules"] as? [String: Any] {
            var o: [String: JSON] = [:]
            if let n = rules["AutomaticallyAfterDays"] as? Int { o["AutomaticallyAfterDays"] = .number(Double(n)) }
            if let s = rules["ScheduleExpression"] as? String { o["ScheduleExpression"] = .string(s) }
            if let s = rules["Duration"] as? String { o["Duration"] = .string(s) }
            out["RotationRules"] = .object(o)
        }
        // Not stored on the secret: it only says what an update does.
        if let v = request.properties["RotateImmediatelyOnUpdate"] { out["RotateImmediatelyOnUpdate"] = v }
        return .properties(out)
    }

    func currentPolicy(_ request: ResourceRequest, _ r: AWSRequest, _ state: ResourceState) throws -> ResourceReading {
        let out = try service.getResourcePolicy(r, Input(["SecretId": state.physicalId]))
        guard let text = out["ResourcePolicy"] as? String else { return .deleted }
        let doc = (try? JSONDecoder().decode(JSON.self, from: Data(text.utf8))) ?? .string(text)
        var props: [String: JSON] = ["SecretId": request.properties["SecretId"] ?? .string(state.physicalId), "ResourcePolicy": doc]
        // Checked when the policy is put, not stored.
        if let b = request.properties["BlockPublicPolicy"] { props["BlockPublicPolicy"] = b }
        return .properties(props)
    }

    /// A list read back in the order the template wrote it (matched by `key`), the others after.
    static func inTemplateOrder(_ items: [JSON], _ template: JSON?, key: String) -> JSON {
        let order = (template?.array ?? []).compactMap { $0[key]?.string }
        let sorted = items.sorted { a, b in
            let ia = order.firstIndex(of: a[key]?.string ?? "") ?? Int.max
            let ib = order.firstIndex(of: b[key]?.string ?? "") ?? Int.max
            return ia != ib ? ia < ib : (a[key]?.string ?? "") < (b[key]?.string ?? "")
        }
        return .array(sorted)
    }
}
