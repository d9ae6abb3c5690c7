import Core
import Foundation
import GRDB

/// CreateDeployment and the deployment's own operations. The engine (`DeploymentEngine`) takes it from `Created`.
extension CodeDeployService {
    static let activeStatuses: Set<String> = ["Created", "Queued", "InProgress", "Ready", "Baking"]
    static let doneStatuses: Set<String> = ["Succeeded", "Failed", "Stopped"]

    static func newDeploymentID() -> String {
        let chars = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return "d-" + String((0..<9).map { _ in chars.randomElement()! })
    }

    func deploymentID(_ input: Input) throws -> String {
        let id = try input.required("deploymentId", "DeploymentIdRequiredException", "At least one deployment ID must be specified.")
        guard id.hasPrefix("d-"), id.count == 11 else { throw CDError.invalidDeploymentID(id) }
        return id
    }

    func deployment(_ id: String, _ s: Scope, _ db: Database) throws -> Doc {
        guard let d = try CodeDeployStore.get("deployment", s, id, db) else { throw CDError.deploymentMissing(id) }
        return d
    }

    /// A new deployment document (CreateDeployment's, or a rollback's), stored and marked on its group.
    func insertDeployment(app: String, group g: Doc, revision: Doc, configName: String, creator: String, description: String?,
                          rollback: Doc?, options: Doc, _ s: Scope, _ db: Database) throws -> String {
        let id = Self.newDeploymentID()
        let groupName = g["deploymentGroupName"] as? String ?? ""
        var d: Doc = ["applicationName": app, "deploymentGroupName": groupName, "deploymentConfigName": configName,
                      "deploymentId": id, "revision": revision, "status": "Created", "createTime": clock.now(), "creator": creator,
                      "ignoreApplicationStopFailures": options["ignoreApplicationStopFailures"] as? Bool ?? false,
                      "updateOutdatedInstancesOnly": false, "computePlatform": g["computePlatform"] as? String ?? "Server",
                      "deploymentStyle": g["deploymentStyle"] ?? [:], "fileExistsBehavior": options["fileExistsBehavior"] as? String ?? "DISALLOW",
                      "_engine": ["phase": "Created"]]
        if let description { d["description"] = description }
        if let rb = (options["autoRollbackConfiguration"] as? Doc) ?? (g["autoRollbackConfiguration"] as? Doc) { d["autoRollbackConfiguration"] = rb }
        if let rollback { d["rollbackInfo"] = rollback }
        if let last = g["lastSuccessfulDeployment"] as? Doc, let prev = try CodeDeployStore.get("deployment", s, last["deploymentId"] as? String ?? "", db) {
            d["previousRevision"] = prev["revision"]
        }
        if let lb = g["loadBalancerInfo"] { d["loadBalancerInfo"] = lb }
        if let bg = g["blueGreenDeploymentConfiguration"] { d["blueGreenDeploymentConfiguration"] = bg }
        try CodeDeployStore.put("deployment", s, id, parent: app + "/" + groupName, d, db)
        var group = g
        group["lastAttemptedDeployment"] = ["deploymentId": id, "status": "Created", "createTime": d["createTime"]!]
        group["targetRevision"] = revision
        try CodeDeployStore.put("group", s, app + "/" + groupName, parent: app, group, db)
        try recordRevision(app, revision, description: nil, deployed: true, s, db)
        return id
    }

