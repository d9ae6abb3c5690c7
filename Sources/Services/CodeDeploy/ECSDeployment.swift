import Core
import Foundation
import GRDB

/// The ECS platform (blue/green): BeforeInstall (hook) → Install (a replacement task set, 100 %, on the green target
/// group, waited for until its tasks run and are healthy) → AfterInstall (hook) → AllowTestTraffic (test listeners to
/// green) → AfterAllowTestTraffic (hook) → [Ready: deploymentReadyOption's wait] → BeforeAllowTraffic (hook) →
/// AllowTraffic (production listeners' weights shifted by the configuration's steps, then green is the primary task
/// set) → AfterAllowTraffic (hook) → the termination wait → the original task set deleted. The pieces of the
/// service (cluster, service, task sets, target groups, listeners) are found once and kept in the engine state.
extension CodeDeployService {
    static let ecsEvents = ["BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic", "AfterAllowTestTraffic",
                            "BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"]
    /// How long Install waits for the replacement tasks (AWS: an hour).
    static let installTimeout = 3600.0

    func ecsStep(_ s: Scope, _ d: Doc) async throws -> DeploymentEngine.Next {
        let id = d["deploymentId"] as? String ?? ""
        let st = Self.engineState(d)
        let phase = st["phase"] as? String ?? "Created"
        if phase == "Created" { return try await startECS(s, d) }
        if phase == "Rollback" { return try await ecsRollback(s, d) }
        guard let spec = ECSAppSpec(doc: st["appSpec"] as? Doc), let e = st["ecs"] as? Doc else {
            try failDeployment(s, id, code: "INVALID_REVISION", message: "The AppSpec file could not be read.")
            return .again
        }
        let targetID = e["targetId"] as? String ?? ""
        let next: [String: String] = ["BeforeInstall": "Install", "AfterInstall": "AllowTestTraffic", "AfterAllowTestTraffic": "ReadyWait",
                                      "BeforeAllowTraffic": "AllowTraffic", "AfterAllowTraffic": "TerminationWait"]
        switch phase {
        case "BeforeInstall", "AfterInstall", "AfterAllowTestTraffic", "BeforeAllowTraffic", "AfterAllowTraffic":
            return try await hookStep(s, d, phase: phase, hook: spec.hooks[phase], targetID: targetID, next: next[phase]!)
        case "Install": return try await install(s, d, spec, e)
        case "AllowTestTraffic":
            for l in e["testListeners"] as? [String] ?? [] {
                try await ecsLinks.loadBalancers.setForwardWeights(listenerOrRuleARN: l, Self.weights(e, green: 100))
            }
            try advance(s, id, targetID, event: phase, to: "AfterAllowTestTraffic")
            return .again
        case "ReadyWait": return try readyWait(s, d)
        case "AllowTraffic": return try await shiftTraffic(s, d, e)
        case "TerminationWait": return try await terminationWait(s, d, e)
        default:
            try finish(s, id, status: "Succeeded", code: nil, message: nil)
            return .again
        }
    }

    // MARK: ECS and ELB calls

    func ecsCall(_ op: String, _ s: Scope, _ input: Doc) async throws -> Doc {
        guard let ecs = ecsLinks.ecs else { throw AWSError("InvalidECSServiceException", "Amazon ECS is not available.") }
        let json = try JSON(parsing: JSONSerialization.data(withJSONObject: input))
        let out = try await ecs.call(op, account: s.account, region: s.region, input: json.object ?? [:])
        return JSON.object(out).any as? Doc ?? [:]
    }

    /// The task sets of the deployment's service by id.
    func taskSets(_ s: Scope, _ e: Doc) async throws -> [String: Doc] {
        let out = try await ecsCall("DescribeTaskSets", s, ["cluster": e["cluster"] ?? "", "service": e["service"] ?? ""])
        var byID: [String: Doc] = [:]
        for t in out["taskSets"] as? [Doc] ?? [] { if let id = t["id"] as? String { byID[id] = t } }
        return byID
    }

