import Core
import Foundation
import GRDB

/// A deployment's targets (an instance, a Lambda function) with their lifecycle events, the older instance API,
/// and the status a hook function reports.
extension CodeDeployService {
    static func targetOut(_ t: Doc) -> Doc {
        let type = t["_type"] as? String ?? "InstanceTarget"
        let key = type == "ECSTarget" ? "ecsTarget" : type.prefix(1).lowercased() + type.dropFirst()
        return ["deploymentTargetType": type, key: t.filter { !$0.key.hasPrefix("_") }]
    }

    func targets(_ id: String, _ s: Scope, _ db: Database) throws -> [(key: String, doc: Doc)] {
        _ = try deployment(id, s, db)
        return try CodeDeployStore.all("target", s, parent: id, db)
    }

    func listDeploymentTargets(_ s: Scope, _ input: Input) throws -> Doc {
        let id = try deploymentID(input)
        let filters = try input.object("targetFilters") ?? [:]
        let statuses = filters["TargetStatus"] as? [String]
        let all = try store.db.readNow { db in try targets(id, s, db) }
        let ids = all.filter { statuses == nil || statuses!.contains($0.doc["status"] as? String ?? "") }.compactMap { $0.doc["targetId"] as? String }
        return try Self.page(ids, input, key: "targetIds")
    }

    func batchGetDeploymentTargets(_ s: Scope, _ input: Input) throws -> Doc {
        let id = try deploymentID(input)
        let ids = try input.strings("targetIds") ?? []
        guard ids.count <= 25 else { throw CDError.e("DeploymentTargetListSizeExceededException", "The maximum number of targets that can be associated with an Amazon ECS or AWS Lambda deployment was exceeded.") }
        let found = try store.db.readNow { db in
            _ = try deployment(id, s, db)
            return try ids.map { t -> Doc in
                guard let doc = try CodeDeployStore.get("target", s, id + "/" + t, db) else {
                    throw CDError.e("DeploymentTargetDoesNotExistException", "The provided target ID does not belong to the attempted deployment.")
                }
                return Self.targetOut(doc)
            }
        }
        return ["deploymentTargets": found]
    }

    /// The older API's InstanceSummary, from an instance target.
    static func instanceSummary(_ t: Doc, deploymentID: String) -> Doc {
        ["deploymentId": deploymentID, "instanceId": t["targetArn"] ?? "", "status": t["status"] ?? "Pending",
         "lastUpdatedAt": t["lastUpdatedAt"] ?? 0, "lifecycleEvents": t["lifecycleEvents"] ?? [], "instanceType": "Blue"]
    }

    func listDeploymentInstances(_ s: Scope, _ input: Input) throws -> Doc {
        let id = try deploymentID(input)
        let statuses = try input.strings("instanceStatusFilter")
        let all = try store.db.readNow { db in try targets(id, s, db) }
        let ids = all.filter { ($0.doc["_type"] as? String) == "InstanceTarget" && (statuses == nil || statuses!.contains($0.doc["status"] as? String ?? "")) }
            .compactMap { $0.doc["targetArn"] as? String }
        return try Self.page(ids, input, key: "instancesList")
    }

    func instanceTarget(_ id: String, _ instance: String, _ s: Scope, _ db: Database) throws -> Doc? {
        let name = instance.split(separator: "/").last.map(String.init) ?? instance
        return try CodeDeployStore.get("target", s, id + "/" + name, db)
    }

    func batchGetDeploymentInstances(_ s: Scope, _ input: Input) throws -> Doc {
        let id = try deploymentID(input)
        let ids = try input.strings("instanceIds") ?? []
        let found = try store.db.readNow { db in
            _ = try deployment(id, s, db)
            return try ids.compactMap { try instanceTarget(id, $0, s, db).map { Self.instanceSummary($0, deploymentID: id) } }
        }
        return ["instancesSummary": found]
    }

    func getDeploymentInstance(_ s: Scope, _ input: Input) throws -> Doc {
        let id = try deploymentID(input)
        let instance = try input.required("instanceId", "InstanceIdRequiredException", "The instance ID was not specified.")
        let t = try store.db.readNow { db in
            _ = try deployment(id, s, db)
            guard let t = try instanceTarget(id, instance, s, db) else {
                throw CDError.e("InstanceDoesNotExistException", "The specified instance does not exist in the deployment group.")
            }
            return t
        }
        return ["instanceSummary": Self.instanceSummary(t, deploymentID: id)]
    }

    func putLifecycleEventHookExecutionStatus(_ s: Scope, _ input: Input) throws -> Doc {
        let id = try deploymentID(input)
        guard let exec = try input.string("lifecycleEventHookExecutionId") else {
            throw CDError.e("InvalidLifecycleEventHookExecutionIdException", "The lifecycle event hook execution ID is invalid.")
        }
        let status = try input.string("status") ?? ""
        guard ["Succeeded", "Failed"].contains(status) else {
            throw CDError.e("InvalidLifecycleEventHookExecutionStatusException", "The result of a Lambda validation function that verifies a lifecycle event is invalid. It should return Succeeded or Failed.")
        }
        try store.db.writeNow { db in
            let d = try deployment(id, s, db)
            guard (d["computePlatform"] as? String) != "Server" else {
                throw CDError.e("UnsupportedActionForDeploymentTypeException", "This action is only supported for Lambda and ECS deployments.")
            }
            guard var hook = try CodeDeployStore.get("hook", s, exec, db), (hook["deploymentId"] as? String) == id else {
                throw CDError.e("InvalidLifecycleEventHookExecutionIdException", "The lifecycle event hook execution ID is invalid.")
            }
            guard (hook["status"] as? String) == "Pending" else {
                throw CDError.e("LifecycleEventAlreadyCompletedException", "The lifecycle event has already completed.")
            }
            hook["status"] = status
            try CodeDeployStore.put("hook", s, exec, parent: id, hook, db)
        }
        engine.signal()
        return ["lifecycleEventHookExecutionId": exec]
    }
}