    func createDeployment(_ s: Scope, _ input: Input) throws -> Doc {
        let app = try appName(input)
        let groupName = try groupName(input)
        if let d = try input.string("description"), d.count > 256 {
            throw CDError.e("DescriptionTooLongException", "The description is too long.")
        }
        if let f = try input.string("fileExistsBehavior"), !["DISALLOW", "OVERWRITE", "RETAIN"].contains(f) {
            throw CDError.e("InvalidFileExistsBehaviorException", "The fileExistsBehavior is invalid.")
        }
        let rollback = try Self.validRollback(try input.object("autoRollbackConfiguration"))
        let id = try store.db.writeNow { db -> String in
            let a = try application(app, s, db)
            let g = try group(app, groupName, s, db)
            let platform = a["computePlatform"] as? String ?? "Server"
            let revision: Doc
            if let given = try input.object("revision") {
                revision = try Self.validRevision(given)
            } else if let target = g["targetRevision"] as? Doc {
                revision = target
            } else {
                throw CDError.e("RevisionRequiredException", "The revision ID was not specified.")
            }
            if platform == "Lambda", (revision["revisionType"] as? String) == "S3",
               let b = (revision["s3Location"] as? Doc)?["bundleType"] as? String, !["YAML", "JSON"].contains(b) {
                throw CDError.e("InvalidRevisionException", "A Lambda deployment's revision must be a YAML or JSON AppSpec file.")
            }
            let configName = try input.string("deploymentConfigName") ?? (g["deploymentConfigName"] as? String ?? "")
            guard let config = try config(configName, s, db) else { throw CDError.configMissing(configName) }
            guard (config["computePlatform"] as? String) == platform else {
                throw CDError.e("InvalidDeploymentConfigNameException",
                                "The deployment config \(configName) is not valid for the compute platform \(platform).")
            }
            let active = try CodeDeployStore.all("deployment", s, parent: app + "/" + groupName, db)
                .first { Self.activeStatuses.contains($0.doc["status"] as? String ?? "") }
            if let active {
                throw CDError.e("DeploymentLimitExceededException",
                                "The deployment group \(groupName) has an active deployment. Deployment ID: \(active.key)")
            }
            var options: Doc = [:]
            options["ignoreApplicationStopFailures"] = try input.bool("ignoreApplicationStopFailures")
            options["fileExistsBehavior"] = try input.string("fileExistsBehavior")
            options["autoRollbackConfiguration"] = rollback
            return try insertDeployment(app: app, group: g, revision: revision, configName: configName, creator: "user",
                                        description: try input.string("description"), rollback: nil, options: options, s, db)
        }
        engine.kick()
        return ["deploymentId": id]
    }

    /// GetDeployment's deploymentInfo: the stored document without engine fields, and the overview counted from
    /// its targets.
    func deploymentInfo(_ d: Doc, _ s: Scope, _ db: Database) throws -> Doc {
        var info = d.filter { !$0.key.hasPrefix("_") }
        var overview: [String: Int] = ["Pending": 0, "InProgress": 0, "Succeeded": 0, "Failed": 0, "Skipped": 0, "Ready": 0]
        for t in try CodeDeployStore.all("target", s, parent: d["deploymentId"] as? String ?? "", db) {
            let status = t.doc["status"] as? String ?? "Pending"
            if overview[status] != nil { overview[status]! += 1 }
        }
        info["deploymentOverview"] = overview
        return info
    }

    func getDeployment(_ s: Scope, _ input: Input) throws -> Doc {
        let id = try deploymentID(input)
        return ["deploymentInfo": try store.db.readNow { db in try deploymentInfo(try deployment(id, s, db), s, db) }]
    }

    func batchGetDeployments(_ s: Scope, _ input: Input) throws -> Doc {
        let ids = try input.strings("deploymentIds") ?? []
        guard ids.count <= 25 else {
            throw CDError.e("BatchLimitExceededException", "The maximum number of names or IDs allowed for this request (25) was exceeded.")
        }
        let infos = try store.db.readNow { db in
            try ids.compactMap { id in try CodeDeployStore.get("deployment", s, id, db).map { try deploymentInfo($0, s, db) } }
        }
        return ["deploymentsInfo": infos]
    }