    /// The target's taskSetsInfo, as BatchGetDeploymentTargets shows it, from the task sets as they are now.
    func recordTaskSets(_ s: Scope, _ id: String, _ e: Doc, greenWeight: Double) async throws {
        let sets = try await taskSets(s, e)
        var info: [Doc] = []
        for (label, key, tg, weight) in [("Blue", "blueTaskSet", "blueTGName", 100 - greenWeight), ("Green", "greenTaskSet", "greenTGName", greenWeight)] {
            guard let tsID = e[key] as? String, let ts = sets[tsID] else { continue }
            info.append(["identifer": tsID, "desiredCount": ts["computedDesiredCount"] ?? 0, "pendingCount": ts["pendingCount"] ?? 0,
                         "runningCount": ts["runningCount"] ?? 0, "status": ts["status"] ?? "", "trafficWeight": weight,
                         "targetGroup": ["name": e[tg] ?? ""], "taskSetLabel": label])
        }
        try store.db.writeNow { db in
            try updateTarget(s, id, e["targetId"] as? String ?? "", db) { $0["taskSetsInfo"] = info }
        }
    }

    // MARK: Phases

    /// Read the AppSpec, find the service's original (blue) task set and its target group, record the target.
    private func startECS(_ s: Scope, _ d: Doc) async throws -> DeploymentEngine.Next {
        let id = d["deploymentId"] as? String ?? ""
        let bytes: [UInt8]
        do { bytes = try await revisionBytes(d["revision"] as? Doc ?? [:]) } catch {
            try failDeployment(s, id, code: "REVISION_MISSING", message: "The revision could not be read: \((error as? AWSError)?.message ?? "\(error)")")
            return .again
        }
        let spec: ECSAppSpec
        do { spec = try ECSAppSpec.parse(String(decoding: bytes, as: UTF8.self)) } catch let e as ECSAppSpec.Invalid {
            try failDeployment(s, id, code: "INVALID_REVISION", message: e.message)
            return .again
        }
        let g = try store.db.readNow { db in try group(d["applicationName"] as? String ?? "", d["deploymentGroupName"] as? String ?? "", s, db) }
        let e: Doc
        do { e = try await resolveECS(s, g) } catch let err as AWSError {
            let code = err.code == "InvalidTargetGroupPairException" ? "ELASTIC_LOAD_BALANCING_INVALID" : "INVALID_ECS_SERVICE"
            try failDeployment(s, id, code: code, message: err.message)
            return .again
        }
        let now = clock.now()
        try store.db.writeNow { db in
            var dd = try deployment(id, s, db)
            let targetID = e["targetId"] as? String ?? ""
            let target: Doc = [
                "_type": "ECSTarget", "deploymentId": id, "targetId": targetID, "status": "Pending", "lastUpdatedAt": now,
                "targetArn": e["serviceArn"] ?? "", "taskSetsInfo": [Doc](),
                "lifecycleEvents": Self.ecsEvents.map { ["lifecycleEventName": $0, "status": "Pending"] },
            ]
            try CodeDeployStore.put("target", s, id + "/" + targetID, parent: id, target, db)
            var st = Self.engineState(dd)
            st["appSpec"] = spec.asDoc
            st["ecs"] = e
            st["phase"] = "BeforeInstall"
            dd["_engine"] = st
            dd["status"] = "InProgress"
            dd["startTime"] = now
            try saveDeployment(dd, s, db)
        }
        try await recordTaskSets(s, id, e, greenWeight: 0)
        return .again
    }

