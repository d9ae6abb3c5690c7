import Core
import Foundation
import GRDB

/// Deployment groups: where an application deploys (tag filters, a Lambda alias, an ECS service) and how.
extension CodeDeployService {
    func groupName(_ input: Input, _ member: String = "deploymentGroupName") throws -> String {
        let name = try input.required(member, "DeploymentGroupNameRequiredException", "The deployment group name was not specified.")
        guard name.count <= 100 else { throw CDError.e("InvalidDeploymentGroupNameException", "The deployment group name is too long.") }
        return name
    }

    func group(_ app: String, _ name: String, _ s: Scope, _ db: Database) throws -> Doc {
        guard let d = try CodeDeployStore.get("group", s, app + "/" + name, db) else { throw CDError.groupMissing(name) }
        return d
    }

    /// Tag filters: [{Key, Value, Type}] with Type KEY_ONLY, VALUE_ONLY or KEY_AND_VALUE.
    static func validFilters(_ raw: Any?, ec2: Bool = false) throws -> [Doc] {
        guard let list = raw as? [Any] else { return [] }
        return try list.map { f in
            guard let f = f as? Doc, let type = f["Type"] as? String, ["KEY_ONLY", "VALUE_ONLY", "KEY_AND_VALUE"].contains(type) else {
                throw CDError.e(ec2 ? "InvalidEC2TagException" : "InvalidTagException", "The tag filter is invalid: Type must be KEY_ONLY, VALUE_ONLY or KEY_AND_VALUE.")
            }
            return f
        }
    }

    static func filterMatches(_ f: Doc, _ tags: [[String: String]]) -> Bool {
        let key = f["Key"] as? String, value = f["Value"] as? String
        return tags.contains { t in
            switch f["Type"] as? String {
            case "KEY_ONLY": t["Key"] == key
            case "VALUE_ONLY": t["Value"] == value
            default: t["Key"] == key && t["Value"] == value
            }
        }
    }

    /// Whether an instance's tags match the group: any filter of `onPremisesInstanceTagFilters`, or, with
    /// `onPremisesTagSet`, any filter of every set (AWS: the sets are ANDed, the filters within one ORed).
    static func instanceMatches(_ group: Doc, tags: [[String: String]]) -> Bool {
        let filters = (group["onPremisesInstanceTagFilters"] as? [Doc]) ?? []
        if !filters.isEmpty { return filters.contains { filterMatches($0, tags) } }
        let sets = ((group["onPremisesTagSet"] as? Doc)?["onPremisesTagSetList"] as? [[Doc]]) ?? []
        guard !sets.isEmpty else { return false }
        return sets.allSatisfy { set in set.contains { filterMatches($0, tags) } }
    }

    static let rollbackEvents = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST"]

    static func validRollback(_ raw: Doc?) throws -> Doc? {
        guard let raw else { return nil }
        let events = raw["events"] as? [String] ?? []
        guard events.allSatisfy(rollbackEvents.contains) else {
            throw CDError.e("InvalidAutoRollbackConfigException", "The automatic rollback configuration is invalid.")
        }
        if (raw["enabled"] as? Bool) == true && events.isEmpty {
            throw CDError.e("InvalidAutoRollbackConfigException", "Auto rollback is enabled but no events are specified.")
        }
        return ["enabled": raw["enabled"] as? Bool ?? false, "events": events]
    }