    func listDeployments(_ s: Scope, _ input: Input) throws -> Doc {
        let app = try input.string("applicationName")
        let groupName = try input.string("deploymentGroupName")
        if groupName != nil && app == nil { throw CDError.e("ApplicationNameRequiredException", "The application name was not specified.") }
        if app != nil && groupName == nil { throw CDError.e("DeploymentGroupNameRequiredException", "The deployment group name was not specified.") }
        let statuses = try input.strings("includeOnlyStatuses") ?? []
        let valid: Set<String> = ["Created", "Queued", "InProgress", "Baking", "Succeeded", "Failed", "Stopped", "Ready"]
        if let bad = statuses.first(where: { !valid.contains($0) }) {
            throw CDError.e("InvalidDeploymentStatusException", "The deployment status \(bad) is invalid.")
        }
        let range = try input.object("createTimeRange")
        let start = (range?["start"] as? NSNumber)?.doubleValue, end = (range?["end"] as? NSNumber)?.doubleValue
        if let start, let end, start > end { throw CDError.e("InvalidTimeRangeException", "The specified time range was specified in an invalid format.") }
        let all = try store.db.readNow { db -> [(key: String, doc: Doc)] in
            if let app, let groupName {
                _ = try application(app, s, db)
                _ = try group(app, groupName, s, db)
                return try CodeDeployStore.all("deployment", s, parent: app + "/" + groupName, db)
            }
            return try CodeDeployStore.all("deployment", s, db)
        }
        let ids = all.filter { item in
            let t = item.doc["createTime"] as? Double ?? 0
            return (statuses.isEmpty || statuses.contains(item.doc["status"] as? String ?? ""))
                && (start.map { t >= $0 } ?? true) && (end.map { t <= $0 } ?? true)
        }.reversed().map(\.key)
        return try Self.page(Array(ids), input, key: "deployments")
    }

    func stopDeployment(_ s: Scope, _ input: Input) throws -> Doc {
        let id = try deploymentID(input)
        let rollback = try input.bool("autoRollbackEnabled")
        try store.db.writeNow { db in
            var d = try deployment(id, s, db)
            guard Self.activeStatuses.contains(d["status"] as? String ?? "") else {
                throw CDError.e("DeploymentAlreadyCompletedException", "The deployment \(id) has already completed.")
            }
            var engineState = d["_engine"] as? Doc ?? [:]
            let configured = (d["autoRollbackConfiguration"] as? Doc).map {
                ($0["enabled"] as? Bool) == true && (($0["events"] as? [String]) ?? []).contains("DEPLOYMENT_STOP_ON_REQUEST")
            } ?? false
            engineState["stop"] = ["rollback": rollback ?? configured]
            d["_engine"] = engineState
            try CodeDeployStore.put("deployment", s, id, parent: "\(d["applicationName"] ?? "")/\(d["deploymentGroupName"] ?? "")", d, db)
        }
        engine.signal()
        return ["status": "Pending", "statusMessage": "Stopping Pending. Stopping to deploy revision."]
    }

    func continueDeployment(_ s: Scope, _ input: Input) throws -> Doc {
        let id = try deploymentID(input)
        let waitType = try input.string("deploymentWaitType") ?? "READY_WAIT"
        guard ["READY_WAIT", "TERMINATION_WAIT"].contains(waitType) else {
            throw CDError.e("InvalidDeploymentWaitTypeException", "The wait type is invalid.")
        }
        try store.db.writeNow { db in
            var d = try deployment(id, s, db)
            let status = d["status"] as? String ?? ""
            if Self.doneStatuses.contains(status) {
                throw CDError.e("DeploymentAlreadyCompletedException", "The deployment \(id) has already completed.")
            }
            // ECS: READY_WAIT ends the Ready wait, TERMINATION_WAIT the wait before the original task set is deleted.
            let phase = Self.engineState(d)["phase"] as? String
            let ready = waitType == "READY_WAIT" ? status == "Ready" : phase == "TerminationWait"
            guard ready else {
                throw CDError.e("DeploymentIsNotInReadyStateException", "The deployment does not have a status of Ready and can't continue yet.")
            }
            if (d["computePlatform"] as? String) == "ECS" {
                var e = Self.engineState(d)
                e[waitType == "READY_WAIT" ? "continueReady" : "continueTermination"] = true
                d["_engine"] = e
                try saveDeployment(d, s, db)
            }
        }
        engine.signal()
        return [:]
    }
}
