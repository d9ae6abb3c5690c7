import Core
import Foundation
import Logging
import Testing

@testable import ECS

/// AWS::ECS::Cluster and AWS::ECS::TaskDefinition through ECSResources, read back with Describe*. (Services wait
/// for the scheduler's loop, which the e2e tests run.)
@Suite struct ECSCloudFormationTests {
    let directory: String
    let ecs: ECSService
    let provider: ECSResources

    init() throws {
        directory = NSTemporaryDirectory() + "ecs-cfn-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        ecs = try ECSService(directory: directory, clock: EmulatorClock(), endpoint: ServerEndpoint(), logs: DiscardingLogSink(),
                             supervisor: ProcessSupervisor(), objects: nil, images: nil, roleCredentials: TaskRoleCredentials(),
                             logger: Logger(label: "ecs-cfn-test"))
        provider = ecs.resourceProvider
    }

    func request(_ type: String, _ properties: [String: JSON]) -> ResourceRequest {
        ResourceRequest(account: "000000000000", region: "us-east-1", stackName: "stack", stackId: "arn:stack", logicalId: "Res",
                        type: type, properties: properties, tags: ["aws:cloudformation:stack-name": "stack"])
    }

    @Test func keysConvertExceptInsideUserMaps() {
        let v = ECSResources.apiKeys(JSON.object([
            "ContainerDefinitions": .array([.object([
                "PortMappings": .array([.object(["ContainerPort": .number(80)])]),
                "DockerLabels": .object(["Team.Name": .string("X")]),
                "LogConfiguration": .object(["LogDriver": .string("awslogs"), "Options": .object(["awslogs-group": .string("G")])]),
                "Environment": .array([.object(["Name": .string("A"), "Value": .string("Upper")])]),
            ])]),
            "Volumes": .array([.object(["Name": .string("v"), "EFSVolumeConfiguration": .object(["FilesystemId": .string("fs-1")])])]),
        ]))
        let c = v["containerDefinitions"]?.array?.first
        #expect(c?["portMappings"]?.array?.first?["containerPort"] == .number(80))
        #expect(c?["dockerLabels"] == .object(["Team.Name": .string("X")]))
        #expect(c?["logConfiguration"]?["options"] == .object(["awslogs-group": .string("G")]))
        #expect(c?["environment"]?.array?.first == .object(["name": .string("A"), "value": .string("Upper")]))
        #expect(v["volumes"]?.array?.first?["efsVolumeConfiguration"]?["filesystemId"] == .string("fs-1"))
    }

    func call(_ op: String, _ body: [String: JSON]) async throws -> [String: JSON] {
        try await provider.call(request("x", [:]), op, body)
    }

    @Test func clusterLifecycle() async throws {
        let req = request("AWS::ECS::Cluster", [
            "ClusterSettings": .array([.object(["Name": .string("containerInsights"), "Value": .string("enabled")])]),
            "Tags": .array([.object(["Key": .string("team"), "Value": .string("core")])]),
        ])
        let state = try await provider.create(req)
        #expect(state.ref.hasPrefix("stack-Res-"))
        #expect(state.attributes["Arn"] == .string("arn:aws:ecs:us-east-1:000000000000:cluster/\(state.ref)"))
        var c = try await call("DescribeClusters", ["clusters": .array([.string(state.ref)]), "include": .array([.string("SETTINGS"), .string("TAGS")])])
        #expect(c["clusters"]?.array?.first?["settings"] == .array([.object(["name": .string("containerInsights"), "value": .string("enabled")])]))
        #expect(c["clusters"]?.array?.first?["tags"]?.array?.contains(.object(["key": .string("team"), "value": .string("core")])) == true)

        let changed = request("AWS::ECS::Cluster", [:])
        _ = try await provider.update(changed, previous: state)
        c = try await call("DescribeClusters", ["clusters": .array([.string(state.ref)]), "include": .array([.string("SETTINGS"), .string("TAGS")])])
        #expect(c["clusters"]?.array?.first?["settings"] == .array([.object(["name": .string("containerInsights"), "value": .string("disabled")])]))
        #expect(c["clusters"]?.array?.first?["tags"]?.array?.contains(.object(["key": .string("team"), "value": .string("core")])) == false)

        try await provider.delete(changed, state: state)
        c = try await call("DescribeClusters", ["clusters": .array([.string(state.ref)])])
        #expect(c["clusters"]?.array?.first?["status"] == .string("INACTIVE"))
    }

    @Test func taskDefinitionRevisions() async throws {
        func props(_ image: String) -> [String: JSON] {
            ["Family": .string("cfn-web"), "NetworkMode": .string("awsvpc"), "RequiresCompatibilities": .array([.string("FARGATE")]),
             "Cpu": .string("256"), "Memory": .string("512"),
             "ContainerDefinitions": .array([.object(["Name": .string("app"), "Image": .string(image),
                                                      "PortMappings": .array([.object(["ContainerPort": .number(8080)])])])])]
        }
        #expect(provider.createOnlyProperties(of: "AWS::ECS::TaskDefinition").contains("ContainerDefinitions"))
        let first = try await provider.create(request("AWS::ECS::TaskDefinition", props("img:1")))
        #expect(first.ref == "arn:aws:ecs:us-east-1:000000000000:task-definition/cfn-web:1")
        let td = try await call("DescribeTaskDefinition", ["taskDefinition": .string(first.ref)])["taskDefinition"]
        #expect(td?["containerDefinitions"]?.array?.first?["portMappings"]?.array?.first?["containerPort"] == .number(8080))
        #expect(td?["networkMode"] == .string("awsvpc"))

        let second = try await provider.update(request("AWS::ECS::TaskDefinition", props("img:2")), previous: first)
        #expect(second.ref.hasSuffix("cfn-web:2"))
        let old = try await call("DescribeTaskDefinition", ["taskDefinition": .string(first.ref)])["taskDefinition"]
        #expect(old?["status"] == .string("INACTIVE"))
        try await provider.delete(request("AWS::ECS::TaskDefinition", [:]), state: second)
        let gone = try await call("DescribeTaskDefinition", ["taskDefinition": .string(second.ref)])["taskDefinition"]
        #expect(gone?["status"] == .string("INACTIVE"))
        try await provider.delete(request("AWS::ECS::TaskDefinition", [:]), state: second)
    }

    /// A service that never becomes stable fails its create once the stabilization timeout has passed on the
    /// emulator's clock (tests move it), with NotStabilized, instead of holding the stack until real time runs out.
    @Test func aServiceThatNeverStabilizesFailsAfterTheTimeoutOnTheEmulatorsClock() async throws {
        let cluster = try await provider.create(request("AWS::ECS::Cluster", [:]))
        let td = try await provider.create(request("AWS::ECS::TaskDefinition", [
            "Family": .string("never"), "NetworkMode": .string("awsvpc"), "RequiresCompatibilities": .array([.string("FARGATE")]),
            "Cpu": .string("256"), "Memory": .string("512"),
            "ContainerDefinitions": .array([.object(["Name": .string("app"), "Image": .string("img:1")])]),
        ]))
        // The scheduler's loop is not running here: its task never starts, so the service never becomes stable.
        let create = Task {
            try await provider.create(request("AWS::ECS::Service", [
                "Cluster": .string(cluster.ref), "TaskDefinition": .string(td.ref), "DesiredCount": .number(1),
                "LaunchType": .string("FARGATE"),
                "NetworkConfiguration": .object(["AwsvpcConfiguration": .object(["Subnets": .array([.string("subnet-12345678")])])]),
            ]))
        }
        try await Task.sleep(for: .milliseconds(600))
        ecs.clock.advance(by: 601)
        let started = ContinuousClock.now
        do {
            _ = try await create.value
            Issue.record("a service that never became stable was created")
        } catch let e as AWSError {
            #expect(e.code == "NotStabilized")
            #expect(e.message.contains("did not stabilize in time"))
        }
        #expect(ContinuousClock.now - started < .seconds(5))
    }
}
