import Core
import Foundation
import GRDB

struct CapacityProvider: Codable, Sendable {
    var capacityProviderArn: String
    var name: String
    var status: String
    var autoScalingGroupProvider: JSON?
    var managedInstancesProvider: JSON?
    var updateStatus: String?
    var updateStatusReason: String?
    var tags: [Tag]?
    var type: String?
}

/// CreateCapacityProvider, DescribeCapacityProviders, UpdateCapacityProvider, DeleteCapacityProvider. FARGATE and
/// FARGATE_SPOT are built in; custom ones (Auto Scaling group providers) are stored: there is no EC2 behind them.
extension ECSService {
    func capacityProvider(_ name: String, _ scope: Scope) throws -> CapacityProvider? {
        try store.db.readNow { db in
            try String.fetchOne(db, sql: "SELECT doc FROM capacity_provider WHERE account = ? AND region = ? AND (name = ? OR arn = ?)",
                                arguments: [scope.account, scope.region, name, name])
        }.map { try ECSStore.value(CapacityProvider.self, $0) }.flatMap { $0.status == "ACTIVE" ? $0 : nil }
    }

    func capacityProviderByArn(_ arn: String, _ scope: Scope) throws -> CapacityProvider? { try capacityProvider(arn, scope) }

    func saveCapacityProvider(_ cp: CapacityProvider, _ scope: Scope) throws {
        try store.db.writeNow { db in
            try db.execute(sql: """
                INSERT INTO capacity_provider (arn, account, region, name, doc) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (arn) DO UPDATE SET doc = excluded.doc
                """, arguments: [cp.capacityProviderArn, scope.account, scope.region, cp.name, try ECSStore.text(cp)])
        }
    }

