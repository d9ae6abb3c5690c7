import Core
import Foundation
import GRDB

/// The Lambda platform: BeforeAllowTraffic (hook) → AllowTraffic (the alias shifted by the configuration's steps)
/// → AfterAllowTraffic (hook). A hook function is invoked asynchronously and the deployment waits (one hour at
/// most, on the emulator's clock) for PutLifecycleEventHookExecutionStatus.
extension CodeDeployService {
    static let lambdaEvents = ["BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"]
    static let hookTimeout = 3600.0

    func lambdaStep(_ s: Scope, _ d: Doc) async throws -> DeploymentEngine.Next {
        let id = d["deploymentId"] as? String ?? ""
        let st = Self.engineState(d)
        let phase = st["phase"] as? String ?? "Created"
        if phase == "Created" {
            return try await startLambda(s, d)
        }
        guard let spec = LambdaAppSpec(doc: st["appSpec"] as? Doc) else {
            try failDeployment(s, id, code: "INVALID_REVISION", message: "The AppSpec file could not be read.")
            return .again
        }
        let targetID = spec.functionName + ":" + spec.alias
        switch phase {
        case "BeforeAllowTraffic", "AfterAllowTraffic":
            let hook = phase == "BeforeAllowTraffic" ? spec.beforeAllowTraffic : spec.afterAllowTraffic
            return try await hookStep(s, d, phase: phase, hook: hook, targetID: targetID,
                                      next: phase == "BeforeAllowTraffic" ? "AllowTraffic" : "Done")
        case "AllowTraffic":
            return try await allowTraffic(s, d, spec, targetID)
        default:
            try finish(s, id, status: "Succeeded", code: nil, message: nil)
            return .again
        }
    }

    /// Read and check the AppSpec, record the target, go InProgress.
    private func startLambda(_ s: Scope, _ d: Doc) async throws -> DeploymentEngine.Next {
        let id = d["deploymentId"] as? String ?? ""
        var spec = LambdaAppSpec(doc: Self.engineState(d)["appSpec"] as? Doc)  // a rollback's is given
        if spec == nil {
            let bytes: [UInt8]
            do { bytes = try await revisionBytes(d["revision"] as? Doc ?? [:]) } catch {
                try failDeployment(s, id, code: "REVISION_MISSING", message: "The revision could not be read: \((error as? AWSError)?.message ?? "\(error)")")
                return .again
            }
            do { spec = try LambdaAppSpec.parse(String(decoding: bytes, as: UTF8.self)) } catch let e as LambdaAppSpec.Invalid {
                try failDeployment(s, id, code: "INVALID_REVISION", message: e.message)
                return .again
            }
        }
        guard let spec else { return .again }
        let functionARN = spec.functionARN(account: s.account, region: s.region)
        for v in [spec.currentVersion, spec.targetVersion] where await !aliases.versionExists(functionARN: functionARN, version: v) {
            try failDeployment(s, id, code: "INVALID_LAMBDA_CONFIGURATION", message: "The version \(v) of \(spec.functionName) does not exist.")
            return .again
        }
        do { _ = try await aliases.aliasRouting(aliasARN: spec.aliasARN(account: s.account, region: s.region)) } catch {
            try failDeployment(s, id, code: "INVALID_LAMBDA_CONFIGURATION", message: "The alias \(spec.alias) of \(spec.functionName) does not exist.")
            return .again
        }
        let now = clock.now()
        try store.db.writeNow { db in
            var dd = try deployment(id, s, db)
            let targetID = spec.functionName + ":" + spec.alias
            let target: Doc = [
                "_type": "LambdaTarget", "deploymentId": id, "targetId": targetID, "status": "Pending", "lastUpdatedAt": now,
                "targetArn": spec.aliasARN(account: s.account, region: s.region),
                "lambdaFunctionInfo": ["functionName": spec.functionName, "functionAlias": spec.alias, "currentVersion": spec.currentVersion,
                                       "targetVersion": spec.targetVersion, "targetVersionWeight": 0.0],
                "lifecycleEvents": Self.lambdaEvents.map { ["lifecycleEventName": $0, "status": "Pending"] },
            ]
            try CodeDeployStore.put("target", s, id + "/" + targetID, parent: id, target, db)
            var st = Self.engineState(dd)
            st["appSpec"] = spec.asDoc
            st["phase"] = "BeforeAllowTraffic"
            dd["_engine"] = st
            dd["status"] = "InProgress"
            dd["startTime"] = now
            try saveDeployment(dd, s, db)
        }
        return .again
    }

