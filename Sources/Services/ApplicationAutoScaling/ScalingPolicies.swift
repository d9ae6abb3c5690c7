import Core
import Foundation
import GRDB

/// PutScalingPolicy, DescribeScalingPolicies, DeleteScalingPolicy. Configurations are kept as the request sent them;
/// target tracking ones are also read back by the sweep (`trackingPolicy`).
extension ApplicationAutoScalingService {
    /// The request member that carries each policy type's configuration.
    static let configurationMember = [
        "StepScaling": "StepScalingPolicyConfiguration",
        "TargetTrackingScaling": "TargetTrackingScalingPolicyConfiguration",
        "PredictiveScaling": "PredictiveScalingPolicyConfiguration",
    ]

    func putScalingPolicy(_ r: CallerIdentity, _ input: Input) throws -> [String: Any] {
        let name = try input.required("PolicyName")
        if name.isEmpty || name.count > 256 {
            throw AASError.constraint(name, at: "PolicyName", name.isEmpty ? "Member must have length greater than or equal to 1"
                                                                           : "Member must have length less than or equal to 256")
        }
        let key = try input.targetKey()
        // StepScaling when left out, as in AWS.
        let type = try input.oneOf("PolicyType", AASEnums.policyTypes, required: false) ?? "StepScaling"
        let member = Self.configurationMember[type]!
        guard let configuration = try input.object(member) else {
            throw AASError.validation("\(member) must be specified for policy type \(type)")
        }
        if type == "TargetTrackingScaling" { try Self.validateTracking(Input(configuration)) }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: configuration, options: [.sortedKeys, .withoutEscapingSlashes]),
                          as: UTF8.self)
        let disableScaleIn = try Input(configuration).bool("DisableScaleIn") ?? false
        let now = clock.now()
        let policy = try store.db.writeNow { db -> StoredPolicy in
            let t = try existingTarget(r, key, db)
            let existing = try AASStore.policy(r.accountID, r.region, key, name: name, db)
            let uuid = Self.newID()
            let arn = existing?.arn ?? "arn:aws:autoscaling:\(r.region):\(r.accountID):scalingPolicy:\(uuid):\(Self.arnResource(key)):policyName/\(name)"
            var alarms: [[String: String]] = []
            if type == "TargetTrackingScaling" {
                // A policy that may not scale in has no low alarm.
                let kinds = disableScaleIn ? ["AlarmHigh"] : ["AlarmHigh", "AlarmLow"]
                alarms = kinds.map { kind in
                    let alarm = "TargetTracking-\(key.resourceID)-\(kind)-\(Self.newID())"
                    return ["AlarmName": alarm, "AlarmARN": "arn:aws:cloudwatch:\(t.region):\(t.account):alarm:\(alarm)"]
                }
            }
            let p = StoredPolicy(account: r.accountID, region: r.region, key: key, name: name, arn: arn, type: type, configuration: json,
                                 alarms: String(decoding: try JSONSerialization.data(withJSONObject: alarms, options: [.withoutEscapingSlashes]),
                                                as: UTF8.self),
                                 created: existing?.created ?? now)
            try AASStore.save(p, db)
            return p
        }
        var out: [String: Any] = ["PolicyARN": policy.arn]
        if type == "TargetTrackingScaling" { out["Alarms"] = Self.alarms(policy) }
        return out
    }

    /// TargetValue is required; one metric, predefined or customized; cooldowns not negative.
    static func validateTracking(_ c: Input) throws {
        guard let value = try c.double("TargetValue") else {
            throw AASError.constraint(nil, at: "targetTrackingScalingPolicyConfiguration.targetValue", "Member must not be null")
        }
        if value <= 0 { throw AASError.validation("The target value must be greater than 0.") }
        let predefined = try c.object("PredefinedMetricSpecification")
        let customized = try c.object("CustomizedMetricSpecification")
        if (predefined == nil) == (customized == nil) {
            throw AASError.validation("Exactly one of PredefinedMetricSpecification or CustomizedMetricSpecification must be specified.")
        }
        if let predefined {
            guard let type = predefined["PredefinedMetricType"] as? String else {
                throw AASError.constraint(nil, at: "targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType",
                                          "Member must not be null")
            }
            guard AASEnums.metricTypes.contains(type) else {
                throw AASError.constraint(type, at: "targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType",
                                          "Member must satisfy enum value set: [\(AASEnums.metricTypes.joined(separator: ", "))]")
            }
        }
        for name in ["ScaleOutCooldown", "ScaleInCooldown"] {
            if let n = try c.int(name), n < 0 {
                throw AASError.constraint(String(n), at: "targetTrackingScalingPolicyConfiguration.\(AASError.lowerFirst(name))",
                                          "Member must have value greater than or equal to 0")
            }
        }
    }

    static func alarms(_ p: StoredPolicy) -> [[String: String]] {
        (try? JSONSerialization.jsonObject(with: Data(p.alarms.utf8)) as? [[String: String]]) ?? []
    }

    static func configuration(_ p: StoredPolicy) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(p.configuration.utf8)) as? [String: Any]) ?? [:]
    }

    static func describe(_ p: StoredPolicy) -> [String: Any] {
        [
            "PolicyARN": p.arn, "PolicyName": p.name, "ServiceNamespace": p.key.namespace, "ResourceId": p.key.resourceID,
            "ScalableDimension": p.key.dimension, "PolicyType": p.type, configurationMember[p.type]!: configuration(p),
            "Alarms": alarms(p), "CreationTime": p.created,
        ]
    }

    func describeScalingPolicies(_ r: CallerIdentity, _ input: Input) throws -> [String: Any] {
        let namespace = try input.oneOf("ServiceNamespace", AASEnums.namespaces, required: true)!
        let names = try input.strings("PolicyNames", max: 50)
        let resourceID = try input.identifier("ResourceId", required: false)
        let dimension = try input.oneOf("ScalableDimension", AASEnums.dimensions, required: false)
        let limit = try input.maxResults()
        let token = try input.string("NextToken")
        return try store.db.readNow { db in
            let all = try AASStore.policies(r.accountID, r.region, namespace: namespace, db).filter { p in
                (names.map { $0.isEmpty || $0.contains(p.name) } ?? true) && (resourceID.map { p.key.resourceID == $0 } ?? true)
                    && (dimension.map { p.key.dimension == $0 } ?? true)
            }
            let (items, next) = try page(all, token: token, limit: limit)
            var out: [String: Any] = ["ScalingPolicies": items.map(Self.describe)]
            if let next { out["NextToken"] = next }
            return out
        }
    }

    func deleteScalingPolicy(_ r: CallerIdentity, _ input: Input) throws -> [String: Any] {
        let name = try input.identifier("PolicyName")!
        let key = try input.targetKey()
        try store.db.writeNow { db in
            guard let p = try AASStore.policy(r.accountID, r.region, key, name: name, db) else { throw AASError.policyNotFound(key, name) }
            try AASStore.deletePolicy(p, db)
        }
        return [:]
    }

    /// A stored target-tracking policy as the decision reads it (the metric filled in by the sweep); nil for others.
    static func trackingPolicy(_ p: StoredPolicy) -> (TrackingPolicy, metricType: String?)? {
        guard p.type == "TargetTrackingScaling" else { return nil }
        let c = configuration(p)
        guard let target = (c["TargetValue"] as? NSNumber)?.doubleValue else { return nil }
        var t = TrackingPolicy(name: p.name, metric: nil, targetValue: target)
        if let n = c["ScaleOutCooldown"] as? NSNumber { t.scaleOutCooldown = n.doubleValue }
        if let n = c["ScaleInCooldown"] as? NSNumber { t.scaleInCooldown = n.doubleValue }
        t.disableScaleIn = (c["DisableScaleIn"] as? Bool) ?? (c["DisableScaleIn"] as? NSNumber)?.boolValue ?? false
        let metricType = (c["PredefinedMetricSpecification"] as? [String: Any])?["PredefinedMetricType"] as? String
        return (t, metricType)
    }
}