    func createCapacityProvider(_ r: AWSRequest, _ input: Input) throws -> [String: JSON] {
        let scope = Scope(r)
        let name = try input.required("name")
        let lower = name.lowercased()
        if lower.hasPrefix("aws") || lower.hasPrefix("ecs") || lower.hasPrefix("fargate") {
            throw ECSError.invalid("The capacity provider name cannot start with 'aws', 'ecs', or 'fargate'. Specify a valid name and try again.")
        }
        guard !name.isEmpty, name.count <= 255, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }) else {
            throw ECSError.invalid("The capacity provider name is not valid.")
        }
        guard let asg = input.json("autoScalingGroupProvider") ?? input.json("managedInstancesProvider") else {
            throw ECSError.invalid("A capacity provider must specify an Auto Scaling group provider.")
        }
        guard asg["autoScalingGroupArn"]?.string != nil || input.json("managedInstancesProvider") != nil else {
            throw ECSError.validation(nil, at: "autoScalingGroupProvider.autoScalingGroupArn", "Member must not be null")
        }
        if let existing = try store.db.readNow({ db in
            try String.fetchOne(db, sql: "SELECT doc FROM capacity_provider WHERE account = ? AND region = ? AND name = ?",
                                arguments: [scope.account, scope.region, name])
        }), (try? ECSStore.value(CapacityProvider.self, existing))?.status == "ACTIVE" {
            throw ECSError.invalid("The specified capacity provider already exists. To change the configuration of an existing capacity provider, update the capacity provider.")
        }
        var provider = asg.object ?? [:]
        if input.json("autoScalingGroupProvider") != nil {
            var scaling = provider["managedScaling"]?.object ?? [:]
            if scaling["status"] == nil { scaling["status"] = .string("DISABLED") }
            if scaling["targetCapacity"] == nil { scaling["targetCapacity"] = .number(100) }
            if scaling["minimumScalingStepSize"] == nil { scaling["minimumScalingStepSize"] = .number(1) }
            if scaling["maximumScalingStepSize"] == nil { scaling["maximumScalingStepSize"] = .number(10000) }
            if scaling["instanceWarmupPeriod"] == nil { scaling["instanceWarmupPeriod"] = .number(300) }
            provider["managedScaling"] = .object(scaling)
            if provider["managedTerminationProtection"] == nil { provider["managedTerminationProtection"] = .string("DISABLED") }
            if provider["managedDraining"] == nil { provider["managedDraining"] = .string("ENABLED") }
        }
        let cp = CapacityProvider(
            capacityProviderArn: scope.arn("capacity-provider/\(name)"), name: name, status: "ACTIVE",
            autoScalingGroupProvider: input.json("autoScalingGroupProvider") != nil ? .object(provider) : nil,
            managedInstancesProvider: input.json("managedInstancesProvider"), updateStatus: nil, updateStatusReason: nil,
            tags: try input.tags() ?? [], type: input.json("managedInstancesProvider") != nil ? "MANAGED_INSTANCES" : "EC2_AUTOSCALING")
        try saveCapacityProvider(cp, scope)
        return ["capacityProvider": try JSON.encode(cp)]
    }

    func describeCapacityProviders(_ r: AWSRequest, _ input: Input) throws -> [String: JSON] {
        let scope = Scope(r)
        let withTags = (try input.strings("include") ?? []).contains("TAGS")
        let builtIn = ["FARGATE", "FARGATE_SPOT"].map {
            CapacityProvider(capacityProviderArn: scope.arn("capacity-provider/\($0)"), name: $0, status: "ACTIVE", tags: [], type: $0)
        }
        var all = builtIn
        all += try store.db.readNow { db in
            try String.fetchAll(db, sql: "SELECT doc FROM capacity_provider WHERE account = ? AND region = ? ORDER BY name",
                                arguments: [scope.account, scope.region])
        }.map { try ECSStore.value(CapacityProvider.self, $0) }.filter { $0.status == "ACTIVE" }
        var chosen: [CapacityProvider] = []
        var failures: [Failure] = []
        if let names = try input.strings("capacityProviders") {
            for n in names {
                if let cp = all.first(where: { $0.name == n || $0.capacityProviderArn == n }) { chosen.append(cp) }
                else { failures.append(Failure(arn: n.hasPrefix("arn:") ? n : scope.arn("capacity-provider/\(n)"), reason: "MISSING")) }
            }
        } else {
            chosen = all
        }
        if !withTags { for i in chosen.indices { chosen[i].tags = nil } }
        let (page, next) = try Paging.page(chosen, token: try input.string("nextToken"), maxResults: try input.int("maxResults"), limit: 10)
        var out: [String: JSON] = ["capacityProviders": try JSON.encode(page), "failures": try JSON.encode(failures)]
        if let next { out["nextToken"] = .string(next) }
        return out
    }

    func updateCapacityProvider(_ r: AWSRequest, _ input: Input) throws -> [String: JSON] {
        let scope = Scope(r)
        let name = try input.required("name")
        guard var cp = try capacityProvider(name, scope) else {
            throw ECSError.invalid("The specified capacity provider does not exist. Specify a valid name or ARN and try again.")
        }
        if let update = input.json("autoScalingGroupProvider")?.object, var current = cp.autoScalingGroupProvider?.object {
            for (k, v) in update {
                if k == "managedScaling", let scaling = v.object, var old = current["managedScaling"]?.object {
                    for (sk, sv) in scaling { old[sk] = sv }
                    current[k] = .object(old)
                } else {
                    current[k] = v
                }
            }
            cp.autoScalingGroupProvider = .object(current)
        }
        cp.updateStatus = "UPDATE_COMPLETE"
        try saveCapacityProvider(cp, scope)
        return ["capacityProvider": try JSON.encode(cp)]
    }

    func deleteCapacityProvider(_ r: AWSRequest, _ input: Input) throws -> [String: JSON] {
        let scope = Scope(r)
        let name = try input.required("capacityProvider")
        guard var cp = try capacityProvider(name, scope) else {
            throw ECSError.invalid("The specified capacity provider does not exist. Specify a valid name or ARN and try again.")
        }
        for c in try allClusters(scope) where c.capacityProviders.contains(cp.name) {
            throw ECSError.invalid("The specified capacity provider is in use and cannot be removed.")
        }
        // AWS deletes in the background: the answer is still ACTIVE, DELETE_IN_PROGRESS; the record is gone after it.
        var answer = cp
        answer.updateStatus = "DELETE_IN_PROGRESS"
        cp.status = "INACTIVE"
        cp.updateStatus = "DELETE_COMPLETE"
        try saveCapacityProvider(cp, scope)
        return ["capacityProvider": try JSON.encode(answer)]
    }
}