    /// Shift the alias by the configuration's steps; each step applied is recorded, so a restart does not repeat it.
    private func allowTraffic(_ s: Scope, _ d: Doc, _ spec: LambdaAppSpec, _ targetID: String) async throws -> DeploymentEngine.Next {
        let id = d["deploymentId"] as? String ?? ""
        let due: Int, weight: Double
        switch try trafficStepDue(s, d, targetID: targetID, targetInProgress: true) {
        case .started: return .again
        case .waitUntil(let t): return .waitUntil(t)
        case .apply(let step, let w): (due, weight) = (step, w)
        }
        let routing = weight >= 1 ? AliasRouting(version: spec.targetVersion)
            : AliasRouting(version: spec.currentVersion, additionalVersion: spec.targetVersion, additionalWeight: weight)
        do { try await aliases.setAliasRouting(aliasARN: spec.aliasARN(account: s.account, region: s.region), routing) } catch {
            try failEvent(s, id, targetID, "AllowTraffic", code: "INVALID_LAMBDA_CONFIGURATION",
                          message: "The alias could not be updated: \((error as? AWSError)?.message ?? "\(error)")")
            return .again
        }
        try store.db.writeNow { db in
            try updateTarget(s, id, targetID, db) { t in
                var info = t["lambdaFunctionInfo"] as? Doc ?? [:]
                info["targetVersionWeight"] = weight
                t["lambdaFunctionInfo"] = info
            }
            var dd = try deployment(id, s, db)
            var e = Self.engineState(dd)
            e["trafficStep"] = due
            dd["_engine"] = e
            try saveDeployment(dd, s, db)
        }
        if weight >= 1 { try advance(s, id, targetID, event: "AllowTraffic", to: "AfterAllowTraffic") }
        return .again
    }

    /// The event succeeded: record it and move to the next phase (`Done` ends the deployment).
    func advance(_ s: Scope, _ id: String, _ targetID: String, event: String, to next: String) throws {
        let now = clock.now()
        try store.db.writeNow { db in
            try updateTarget(s, id, targetID, db) { t in
                t["status"] = next == "Done" ? "Succeeded" : "InProgress"
                Self.setEvent(&t, event) { e in
                    e["status"] = "Succeeded"
                    e["startTime"] = e["startTime"] ?? now
                    e["endTime"] = now
                }
            }
            var dd = try deployment(id, s, db)
            var e = Self.engineState(dd)
            e["phase"] = next
            e.removeValue(forKey: "hookExecutionId")
            e.removeValue(forKey: "hookInvoked")
            e.removeValue(forKey: "hookStart")
            dd["_engine"] = e
            try saveDeployment(dd, s, db)
        }
    }

    /// A lifecycle event failed: its diagnostics, the target Failed, the deployment Failed (and rolled back if asked).
    func failEvent(_ s: Scope, _ id: String, _ targetID: String, _ event: String, code: String, message: String) throws {
        let now = clock.now()
        try store.db.writeNow { db in
            try updateTarget(s, id, targetID, db) { t in
                t["status"] = "Failed"
                Self.setEvent(&t, event) { e in
                    e["status"] = "Failed"
                    e["startTime"] = e["startTime"] ?? now
                    e["endTime"] = now
                    e["diagnostics"] = ["errorCode": "UnknownError", "message": message, "scriptName": "", "logTail": ""]
                }
                // The events after it never run (AWS shows them Skipped).
                t["lifecycleEvents"] = (t["lifecycleEvents"] as? [Doc] ?? []).map { e in
                    var e = e
                    if e["status"] as? String == "Pending" { e["status"] = "Skipped" }
                    return e
                }
            }
        }
        try failDeployment(s, id, code: code, message: message)
    }

    func updateEngine(_ s: Scope, _ id: String, _ change: (inout Doc) -> Void) throws {
        try store.db.writeNow { db in
            var dd = try deployment(id, s, db)
            var e = Self.engineState(dd)
            change(&e)
            dd["_engine"] = e
            try saveDeployment(dd, s, db)
        }
    }
}
