import Core
import Foundation

/// Application Auto Scaling's errors, with AWS's messages where they are known. All are HTTP 400.
enum AASError {
    static func validation(_ message: String) -> AWSError { AWSError("ValidationException", message) }

    /// The request validation message of AWS's front end: `1 validation error detected: Value 'x' at
    /// 'serviceNamespace' failed to satisfy constraint: Member must satisfy enum value set: [...]`.
    static func constraint(_ value: String?, at member: String, _ constraint: String) -> AWSError {
        let shown = value.map { "'\($0)'" } ?? "null"
        return validation("1 validation error detected: Value \(shown) at '\(lowerFirst(member))' failed to satisfy constraint: \(constraint)")
    }

    static func lowerFirst(_ s: String) -> String { s.prefix(1).lowercased() + s.dropFirst() }

    static func targetNotFound(_ key: TargetKey) -> AWSError {
        AWSError("ObjectNotFoundException", "No scalable target registered for service namespace: \(key.namespace), resource ID: "
                 + "\(key.resourceID), scalable dimension: \(key.dimension)")
    }

    static func policyNotFound(_ key: TargetKey, _ name: String) -> AWSError {
        AWSError("ObjectNotFoundException", "No scaling policy found for service namespace: \(key.namespace), resource ID: "
                 + "\(key.resourceID), scalable dimension: \(key.dimension), policy name: \(name)")
    }

    static func scheduledActionNotFound(_ key: TargetKey, _ name: String) -> AWSError {
        AWSError("ObjectNotFoundException", "No scheduled action found for service namespace: \(key.namespace), resource ID: "
                 + "\(key.resourceID), scalable dimension: \(key.dimension), scheduled action name: \(name)")
    }

    /// RegisterScalableTarget for an ECS service that does not exist (or is not ACTIVE).
    static func ecsServiceMissing(_ resourceID: String) -> AWSError {
        validation("ECS service doesn't exist: \(resourceID)")
    }

    static func unsupported() -> AWSError { validation("Unsupported service namespace, resource type or scalable dimension") }

    static func invalidToken() -> AWSError { AWSError("InvalidNextTokenException", "The NextToken value is invalid.") }

    static func resourceNotFound(_ arn: String) -> AWSError {
        AWSError("ResourceNotFoundException", "No scalable target found for ARN \(arn)").with("ResourceName", arn)
    }

    static func wrongType(_ member: String) -> AWSError { AWSError("SerializationException", "Unexpected value type for \(member).") }
}

/// The model's enums (service-2.json, 2016-02-06).
enum AASEnums {
    static let namespaces = ["ecs", "elasticmapreduce", "ec2", "appstream", "dynamodb", "rds", "sagemaker", "custom-resource",
                             "comprehend", "lambda", "cassandra", "kafka", "elasticache", "neptune", "workspaces"]
    static let dimensions = [
        "ecs:service:DesiredCount", "ec2:spot-fleet-request:TargetCapacity", "elasticmapreduce:instancegroup:InstanceCount",
        "appstream:fleet:DesiredCapacity", "dynamodb:table:ReadCapacityUnits", "dynamodb:table:WriteCapacityUnits",
        "dynamodb:index:ReadCapacityUnits", "dynamodb:index:WriteCapacityUnits", "rds:cluster:ReadReplicaCount",
        "sagemaker:variant:DesiredInstanceCount", "custom-resource:ResourceType:Property",
        "comprehend:document-classifier-endpoint:DesiredInferenceUnits", "comprehend:entity-recognizer-endpoint:DesiredInferenceUnits",
        "lambda:function:ProvisionedConcurrency", "cassandra:table:ReadCapacityUnits", "cassandra:table:WriteCapacityUnits",
        "kafka:broker-storage:VolumeSize", "elasticache:cache-cluster:Nodes", "elasticache:replication-group:NodeGroups",
        "elasticache:replication-group:Replicas", "neptune:cluster:ReadReplicaCount", "sagemaker:variant:DesiredProvisionedConcurrency",
        "sagemaker:inference-component:DesiredCopyCount", "workspaces:workspacespool:DesiredUserSessions",
    ]
    static let policyTypes = ["StepScaling", "TargetTrackingScaling", "PredictiveScaling"]
    /// PredefinedMetricType.
    static let metricTypes = [
        "DynamoDBReadCapacityUtilization", "DynamoDBWriteCapacityUtilization", "ALBRequestCountPerTarget",
        "RDSReaderAverageCPUUtilization", "RDSReaderAverageDatabaseConnections", "EC2SpotFleetRequestAverageCPUUtilization",
        "EC2SpotFleetRequestAverageNetworkIn", "EC2SpotFleetRequestAverageNetworkOut",
        "SageMakerVariantInvocationsPerInstance", "ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization",
        "AppStreamAverageCapacityUtilization", "ComprehendInferenceUtilization", "LambdaProvisionedConcurrencyUtilization",
        "CassandraReadCapacityUtilization", "CassandraWriteCapacityUtilization", "KafkaBrokerStorageUtilization",
        "ElastiCacheEngineCPUUtilization", "ElastiCacheDatabaseMemoryUsagePercentage",
        "ElastiCachePrimaryEngineCPUUtilization", "ElastiCacheReplicaEngineCPUUtilization",
        "ElastiCacheDatabaseMemoryUsageCountedForEvictPercentage", "NeptuneReaderAverageCPUUtilization",
        "SageMakerVariantProvisionedConcurrencyUtilization", "ElastiCacheDatabaseCapacityUsageCountedForEvictPercentage",
        "SageMakerInferenceComponentInvocationsPerCopy", "WorkSpacesAverageUserSessionsCapacityUtilization",
        "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution",
        "SageMakerVariantConcurrentRequestsPerModelHighResolution",
    ]
}

