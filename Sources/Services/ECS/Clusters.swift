import Core
import Foundation
import GRDB

/// CreateCluster, DescribeClusters, ListClusters, UpdateCluster, UpdateClusterSettings, PutClusterCapacityProviders,
/// DeleteCluster. A cluster's task and service counts are read from the scheduler when it is described.
extension ECSService {
    static let builtInCapacityProviders: Set<String> = ["FARGATE", "FARGATE_SPOT"]

    /// `name`, or the name in `arn:aws:ecs:<region>:<account>:cluster/<name>`; nil or empty means `default`.
    static func clusterName(_ ident: String?) -> String {
        guard let ident, !ident.isEmpty else { return "default" }
        if ident.hasPrefix("arn:"), let slash = ident.lastIndex(of: "/") { return String(ident[ident.index(after: slash)...]) }
        return ident
    }

    func findCluster(_ ident: String?, _ scope: Scope) throws -> Cluster? {
        let name = Self.clusterName(ident)
        return try store.db.readNow { db in
            try String.fetchOne(db, sql: "SELECT doc FROM cluster WHERE account = ? AND region = ? AND name = ?",
                                arguments: [scope.account, scope.region, name])
        }.map { try ECSStore.value(Cluster.self, $0) }
    }

    /// The ACTIVE cluster a request names, or ClusterNotFoundException.
    func activeCluster(_ ident: String?, _ scope: Scope) throws -> Cluster {
        guard let c = try findCluster(ident, scope), c.status == "ACTIVE" else { throw ECSError.clusterNotFound() }
        return c
    }

    func saveCluster(_ c: Cluster, _ scope: Scope) throws {
        try store.db.writeNow { db in
            try db.execute(sql: """
                INSERT INTO cluster (arn, account, region, name, status, doc) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (arn) DO UPDATE SET status = excluded.status, doc = excluded.doc
                """, arguments: [c.clusterArn, scope.account, scope.region, c.clusterName, c.status, try ECSStore.text(c)])
        }
    }

    func validateCapacityProviders(_ names: [String], strategy: [CapacityProviderStrategyItem], _ scope: Scope) throws {
        for name in names where !Self.builtInCapacityProviders.contains(name) {
            guard try capacityProvider(name, scope) != nil else {
                throw ECSError.invalid("The specified capacity provider '\(name)' is not in an ACTIVE state. Specify a valid capacity provider and try again.")
            }
        }
        for item in strategy where !names.contains(item.capacityProvider) {
            throw ECSError.invalid("The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.")
        }
        if strategy.filter({ ($0.base ?? 0) > 0 }).count > 1 {
            throw ECSError.invalid("You can only specify a base for one capacity provider in a capacity provider strategy.")
        }
    }

