import Foundation

/// An ECS AppSpec (YAML or JSON, `version: 0.0`): the target service's new task definition, the container and port
/// the load balancer sends traffic to, optional platform version, network configuration and capacity provider
/// strategy, and the hook functions of the five ECS lifecycle events that take hooks.
struct ECSAppSpec: Sendable, Equatable {
    static let hookEvents = ["BeforeInstall", "AfterInstall", "AfterAllowTestTraffic", "BeforeAllowTraffic", "AfterAllowTraffic"]

    var taskDefinition: String
    var containerName: String
    var containerPort: Int
    var platformVersion: String?
    /// `awsvpcConfiguration` as the AppSpec gives it (PascalCase), kept as JSON text.
    var networkConfiguration: String?
    var capacityProviderStrategy: String?
    /// Lifecycle event → function name or ARN.
    var hooks: [String: String] = [:]

    typealias Invalid = LambdaAppSpec.Invalid

    static func parse(_ text: String) throws -> ECSAppSpec {
        let doc = try LambdaAppSpec.document(text)
        guard let resources = doc["Resources"] as? [Any], let first = resources.first as? [String: Any],
              let entry = first.values.first as? [String: Any] else {
            throw Invalid(message: "The AppSpec file must name one ECS service under Resources.")
        }
        guard (entry["Type"] as? String) == "AWS::ECS::Service" else {
            throw Invalid(message: "The AppSpec resource's Type must be AWS::ECS::Service.")
        }
        let p = entry["Properties"] as? [String: Any] ?? [:]
        guard let td = p["TaskDefinition"] as? String, !td.isEmpty else {
            throw Invalid(message: "The AppSpec resource's Properties must include TaskDefinition.")
        }
        guard let lb = p["LoadBalancerInfo"] as? [String: Any], let container = lb["ContainerName"] as? String,
              let port = (lb["ContainerPort"] as? Int) ?? (lb["ContainerPort"] as? String).flatMap({ Int($0) }) else {
            throw Invalid(message: "The AppSpec resource's LoadBalancerInfo must include ContainerName and ContainerPort.")
        }
        var spec = ECSAppSpec(taskDefinition: td, containerName: container, containerPort: port)
        if let v = p["PlatformVersion"] { spec.platformVersion = "\(v)" }
        spec.networkConfiguration = try p["NetworkConfiguration"].map(Self.text)
        spec.capacityProviderStrategy = try p["CapacityProviderStrategy"].map(Self.text)
        for hook in doc["Hooks"] as? [Any] ?? [] {
            guard let h = hook as? [String: Any] else { continue }
            for (event, f) in h {
                guard hookEvents.contains(event) else {
                    throw Invalid(message: "The AppSpec hook \(event) is not an ECS lifecycle event.")
                }
                spec.hooks[event] = "\(f)"
            }
        }
        return spec
    }

    private static func text(_ v: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: v, options: [.sortedKeys]), as: UTF8.self)
    }

    /// The AppSpec's PascalCase keys as the ECS API's camelCase (`AwsvpcConfiguration` → `awsvpcConfiguration`,
    /// `AssignPublicIp` → `assignPublicIp`).
    static func camelCased(_ v: Any) -> Any {
        if let d = v as? [String: Any] {
            return Dictionary(uniqueKeysWithValues: d.map { (k, x) in (k.prefix(1).lowercased() + k.dropFirst(), camelCased(x)) })
        }
        if let a = v as? [Any] { return a.map(camelCased) }
        return v
    }

    static func object(_ text: String?) -> Any? {
        text.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }.map(camelCased)
    }

    var asDoc: [String: Any] {
        var d: [String: Any] = ["taskDefinition": taskDefinition, "containerName": containerName, "containerPort": containerPort,
                                "hooks": hooks]
        if let platformVersion { d["platformVersion"] = platformVersion }
        if let networkConfiguration { d["networkConfiguration"] = networkConfiguration }
        if let capacityProviderStrategy { d["capacityProviderStrategy"] = capacityProviderStrategy }
        return d
    }

    init(taskDefinition: String, containerName: String, containerPort: Int) {
        self.taskDefinition = taskDefinition
        self.containerName = containerName
        self.containerPort = containerPort
    }

    init?(doc: [String: Any]?) {
        guard let d = doc, let td = d["taskDefinition"] as? String, let c = d["containerName"] as? String,
              let p = (d["containerPort"] as? NSNumber)?.intValue else { return nil }
        self.init(taskDefinition: td, containerName: c, containerPort: p)
        platformVersion = d["platformVersion"] as? String
        networkConfiguration = d["networkConfiguration"] as? String
        capacityProviderStrategy = d["capacityProviderStrategy"] as? String
        hooks = d["hooks"] as? [String: String] ?? [:]
    }
}
