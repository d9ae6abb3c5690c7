import Core
import Foundation
import HTTPTypes
import NIOCore

/// The endpoints a task's processes call, under `/_cloudless/ecs/`: the task metadata endpoint v4
/// (`ECS_CONTAINER_METADATA_URI_V4`), the task role's credentials (`AWS_CONTAINER_CREDENTIALS_FULL_URI`), and the
/// test hook that sets a service's measured CPU and memory (`POST /_cloudless/ecs/metrics`).
extension ECSService {
    public func internalResponse(method: HTTPRequest.Method, path: String, body: [UInt8]) async -> AWSResponse? {
        let parts = path.split(separator: "/").map(String.init)  // ["_cloudless", "ecs", kind, ...]
        guard parts.count >= 3 else { return nil }
        try? await load()  // a failed load answers below as an empty scheduler would; requests get its 500
        switch (method, parts[2]) {
        case (.post, "metrics"): return await setMetrics(body)
        case (.get, "metadata") where parts.count >= 5: return await metadata(task: parts[3], container: parts[4], rest: Array(parts.dropFirst(5)))
        case (.get, "credentials") where parts.count == 4: return await credentials(task: parts[3])
        default: return nil
        }
    }

    static func json(_ value: JSON, status: HTTPResponse.Status = .ok) -> AWSResponse {
        var r = AWSResponse(status: status, bytes: ByteBuffer(bytes: (try? ECSStore.encoder.encode(value)) ?? Data("{}".utf8)))
        r.headers[.contentType] = "application/json"
        return r
    }

    func setMetrics(_ body: [UInt8]) async -> AWSResponse {
        guard let input = try? JSON(parsing: Data(body)), let cluster = input["cluster"]?.string, let service = input["service"]?.string,
              let scope = await scheduler.scopeOfService(cluster: cluster, name: service) else {
            return Self.json(.object(["message": .string("want {\"cluster\", \"service\", \"cpu\", \"memory\"} naming an existing service")]), status: .badRequest)
        }
        await scheduler.setMetrics(serviceArn: scope.arn, cpu: input["cpu"]?.double ?? 0, memory: input["memory"]?.double ?? 0)
        return Self.json(.object(["serviceArn": .string(scope.arn)]))
    }

    // MARK: Task metadata endpoint v4

    func metadata(task id: String, container name: String, rest: [String]) async -> AWSResponse? {
        guard let e = await scheduler.taskByID(id) else { return Self.json(.object(["message": .string("task not found")]), status: .notFound) }
        let definition = try? findTaskDefinition(e.task.taskDefinitionArn, Scope(account: e.meta.account, region: e.meta.region))
        switch rest {
        case []:
            guard let c = e.task.containers.first(where: { $0.name == name }) else { return nil }
            return Self.json(containerMetadata(c, e, definition))
        case ["task"], ["taskWithTags"]:
            var doc = taskMetadata(e, definition)
            if rest == ["taskWithTags"] {
                doc["TaskTags"] = .object(Dictionary(e.task.tags.compactMap { t in t.key.map { ($0, JSON.string(t.value ?? "")) } }) { a, _ in a })
                doc["ContainerInstanceTags"] = .object([:])
            }
            return Self.json(.object(doc))
        case ["stats"]:
            guard let c = e.task.containers.first(where: { $0.name == name }) else { return nil }
            return Self.json(stats(c, e))
        case ["task", "stats"]:
            return Self.json(.object(Dictionary(uniqueKeysWithValues: e.task.containers.map { ("docker-\($0.containerArn.split(separator: "/").last ?? "")", stats($0, e)) })))
        default:
            return nil
        }
    }

    func containerMetadata(_ c: Container, _ e: TaskEntry, _ definition: TaskDefinition?) -> JSON {
        let spec = definition?.containers.first { $0.name == c.name }
        let dockerID = String(c.containerArn.split(separator: "/").last ?? "")
        var doc: [String: JSON] = [
            "DockerId": .string(dockerID), "Name": .string(c.name), "DockerName": .string("ecs-\(e.meta.family)-\(c.name)"),
            "Image": .string(c.image ?? ""), "ImageID": .string("sha256:" + String(repeating: "0", count: 64)),
            "Labels": .object([
                "com.amazonaws.ecs.cluster": .string(e.task.clusterArn), "com.amazonaws.ecs.container-name": .string(c.name),
                "com.amazonaws.ecs.task-arn": .string(e.task.taskArn),
                "com.amazonaws.ecs.task-definition-family": .string(e.meta.family),
            ]),
            "DesiredStatus": .string(e.task.desiredStatus), "KnownStatus": .string(c.lastStatus),
            "Limits": .object(["CPU": .number(Double(spec?.cpu ?? 0)), "Memory": .number(Double(spec?.memory ?? 0))]),
            "Type": .string("NORMAL"), "ContainerARN": .string(c.containerArn),
            "Networks": .array([.object([
                "NetworkMode": .string(definition?.networkMode ?? "awsvpc"),
                "IPv4Addresses": .array([.string(e.run?.address ?? "127.0.0.1")]),
            ])]),
        ]
        if let t = e.task.createdAt as Double? { doc["CreatedAt"] = .string(Self.iso(t)) }
        if let t = e.task.startedAt { doc["StartedAt"] = .string(Self.iso(t)) }
        if let code = c.exitCode { doc["ExitCode"] = .number(Double(code)) }
        if let h = c.healthStatus { doc["Health"] = .object(["status": .string(h)]) }
        if let log = spec?.logConfiguration {
            doc["LogDriver"] = .string(log.logDriver)
            doc["LogOptions"] = .object((log.options ?? [:]).mapValues(JSON.string))
        }
        return .object(doc)
    }

