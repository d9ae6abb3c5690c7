import Core
import Foundation

/// One of a container instance's resources as ECS shapes it: INTEGER ones carry `integerValue` (with `doubleValue`
/// and `longValue` 0), STRINGSET ones (`PORTS`, `PORTS_UDP`) carry `stringSetValue`.
struct InstanceResource: Codable, Sendable, Equatable {
    var name: String
    var type: String
    var doubleValue: Double
    var longValue: Int
    var integerValue: Int
    var stringSetValue: [String]?

    static func integer(_ name: String, _ value: Int) -> InstanceResource {
        InstanceResource(name: name, type: "INTEGER", doubleValue: 0, longValue: 0, integerValue: value, stringSetValue: nil)
    }

    static func stringSet(_ name: String, _ values: [String]) -> InstanceResource {
        InstanceResource(name: name, type: "STRINGSET", doubleValue: 0, longValue: 0, integerValue: 0, stringSetValue: values)
    }
}

/// A resource as a request sends it (every member optional).
struct ResourceInput: Decodable, Sendable {
    var name: String?
    var type: String?
    var doubleValue: Double?
    var longValue: Int?
    var integerValue: Int?
    var stringSetValue: [String]?
}

/// An attribute of a container instance. Inside the instance document only name and value are shown; PutAttributes,
/// DeleteAttributes and ListAttributes carry the target too.
struct InstanceAttribute: Codable, Sendable, Equatable {
    var name: String
    var value: String?
    var targetType: String?
    var targetId: String?
}

/// A container instance, as DescribeContainerInstances reports it.
struct ContainerInstanceRecord: Codable, Sendable {
    var containerInstanceArn: String
    var ec2InstanceId: String
    var capacityProviderName: String?
    var version: Int
    var versionInfo: JSON
    var remainingResources: [InstanceResource]
    var registeredResources: [InstanceResource]
    var status: String
    var statusReason: String?
    var agentConnected: Bool
    var runningTasksCount: Int
    var pendingTasksCount: Int
    var attributes: [InstanceAttribute]
    var registeredAt: Double
    var attachments: [Attachment]
    var tags: [Tag]?
    var healthStatus: JSON?

    var id: String { String(containerInstanceArn.split(separator: "/").last ?? "") }

    func integer(_ name: String) -> Int { registeredResources.first { $0.name == name }?.integerValue ?? 0 }
    func ports(_ name: String) -> [String] { registeredResources.first { $0.name == name }?.stringSetValue ?? [] }
    func attribute(_ name: String) -> String? { attributes.first { $0.name == name }?.value }
}

/// A container instance in the scheduler, with where it lives.
struct InstanceEntry: Sendable {
    var instance: ContainerInstanceRecord
    var clusterArn: String
    var account: String
    var region: String
}
