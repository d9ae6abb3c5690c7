import Core
import Foundation
import GRDB

/// The engine's steps common to every platform: dispatch, completion, failure, stop and rollback. A platform is
/// a set of phases (`LambdaDeployment.swift`, `ServerDeployment.swift`, `ECSDeployment.swift`).
extension CodeDeployService {
    static func parent(_ d: Doc) -> String { "\(d["applicationName"] ?? "")/\(d["deploymentGroupName"] ?? "")" }

    func saveDeployment(_ d: Doc, _ s: Scope, _ db: Database) throws {
        try CodeDeployStore.put("deployment", s, d["deploymentId"] as? String ?? "", parent: Self.parent(d), d, db)
    }

    static func engineState(_ d: Doc) -> Doc { d["_engine"] as? Doc ?? [:] }

    func step(_ s: Scope, _ id: String) async throws -> DeploymentEngine.Next {
        guard let d = try store.db.readNow({ db in try CodeDeployStore.get("deployment", s, id, db) }) else { return .done }
        if let pending = d["_rollbackPending"] as? Doc {
            try startRollback(s, id, pending)
            return .again
        }
        guard Self.activeStatuses.contains(d["status"] as? String ?? "") else { return .done }
        if let stop = Self.engineState(d)["stop"] as? Doc {
            try finish(s, id, status: "Stopped", code: "MANUAL_STOP", message: "The deployment was stopped by a user.",
                       rollback: (stop["rollback"] as? Bool) ?? false)
            return .again
        }
        switch d["computePlatform"] as? String {
        case "Lambda": return try await lambdaStep(s, d)
        case "Server": return try await serverStep(s, d)
        case "ECS": return try await ecsStep(s, d)
        default:
            try failDeployment(s, id, code: "INTERNAL_ERROR", message: "Cloudless does not run \(d["computePlatform"] ?? "") deployments yet.")
            return .again
        }
    }

    /// Record the deployment's end. A failure with automatic rollback on DEPLOYMENT_FAILURE (or a stop asking for
    /// rollback) marks a rollback to start in the next step: its record and the failed one's are written together.
    func finish(_ s: Scope, _ id: String, status: String, code: String?, message: String?, rollback: Bool? = nil) throws {
        try store.db.writeNow { db in
            var d = try deployment(id, s, db)
            guard Self.activeStatuses.contains(d["status"] as? String ?? "") else { return }
            let now = clock.now()
            d["status"] = status
            d["completeTime"] = now
            if d["startTime"] == nil { d["startTime"] = now }
            if let code { d["errorInformation"] = ["code": code, "message": message ?? ""] }
            // Targets still running or waiting end as Failed or Skipped; their pending events are Skipped.
            for t in try CodeDeployStore.all("target", s, parent: id, db) {
                var doc = t.doc
                let st = doc["status"] as? String ?? ""
                guard st == "Pending" || st == "InProgress" else { continue }
                doc["status"] = st == "InProgress" && status != "Succeeded" ? "Failed" : (status == "Succeeded" ? "Succeeded" : "Skipped")
                doc["lifecycleEvents"] = (doc["lifecycleEvents"] as? [Doc] ?? []).map { e in
                    var e = e
                    if e["status"] as? String == "Pending" { e["status"] = "Skipped" }
                    if e["status"] as? String == "InProgress" { e["status"] = "Failed"; e["endTime"] = now }
                    return e
                }
                doc["lastUpdatedAt"] = now
                try CodeDeployStore.put("target", s, t.key, parent: id, doc, db)
            }
            let wantsRollback: Bool
            if let rollback { wantsRollback = rollback } else {
                let rb = d["autoRollbackConfiguration"] as? Doc
                wantsRollback = status == "Failed" && (rb?["enabled"] as? Bool) == true
                    && ((rb?["events"] as? [String]) ?? []).contains("DEPLOYMENT_FAILURE")
            }
            if wantsRollback && (d["creator"] as? String) != "codeDeployRollback" {
                d["_rollbackPending"] = ["status": status]
            }
            try saveDeployment(d, s, db)
            let app = d["applicationName"] as? String ?? "", groupName = d["deploymentGroupName"] as? String ?? ""
            if var g = try CodeDeployStore.get("group", s, app + "/" + groupName, db) {
                let summary: Doc = ["deploymentId": id, "status": status, "endTime": now, "createTime": d["createTime"] ?? now]
                g["lastAttemptedDeployment"] = summary
                if status == "Succeeded" { g["lastSuccessfulDeployment"] = summary }
                try CodeDeployStore.put("group", s, app + "/" + groupName, parent: app, g, db)
            }
        }
    }

