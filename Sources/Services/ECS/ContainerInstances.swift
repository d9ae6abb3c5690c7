import Core
import Foundation

/// RegisterContainerInstance, DescribeContainerInstances, ListContainerInstances, DeregisterContainerInstance,
/// UpdateContainerInstancesState, PutAttributes, DeleteAttributes, ListAttributes. Nothing runs an ECS agent: an
/// instance is what RegisterContainerInstance says it is, always connected, and its tasks run as Fargate ones do.
extension ECSService {
    static let defaultPorts = ["22", "2375", "2376", "51678", "51679"]
    static let instanceStatuses = ["ACTIVE", "DRAINING", "REGISTERING", "DEREGISTERING", "REGISTRATION_FAILED"]

    static func hex32() -> String { UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }

    /// The registered resources: the request's, with CPU 2048, MEMORY 3920 and the agent's reserved ports by default.
    static func registeredResources(_ given: [ResourceInput]?) throws -> [InstanceResource] {
        var out: [InstanceResource] = []
        for r in given ?? [] {
            guard let name = r.name, !name.isEmpty else { throw ECSError.invalid("Resource name cannot be empty.") }
            let type = r.type ?? (r.stringSetValue != nil ? "STRINGSET" : "INTEGER")
            if type == "STRINGSET" {
                out.append(.stringSet(name, r.stringSetValue ?? []))
            } else {
                let value = r.integerValue ?? r.longValue ?? r.doubleValue.map { Int($0) } ?? 0
                guard value >= 0 else { throw ECSError.invalid("Resource \(name) cannot be negative.") }
                out.append(.integer(name, value))
            }
        }
        if !out.contains(where: { $0.name == "CPU" }) { out.insert(.integer("CPU", 2048), at: 0) }
        if !out.contains(where: { $0.name == "MEMORY" }) { out.insert(.integer("MEMORY", 3920), at: 1) }
        if !out.contains(where: { $0.name == "PORTS" }) { out.append(.stringSet("PORTS", defaultPorts)) }
        if !out.contains(where: { $0.name == "PORTS_UDP" }) { out.append(.stringSet("PORTS_UDP", [])) }
        return out
    }

    /// The attributes ECS gives an instance from its identity document and the agent's capabilities.
    static func defaultAttributes(instanceType: String, zone: String, amiId: String) -> [InstanceAttribute] {
        let arm = ["a1.", "t4g.", "m6g", "m7g", "c6g", "c7g", "r6g", "r7g"].contains { instanceType.hasPrefix($0) }
        var out: [InstanceAttribute] = [
            .init(name: "ecs.capability.secrets.asm.environment-variables"),
            .init(name: "ecs.capability.execution-role-awslogs"),
            .init(name: "ecs.capability.task-eni"),
            .init(name: "ecs.capability.task-cpu-mem-limit"),
            .init(name: "ecs.capability.container-health-check"),
            .init(name: "ecs.capability.container-ordering"),
            .init(name: "ecs.capability.env-files.s3"),
            .init(name: "com.amazonaws.ecs.capability.logging-driver.awslogs"),
            .init(name: "com.amazonaws.ecs.capability.docker-remote-api.1.17"),
            .init(name: "com.amazonaws.ecs.capability.docker-remote-api.1.44"),
            .init(name: "com.amazonaws.ecs.capability.task-iam-role"),
            .init(name: "com.amazonaws.ecs.capability.task-iam-role-network-host"),
        ]
        out += [
            .init(name: "ecs.ami-id", value: amiId),
            .init(name: "ecs.availability-zone", value: zone),
            .init(name: "ecs.instance-type", value: instanceType),
            .init(name: "ecs.os-type", value: "linux"),
            .init(name: "ecs.os-family", value: "LINUX"),
            .init(name: "ecs.cpu-architecture", value: arm ? "arm64" : "x86_64"),
        ]
        return out
    }