    /// Apply the members CreateDeploymentGroup and UpdateDeploymentGroup share onto `d`.
    func applyGroupSettings(_ input: Input, to d: inout Doc, platform: String, _ s: Scope, _ db: Database) throws {
        if let c = try input.string("deploymentConfigName") {
            guard let config = try config(c, s, db) else { throw CDError.configMissing(c) }
            guard (config["computePlatform"] as? String) == platform else {
                throw CDError.e("InvalidDeploymentConfigNameException",
                                "The deployment config \(c) is not valid for the compute platform \(platform).")
            }
            d["deploymentConfigName"] = c
        }
        if let role = try input.string("serviceRoleArn") {
            guard role.hasPrefix("arn:") else { throw CDError.e("InvalidRoleException", "The service role ARN is invalid.") }
            d["serviceRoleArn"] = role
        }
        if input.has("onPremisesInstanceTagFilters") { d["onPremisesInstanceTagFilters"] = try Self.validFilters(input.raw["onPremisesInstanceTagFilters"]) }
        if input.has("ec2TagFilters") { d["ec2TagFilters"] = try Self.validFilters(input.raw["ec2TagFilters"], ec2: true) }
        if let set = try input.object("onPremisesTagSet") {
            let lists = set["onPremisesTagSetList"] as? [Any] ?? []
            guard lists.count <= 3 else { throw CDError.e("TagSetListLimitExceededException", "The number of tag groups included in the tag set list exceeded the maximum allowed limit of 3.") }
            d["onPremisesTagSet"] = ["onPremisesTagSetList": try lists.map { try Self.validFilters($0) }]
        }
        if let filters = d["onPremisesInstanceTagFilters"] as? [Doc], !filters.isEmpty,
           let sets = (d["onPremisesTagSet"] as? Doc)?["onPremisesTagSetList"] as? [Any], !sets.isEmpty {
            throw CDError.e("InvalidOnPremisesTagCombinationException", "onPremisesInstanceTagFilters and onPremisesTagSet cannot be specified together")
        }
        if input.has("autoRollbackConfiguration") { d["autoRollbackConfiguration"] = try Self.validRollback(try input.object("autoRollbackConfiguration")) }
        if let alarms = try input.object("alarmConfiguration") {
            guard ((alarms["alarms"] as? [Any])?.count ?? 0) <= 10 else {
                throw CDError.e("AlarmsLimitExceededException", "The maximum number of alarms for a deployment group (10) was exceeded.")
            }
            d["alarmConfiguration"] = alarms  // stored only: CloudWatch metrics are not served
        }
        if let style = try input.object("deploymentStyle") {
            let type = style["deploymentType"] as? String ?? "IN_PLACE"
            let option = style["deploymentOption"] as? String ?? "WITHOUT_TRAFFIC_CONTROL"
            guard ["IN_PLACE", "BLUE_GREEN"].contains(type), ["WITH_TRAFFIC_CONTROL", "WITHOUT_TRAFFIC_CONTROL"].contains(option) else {
                throw CDError.e("InvalidDeploymentStyleException", "The deployment style is invalid.")
            }
            if platform != "Server" && (type != "BLUE_GREEN" || option != "WITH_TRAFFIC_CONTROL") {
                throw CDError.e("InvalidDeploymentStyleException",
                                "\(platform) deployment groups must use a deployment type of BLUE_GREEN and an option of WITH_TRAFFIC_CONTROL.")
            }
            d["deploymentStyle"] = ["deploymentType": type, "deploymentOption": option]
        }
        for member in ["blueGreenDeploymentConfiguration", "loadBalancerInfo", "triggerConfigurations", "outdatedInstancesStrategy",
                       "terminationHookEnabled", "ecsServices", "autoScalingGroups", "ec2TagSet"] where input.has(member) {
            d[member] = input.raw[member]
        }
    }

    func createDeploymentGroup(_ s: Scope, _ input: Input) throws -> Doc {
        let app = try appName(input)
        let name = try groupName(input)
        let id = UUID().uuidString.lowercased()
        let tags = try Self.tagList(input)
        try store.db.writeNow { db in
            let a = try application(app, s, db)
            let platform = a["computePlatform"] as? String ?? "Server"
            if try CodeDeployStore.get("group", s, app + "/" + name, db) != nil { throw CDError.groupExists(name) }
            guard try input.string("serviceRoleArn") != nil else {
                throw CDError.e("RoleRequiredException", "The service role ARN was not specified.")
            }
            var d: Doc = ["applicationName": app, "deploymentGroupId": id, "deploymentGroupName": name, "computePlatform": platform,
                          "deploymentConfigName": platform == "Server" ? "CodeDeployDefault.OneAtATime" : "CodeDeployDefault.\(platform)AllAtOnce",
                          "deploymentStyle": platform == "Server" ? ["deploymentType": "IN_PLACE", "deploymentOption": "WITHOUT_TRAFFIC_CONTROL"]
                              : ["deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"],
                          "onPremisesInstanceTagFilters": [Doc](), "ec2TagFilters": [Doc](), "autoScalingGroups": [Doc](),
                          "triggerConfigurations": [Doc](), "outdatedInstancesStrategy": "UPDATE"]
            try applyGroupSettings(input, to: &d, platform: platform, s, db)
            if platform == "ECS" && ((d["ecsServices"] as? [Any]) ?? []).isEmpty {
                throw CDError.e("InvalidECSServiceException", "An ECS deployment group needs ecsServices.")
            }
            try CodeDeployStore.put("group", s, app + "/" + name, parent: app, d, db)
            try CodeDeployStore.put("tags", s, arn(s, "deploymentgroup", app + "/" + name), ["tags": tags], db)
        }
        return ["deploymentGroupId": id]
    }

