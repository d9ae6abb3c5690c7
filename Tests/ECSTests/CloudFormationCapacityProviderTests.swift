import Core
import Foundation
import Logging
import Testing

@testable import ECS

/// AWS::ECS::CapacityProvider and AWS::ECS::ClusterCapacityProviderAssociations through ECSResources, and the stack's
/// `aws:cloudformation:*` tags on what a stack makes; read back with Describe* and ListTagsForResource.
@Suite struct ECSCloudFormationCapacityTests {
    let directory: String
    let ecs: ECSService
    let provider: ECSResources
    static let asg = "arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:1:autoScalingGroupName/asg"

    init() throws {
        directory = NSTemporaryDirectory() + "ecs-cfn-cap-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        ecs = try ECSService(directory: directory, clock: EmulatorClock(), endpoint: ServerEndpoint(), logs: DiscardingLogSink(),
                             supervisor: ProcessSupervisor(), objects: nil, images: nil, roleCredentials: TaskRoleCredentials(),
                             logger: Logger(label: "ecs-cfn-cap-test"))
        provider = ecs.resourceProvider
    }

    func request(_ type: String, _ logicalId: String, _ properties: [String: JSON]) -> ResourceRequest {
        ResourceRequest(account: "000000000000", region: "us-east-1", stackName: "stack", stackId: "arn:stack", logicalId: logicalId,
                        type: type, properties: properties,
                        tags: ["aws:cloudformation:stack-name": "stack", "aws:cloudformation:stack-id": "arn:stack", "env": "dev"])
    }

    func call(_ op: String, _ body: [String: JSON]) async throws -> [String: JSON] {
        try await provider.call(request("x", "x", [:]), op, body)
    }

    func tags(_ arn: String) async throws -> [String: String] {
        var out: [String: String] = [:]
        for t in try await call("ListTagsForResource", ["resourceArn": .string(arn)])["tags"]?.array ?? [] {
            out[t["key"]?.string ?? ""] = t["value"]?.string
        }
        return out
    }

    @Test func capacityProviderAndAssociations() async throws {
        #expect(provider.createOnlyProperties(of: "AWS::ECS::ClusterCapacityProviderAssociations") == ["Cluster"])
        #expect(provider.createOnlyProperties(of: "AWS::ECS::CapacityProvider").contains("Name"))
        let cpReq = request("AWS::ECS::CapacityProvider", "CP", [
            "AutoScalingGroupProvider": .object([
                "AutoScalingGroupArn": .string(Self.asg),
                "ManagedScaling": .object(["Status": .string("ENABLED"), "TargetCapacity": .number(80)]),
            ]),
            "Tags": .array([.object(["Key": .string("team"), "Value": .string("core")])]),
        ])
        let cp = try await provider.create(cpReq)
        #expect(cp.ref.hasPrefix("stack-CP-"))
        var d = try await call("DescribeCapacityProviders", ["capacityProviders": .array([.string(cp.ref)]), "include": .array([.string("TAGS")])])
        let described = try #require(d["capacityProviders"]?.array?.first)
        #expect(described["autoScalingGroupProvider"]?["managedScaling"]?["targetCapacity"] == .number(80))
        let cpTags = try await tags(cp.attributes["Arn"]?.string ?? "")
        #expect(cpTags["team"] == "core" && cpTags["env"] == "dev")
        #expect(cpTags["aws:cloudformation:stack-name"] == "stack" && cpTags["aws:cloudformation:logical-id"] == "CP")

        // In place: the scaling target.
        let cpReq2 = request("AWS::ECS::CapacityProvider", "CP", [
            "AutoScalingGroupProvider": .object([
                "AutoScalingGroupArn": .string(Self.asg),
                "ManagedScaling": .object(["Status": .string("ENABLED"), "TargetCapacity": .number(60)]),
            ]),
        ])
        _ = try await provider.update(cpReq2, previous: cp)
        // Another Auto Scaling group would need a replacement: refused, nothing changes.
        let otherGroup = request("AWS::ECS::CapacityProvider", "CP", [
            "AutoScalingGroupProvider": .object(["AutoScalingGroupArn": .string(Self.asg + "-2"), "ManagedScaling": .object(["TargetCapacity": .number(10)])]),
        ])
        await #expect { try await provider.update(otherGroup, previous: cp) } throws: { ($0 as? AWSError)?.message.contains("AutoScalingGroupArn") == true }
        d = try await call("DescribeCapacityProviders", ["capacityProviders": .array([.string(cp.ref)])])
        #expect(d["capacityProviders"]?.array?.first?["autoScalingGroupProvider"]?["managedScaling"]?["targetCapacity"] == .number(60))
        let after = try await tags(cp.attributes["Arn"]?.string ?? "")
        #expect(after["team"] == nil && after["aws:cloudformation:stack-name"] == "stack")

        let cluster = try await provider.create(request("AWS::ECS::Cluster", "Cluster", [:]))
        let clusterTags = try await tags(cluster.attributes["Arn"]?.string ?? "")
        #expect(clusterTags["aws:cloudformation:stack-id"] == "arn:stack" && clusterTags["aws:cloudformation:logical-id"] == "Cluster")
        let assocReq = request("AWS::ECS::ClusterCapacityProviderAssociations", "Assoc", [
            "Cluster": .string(cluster.ref), "CapacityProviders": .array([.string(cp.ref), .string("FARGATE")]),
            "DefaultCapacityProviderStrategy": .array([.object(["CapacityProvider": .string(cp.ref), "Weight": .number(1), "Base": .number(0)])]),
        ])
        let assoc = try await provider.create(assocReq)
        #expect(assoc.ref == cluster.ref)
        var c = try await call("DescribeClusters", ["clusters": .array([.string(cluster.ref)])])
        #expect(c["clusters"]?.array?.first?["capacityProviders"] == .array([.string(cp.ref), .string("FARGATE")]))
        #expect(c["clusters"]?.array?.first?["defaultCapacityProviderStrategy"]?.array?.first?["capacityProvider"] == .string(cp.ref))
        // An update of the cluster itself leaves the association's providers alone.
        _ = try await provider.update(request("AWS::ECS::Cluster", "Cluster", ["Tags": .array([.object(["Key": .string("k"), "Value": .string("v")])])]),
                                      previous: cluster)
        c = try await call("DescribeClusters", ["clusters": .array([.string(cluster.ref)])])
        #expect(c["clusters"]?.array?.first?["capacityProviders"]?.array?.count == 2)
        // The provider is in use: deleting it fails with ECS's error.
        await #expect { try await provider.delete(cpReq2, state: cp) } throws: { ($0 as? AWSError)?.message == "The specified capacity provider is in use and cannot be removed." }

        try await provider.delete(assocReq, state: assoc)
        try await provider.delete(assocReq, state: assoc)
        c = try await call("DescribeClusters", ["clusters": .array([.string(cluster.ref)])])
        #expect(c["clusters"]?.array?.first?["capacityProviders"] == .array([]))
        try await provider.delete(cpReq2, state: cp)
        try await provider.delete(cpReq2, state: cp)
        d = try await call("DescribeCapacityProviders", ["capacityProviders": .array([.string(cp.ref)])])
        #expect(d["capacityProviders"]?.array?.isEmpty == true)
    }

    @Test func badCapacityProviderFailsWithECSError() async throws {
        await #expect { try await provider.create(request("AWS::ECS::CapacityProvider", "CP", [
            "Name": .string("ecs-reserved"), "AutoScalingGroupProvider": .object(["AutoScalingGroupArn": .string(Self.asg)]),
        ])) } throws: { ($0 as? AWSError)?.message.contains("cannot start with 'aws', 'ecs', or 'fargate'") == true }
        await #expect { try await provider.create(request("AWS::ECS::ClusterCapacityProviderAssociations", "A", [
            "Cluster": .string("missing"), "CapacityProviders": .array([]), "DefaultCapacityProviderStrategy": .array([]),
        ])) } throws: { $0 is AWSError }
    }
}

