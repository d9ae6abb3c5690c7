import Core
import Foundation

/// `AWS::ECS::CapacityProvider` and `AWS::ECS::ClusterCapacityProviderAssociations` for CloudFormation, over
/// CreateCapacityProvider, UpdateCapacityProvider and PutClusterCapacityProviders, called in-process. Also the
/// stack's system tags (`aws:cloudformation:*`), which ECS's API refuses from users but CloudFormation applies.
extension ECSResources {
    static let capacityTypes = ["AWS::ECS::CapacityProvider", "AWS::ECS::ClusterCapacityProviderAssociations"]

    func capacityCreateOnly(_ type: String) -> Set<String> {
        switch type {
        case "AWS::ECS::CapacityProvider": return ["Name", "ClusterName", "ManagedInstancesProvider"]
        case "AWS::ECS::ClusterCapacityProviderAssociations": return ["Cluster"]
        default: return []
        }
    }

    // MARK: CapacityProvider

    func createCapacityProvider(_ request: ResourceRequest) async throws -> ResourceState {
        let p = request.properties
        let name = p["Name"]?.string ?? request.generatedName(limit: 255)
        var body = Self.apiKeys(p.filter { ["AutoScalingGroupProvider", "ManagedInstancesProvider"].contains($0.key) }).object ?? [:]
        body["name"] = .string(name)
        let tags = Self.tags(request)
        if tags.array?.isEmpty == false { body["tags"] = tags }
        let out = try await call(request, "CreateCapacityProvider", body)
        let arn = out["capacityProvider"]?["capacityProviderArn"]?.string ?? ""
        try await applySystemTags(request, arn)
        var attributes: [String: JSON] = ["Arn": .string(arn)]
        if let asg = p["AutoScalingGroupProvider"]?["AutoScalingGroupArn"] { attributes["AutoScalingGroupArn"] = asg }
        return ResourceState(physicalId: name, ref: name, attributes: attributes)
    }

    func updateCapacityProvider(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        // AWS replaces the provider for a new AutoScalingGroupArn; the engine replaces only for top-level properties,
        // so the update fails (nothing changed) rather than keep the old group silently.
        let wantedGroup = request.properties["AutoScalingGroupProvider"]?["AutoScalingGroupArn"]
        if let before = previous.attributes["AutoScalingGroupArn"], wantedGroup != before {
            throw ECSError.invalid("AutoScalingGroupProvider.AutoScalingGroupArn of AWS::ECS::CapacityProvider cannot change in place; "
                                   + "give the capacity provider a new Name to replace it.")
        }
        if let asg = request.properties["AutoScalingGroupProvider"], !asg.isNull {
            var provider = Self.apiKeys(asg).object ?? [:]
            provider.removeValue(forKey: "autoScalingGroupArn")  // fixed at creation
            _ = try await call(request, "UpdateCapacityProvider", ["name": .string(previous.physicalId), "autoScalingGroupProvider": .object(provider)])
        }
        if let arn = previous.attributes["Arn"]?.string { try await syncTags(request, arn) }
        return previous
    }

    // MARK: ClusterCapacityProviderAssociations

    /// The cluster's capacity providers and default strategy become exactly the template's; `Ref` is the cluster.
    func associateCapacityProviders(_ request: ResourceRequest) async throws -> ResourceState {
        let p = request.properties
        guard let cluster = p["Cluster"]?.string else { throw ECSError.validation(nil, at: "cluster", "Member must not be null") }
        guard let strategy = p["DefaultCapacityProviderStrategy"], !strategy.isNull else {
            throw ECSError.validation(nil, at: "defaultCapacityProviderStrategy", "Member must not be null")
        }
        _ = try await call(request, "PutClusterCapacityProviders", [
            "cluster": .string(cluster), "capacityProviders": p["CapacityProviders"] ?? .array([]),
            "defaultCapacityProviderStrategy": Self.apiKeys(strategy),
        ])
        return ResourceState(physicalId: cluster, ref: cluster)
    }

    func dissociateCapacityProviders(_ request: ResourceRequest, state: ResourceState) async throws {
        _ = try await call(request, "PutClusterCapacityProviders", [
            "cluster": .string(state.physicalId), "capacityProviders": .array([]), "defaultCapacityProviderStrategy": .array([]),
        ])
    }

    // MARK: System tags

    /// The stack's `aws:cloudformation:*` tags (and the resource's logical id), written past the API's check on the
    /// `aws:` prefix, as CloudFormation does for the resources it makes.
    func applySystemTags(_ request: ResourceRequest, _ arn: String) async throws {
        var system = request.tags.filter { $0.key.lowercased().hasPrefix("aws:") }
        guard !system.isEmpty, !arn.isEmpty else { return }
        system["aws:cloudformation:logical-id"] = request.logicalId
        let tags = system.sorted { $0.key < $1.key }.map { Tag(key: $0.key, value: $0.value) }
        try await service.changeTags(arn, Scope(account: request.account, region: request.region)) { old in
            old.filter { t in !tags.contains { $0.key == t.key } } + tags
        }
    }
}
