import Core
import Foundation

/// Where an AllowTraffic event stands in its configuration's steps (Lambda's alias and ECS's listeners shift by the
/// same schedule): just started, waiting for the next step, or a step due (its index and weight, 0–1).
enum TrafficStepDue {
    case started
    case waitUntil(Double)
    case apply(step: Int, weight: Double)
}

extension CodeDeployService {
    /// The first call records the start of AllowTraffic (the event InProgress, and the target too when
    /// `targetInProgress`); later calls say which step is due on the emulator's clock. Each step applied is recorded
    /// by the caller (`trafficStep`), so a restart does not repeat it.
    func trafficStepDue(_ s: Scope, _ d: Doc, targetID: String, targetInProgress: Bool) throws -> TrafficStepDue {
        let id = d["deploymentId"] as? String ?? ""
        let st = Self.engineState(d)
        let now = clock.now()
        guard let start = st["trafficStart"] as? Double else {
            try store.db.writeNow { db in
                try updateTarget(s, id, targetID, db) { t in
                    if targetInProgress { t["status"] = "InProgress" }
                    Self.setEvent(&t, "AllowTraffic") { $0["status"] = "InProgress"; $0["startTime"] = now }
                }
                var dd = try deployment(id, s, db)
                var x = Self.engineState(dd)
                x["trafficStart"] = now
                x["trafficStep"] = -1
                dd["_engine"] = x
                try saveDeployment(dd, s, db)
            }
            return .started
        }
        let cfg = try store.db.readNow { db in try self.config(d["deploymentConfigName"] as? String ?? "", s, db) }
            ?? ["trafficRoutingConfig": ["type": "AllAtOnce"]]
        let steps = DeploymentConfigs.trafficSteps(cfg)
        let applied = st["trafficStep"] as? Int ?? -1
        guard let due = steps.indices.last(where: { start + steps[$0].after <= now }), due > applied else {
            return .waitUntil(start + steps[min(applied + 1, steps.count - 1)].after)
        }
        return .apply(step: due, weight: steps[due].weight)
    }
}