/// Drift readings of ECS resources: untouched they read back as the template wrote them (ECS's defaults left out),
/// a change made through the API shows, a deleted one reads as deleted.
@Suite struct ECSDriftReadingTests {
    let ecs: ECSService
    let provider: ECSResources

    init() throws {
        let directory = NSTemporaryDirectory() + "ecs-cfn-drift-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        ecs = try ECSService(directory: directory, clock: EmulatorClock(), endpoint: ServerEndpoint(), logs: DiscardingLogSink(),
                             supervisor: ProcessSupervisor(), objects: nil, images: nil, roleCredentials: TaskRoleCredentials(),
                             logger: Logger(label: "ecs-cfn-drift-test"))
        provider = ecs.resourceProvider
    }

    func request(_ type: String, _ properties: [String: JSON]) -> ResourceRequest {
        ResourceRequest(account: "000000000000", region: "us-east-1", stackName: "stack", stackId: "arn:stack", logicalId: "R",
                        type: type, properties: properties, tags: ["aws:cloudformation:stack-name": "stack", "env": "dev"])
    }

    func reading(_ r: ResourceRequest, _ s: ResourceState) async throws -> [String: JSON] {
        guard case .properties(let props) = try await provider.currentProperties(r, state: s) else { throw AWSError("Test", "no reading") }
        return props
    }

    @Test func clusterCapacityProviderAndTaskDefinition() async throws {
        let clusterProps: [String: JSON] = [
            "ClusterName": .string("drifty"),
            "ClusterSettings": .array([.object(["Name": .string("containerInsights"), "Value": .string("enabled")])]),
            "Tags": .array([.object(["Key": .string("team"), "Value": .string("core")])]),
        ]
        let clusterReq = request("AWS::ECS::Cluster", clusterProps)
        let cluster = try await provider.create(clusterReq)
        #expect(try await reading(clusterReq, cluster) == clusterProps)
        _ = try await provider.call(clusterReq, "UpdateClusterSettings", [
            "cluster": .string("drifty"), "settings": .array([.object(["name": .string("containerInsights"), "value": .string("disabled")])]),
        ])
        #expect(try await reading(clusterReq, cluster)["ClusterSettings"]
                == .array([.object(["Name": .string("containerInsights"), "Value": .string("disabled")])]))

        let cpProps: [String: JSON] = [
            "AutoScalingGroupProvider": .object([
                "AutoScalingGroupArn": .string(ECSCloudFormationCapacityTests.asg),
                "ManagedScaling": .object(["Status": .string("ENABLED"), "TargetCapacity": .number(80)]),
            ]),
        ]
        let cpReq = request("AWS::ECS::CapacityProvider", cpProps)
        let cp = try await provider.create(cpReq)
        var read = try await reading(cpReq, cp)
        #expect(read["AutoScalingGroupProvider"] == cpProps["AutoScalingGroupProvider"] && read["Name"] == .string(cp.ref))

        let assocReq = request("AWS::ECS::ClusterCapacityProviderAssociations", [
            "Cluster": .string("drifty"), "CapacityProviders": .array([.string(cp.ref)]),
            "DefaultCapacityProviderStrategy": .array([.object(["CapacityProvider": .string(cp.ref), "Weight": .number(1)])]),
        ])
        let assoc = try await provider.create(assocReq)
        #expect(try await reading(assocReq, assoc) == assocReq.properties)

        let tdProps: [String: JSON] = [
            "Family": .string("drift-td"), "Cpu": .string("256"), "Memory": .string("512"), "NetworkMode": .string("awsvpc"),
            "RequiresCompatibilities": .array([.string("FARGATE")]),
            "ContainerDefinitions": .array([.object([
                "Name": .string("app"), "Image": .string("example.com/app:1"), "Essential": .bool(true),
                "PortMappings": .array([.object(["ContainerPort": .number(8080)])]), "DockerLabels": .object(["Team.Name": .string("x")]),
            ])]),
        ]
        let tdReq = request("AWS::ECS::TaskDefinition", tdProps)
        let td = try await provider.create(tdReq)
        read = try await reading(tdReq, td)
        for (key, value) in tdProps { #expect(read[key] == value, "\(key)") }
        _ = try await provider.call(tdReq, "DeregisterTaskDefinition", ["taskDefinition": .string(td.physicalId)])
        #expect(try await provider.currentProperties(tdReq, state: td) == .deleted)

        try await provider.delete(assocReq, state: assoc)
        try await provider.delete(cpReq, state: cp)
        #expect(try await provider.currentProperties(cpReq, state: cp) == .deleted)
        try await provider.delete(clusterReq, state: cluster)
        #expect(try await provider.currentProperties(clusterReq, state: cluster) == .deleted)
    }
}