    /// An attribute's name and value as ECS accepts them.
    static func checkAttribute(_ a: InstanceAttribute) throws {
        let allowed: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./@:".contains($0)) }
        guard !a.name.isEmpty, a.name.count <= 128, a.name.allSatisfy(allowed) else {
            throw ECSError.invalid("Attribute name must be 1-128 characters: letters, numbers, hyphens, underscores, forward slashes, back slashes, colons, periods or at signs.")
        }
        if let v = a.value {
            guard !v.isEmpty, v.count <= 128, v.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == " " || "-_./@:".contains($0)) }) else {
                throw ECSError.invalid("Attribute value must be 1-128 characters: letters, numbers, hyphens, underscores, periods, at signs, forward slashes, back slashes, colons or spaces.")
            }
        }
    }

    func registerContainerInstance(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        let cluster = try activeCluster(try input.string("cluster"), scope)
        var identity: [String: JSON] = [:]
        if let text = try input.string("instanceIdentityDocument"), !text.isEmpty {
            guard let doc = try? JSON(parsing: Data(text.utf8)).object else {
                throw ECSError.client("The instance identity document is not valid.")
            }
            identity = doc
        }
        let resources = try Self.registeredResources(try input.decode("totalResources", as: [ResourceInput].self))
        let given = try input.decode("attributes", as: [InstanceAttribute].self) ?? []
        for a in given { try Self.checkAttribute(a) }
        let tags = try input.tags()
        let region = identity["region"]?.string ?? scope.region
        let zone = identity["availabilityZone"]?.string ?? "\(region)a"
        let instanceType = identity["instanceType"]?.string ?? "t3.medium"
        let ec2Id = identity["instanceId"]?.string ?? ("i-" + Self.hex32().prefix(17))
        var attributes = Self.defaultAttributes(instanceType: instanceType, zone: zone, amiId: identity["imageId"]?.string ?? "ami-0cloudless0000000")
        for a in given {
            let plain = InstanceAttribute(name: a.name, value: a.value)
            if let i = attributes.firstIndex(where: { $0.name == a.name }) { attributes[i] = plain } else { attributes.append(plain) }
        }
        let versionInfo = input.json("versionInfo") ?? .object([
            "agentVersion": .string("1.89.0"), "agentHash": .string("cloudless"), "dockerVersion": .string("DockerVersion: 25.0.8"),
        ])
        // An agent registering again names its instance: it is the same one, updated.
        if let again = try input.string("containerInstanceArn"),
           let updated = try await scheduler.updateInstance(again, cluster: cluster.clusterArn, { i in
               i.registeredResources = resources
               i.attributes = attributes
               i.versionInfo = versionInfo
               i.agentConnected = true
               if let tags { i.tags = tags }
           }) {
            return ["containerInstance": try Self.show(updated, include: ["TAGS"])]
        }
        let record = ContainerInstanceRecord(
            containerInstanceArn: scope.arn("container-instance/\(cluster.clusterName)/\(Self.hex32())"), ec2InstanceId: ec2Id,
            capacityProviderName: nil, version: 1, versionInfo: versionInfo, remainingResources: resources,
            registeredResources: resources, status: "ACTIVE", statusReason: nil, agentConnected: true, runningTasksCount: 0,
            pendingTasksCount: 0, attributes: attributes, registeredAt: ECSTime.round(clock.now()), attachments: [], tags: tags ?? [],
            healthStatus: nil)
        let shown = try await scheduler.registerInstance(InstanceEntry(instance: record, clusterArn: cluster.clusterArn,
                                                                       account: scope.account, region: scope.region))
        return ["containerInstance": try Self.show(shown, include: ["TAGS"])]
    }

    /// The instance document; tags and health only when asked for.
    static func show(_ i: ContainerInstanceRecord, include: Set<String>) throws -> JSON {
        var doc = try JSON.encode(i).object ?? [:]
        if !include.contains("TAGS") { doc["tags"] = nil } else if doc["tags"] == nil { doc["tags"] = .array([]) }
        if include.contains("CONTAINER_INSTANCE_HEALTH") {
            let t = JSON.number(i.registeredAt)
            doc["healthStatus"] = .object([
                "overallStatus": .string(i.status == "INACTIVE" ? "INSUFFICIENT_DATA" : "OK"),
                "details": .array(i.status == "INACTIVE" ? [] : [.object([
                    "type": .string("CONTAINER_RUNTIME"), "status": .string("OK"), "lastUpdated": t, "lastStatusChange": t,
                ])]),
            ])
        } else {
            doc["healthStatus"] = nil
        }
        return .object(doc)
    }

    func instanceArnShown(_ ident: String, _ cluster: Cluster, _ scope: Scope) -> String {
        ident.hasPrefix("arn:") ? ident : scope.arn("container-instance/\(cluster.clusterName)/\(ident)")
    }

    func describeContainerInstances(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        let cluster = try activeCluster(try input.string("cluster"), scope)
        guard let idents = try input.strings("containerInstances") else {
            throw ECSError.validation(nil, at: "containerInstances", "Member must not be null")
        }
        if idents.isEmpty { throw ECSError.invalid("Container instances cannot be empty.") }
        guard idents.count <= 100 else { throw ECSError.invalid("Container instances cannot be longer than 100.") }
        let include = Set(try input.strings("include") ?? [])
        for i in include where !["TAGS", "CONTAINER_INSTANCE_HEALTH"].contains(i) {
            throw ECSError.validation(i, at: "include", "Member must satisfy enum value set: [TAGS, CONTAINER_INSTANCE_HEALTH]")
        }
        var found: [JSON] = []
        var failures: [Failure] = []
        for ident in idents {
            if let i = await scheduler.instanceView(ident, cluster: cluster.clusterArn) {
                found.append(try Self.show(i, include: include))
            } else {
                failures.append(Failure(arn: instanceArnShown(ident, cluster, scope), reason: "MISSING"))
            }
        }
        return ["containerInstances": .array(found), "failures": try JSON.encode(failures)]
    }

    func listContainerInstances(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        let cluster = try activeCluster(try input.string("cluster"), scope)
        let status = try input.string("status")
        if let status, !Self.instanceStatuses.contains(status) {
            throw ECSError.validation(status, at: "status", "Member must satisfy enum value set: [\(Self.instanceStatuses.joined(separator: ", "))]")
        }
        var query: ClusterQuery?
        if let filter = try input.string("filter"), !filter.isEmpty {
            do { query = try ClusterQuery.parse(filter) } catch {
                throw ECSError.invalid("Invalid filter expression: \(filter)")
            }
        }
        let views = await scheduler.instanceViews(cluster: cluster.clusterArn)
        var candidates: [String: TaskPlacement.Candidate] = [:]
        if query != nil {
            for c in await scheduler.instanceCandidates(cluster: cluster.clusterArn) { candidates[c.arn] = c }
        }
        let arns = views.filter { i in
            (status.map { i.status == $0 } ?? (i.status != "INACTIVE"))
                && (query.map { q in candidates[i.containerInstanceArn].map(q.matches) ?? false } ?? true)
        }.map(\.containerInstanceArn)
        let (page, next) = try Paging.page(arns, token: try input.string("nextToken"), maxResults: try input.int("maxResults"))
        var out: [String: JSON] = ["containerInstanceArns": .array(page.map(JSON.string))]
        if let next { out["nextToken"] = .string(next) }
        return out
    }

    func deregisterContainerInstance(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        let cluster = try activeCluster(try input.string("cluster"), scope)
        let ident = try input.required("containerInstance")
        let force = try input.bool("force") ?? false
        switch try await scheduler.deregisterInstance(ident, cluster: cluster.clusterArn, force: force, now: clock.now()) {
        case .missing:
            throw ECSError.invalid("The referenced container instance \(instanceArnShown(ident, cluster, scope)) was not found.")
        case .busy:
            throw ECSError.invalid("Found running tasks on the instance.")
        case .done(let i):
            return ["containerInstance": try Self.show(i, include: [])]
        }
    }

    func updateContainerInstancesState(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        let cluster = try activeCluster(try input.string("cluster"), scope)
        guard let idents = try input.strings("containerInstances") else {
            throw ECSError.validation(nil, at: "containerInstances", "Member must not be null")
        }
        if idents.isEmpty { throw ECSError.invalid("Container instances cannot be empty.") }
        guard idents.count <= 10 else { throw ECSError.invalid("Container instances cannot be longer than 10.") }
        let status = try input.required("status")
        guard Self.instanceStatuses.contains(status) else {
            throw ECSError.validation(status, at: "status", "Member must satisfy enum value set: [\(Self.instanceStatuses.joined(separator: ", "))]")
        }
        guard status == "ACTIVE" || status == "DRAINING" else {
            throw ECSError.invalid("Container instances status can only be updated to ACTIVE or DRAINING.")
        }
        var done: [JSON] = []
        var failures: [Failure] = []
        for ident in idents {
            if let i = try await scheduler.setInstanceState(ident, cluster: cluster.clusterArn, status: status) {
                done.append(try Self.show(i, include: []))
            } else {
                failures.append(Failure(arn: instanceArnShown(ident, cluster, scope), reason: "MISSING"))
            }
        }
        return ["containerInstances": .array(done), "failures": try JSON.encode(failures)]
    }

    /// The attributes of a request, each with its target (a container instance of the cluster, by ARN or id).
    func targetedAttributes(_ input: Input, _ cluster: Cluster) async throws -> [(InstanceAttribute, String)] {
        guard let attributes = try input.decode("attributes", as: [InstanceAttribute].self) else {
            throw ECSError.validation(nil, at: "attributes", "Member must not be null")
        }
        if attributes.isEmpty { throw ECSError.invalid("Attributes cannot be empty.") }
        var out: [(InstanceAttribute, String)] = []
        for a in attributes {
            try Self.checkAttribute(a)
            if let t = a.targetType, t != "container-instance" {
                throw ECSError.validation(t, at: "attributes.member.targetType", "Member must satisfy enum value set: [container-instance]")
            }
            guard let target = a.targetId, !target.isEmpty else {
                throw ECSError.invalid("Attribute targetId must be specified.")
            }
            guard let i = await scheduler.instanceView(target, cluster: cluster.clusterArn), i.status != "INACTIVE" else {
                throw AWSError("TargetNotFoundException", "Could not find \(target).")
            }
            out.append((a, i.containerInstanceArn))
        }
        return out
    }

    func putAttributes(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let cluster = try activeCluster(try input.string("cluster"), Scope(r))
        let targeted = try await targetedAttributes(input, cluster)
        guard targeted.count <= 10 else {
            throw AWSError("AttributeLimitExceededException", "You can apply up to 10 custom attributes per resource.")
        }
        for (a, arn) in targeted {
            _ = try await scheduler.updateInstance(arn, cluster: cluster.clusterArn) { i in
                let plain = InstanceAttribute(name: a.name, value: a.value)
                if let k = i.attributes.firstIndex(where: { $0.name == a.name }) { i.attributes[k] = plain } else { i.attributes.append(plain) }
            }
        }
        return ["attributes": try JSON.encode(targeted.map { InstanceAttribute(name: $0.0.name, value: $0.0.value, targetType: "container-instance", targetId: $0.1) })]
    }

    func deleteAttributes(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let cluster = try activeCluster(try input.string("cluster"), Scope(r))
        let targeted = try await targetedAttributes(input, cluster)
        for (a, arn) in targeted {
            _ = try await scheduler.updateInstance(arn, cluster: cluster.clusterArn) { i in i.attributes.removeAll { $0.name == a.name } }
        }
        return ["attributes": try JSON.encode(targeted.map { InstanceAttribute(name: $0.0.name, value: $0.0.value, targetType: "container-instance", targetId: $0.1) })]
    }

    func listAttributes(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let cluster = try activeCluster(try input.string("cluster"), Scope(r))
        let targetType = try input.required("targetType")
        guard targetType == "container-instance" else {
            throw ECSError.validation(targetType, at: "targetType", "Member must satisfy enum value set: [container-instance]")
        }
        let name = try input.string("attributeName")
        let value = try input.string("attributeValue")
        if value != nil && name == nil {
            throw ECSError.invalid("Attribute name must be specified when attribute value is specified.")
        }
        var all: [InstanceAttribute] = []
        for i in await scheduler.instanceViews(cluster: cluster.clusterArn) where i.status != "INACTIVE" {
            for a in i.attributes where (name == nil || a.name == name) && (value == nil || a.value == value) {
                all.append(InstanceAttribute(name: a.name, value: a.value, targetType: "container-instance", targetId: i.containerInstanceArn))
            }
        }
        let (page, next) = try Paging.page(all, token: try input.string("nextToken"), maxResults: try input.int("maxResults"))
        var out: [String: JSON] = ["attributes": try JSON.encode(page)]
        if let next { out["nextToken"] = .string(next) }
        return out
    }
}

extension Scheduler {
    /// Every instance of a cluster (any status) as the cluster query language sees it.
    func instanceCandidates(cluster: String) -> [TaskPlacement.Candidate] {
        instances.values.filter { $0.clusterArn == cluster }.map(candidate)
    }
}