/// A JSON request's members, read with the model's validation errors.
struct Input {
    let raw: [String: Any]
    init(_ raw: [String: Any]) { self.raw = raw }

    func has(_ name: String) -> Bool { raw[name] != nil && !(raw[name] is NSNull) }

    func string(_ name: String) throws -> String? {
        guard has(name) else { return nil }
        guard let s = raw[name] as? String else { throw AASError.wrongType(name) }
        return s
    }

    func required(_ name: String) throws -> String {
        guard let s = try string(name) else { throw AASError.constraint(nil, at: name, "Member must not be null") }
        return s
    }

    /// A 1–1600 character identifier (ResourceId, RoleARN, names in Delete*).
    func identifier(_ name: String, required: Bool = true, max: Int = 1600) throws -> String? {
        guard let s = required ? try self.required(name) : try string(name) else { return nil }
        if s.isEmpty { throw AASError.constraint(s, at: name, "Member must have length greater than or equal to 1") }
        if s.count > max { throw AASError.constraint(s, at: name, "Member must have length less than or equal to \(max)") }
        return s
    }

    func oneOf(_ name: String, _ values: [String], required: Bool) throws -> String? {
        guard let s = required ? try self.required(name) : try string(name) else { return nil }
        guard values.contains(s) else {
            throw AASError.constraint(s, at: name, "Member must satisfy enum value set: [\(values.joined(separator: ", "))]")
        }
        return s
    }

    func int(_ name: String) throws -> Int? {
        guard has(name) else { return nil }
        guard let n = raw[name] as? NSNumber else { throw AASError.wrongType(name) }
        return Int(clamping: n.int64Value)
    }

    func double(_ name: String) throws -> Double? {
        guard has(name) else { return nil }
        guard let n = raw[name] as? NSNumber else { throw AASError.wrongType(name) }
        return n.doubleValue
    }

    func bool(_ name: String) throws -> Bool? {
        guard has(name) else { return nil }
        guard let b = raw[name] as? Bool ?? (raw[name] as? NSNumber)?.boolValue else { throw AASError.wrongType(name) }
        return b
    }

    func strings(_ name: String, max: Int? = nil) throws -> [String]? {
        guard has(name) else { return nil }
        guard let list = raw[name] as? [Any], list.allSatisfy({ $0 is String }) else { throw AASError.wrongType(name) }
        if let max, list.count > max {
            throw AASError.constraint(nil, at: name, "Member must have length less than or equal to \(max)")
        }
        return list.compactMap { $0 as? String }
    }

    func stringMap(_ name: String) throws -> [String: String]? {
        guard has(name) else { return nil }
        guard let map = raw[name] as? [String: Any], map.values.allSatisfy({ $0 is String }) else { throw AASError.wrongType(name) }
        return map.compactMapValues { $0 as? String }
    }

    func object(_ name: String) throws -> [String: Any]? {
        guard has(name) else { return nil }
        guard let o = raw[name] as? [String: Any] else { throw AASError.wrongType(name) }
        return o
    }

    /// Epoch seconds (the JSON protocol's timestamps), also accepted as an ISO 8601 string.
    func timestamp(_ name: String) throws -> Double? {
        guard has(name) else { return nil }
        if let n = raw[name] as? NSNumber { return n.doubleValue }
        if let s = raw[name] as? String, let d = ISO8601DateFormatter().date(from: s) { return d.timeIntervalSince1970 }
        throw AASError.wrongType(name)
    }

    /// MaxResults: 1–50, 50 when absent.
    func maxResults() throws -> Int {
        guard let n = try int("MaxResults") else { return 50 }
        if n < 1 { throw AASError.constraint(String(n), at: "MaxResults", "Member must have value greater than or equal to 1") }
        if n > 50 { throw AASError.constraint(String(n), at: "MaxResults", "Member must have value less than or equal to 50") }
        return n
    }

    /// The three members that name a scalable target, validated against the model's enums.
    func targetKey() throws -> TargetKey {
        let namespace = try oneOf("ServiceNamespace", AASEnums.namespaces, required: true)!
        let resourceID = try identifier("ResourceId")!
        let dimension = try oneOf("ScalableDimension", AASEnums.dimensions, required: true)!
        return TargetKey(namespace: namespace, resourceID: resourceID, dimension: dimension)
    }
}

/// One page of `items` after an opaque NextToken (the base64 offset), and the token of the next page.
func page<T>(_ items: [T], token: String?, limit: Int) throws -> ([T], String?) {
    var start = 0
    if let token {
        guard let d = Data(base64Encoded: token), let s = String(data: d, encoding: .utf8), s.hasPrefix("aas:"),
              let n = Int(s.dropFirst(4)), n >= 0 else {
            throw AASError.invalidToken()
        }
        start = min(n, items.count)
    }
    let end = min(items.count, start + limit)
    let next = end < items.count ? Data("aas:\(end)".utf8).base64EncodedString() : nil
    return (Array(items[start..<end]), next)
}
