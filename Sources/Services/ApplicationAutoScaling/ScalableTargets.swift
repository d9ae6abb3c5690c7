import Core
import Foundation
import GRDB

/// RegisterScalableTarget, DescribeScalableTargets, DeregisterScalableTarget and the tags of scalable targets.
extension ApplicationAutoScalingService {
    /// The service-linked role AWS fills in when RoleARN is left out.
    static func serviceLinkedRole(_ account: String, namespace: String) -> String {
        namespace == "ecs"
            ? "arn:aws:iam::\(account):role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService"
            : "arn:aws:iam::\(account):role/aws-service-role/\(namespace).application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling"
    }

    /// The dimension must belong to the namespace; an ECS service is `service/<cluster>/<service>`.
    static func validateCombination(_ key: TargetKey) throws {
        guard key.dimension.hasPrefix(key.namespace + ":") else { throw AASError.unsupported() }
        if key.namespace == "ecs" {
            let parts = key.resourceID.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] == "service", !parts[1].isEmpty, !parts[2].isEmpty else { throw AASError.unsupported() }
        }
    }

    static func validateTags(_ tags: [String: String]) throws {
        for (k, v) in tags {
            if k.isEmpty || k.count > 128 {
                throw AASError.constraint(k, at: "Tags", k.isEmpty ? "Member must have length greater than or equal to 1"
                                                                   : "Member must have length less than or equal to 128")
            }
            if v.count > 256 { throw AASError.constraint(v, at: "Tags", "Member must have length less than or equal to 256") }
        }
    }

    func registerScalableTarget(_ r: CallerIdentity, _ input: Input) async throws -> [String: Any] {
        let key = try input.targetKey()
        let minCapacity = try input.int("MinCapacity")
        let maxCapacity = try input.int("MaxCapacity")
        let role = try input.identifier("RoleARN", required: false)
        let suspended = try input.object("SuspendedState").map(Input.init)
        let tags = try input.stringMap("Tags") ?? [:]
        try Self.validateTags(tags)
        if tags.count > 50 { throw AWSError("TooManyTagsException", "A scalable target can have at most 50 tags.") }
        try Self.validateCombination(key)
        for (name, v) in [("MinCapacity", minCapacity), ("MaxCapacity", maxCapacity)] {
            if let v, v < 0 { throw AASError.constraint(String(v), at: name, "Member must have value greater than or equal to 0") }
        }
        if Self.isLive(key) {
            let current = await resources.capacity(namespace: key.namespace, resourceID: key.resourceID, dimension: key.dimension,
                                                   account: r.accountID, region: r.region)
            if current == nil { throw AASError.ecsServiceMissing(key.resourceID) }
        }
        let now = clock.now()
        let target = try store.db.writeNow { db -> ScalableTarget in
            var t: ScalableTarget
            if let existing = try AASStore.target(r.accountID, r.region, key, db) {
                // An update changes only what the request gives; tags are set at creation (TagResource after).
                t = existing
                t.minCapacity = minCapacity ?? t.minCapacity
                t.maxCapacity = maxCapacity ?? t.maxCapacity
                t.roleARN = role ?? t.roleARN
            } else {
                guard let minCapacity, let maxCapacity else {
                    throw AASError.validation("MinCapacity and MaxCapacity are required for registering a new scalable target.")
                }
                t = ScalableTarget(account: r.accountID, region: r.region, key: key,
                                   id: UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""),
                                   minCapacity: minCapacity, maxCapacity: maxCapacity,
                                   roleARN: role ?? Self.serviceLinkedRole(r.accountID, namespace: key.namespace), tags: tags, created: now)
            }
            if t.minCapacity > t.maxCapacity {
                throw AASError.validation("Minimum capacity cannot be greater than maximum capacity")
            }
            if let suspended {
                t.scalingInSuspended = try suspended.bool("DynamicScalingInSuspended") ?? t.scalingInSuspended
                t.scalingOutSuspended = try suspended.bool("DynamicScalingOutSuspended") ?? t.scalingOutSuspended
                t.scheduledSuspended = try suspended.bool("ScheduledScalingSuspended") ?? t.scheduledSuspended
            }
            try AASStore.save(t, db)
            return t
        }
        await clampCapacity(target, now: now)
        return ["ScalableTargetARN": target.arn]
    }

    static func describe(_ t: ScalableTarget) -> [String: Any] {
        [
            "ServiceNamespace": t.key.namespace, "ResourceId": t.key.resourceID, "ScalableDimension": t.key.dimension,
            "MinCapacity": t.minCapacity, "MaxCapacity": t.maxCapacity, "RoleARN": t.roleARN, "CreationTime": t.created,
            "ScalableTargetARN": t.arn,
            "SuspendedState": [
                "DynamicScalingInSuspended": t.scalingInSuspended, "DynamicScalingOutSuspended": t.scalingOutSuspended,
                "ScheduledScalingSuspended": t.scheduledSuspended,
            ],
        ]
    }

    func describeScalableTargets(_ r: CallerIdentity, _ input: Input) throws -> [String: Any] {
        let namespace = try input.oneOf("ServiceNamespace", AASEnums.namespaces, required: true)!
        let ids = try input.strings("ResourceIds", max: 50)
        let dimension = try input.oneOf("ScalableDimension", AASEnums.dimensions, required: false)
        let limit = try input.maxResults()
        let token = try input.string("NextToken")
        return try store.db.readNow { db in
            let all = try AASStore.targets(r.accountID, r.region, namespace: namespace, db).filter { t in
                (ids.map { $0.isEmpty || $0.contains(t.key.resourceID) } ?? true) && (dimension.map { t.key.dimension == $0 } ?? true)
            }
            let (items, next) = try page(all, token: token, limit: limit)
            var out: [String: Any] = ["ScalableTargets": items.map(Self.describe)]
            if let next { out["NextToken"] = next }
            return out
        }
    }

    func deregisterScalableTarget(_ r: CallerIdentity, _ input: Input) throws -> [String: Any] {
        let key = try input.targetKey()
        try store.db.writeNow { db in try AASStore.deleteTarget(try existingTarget(r, key, db), db) }
        return [:]
    }

    // MARK: Tags

    static let arnPattern = "^arn:.+:application-autoscaling:.+:[0-9]+:scalable-target\\/[a-zA-Z0-9-]+$"

    /// The caller's target a tagging ARN names.
    func taggedTarget(_ r: CallerIdentity, _ input: Input, _ db: Database) throws -> ScalableTarget {
        let arn = try input.required("ResourceARN")
        guard let parsed = ARN(arn), parsed.service == "application-autoscaling", parsed.resource.hasPrefix("scalable-target/"),
              !parsed.account.isEmpty, parsed.account.allSatisfy(\.isNumber), !parsed.region.isEmpty else {
            throw AASError.constraint(arn, at: "ResourceARN", "Member must satisfy regular expression pattern: \(Self.arnPattern)")
        }
        let id = String(parsed.resource.dropFirst("scalable-target/".count))
        guard parsed.account == r.accountID, parsed.region == r.region, let t = try AASStore.target(id: id, db) else {
            throw AASError.resourceNotFound(arn)
        }
        return t
    }

    func tagResource(_ r: CallerIdentity, _ input: Input) throws -> [String: Any] {
        guard let tags = try input.stringMap("Tags") else { throw AASError.constraint(nil, at: "Tags", "Member must not be null") }
        try Self.validateTags(tags)
        try store.db.writeNow { db in
            var t = try taggedTarget(r, input, db)
            t.tags.merge(tags) { _, new in new }
            if t.tags.count > 50 {
                throw AWSError("TooManyTagsException", "A scalable target can have at most 50 tags.").with("ResourceName", t.arn)
            }
            try AASStore.save(t, db)
        }
        return [:]
    }

    func untagResource(_ r: CallerIdentity, _ input: Input) throws -> [String: Any] {
        guard let keys = try input.strings("TagKeys", max: 200) else {
            throw AASError.constraint(nil, at: "TagKeys", "Member must not be null")
        }
        try store.db.writeNow { db in
            var t = try taggedTarget(r, input, db)
            for k in keys { t.tags[k] = nil }
            try AASStore.save(t, db)
        }
        return [:]
    }

    func listTagsForResource(_ r: CallerIdentity, _ input: Input) throws -> [String: Any] {
        try store.db.readNow { db in ["Tags": try taggedTarget(r, input, db).tags] }
    }
}
