import Core
import Foundation

/// Drift reading: what ECS holds now for a stack's cluster, capacity provider, association or task definition, in
/// the template's property names. ECS answers with its defaults filled in (managed scaling steps, container
/// defaults...), so a nested property is read back in the template's shape: the members the template gives, with
/// the values ECS holds now. (Services are not read: their `Cluster` and `TaskDefinition` are names or ARNs.)
extension ECSResources {
    public func currentProperties(_ request: ResourceRequest, state: ResourceState) async throws -> ResourceReading {
        let p = request.properties
        switch request.type {
        case "AWS::ECS::Cluster":
            let out = try await call(request, "DescribeClusters", [
                "clusters": .array([.string(state.physicalId)]), "include": .array([.string("SETTINGS"), .string("TAGS"), .string("CONFIGURATIONS")]),
            ])
            guard let c = out["clusters"]?.array?.first, c["status"]?.string == "ACTIVE" else { return .deleted }
            var props: [String: JSON] = ["ClusterName": c["clusterName"] ?? .string(state.physicalId)]
            let fields = ["ClusterSettings": "settings", "CapacityProviders": "capacityProviders",
                          "DefaultCapacityProviderStrategy": "defaultCapacityProviderStrategy", "Configuration": "configuration",
                          "ServiceConnectDefaults": "serviceConnectDefaults"]
            for (property, field) in fields {
                if let template = p[property], let v = Self.project(c[field], onto: template) { props[property] = v }
            }
            if let tags = Self.ownTags(c["tags"], request) { props["Tags"] = tags }
            return .properties(props)
        case "AWS::ECS::CapacityProvider":
            let out = try await call(request, "DescribeCapacityProviders", [
                "capacityProviders": .array([.string(state.physicalId)]), "include": .array([.string("TAGS")]),
            ])
            guard let cp = out["capacityProviders"]?.array?.first, cp["status"]?.string == "ACTIVE" else { return .deleted }
            var props: [String: JSON] = ["Name": cp["name"] ?? .string(state.physicalId)]
            for (property, field) in ["AutoScalingGroupProvider": "autoScalingGroupProvider", "ManagedInstancesProvider": "managedInstancesProvider"] {
                if let template = p[property], let v = Self.project(cp[field], onto: template) { props[property] = v }
            }
            if let tags = Self.ownTags(cp["tags"], request) { props["Tags"] = tags }
            return .properties(props)
        case "AWS::ECS::ClusterCapacityProviderAssociations":
            let out = try await call(request, "DescribeClusters", ["clusters": .array([.string(state.physicalId)])])
            guard let c = out["clusters"]?.array?.first, c["status"]?.string == "ACTIVE" else { return .deleted }
            var props: [String: JSON] = ["Cluster": p["Cluster"] ?? .string(state.physicalId)]
            props["CapacityProviders"] = c["capacityProviders"] ?? .array([])
            if let template = p["DefaultCapacityProviderStrategy"] {
                props["DefaultCapacityProviderStrategy"] = Self.project(c["defaultCapacityProviderStrategy"], onto: template) ?? .array([])
            }
            return .properties(props)
        case "AWS::ECS::TaskDefinition":
            let out: [String: JSON]
            do {
                out = try await call(request, "DescribeTaskDefinition", ["taskDefinition": .string(state.physicalId), "include": .array([.string("TAGS")])])
            } catch let e as AWSError where e.code == "ClientException" { return .deleted }
            guard let td = out["taskDefinition"], td["status"]?.string == "ACTIVE" else { return .deleted }
            var props: [String: JSON] = [:]
            for (property, template) in p where property != "Tags" {
                let field = Self.renamed[property] ?? (property.prefix(1).lowercased() + property.dropFirst())
                if let v = Self.project(td[field], onto: template) { props[property] = v }
            }
            if let tags = Self.ownTags(out["tags"], request) { props["Tags"] = tags }
            return .properties(props)
        default:
            return .notChecked
        }
    }

    /// `current` (the API's names) in the shape of `template` (CloudFormation's names): an object keeps the members
    /// the template gives, a list is read item by item, a user map (labels, options) and a scalar are as ECS holds
    /// them. Nil when ECS holds nothing there.
    static func project(_ current: JSON?, onto template: JSON, userMap: Bool = false) -> JSON? {
        guard let current, !current.isNull else { return nil }
        if userMap { return current }
        switch template {
        case .object(let members):
            guard let o = current.object else { return current }
            var out: [String: JSON] = [:]
            for (k, t) in members {
                let field = renamed[k] ?? (k.prefix(1).lowercased() + k.dropFirst())
                if let v = project(o[field], onto: t, userMap: userMaps.contains(k) && k != "Tags") { out[k] = v }
            }
            return .object(out)
        case .array(let items):
            guard let a = current.array else { return current }
            return .array(a.enumerated().map { i, v in i < items.count ? (project(v, onto: items[i]) ?? v) : v })
        default:
            return current
        }
    }

    /// The resource's own tags in the template's shape: not CloudFormation's `aws:` ones, nor the stack's (applied to
    /// every resource) unless the template repeats them.
    static func ownTags(_ tags: JSON?, _ request: ResourceRequest) -> JSON? {
        let given = (request.properties["Tags"]?.array ?? []).compactMap { $0["Key"]?.string }
        let own = (tags?.array ?? []).compactMap { t -> (String, String)? in
            guard let k = t["key"]?.string else { return nil }
            guard given.contains(k) || (request.tags[k] == nil && !k.lowercased().hasPrefix("aws:")) else { return nil }
            return (k, t["value"]?.string ?? "")
        }.sorted { (given.firstIndex(of: $0.0) ?? Int.max, $0.0) < (given.firstIndex(of: $1.0) ?? Int.max, $1.0) }
        return own.isEmpty ? nil : .array(own.map { .object(["Key": .string($0.0), "Value": .string($0.1)]) })
    }
}
