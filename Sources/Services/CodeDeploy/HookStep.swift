import Core
import Foundation

/// Lifecycle hooks run as Lambda functions, the same way for Lambda and ECS deployments.
extension CodeDeployService {
    /// A hook event: the function invoked with the deployment and execution ids, then the wait (an hour at most) for
    /// PutLifecycleEventHookExecutionStatus. No hook: the event succeeds at once.
    func hookStep(_ s: Scope, _ d: Doc, phase: String, hook: String?, targetID: String, next: String) async throws -> DeploymentEngine.Next {
        let id = d["deploymentId"] as? String ?? ""
        let st = Self.engineState(d)
        let now = clock.now()
        guard let hook else {
            try advance(s, id, targetID, event: phase, to: next)
            return .again
        }
        guard let exec = st["hookExecutionId"] as? String else {
            let exec = UUID().uuidString.lowercased()
            try store.db.writeNow { db in
                try CodeDeployStore.put("hook", s, exec, parent: id, ["deploymentId": id, "status": "Pending", "lifecycleEventName": phase], db)
                try updateTarget(s, id, targetID, db) { t in
                    t["status"] = "InProgress"
                    Self.setEvent(&t, phase) { $0["status"] = "InProgress"; $0["startTime"] = now }
                }
                var dd = try deployment(id, s, db)
                var x = Self.engineState(dd)
                x["hookExecutionId"] = exec
                x["hookStart"] = now
                x["hookInvoked"] = false
                dd["_engine"] = x
                try saveDeployment(dd, s, db)
            }
            return .again
        }
        if (st["hookInvoked"] as? Bool) != true {
            // Invoked after the execution id is recorded: a crash in between invokes it again on restart.
            let payload = try JSONSerialization.data(withJSONObject: ["DeploymentId": id, "LifecycleEventHookExecutionId": exec])
            do {
                try functions.invokeAsync(functionARN: LambdaAppSpec.hookARN(hook, account: s.account, region: s.region),
                                          payload: Array(payload), from: .codeDeploy)
            } catch {
                try failEvent(s, id, targetID, phase, code: "HOOK_EXECUTION_FAILURE",
                              message: "The \(phase) hook function \(hook) could not be invoked: \((error as? AWSError)?.message ?? "\(error)")")
                return .again
            }
            try updateEngine(s, id) { $0["hookInvoked"] = true }
            return .again
        }
        let hookDoc = try store.db.readNow { db in try CodeDeployStore.get("hook", s, exec, db) } ?? [:]
        switch hookDoc["status"] as? String {
        case "Succeeded":
            try advance(s, id, targetID, event: phase, to: next)
        case "Failed":
            try failEvent(s, id, targetID, phase, code: "HOOK_EXECUTION_FAILURE",
                          message: "The deployment failed because a validation Lambda function (\(hook)) reported Failed for the \(phase) lifecycle event.")
        default:
            let deadline = (st["hookStart"] as? Double ?? now) + Self.hookTimeout
            if now >= deadline {
                try failEvent(s, id, targetID, phase, code: "TIMEOUT", message: "The \(phase) hook function \(hook) did not report a status within an hour.")
                return .again
            }
            return .waitUntil(deadline)
        }
        return .again
    }
}