    func taskMetadata(_ e: TaskEntry, _ definition: TaskDefinition?) -> [String: JSON] {
        var doc: [String: JSON] = [
            "Cluster": .string(e.task.clusterArn), "TaskARN": .string(e.task.taskArn), "Family": .string(e.meta.family),
            "Revision": .string(String(e.task.taskDefinitionArn.split(separator: ":").last ?? "")),
            "DesiredStatus": .string(e.task.desiredStatus), "KnownStatus": .string(e.task.lastStatus),
            "Containers": .array(e.task.containers.map { containerMetadata($0, e, definition) }),
            "AvailabilityZone": .string(e.task.availabilityZone ?? ""), "LaunchType": .string(e.task.launchType ?? "FARGATE"),
            "Limits": .object(["CPU": .number((Double(e.task.cpu ?? "") ?? 0) / 1024), "Memory": .number(Double(e.task.memory ?? "") ?? 0)]),
        ]
        if let t = e.task.pullStartedAt { doc["PullStartedAt"] = .string(Self.iso(t)) }
        if let t = e.task.pullStoppedAt { doc["PullStoppedAt"] = .string(Self.iso(t)) }
        if let s = e.meta.serviceArn { doc["ServiceName"] = .string(Self.serviceName(s)) }
        return doc
    }

    /// Docker's stats for a container: its process's CPU and memory (zeros for a simulated one).
    func stats(_ c: Container, _ e: TaskEntry) -> JSON {
        let process = e.run?.containers.first { $0.spec.name == c.name }?.process
        let measured = process.map { ContainerStats(pid: $0.pid) } ?? ContainerStats()
        let limitMiB = e.run?.containers.first { $0.spec.name == c.name }?.spec.memory.map(Double.init)
            ?? Double(e.task.memory ?? "") ?? 0
        return measured.json(name: c.name, id: String(c.containerArn.split(separator: "/").last ?? ""),
                             read: Self.iso(clock.now()), limitBytes: limitMiB * 1_048_576)
    }

    static func iso(_ t: Double) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: t))
    }

    // MARK: Task role credentials

    /// Credentials for the task role, as the container credentials provider of every SDK reads them: a temporary key
    /// that acts in the task's account (verified under --strict-auth too).
    func credentials(task id: String) async -> AWSResponse {
        guard let e = await scheduler.taskByID(id), !e.task.isStopped,
              let definition = try? findTaskDefinition(e.task.taskDefinitionArn, Scope(account: e.meta.account, region: e.meta.region)),
              let role = definition.taskRoleArn else {
            return Self.json(.object(["message": .string("no task role for this task")]), status: .notFound)
        }
        let expiration = Self.iso(Date().timeIntervalSince1970 + 6 * 3600).replacingOccurrences(of: #"\.\d+Z"#, with: "Z", options: .regularExpression)
        let (key, secret) = roleCredentials.credentials(taskID: id, account: e.meta.account, roleArn: role)
        return Self.json(.object([
            "AccessKeyId": .string(key), "SecretAccessKey": .string(secret),
            "Token": .string("cloudless-task-\(id)"), "Expiration": .string(expiration), "RoleArn": .string(role),
        ]))
    }
}

extension Scheduler {
    func taskByID(_ id: String) -> TaskEntry? {
        tasks.values.first { $0.task.id == id }
    }

    /// The service named `name` in `cluster` (name or ARN), in any account.
    func scopeOfService(cluster: String, name: String) -> (arn: String, scope: Scope)? {
        let clusterName = ECSService.clusterName(cluster)
        return services.values.first {
            $0.service.serviceName == ECSService.serviceName(name) && $0.service.clusterArn.hasSuffix(":cluster/\(clusterName)")
                && $0.service.status == "ACTIVE"
        }.map { ($0.service.serviceArn, $0.scope) }
    }
}

/// Application Auto Scaling scales a service's desired count through this.
extension ECSService: ScalableResources {
    func serviceArn(resourceID: String, account: String, region: String) -> String? {
        let parts = resourceID.split(separator: "/")
        guard parts.count == 3, parts[0] == "service" else { return nil }
        return Scope(account: account, region: region).arn("service/\(parts[1])/\(parts[2])")
    }

    public func capacity(namespace: String, resourceID: String, dimension: String, account: String, region: String) async -> Int? {
        try? await load()
        guard namespace == "ecs", dimension == "ecs:service:DesiredCount",
              let arn = serviceArn(resourceID: resourceID, account: account, region: region),
              let e = await scheduler.service(arn), e.service.status == "ACTIVE" else { return nil }
        return e.service.desiredCount
    }

    public func setCapacity(_ value: Int, namespace: String, resourceID: String, dimension: String, account: String, region: String) async throws {
        try await load()
        guard let arn = serviceArn(resourceID: resourceID, account: account, region: region),
              try await scheduler.updateService(arn, { $0.service.desiredCount = value; if !$0.service.deployments.isEmpty { $0.service.deployments[0].desiredCount = value } }) != nil else {
            throw ECSError.serviceNotFound()
        }
        await scheduler.poke()
    }

    public func metric(_ name: String, namespace: String, resourceID: String, account: String, region: String) async -> Double? {
        try? await load()
        guard let arn = serviceArn(resourceID: resourceID, account: account, region: region),
              let u = await scheduler.utilization(serviceArn: arn) else { return nil }
        switch name {
        case "ECSServiceAverageCPUUtilization": return u.cpu
        case "ECSServiceAverageMemoryUtilization": return u.memory
        default: return nil
        }
    }
}