    func failDeployment(_ s: Scope, _ id: String, code: String, message: String) throws {
        try finish(s, id, status: "Failed", code: code, message: message)
    }

    /// The rollback deployment AWS creates: the platform's previous state redeployed (Lambda: the alias back to
    /// CurrentVersion; Server: the group's last successful revision), creator `codeDeployRollback`.
    func startRollback(_ s: Scope, _ id: String, _ pending: Doc) throws {
        try store.db.writeNow { db in
            var d = try deployment(id, s, db)
            d.removeValue(forKey: "_rollbackPending")
            let app = d["applicationName"] as? String ?? ""
            let g = try group(app, d["deploymentGroupName"] as? String ?? "", s, db)
            var revision: Doc?
            var engineState: Doc = ["phase": "Created"]
            if (d["computePlatform"] as? String) == "Lambda", let spec = LambdaAppSpec(doc: Self.engineState(d)["appSpec"] as? Doc) {
                // The same AppSpec with the versions swapped, no hooks: the alias returns to CurrentVersion at once.
                let back = LambdaAppSpec(functionName: spec.functionName, alias: spec.alias, currentVersion: spec.targetVersion,
                                         targetVersion: spec.currentVersion)
                revision = d["revision"] as? Doc
                engineState["appSpec"] = back.asDoc
            } else if (d["computePlatform"] as? String) == "ECS" {
                // Traffic back to the original task set, the replacement deleted (`ECSDeployment.swift`).
                revision = d["revision"] as? Doc
                engineState = ["phase": "Rollback", "ecs": Self.engineState(d)["ecs"] ?? [:]]
            } else if let last = (g["lastSuccessfulDeployment"] as? Doc)?["deploymentId"] as? String,
                      let prev = try CodeDeployStore.get("deployment", s, last, db) {
                revision = prev["revision"] as? Doc
            }
            guard let revision else {
                d["rollbackInfo"] = ["rollbackMessage": "Automatic rollback failed: no last known good revision could be found."]
                try saveDeployment(d, s, db)
                return
            }
            let config = switch d["computePlatform"] as? String {
            case "Lambda": "CodeDeployDefault.LambdaAllAtOnce"
            case "ECS": "CodeDeployDefault.ECSAllAtOnce"
            default: d["deploymentConfigName"] as? String ?? ""
            }
            let rbID = try insertDeployment(app: app, group: g, revision: revision, configName: config, creator: "codeDeployRollback",
                                            description: nil, rollback: ["rollbackTriggeringDeploymentId": id, "rollbackMessage": "Rollback of deployment \(id)"],
                                            options: ["ignoreApplicationStopFailures": d["ignoreApplicationStopFailures"] ?? false,
                                                      "fileExistsBehavior": "OVERWRITE"], s, db)
            if var rb = try CodeDeployStore.get("deployment", s, rbID, db) {
                rb["_engine"] = engineState
                try saveDeployment(rb, s, db)
            }
            d["rollbackInfo"] = ["rollbackDeploymentId": rbID, "rollbackMessage": "Deployment \(id) rolled back by \(rbID)"]
            try saveDeployment(d, s, db)
        }
        engine.kick()
    }

    /// Update one target (the key is `<deploymentId>/<targetId>`).
    func updateTarget(_ s: Scope, _ deploymentID: String, _ targetID: String, _ db: Database, _ change: (inout Doc) -> Void) throws {
        let key = deploymentID + "/" + targetID
        guard var t = try CodeDeployStore.get("target", s, key, db) else { return }
        change(&t)
        t["lastUpdatedAt"] = clock.now()
        try CodeDeployStore.put("target", s, key, parent: deploymentID, t, db)
    }

    static func setEvent(_ t: inout Doc, _ name: String, _ change: (inout Doc) -> Void) {
        var events = t["lifecycleEvents"] as? [Doc] ?? []
        if let i = events.firstIndex(where: { $0["lifecycleEventName"] as? String == name }) { change(&events[i]) }
        t["lifecycleEvents"] = events
    }

    /// The revision's bytes: AppSpec content inline, or the S3 object.
    func revisionBytes(_ revision: Doc) async throws -> [UInt8] {
        switch revision["revisionType"] as? String {
        case "AppSpecContent": return Array(((revision["appSpecContent"] as? Doc)?["content"] as? String ?? "").utf8)
        case "String": return Array(((revision["string"] as? Doc)?["content"] as? String ?? "").utf8)
        default:
            let l = revision["s3Location"] as? Doc ?? [:]
            return try await objects.objectBytes(bucket: l["bucket"] as? String ?? "", key: l["key"] as? String ?? "", limit: 512 << 20)
        }
    }
}
