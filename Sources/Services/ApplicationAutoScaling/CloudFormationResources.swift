import Core
import Foundation

/// `AWS::ApplicationAutoScaling::ScalableTarget` and `AWS::ApplicationAutoScaling::ScalingPolicy` for CloudFormation,
/// over RegisterScalableTarget and PutScalingPolicy, called in-process as the stack's account and region.
public struct ApplicationAutoScalingResources: ResourceProvider {
    let service: ApplicationAutoScalingService

    public var resourceTypes: [String] {
        ["AWS::ApplicationAutoScaling::ScalableTarget", "AWS::ApplicationAutoScaling::ScalingPolicy"]
    }

    public func createOnlyProperties(of type: String) -> Set<String> {
        switch type {
        case "AWS::ApplicationAutoScaling::ScalableTarget": return ["ResourceId", "ScalableDimension", "ServiceNamespace"]
        case "AWS::ApplicationAutoScaling::ScalingPolicy":
            return ["PolicyName", "ResourceId", "ScalableDimension", "ScalingTargetId", "ServiceNamespace"]
        default: return []
        }
    }

    public func create(_ request: ResourceRequest) async throws -> ResourceState {
        switch request.type {
        case "AWS::ApplicationAutoScaling::ScalableTarget": return try await registerTarget(request)
        case "AWS::ApplicationAutoScaling::ScalingPolicy": return try await putPolicy(request)
        default: throw Self.unsupported(request.type)
        }
    }

    public func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        try await create(request)
    }

    public func delete(_ request: ResourceRequest, state: ResourceState) async throws {
        do {
            switch request.type {
            case "AWS::ApplicationAutoScaling::ScalableTarget":
                var body = try Self.target(request.properties)
                body.removeValue(forKey: "Id")
                _ = try await call(request, "DeregisterScalableTarget", body)
            case "AWS::ApplicationAutoScaling::ScalingPolicy":
                var body = try Self.target(request.properties)
                body.removeValue(forKey: "Id")
                body["PolicyName"] = state.attributes["PolicyName"] ?? request.properties["PolicyName"]
                _ = try await call(request, "DeleteScalingPolicy", body)
            default: throw Self.unsupported(request.type)
            }
        } catch let e as AWSError where e.code == "ObjectNotFoundException" {}
    }

    func registerTarget(_ request: ResourceRequest) async throws -> ResourceState {
        let p = request.properties
        var body = try Self.target(p)
        let id = body.removeValue(forKey: "Id")?.string ?? ""
        for key in ["MinCapacity", "MaxCapacity"] {
            guard let v = p[key] else { throw AWSError("ValidationException", "\(key) is required.") }
            body[key] = v.string.flatMap(Double.init).map { .number($0) } ?? v
        }
        if let role = p["RoleARN"] { body["RoleARN"] = role }
        if let s = p["SuspendedState"] { body["SuspendedState"] = s }
        if !request.tags.isEmpty { body["Tags"] = .object(request.tags.mapValues { .string($0) }) }
        let out = try await call(request, "RegisterScalableTarget", body)
        var attributes: [String: JSON] = ["Id": .string(id)]
        if let arn = out["ScalableTargetARN"] { attributes["Arn"] = arn }
        return ResourceState(physicalId: id, ref: id, attributes: attributes)
    }

    func putPolicy(_ request: ResourceRequest) async throws -> ResourceState {
        let p = request.properties
        var body = try Self.target(p)
        body.removeValue(forKey: "Id")
        guard let name = p["PolicyName"]?.string else { throw AWSError("ValidationException", "PolicyName is required.") }
        body["PolicyName"] = .string(name)
        for key in ["PolicyType", "StepScalingPolicyConfiguration", "TargetTrackingScalingPolicyConfiguration",
                    "PredictiveScalingPolicyConfiguration"] {
            if let v = p[key], !v.isNull { body[key] = v }
        }
        let out = try await call(request, "PutScalingPolicy", body)
        let arn = out["PolicyARN"]?.string ?? ""
        return ResourceState(physicalId: arn, ref: arn, attributes: ["Arn": .string(arn), "PolicyName": .string(name)])
    }

    /// ServiceNamespace, ResourceId and ScalableDimension from the properties or from ScalingTargetId
    /// (a ScalableTarget's Ref, `resourceId|dimension|namespace`), and the target's id.
    static func target(_ p: [String: JSON]) throws -> [String: JSON] {
        var resource = p["ResourceId"]?.string, dimension = p["ScalableDimension"]?.string, namespace = p["ServiceNamespace"]?.string
        if let id = p["ScalingTargetId"]?.string {
            let parts = id.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else { throw AWSError("ValidationException", "ScalingTargetId \(id) is not a scalable target's id.") }
            (resource, dimension, namespace) = (parts[0], parts[1], parts[2])
        }
        guard let resource, let dimension, let namespace else {
            throw AWSError("ValidationException", "ResourceId, ScalableDimension and ServiceNamespace (or ScalingTargetId) are required.")
        }
        return ["ResourceId": .string(resource), "ScalableDimension": .string(dimension), "ServiceNamespace": .string(namespace),
                "Id": .string("\(resource)|\(dimension)|\(namespace)")]
    }

    func call(_ request: ResourceRequest, _ operation: String, _ body: [String: JSON]) async throws -> [String: JSON] {
        let r = InternalCall.request(account: request.account, region: request.region,
                                     target: "AnyScaleFrontendService.\(operation)", body: .object(body))
        return try await InternalCall.json(try await service.handle(r))
    }

    static func unsupported(_ type: String) -> AWSError {
        AWSError("InvalidRequest", "Resource type \(type) is not served by Application Auto Scaling.")
    }
}

extension ApplicationAutoScalingService {
    /// The CloudFormation provider.
    public var resourceProvider: ApplicationAutoScalingResources { ApplicationAutoScalingResources(service: self) }
}
