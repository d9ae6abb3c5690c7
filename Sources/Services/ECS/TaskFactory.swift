import Core
import Foundation

/// A new task's document, as RunTask answers it and as a service's deployment starts it: PROVISIONING, its
/// containers PENDING, an ENI attachment for awsvpc.
struct TaskFactory {
    var scope: Scope
    var clusterArn: String
    var definition: TaskDefinition
    var launchType: String?
    var capacityProviderName: String?
    var platformVersion: String?
    var overrides: JSON
    var startedBy: String?
    var group: String?
    var tags: [Tag]
    var enableExecuteCommand: Bool
    var serviceArn: String?
    var deploymentId: String?
    /// The awsvpc configuration the task was started with (its ENI's subnet).
    var networkConfiguration: JSON? = nil

    func make(now: Double) -> TaskEntry {
        // A task placed by the FARGATE or FARGATE_SPOT capacity provider runs with the Fargate launch type.
        let fargate = launchType == "FARGATE" || capacityProviderName?.hasPrefix("FARGATE") == true
        let launchType = self.launchType ?? (fargate ? "FARGATE" : nil)
        let id = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let clusterName = clusterArn.split(separator: "/").last.map(String.init) ?? "default"
        let taskArn = scope.arn("task/\(clusterName)/\(id)")
        var attachments: [Attachment] = []
        if definition.networkMode == "awsvpc" {
            let attachmentId = UUID().uuidString.lowercased()
            attachments.append(Attachment(id: attachmentId, type: "ElasticNetworkInterface", status: "PRECREATED", details: [
                KeyValuePair(name: "subnetId", value: networkConfiguration?["awsvpcConfiguration"]?["subnets"]?.array?.first?.string
                              ?? "subnet-00000000"),
                KeyValuePair(name: "networkInterfaceId", value: "eni-" + id.prefix(17)),
                KeyValuePair(name: "macAddress", value: "02:00:00:00:00:01"),
            ]))
        }
        let containers = definition.containers.map { spec in
            Container(
                containerArn: scope.arn("container/\(clusterName)/\(id)/\(UUID().uuidString.lowercased())"),
                taskArn: taskArn, name: spec.name, image: spec.image, imageDigest: nil, runtimeId: nil, lastStatus: "PENDING",
                exitCode: nil, reason: nil,
                networkBindings: definition.networkMode == "awsvpc" ? [] : (spec.portMappings ?? []).compactMap { m in
                    m.containerPort.map { NetworkBinding(bindIP: "0.0.0.0", containerPort: $0, hostPort: m.hostPort ?? $0, protocol: m.protocol ?? "tcp") }
                },
                networkInterfaces: [], healthStatus: spec.healthCheck != nil ? "UNKNOWN" : nil,
                cpu: String(spec.cpu ?? 0), memory: spec.memory.map(String.init), memoryReservation: spec.memoryReservation.map(String.init))
        }
        let t = ECSTime.round(now)
        let task = ECSTask(
            attachments: attachments, attributes: [KeyValuePair(name: "ecs.cpu-architecture", value: "x86_64")],
            availabilityZone: "\(scope.region)a", capacityProviderName: capacityProviderName, clusterArn: clusterArn,
            connectivity: nil, connectivityAt: nil, containerInstanceArn: nil, containers: containers,
            cpu: definition.cpu, createdAt: t, desiredStatus: "RUNNING", enableExecuteCommand: enableExecuteCommand,
            executionStoppedAt: nil, group: group ?? "family:\(definition.family)", healthStatus: "UNKNOWN",
            lastStatus: "PROVISIONING", launchType: launchType, memory: definition.memory, overrides: overrides,
            platformVersion: fargate ? (platformVersion ?? "1.4.0") : nil,
            platformFamily: fargate ? "Linux" : nil,
            pullStartedAt: nil, pullStoppedAt: nil, startedAt: nil, startedBy: startedBy, stopCode: nil, stoppedAt: nil,
            stoppedReason: nil, stoppingAt: nil, tags: tags, taskArn: taskArn, taskDefinitionArn: definition.arn, version: 1,
            ephemeralStorage: fargate ? .object(["sizeInGiB": .number(20)]) : nil)
        let hasChecks = definition.containers.contains { $0.isEssential && $0.healthCheck != nil }
        let meta = TaskMeta(account: scope.account, region: scope.region, serviceArn: serviceArn, deploymentId: deploymentId,
                            hasHealthChecks: hasChecks, family: definition.family)
        return TaskEntry(task: task, meta: meta, run: nil)
    }
}