    /// The group's service and target group pair as ARNs; blue is the target group the primary task set uses.
    func resolveECS(_ s: Scope, _ g: Doc) async throws -> Doc {
        guard let svc = (g["ecsServices"] as? [Doc])?.first, let cluster = svc["clusterName"] as? String, let name = svc["serviceName"] as? String else {
            throw AWSError("InvalidECSServiceException", "The deployment group has no ECS service.")
        }
        let out = try await ecsCall("DescribeServices", s, ["cluster": cluster, "services": [name]])
        guard let service = (out["services"] as? [Doc])?.first, (service["status"] as? String) == "ACTIVE" else {
            throw AWSError("InvalidECSServiceException", "The ECS service \(name) in cluster \(cluster) does not exist or is not ACTIVE.")
        }
        guard let primary = (service["taskSets"] as? [Doc])?.first(where: { ($0["status"] as? String) == "PRIMARY" }),
              let blueID = primary["id"] as? String else {
            throw AWSError("InvalidECSServiceException", "The ECS service \(name) has no primary task set (it must use the CODE_DEPLOY deployment controller).")
        }
        guard let pair = ((g["loadBalancerInfo"] as? Doc)?["targetGroupPairInfoList"] as? [Doc])?.first,
              let names = (pair["targetGroups"] as? [Doc])?.compactMap({ $0["name"] as? String }), names.count == 2 else {
            throw AWSError("InvalidTargetGroupPairException", "The deployment group needs one pair of target groups.")
        }
        var arns: [String] = []
        for n in names {
            guard let arn = await ecsLinks.loadBalancers.targetGroupARN(name: n, account: s.account, region: s.region) else {
                throw AWSError("InvalidTargetGroupPairException", "The target group \(n) does not exist.")
            }
            arns.append(arn)
        }
        let blueTG = ((primary["loadBalancers"] as? [Doc])?.first?["targetGroupArn"] as? String) ?? arns[0]
        let blue = arns.firstIndex(of: blueTG) ?? 0
        return ["cluster": cluster, "service": name, "serviceArn": service["serviceArn"] ?? "", "targetId": cluster + ":" + name,
                "blueTaskSet": blueID, "blueTaskDefinition": primary["taskDefinition"] ?? "",
                "blueTG": arns[blue], "blueTGName": names[blue], "greenTG": arns[1 - blue], "greenTGName": names[1 - blue],
                "launchType": primary["launchType"] ?? NSNull(), "capacityProviderStrategy": primary["capacityProviderStrategy"] ?? NSNull(),
                "networkConfiguration": primary["networkConfiguration"] ?? NSNull(), "platformVersion": primary["platformVersion"] ?? NSNull(),
                "prodListeners": (pair["prodTrafficRoute"] as? Doc)?["listenerArns"] as? [String] ?? [],
                "testListeners": (pair["testTrafficRoute"] as? Doc)?["listenerArns"] as? [String] ?? []]
    }

    /// Create the replacement task set (the deployment id as its client token: a retry after a crash finds the same
    /// one), then wait until its tasks run and every one is healthy in the green target group.
    private func install(_ s: Scope, _ d: Doc, _ spec: ECSAppSpec, _ e: Doc) async throws -> DeploymentEngine.Next {
        let id = d["deploymentId"] as? String ?? ""
        let targetID = e["targetId"] as? String ?? ""
        let now = clock.now()
        guard let green = e["greenTaskSet"] as? String else {
            var input: Doc = ["cluster": e["cluster"] ?? "", "service": e["service"] ?? "", "taskDefinition": spec.taskDefinition,
                              "clientToken": id, "scale": ["unit": "PERCENT", "value": 100],
                              "loadBalancers": [["targetGroupArn": e["greenTG"] ?? "", "containerName": spec.containerName, "containerPort": spec.containerPort]]]
            if let strategy = ECSAppSpec.object(spec.capacityProviderStrategy) ?? (e["capacityProviderStrategy"] as? [Any]) {
                input["capacityProviderStrategy"] = strategy
            } else if let lt = e["launchType"] as? String {
                input["launchType"] = lt
            }
            if let n = ECSAppSpec.object(spec.networkConfiguration) ?? (e["networkConfiguration"] as? Doc) { input["networkConfiguration"] = n }
            if let v = spec.platformVersion ?? (e["platformVersion"] as? String) { input["platformVersion"] = v }
            let created: Doc
            do { created = try await ecsCall("CreateTaskSet", s, input) } catch let err as AWSError {
                try failEvent(s, id, targetID, "Install", code: "ECS_UPDATE_ERROR", message: "The replacement task set could not be created: \(err.message)")
                return .again
            }
            try store.db.writeNow { db in
                try updateTarget(s, id, targetID, db) { t in
                    t["status"] = "InProgress"
                    Self.setEvent(&t, "Install") { $0["status"] = "InProgress"; $0["startTime"] = now }
                }
                var dd = try deployment(id, s, db)
                var st = Self.engineState(dd)
                var ee = e
                ee["greenTaskSet"] = (created["taskSet"] as? Doc)?["id"]
                st["ecs"] = ee
                st["installStart"] = now
                dd["_engine"] = st
                try saveDeployment(dd, s, db)
            }
            return .again
        }
        let ts = try await taskSets(s, e)[green] ?? [:]
        let want = (ts["computedDesiredCount"] as? NSNumber)?.intValue ?? 0
        let running = (ts["runningCount"] as? NSNumber)?.intValue ?? 0
        let healthy = try await ecsLinks.loadBalancers.health(targetGroupARN: e["greenTG"] as? String ?? "").values.filter { $0 == .healthy }.count
        if running >= want && healthy >= want {
            try await recordTaskSets(s, id, e, greenWeight: 0)
            try advance(s, id, targetID, event: "Install", to: "AfterInstall")
            return .again
        }
        let start = Self.engineState(d)["installStart"] as? Double ?? now
        if now >= start + Self.installTimeout {
            try failEvent(s, id, targetID, "Install", code: "TIMEOUT",
                          message: "The replacement task set's tasks did not become healthy in the target group \(e["greenTGName"] ?? "") within an hour.")
            return .again
        }
        return .waitUntil(now + 0.25)
    }