    /// What GetDeploymentGroup shows: the stored document, without engine fields.
    static func groupInfo(_ d: Doc) -> Doc { d.filter { !$0.key.hasPrefix("_") } }

    func getDeploymentGroup(_ s: Scope, _ input: Input) throws -> Doc {
        let app = try appName(input)
        let name = try groupName(input)
        let d = try store.db.readNow { db in
            _ = try application(app, s, db)
            return try group(app, name, s, db)
        }
        return ["deploymentGroupInfo": Self.groupInfo(d)]
    }

    func batchGetDeploymentGroups(_ s: Scope, _ input: Input) throws -> Doc {
        let app = try appName(input)
        let names = try input.strings("deploymentGroupNames") ?? []
        var found: [Doc] = []
        var missing: [String] = []
        try store.db.readNow { db in
            _ = try application(app, s, db)
            for n in names {
                if let d = try CodeDeployStore.get("group", s, app + "/" + n, db) { found.append(Self.groupInfo(d)) } else { missing.append(n) }
            }
        }
        var out: Doc = ["deploymentGroupsInfo": found]
        if !missing.isEmpty { out["errorMessage"] = "Deployment groups not found: " + missing.joined(separator: ", ") }
        return out
    }

    func listDeploymentGroups(_ s: Scope, _ input: Input) throws -> Doc {
        let app = try appName(input)
        let names = try store.db.readNow { db in
            _ = try application(app, s, db)
            return try CodeDeployStore.all("group", s, parent: app, db).compactMap { $0.doc["deploymentGroupName"] as? String }
        }
        var out = try Self.page(names.sorted(), input, key: "deploymentGroups")
        out["applicationName"] = app
        return out
    }

    func updateDeploymentGroup(_ s: Scope, _ input: Input) throws -> Doc {
        let app = try appName(input)
        let name = try groupName(input, "currentDeploymentGroupName")
        try store.db.writeNow { db in
            let a = try application(app, s, db)
            var d = try group(app, name, s, db)
            try applyGroupSettings(input, to: &d, platform: a["computePlatform"] as? String ?? "Server", s, db)
            var key = app + "/" + name
            if let newName = try input.string("newDeploymentGroupName"), newName != name {
                if try CodeDeployStore.get("group", s, app + "/" + newName, db) != nil { throw CDError.groupExists(newName) }
                try CodeDeployStore.delete("group", s, key, db)
                d["deploymentGroupName"] = newName
                key = app + "/" + newName
            }
            try CodeDeployStore.put("group", s, key, parent: app, d, db)
        }
        return ["hooksNotCleanedUp": [Any]()]
    }

    func deleteDeploymentGroup(_ s: Scope, _ input: Input) throws -> Doc {
        let app = try appName(input)
        let name = try groupName(input)
        try store.db.writeNow { db in
            _ = try application(app, s, db)
            guard try CodeDeployStore.get("group", s, app + "/" + name, db) != nil else { throw CDError.groupMissing(name) }
            try CodeDeployStore.delete("group", s, app + "/" + name, db)
            try CodeDeployStore.delete("tags", s, arn(s, "deploymentgroup", app + "/" + name), db)
        }
        return ["hooksNotCleanedUp": [Any]()]
    }
}