    func createCluster(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        let name = try input.string("clusterName") ?? "default"
        guard !name.isEmpty, name.count <= 255,
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw ECSError.invalid("Cluster name must be 1 to 255 characters long and contain only letters, numbers, hyphens and underscores.")
        }
        let providers = try input.strings("capacityProviders") ?? []
        let strategy = try input.decode("defaultCapacityProviderStrategy", as: [CapacityProviderStrategyItem].self) ?? []
        try validateCapacityProviders(providers, strategy: strategy, scope)
        let settings = try input.decode("settings", as: [KeyValuePair].self)
        try settings.map(Self.validateClusterSettings)
        // CreateCluster on an existing ACTIVE cluster answers it unchanged (AWS's idempotency).
        if let existing = try findCluster(name, scope), existing.status == "ACTIVE" {
            return ["cluster": try await describe(existing, include: ["SETTINGS", "TAGS", "CONFIGURATIONS"], scope)]
        }
        let insights = try accountSetting("containerInsights", r) ?? "disabled"
        let cluster = Cluster(
            clusterArn: scope.arn("cluster/\(name)"), clusterName: name, configuration: input.json("configuration"),
            status: "ACTIVE", registeredContainerInstancesCount: 0, runningTasksCount: 0, pendingTasksCount: 0,
            activeServicesCount: 0, statistics: [], tags: try input.tags() ?? [],
            settings: settings ?? [KeyValuePair(name: "containerInsights", value: insights)],
            capacityProviders: providers, defaultCapacityProviderStrategy: strategy, attachments: nil, attachmentsStatus: nil,
            serviceConnectDefaults: input.json("serviceConnectDefaults"))
        try saveCluster(cluster, scope)
        // CreateCluster answers the settings, configuration and tags it was given, as AWS does.
        return ["cluster": try await describe(cluster, include: ["SETTINGS", "TAGS", "CONFIGURATIONS"], scope)]
    }

    static func validateClusterSettings(_ settings: [KeyValuePair]) throws {
        for s in settings {
            guard s.name == "containerInsights" else {
                throw ECSError.validation(s.name, at: "settings.member.name", "Member must satisfy enum value set: [containerInsights]")
            }
            guard ["enabled", "disabled", "enhanced"].contains(s.value ?? "") else {
                throw ECSError.invalid("The value '\(s.value ?? "")' is not valid for the containerInsights setting. Valid values are: enabled, disabled, enhanced.")
            }
        }
    }

    /// The cluster document with its live counts, and the optional parts `include` asks for.
    func describe(_ c: Cluster, include: Set<String>, _ scope: Scope) async throws -> JSON {
        var c = c
        // One look at the scheduler: the totals and the EC2 share agree with each other.
        let (counts, ec2) = await scheduler.clusterCountsWithEC2(c.clusterArn)
        c.runningTasksCount = counts.running
        c.pendingTasksCount = counts.pending
        c.activeServicesCount = counts.services
        c.registeredContainerInstancesCount = await scheduler.registeredInstanceCount(c.clusterArn)
        var json = try JSON.encode(c).object ?? [:]
        if !include.contains("TAGS") { json["tags"] = nil }
        if !include.contains("SETTINGS") { json["settings"] = nil }
        if !include.contains("CONFIGURATIONS") { json["configuration"] = nil }
        if !include.contains("ATTACHMENTS") { json["attachments"] = nil; json["attachmentsStatus"] = nil }
        if include.contains("STATISTICS") {
            json["statistics"] = try JSON.encode([
                KeyValuePair(name: "runningFargateTasksCount", value: String(counts.running - ec2.running)),
                KeyValuePair(name: "pendingFargateTasksCount", value: String(counts.pending - ec2.pending)),
                KeyValuePair(name: "activeFargateServiceCount", value: String(counts.services - ec2.services)),
                KeyValuePair(name: "runningEC2TasksCount", value: String(ec2.running)),
                KeyValuePair(name: "pendingEC2TasksCount", value: String(ec2.pending)),
                KeyValuePair(name: "activeEC2ServiceCount", value: String(ec2.services)),
                KeyValuePair(name: "drainingFargateServiceCount", value: "0"),
                KeyValuePair(name: "drainingEC2ServiceCount", value: "0"),
            ])
        } else {
            json["statistics"] = .array([])
        }
        return .object(json)
    }

    func describeClusters(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        let include = Set(try input.strings("include") ?? [])
        for i in include where !["ATTACHMENTS", "CONFIGURATIONS", "SETTINGS", "STATISTICS", "TAGS"].contains(i) {
            throw ECSError.validation(i, at: "include", "Member must satisfy enum value set: [ATTACHMENTS, CONFIGURATIONS, SETTINGS, STATISTICS, TAGS]")
        }
        var clusters: [JSON] = []
        var failures: [Failure] = []
        for ident in try input.strings("clusters") ?? ["default"] {
            if let c = try findCluster(ident, scope) {
                clusters.append(try await describe(c, include: include, scope))
            } else {
                failures.append(Failure(arn: ident.hasPrefix("arn:") ? ident : scope.arn("cluster/\(ident)"), reason: "MISSING"))
            }
        }
        return ["clusters": .array(clusters), "failures": try JSON.encode(failures)]
    }

    func listClusters(_ r: AWSRequest, _ input: Input) throws -> [String: JSON] {
        let scope = Scope(r)
        let arns = try store.db.readNow { db in
            try String.fetchAll(db, sql: "SELECT arn FROM cluster WHERE account = ? AND region = ? AND status = 'ACTIVE' ORDER BY arn",
                                arguments: [scope.account, scope.region])
        }
        let (page, next) = try Paging.page(arns, token: try input.string("nextToken"), maxResults: try input.int("maxResults"))
        var out: [String: JSON] = ["clusterArns": .array(page.map(JSON.string))]
        if let next { out["nextToken"] = .string(next) }
        return out
    }

    func updateCluster(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        var c = try activeCluster(try input.required("cluster"), scope)
        if let settings = try input.decode("settings", as: [KeyValuePair].self) {
            try Self.validateClusterSettings(settings)
            c.settings = Self.merge(c.settings ?? [], settings)
        }
        if let configuration = input.json("configuration") { c.configuration = configuration }
        if let defaults = input.json("serviceConnectDefaults") { c.serviceConnectDefaults = defaults }
        try saveCluster(c, scope)
        return ["cluster": try await describe(c, include: ["SETTINGS", "CONFIGURATIONS"], scope)]
    }

    func updateClusterSettings(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        var c = try activeCluster(try input.required("cluster"), scope)
        guard let settings = try input.decode("settings", as: [KeyValuePair].self) else {
            throw ECSError.validation(nil, at: "settings", "Member must not be null")
        }
        try Self.validateClusterSettings(settings)
        c.settings = Self.merge(c.settings ?? [], settings)
        try saveCluster(c, scope)
        return ["cluster": try await describe(c, include: ["SETTINGS"], scope)]
    }

    /// Settings by name, the new ones replacing the old.
    static func merge(_ old: [KeyValuePair], _ new: [KeyValuePair]) -> [KeyValuePair] {
        var out = old
        for s in new {
            if let i = out.firstIndex(where: { $0.name == s.name }) { out[i] = s } else { out.append(s) }
        }
        return out
    }

    func putClusterCapacityProviders(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        var c = try activeCluster(try input.required("cluster"), scope)
        guard let providers = try input.strings("capacityProviders") else {
            throw ECSError.validation(nil, at: "capacityProviders", "Member must not be null")
        }
        guard let strategy = try input.decode("defaultCapacityProviderStrategy", as: [CapacityProviderStrategyItem].self) else {
            throw ECSError.validation(nil, at: "defaultCapacityProviderStrategy", "Member must not be null")
        }
        try validateCapacityProviders(providers, strategy: strategy, scope)
        c.capacityProviders = providers
        c.defaultCapacityProviderStrategy = strategy
        try saveCluster(c, scope)
        return ["cluster": try await describe(c, include: [], scope)]
    }

    func deleteCluster(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let scope = Scope(r)
        var c = try activeCluster(try input.required("cluster"), scope)
        let counts = await scheduler.clusterCounts(c.clusterArn)
        if counts.services > 0 || counts.draining > 0 {
            throw AWSError("ClusterContainsServicesException",
                           "The Cluster cannot be deleted while Services are active.")
        }
        if counts.running + counts.pending > 0 {
            throw AWSError("ClusterContainsTasksException", "The Cluster cannot be deleted while Tasks are active.")
        }
        if await scheduler.registeredInstanceCount(c.clusterArn) > 0 {
            throw AWSError("ClusterContainsContainerInstancesException",
                           "The Cluster cannot be deleted while Container Instances are active or draining.")
        }
        c.status = "INACTIVE"
        try saveCluster(c, scope)
        return ["cluster": try await describe(c, include: [], scope)]
    }
}
