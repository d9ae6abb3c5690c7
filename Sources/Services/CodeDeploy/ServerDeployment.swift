import Core
import Foundation
import GRDB

/// The Server (in-place) platform: the on-premises instances the group's tag filters match, in batches the
/// configuration's minimum healthy hosts allow; each runs the lifecycle events in AWS's order through the agent.
extension CodeDeployService {
    static let serverEvents = ["BeforeBlockTraffic", "BlockTraffic", "AfterBlockTraffic", "ApplicationStop", "DownloadBundle",
                               "BeforeInstall", "Install", "AfterInstall", "ApplicationStart", "ValidateService",
                               "BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"]
    /// Without a load balancer the traffic events are Skipped.
    static let trafficEvents: Set<String> = ["BeforeBlockTraffic", "BlockTraffic", "AfterBlockTraffic", "BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"]

    func bundlePath(_ id: String, _ revision: Doc) -> String {
        let type = ((revision["s3Location"] as? Doc)?["bundleType"] as? String) ?? "YAML"
        return directory + "/codedeploy/bundles/\(id).\(type)"
    }

    static func bundleType(_ revision: Doc) -> String {
        if (revision["revisionType"] as? String) == "S3" { return ((revision["s3Location"] as? Doc)?["bundleType"] as? String) ?? "zip" }
        return "YAML"
    }

    /// What hook scripts get besides the agent's variables: SDK calls come back to Cloudless, in the deployment's
    /// account (a 12-digit access key selects it) and region.
    func hookEnvironment(_ s: Scope) -> [String: String] {
        var env = ["AWS_ACCESS_KEY_ID": s.account, "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": s.region, "AWS_DEFAULT_REGION": s.region]
        if let endpoint { env["AWS_ENDPOINT_URL"] = endpoint.url }
        return env
    }

    func serverStep(_ s: Scope, _ d: Doc) async throws -> DeploymentEngine.Next {
        let id = d["deploymentId"] as? String ?? ""
        let revision = d["revision"] as? Doc ?? [:]
        if (Self.engineState(d)["phase"] as? String ?? "Created") == "Created" {
            // Targets: the registered instances the group's tag filters match.
            let (g, instances) = try store.db.readNow { db in
                (try CodeDeployStore.get("group", s, Self.parent(d), db) ?? [:], try CodeDeployStore.all("instance", s, db))
            }
            let matched = instances.filter { $0.doc["deregisterTime"] == nil && Self.instanceMatches(g, tags: $0.doc["tags"] as? [[String: String]] ?? []) }
            guard !matched.isEmpty else {
                try failDeployment(s, id, code: "NO_INSTANCES", message: "The deployment failed because no instances were found for your deployment group. Check your deployment group settings to make sure the tags for your EC2 instances or Auto Scaling groups correctly identify the instances you want to deploy to, and then try again.")
                return .again
            }
            // HOST_COUNT asking for as many healthy instances as there are: no instance could ever be taken down.
            let config = try store.db.readNow { db in try self.config(d["deploymentConfigName"] as? String ?? "", s, db) } ?? [:]
            if ((config["minimumHealthyHosts"] as? Doc)?["type"] as? String) == "HOST_COUNT",
               DeploymentConfigs.minimumHealthy(config, instances: matched.count) >= matched.count {
                try failDeployment(s, id, code: "HEALTH_CONSTRAINTS_INVALID", message: "The deployment failed because the minimum number of healthy instances required by the deployment configuration (\(DeploymentConfigs.minimumHealthy(config, instances: matched.count))) is not less than the number of instances in the deployment group (\(matched.count)).")
                return .again
            }
            // The revision is read once per deployment into a local file the agent unpacks.
            let path = bundlePath(id, revision)
            do {
                let bytes = try await revisionBytes(revision)
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                try failDeployment(s, id, code: "REVISION_MISSING", message: "The revision could not be read: \((error as? AWSError)?.message ?? "\(error)")")
                return .again
            }
            let now = clock.now()
            try store.db.writeNow { db in
                for i in matched {
                    let target: Doc = ["_type": "InstanceTarget", "deploymentId": id, "targetId": i.key, "status": "Pending", "lastUpdatedAt": now,
                                       "targetArn": i.doc["instanceArn"] ?? "", "instanceLabel": "Blue",
                                       "lifecycleEvents": Self.serverEvents.map { ["lifecycleEventName": $0, "status": "Pending"] }]
                    try CodeDeployStore.put("target", s, id + "/" + i.key, parent: id, target, db)
                }
                var dd = try deployment(id, s, db)
                dd["status"] = "InProgress"
                dd["startTime"] = now
                dd["_engine"] = ["phase": "Instances"]
                try saveDeployment(dd, s, db)
            }
            return .again
        }
        // One batch per step: the targets still Pending or InProgress (a crash mid-instance runs it again).
        let (targets, config) = try store.db.readNow { db in
            (try CodeDeployStore.all("target", s, parent: id, db), try self.config(d["deploymentConfigName"] as? String ?? "", s, db) ?? [:])
        }
        let n = targets.count
        let failed = targets.filter { $0.doc["status"] as? String == "Failed" }.count
        if failed > DeploymentConfigs.allowedFailures(config, instances: n) {
            try failDeployment(s, id, code: "HEALTH_CONSTRAINTS", message: "The overall deployment failed because too many individual instances failed deployment, too few healthy instances are available for deployment, or some instances in your deployment group are experiencing problems.")
            return .again
        }
        let open = targets.filter { ["Pending", "InProgress"].contains($0.doc["status"] as? String ?? "") }
        guard !open.isEmpty else {
            try finish(s, id, status: "Succeeded", code: nil, message: nil)
            return .again
        }
        let inProgress = open.filter { $0.doc["status"] as? String == "InProgress" }
        let batch = Array((inProgress + open.filter { $0.doc["status"] as? String == "Pending" })
            .prefix(max(inProgress.count, DeploymentConfigs.batchSize(config, instances: n))))
        let names = batch.map { $0.doc["targetId"] as? String ?? "" }
        await withTaskGroup(of: Void.self) { group in
            for name in names {
                group.addTask { [self] in
                    do { try await deployInstance(s, id, name) } catch {
                        logger.error("CodeDeploy: deployment \(id) instance \(name): \(error)")
                    }
                }
            }
        }
        return .again
    }