    /// deploymentReadyOption: with a wait time the deployment is Ready until ContinueDeployment (READY_WAIT) or the
    /// wait's end, where CONTINUE_DEPLOYMENT goes on and STOP_DEPLOYMENT stops it.
    private func readyWait(_ s: Scope, _ d: Doc) throws -> DeploymentEngine.Next {
        let id = d["deploymentId"] as? String ?? ""
        let option = ((d["blueGreenDeploymentConfiguration"] as? Doc) ?? [:])["deploymentReadyOption"] as? Doc ?? [:]
        let minutes = (option["waitTimeInMinutes"] as? NSNumber)?.doubleValue ?? 0
        let st = Self.engineState(d)
        let now = clock.now()
        func proceed() throws -> DeploymentEngine.Next {
            try store.db.writeNow { db in
                var dd = try deployment(id, s, db)
                var e = Self.engineState(dd)
                e["phase"] = "BeforeAllowTraffic"
                dd["_engine"] = e
                dd["status"] = "InProgress"
                try saveDeployment(dd, s, db)
            }
            return .again
        }
        if minutes <= 0 || (st["continueReady"] as? Bool) == true { return try proceed() }
        guard let start = st["readyStart"] as? Double else {
            try store.db.writeNow { db in
                var dd = try deployment(id, s, db)
                var e = Self.engineState(dd)
                e["readyStart"] = now
                dd["_engine"] = e
                dd["status"] = "Ready"
                try saveDeployment(dd, s, db)
            }
            return .again
        }
        guard now >= start + minutes * 60 else { return .waitUntil(start + minutes * 60) }
        if (option["actionOnTimeout"] as? String) == "STOP_DEPLOYMENT" {
            try finish(s, id, status: "Stopped", code: "TIMEOUT",
                       message: "The deployment was stopped because traffic rerouting was not started within the wait time.")
            return .again
        }
        return try proceed()
    }

    /// The production listeners' weights by the configuration's steps (each applied step recorded); at 100 % green
    /// becomes the service's primary task set.
    private func shiftTraffic(_ s: Scope, _ d: Doc, _ e: Doc) async throws -> DeploymentEngine.Next {
        let id = d["deploymentId"] as? String ?? ""
        let targetID = e["targetId"] as? String ?? ""
        let due: Int, weight: Double
        switch try trafficStepDue(s, d, targetID: targetID, targetInProgress: false) {
        case .started: return .again
        case .waitUntil(let t): return .waitUntil(t)
        case .apply(let step, let w): (due, weight) = (step, w)
        }
        let greenShare = min(100, Int((weight * 100).rounded()))
        for l in e["prodListeners"] as? [String] ?? [] {
            try await ecsLinks.loadBalancers.setForwardWeights(listenerOrRuleARN: l, Self.weights(e, green: greenShare))
        }
        if greenShare >= 100 {
            _ = try await ecsCall("UpdateServicePrimaryTaskSet", s, ["cluster": e["cluster"] ?? "", "service": e["service"] ?? "",
                                                                      "primaryTaskSet": e["greenTaskSet"] ?? ""])
        }
        try updateEngine(s, id) { $0["trafficStep"] = due }
        try await recordTaskSets(s, id, e, greenWeight: Double(greenShare))
        if greenShare >= 100 { try advance(s, id, targetID, event: "AllowTraffic", to: "AfterAllowTraffic") }
        return .again
    }