    /// Run the remaining lifecycle events on one instance, recording each outcome as it comes.
    func deployInstance(_ s: Scope, _ id: String, _ name: String) async throws {
        guard let (d, instance, g) = try store.db.readNow({ db -> (Doc, Doc, Doc)? in
            let d = try deployment(id, s, db)
            guard let i = try CodeDeployStore.get("instance", s, name, db), let g = try CodeDeployStore.get("group", s, Self.parent(d), db) else { return nil }
            return (d, i, g)
        }) else { return }
        let revision = d["revision"] as? Doc ?? [:]
        let context = ServerDeploymentContext(
            deploymentID: id, applicationName: d["applicationName"] as? String ?? "", deploymentGroupName: d["deploymentGroupName"] as? String ?? "",
            deploymentGroupID: g["deploymentGroupId"] as? String ?? "", instanceName: name, instanceRoot: instanceRoot(instance),
            bundlePath: bundlePath(id, revision), bundleType: Self.bundleType(revision),
            lastSuccessfulDeploymentID: instance["_lastSuccessfulDeployment"] as? String,
            fileExistsBehavior: d["fileExistsBehavior"] as? String ?? "DISALLOW", extraEnvironment: hookEnvironment(s))
        let ignoreStop = d["ignoreApplicationStopFailures"] as? Bool ?? false
        try store.db.writeNow { db in try updateTarget(s, id, name, db) { $0["status"] = "InProgress" } }
        for event in Self.serverEvents {
            guard !Task.isCancelled else { return }
            let current = try store.db.readNow { db in try CodeDeployStore.get("target", s, id + "/" + name, db) } ?? [:]
            let status = (current["lifecycleEvents"] as? [Doc] ?? []).first { $0["lifecycleEventName"] as? String == event }?["status"] as? String
            guard status == "Pending" || status == "InProgress" else { continue }
            if Self.trafficEvents.contains(event) {
                try store.db.writeNow { db in try updateTarget(s, id, name, db) { t in Self.setEvent(&t, event) { $0["status"] = "Skipped" } } }
                continue
            }
            let startedAt = clock.now()
            try store.db.writeNow { db in
                try updateTarget(s, id, name, db) { t in Self.setEvent(&t, event) { $0["status"] = "InProgress"; $0["startTime"] = startedAt } }
            }
            var outcome = await agent.run(event: event, context: context)
            if outcome.status == "Failed" && event == "ApplicationStop" && ignoreStop { outcome.status = "Succeeded" }
            let result = outcome
            try store.db.writeNow { db in
                try updateTarget(s, id, name, db) { t in
                    Self.setEvent(&t, event) { e in
                        e["status"] = result.status
                        e["startTime"] = startedAt
                        e["endTime"] = clock.now()
                        if result.status == "Failed" {
                            e["diagnostics"] = ["errorCode": result.errorCode ?? "UnknownError", "scriptName": result.scriptName ?? "",
                                                "message": result.message ?? "", "logTail": result.logTail ?? ""]
                        }
                    }
                    if result.status == "Failed" {
                        t["status"] = "Failed"
                        t["lifecycleEvents"] = (t["lifecycleEvents"] as? [Doc] ?? []).map { e in
                            var e = e
                            if e["status"] as? String == "Pending" { e["status"] = "Skipped" }
                            return e
                        }
                    }
                }
            }
            if result.status == "Failed" { return }
        }
        try store.db.writeNow { db in
            try updateTarget(s, id, name, db) { $0["status"] = "Succeeded" }
            if var i = try CodeDeployStore.get("instance", s, name, db) {
                i["_lastSuccessfulDeployment"] = id
                try CodeDeployStore.put("instance", s, name, i, db)
            }
        }
    }
}