    /// terminateBlueInstancesOnDeploymentSuccess: wait (ContinueDeployment TERMINATION_WAIT ends it early), then
    /// delete the original task set; KEEP_ALIVE leaves it.
    private func terminationWait(_ s: Scope, _ d: Doc, _ e: Doc) async throws -> DeploymentEngine.Next {
        let id = d["deploymentId"] as? String ?? ""
        let option = ((d["blueGreenDeploymentConfiguration"] as? Doc) ?? [:])["terminateBlueInstancesOnDeploymentSuccess"] as? Doc ?? [:]
        let minutes = (option["terminationWaitTimeInMinutes"] as? NSNumber)?.doubleValue ?? 0
        let st = Self.engineState(d)
        let now = clock.now()
        guard let start = st["terminationStart"] as? Double else {
            try updateEngine(s, id) { $0["terminationStart"] = now }
            return .again
        }
        if now < start + minutes * 60 && (st["continueTermination"] as? Bool) != true { return .waitUntil(start + minutes * 60) }
        if (option["action"] as? String) != "KEEP_ALIVE" {
            try await deleteTaskSet(s, e, e["blueTaskSet"] as? String)
        }
        try await recordTaskSets(s, id, e, greenWeight: 100)
        try finish(s, id, status: "Succeeded", code: nil, message: nil)
        return .again
    }

    /// A listener's forward weights, blue then green, in percent. Both target groups stay listed (one at weight 0) so
    /// each keeps its load balancer, which ECS requires of a task set's target group in the next deployment.
    static func weights(_ e: Doc, green: Int) -> [ForwardWeight] {
        [ForwardWeight(targetGroupARN: e["blueTG"] as? String ?? "", weight: 100 - green),
         ForwardWeight(targetGroupARN: e["greenTG"] as? String ?? "", weight: green)]
    }

    /// DeleteTaskSet with force; one already gone is fine.
    func deleteTaskSet(_ s: Scope, _ e: Doc, _ taskSet: String?) async throws {
        guard let taskSet else { return }
        do {
            _ = try await ecsCall("DeleteTaskSet", s, ["cluster": e["cluster"] ?? "", "service": e["service"] ?? "", "taskSet": taskSet, "force": true])
        } catch let err as AWSError where err.code == "TaskSetNotFoundException" {}
    }

    /// A rollback deployment: production and test traffic back to the original target group, the original task set
    /// primary again, the replacement deleted. Each call is harmless to repeat, so a restart simply runs it again.
    private func ecsRollback(_ s: Scope, _ d: Doc) async throws -> DeploymentEngine.Next {
        let id = d["deploymentId"] as? String ?? ""
        let e = Self.engineState(d)["ecs"] as? Doc ?? [:]
        for l in (e["prodListeners"] as? [String] ?? []) + (e["testListeners"] as? [String] ?? []) {
            try await ecsLinks.loadBalancers.setForwardWeights(listenerOrRuleARN: l, Self.weights(e, green: 0))
        }
        if let original = e["blueTaskSet"] as? String {
            _ = try await ecsCall("UpdateServicePrimaryTaskSet", s, ["cluster": e["cluster"] ?? "", "service": e["service"] ?? "", "primaryTaskSet": original])
        }
        try await deleteTaskSet(s, e, e["greenTaskSet"] as? String)
        let now = clock.now()
        let targetID = e["targetId"] as? String ?? ""
        try store.db.writeNow { db in
            let target: Doc = [
                "_type": "ECSTarget", "deploymentId": id, "targetId": targetID, "status": "InProgress", "lastUpdatedAt": now,
                "targetArn": e["serviceArn"] ?? "", "taskSetsInfo": [Doc](),
                "lifecycleEvents": Self.ecsEvents.map { ["lifecycleEventName": $0, "status": $0 == "AllowTraffic" ? "Succeeded" : "Skipped",
                                                         "startTime": now, "endTime": now] },
            ]
            try CodeDeployStore.put("target", s, id + "/" + targetID, parent: id, target, db)
            var dd = try deployment(id, s, db)
            dd["status"] = "InProgress"
            dd["startTime"] = dd["startTime"] ?? now
            try saveDeployment(dd, s, db)
        }
        var restored = e
        restored.removeValue(forKey: "greenTaskSet")
        try await recordTaskSets(s, id, restored, greenWeight: 0)
        try finish(s, id, status: "Succeeded", code: nil, message: nil)
        return .again
    }
}
