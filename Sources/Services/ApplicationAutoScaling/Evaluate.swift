import Core
import Foundation
import GRDB

/// The sweep: scheduled actions that are due, then target tracking, for every target with a live resource.
extension ApplicationAutoScalingService {
    /// One sweep at the emulator clock. The Emulator calls it every few seconds; `POST
    /// /_cloudless/application-autoscaling/evaluate` calls it on demand. Answers how many targets it looked at.
    @discardableResult
    public func evaluate() async -> Int {
        guard store.database.hasContent else { return 0 }  // never created: nothing due, nothing opened
        return await sweepLock.run {
            let now = clock.now()
            let targets: [ScalableTarget]
            do {
                targets = try store.db.readNow { db in try AASStore.allTargets(db) }
            } catch {
                logger.error("Application Auto Scaling: could not read the scalable targets: \(error)")
                return 0
            }
            var evaluated = 0
            for t in targets where Self.isLive(t.key) {
                evaluated += 1
                do {
                    let after = try await runScheduledActions(t, now: now)
                    try await track(after, now: now)
                } catch {
                    logger.error("Application Auto Scaling: sweep of \(t.key.resourceID) failed: \(error)")
                }
            }
            return evaluated
        }
    }

    /// Applies the target's due scheduled actions (the last one due wins, as they run in time order); answers the
    /// target as they left it.
    func runScheduledActions(_ target: ScalableTarget, now: Double) async throws -> ScalableTarget {
        var t = target
        let actions = try store.db.readNow { db in try AASStore.actions(of: t, db) }
        var due: [(Double, StoredScheduledAction)] = []
        for var a in actions {
            let tz = a.timezone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
            if !t.scheduledSuspended, let schedule = try? Schedule.parse(a.schedule),
               let fire = schedule.latestFire(after: a.checkedUntil, upTo: now, timeZone: tz, start: a.start, end: a.end, created: a.created) {
                due.append((fire, a))
            }
            // Fire times missed while suspended are skipped, not caught up on.
            a.checkedUntil = now
            let checked = a
            try store.db.writeNow { db in try AASStore.save(checked, db) }
        }
        for (_, a) in due.sorted(by: { $0.0 < $1.0 }) where a.minCapacity != nil || a.maxCapacity != nil {
            t.minCapacity = a.minCapacity ?? t.minCapacity
            t.maxCapacity = a.maxCapacity ?? t.maxCapacity
            // Only one bound given may cross the other: the given one wins, as AWS moves the other with it.
            if t.minCapacity > t.maxCapacity {
                if a.minCapacity != nil { t.maxCapacity = t.minCapacity } else { t.minCapacity = t.maxCapacity }
            }
            let bounds = (t.minCapacity, t.maxCapacity)
            try store.db.writeNow { db in
                // Only the bounds change; the target may have been updated or deregistered meanwhile.
                guard var fresh = try AASStore.target(target.account, target.region, target.key, db) else { return }
                (fresh.minCapacity, fresh.maxCapacity) = bounds
                try AASStore.save(fresh, db)
            }
            let what = [a.minCapacity.map { "min capacity to \($0)" }, a.maxCapacity.map { "max capacity to \($0)" }]
                .compactMap { $0 }.joined(separator: " and ")
            record(Activity(id: Self.newID(), account: t.account, region: t.region, key: t.key, description: "Setting \(what)",
                            cause: "scheduled action name \(a.name) was triggered", statusCode: "Successful",
                            statusMessage: "Successfully set \(what)", start: now, end: now))
            await clampCapacity(t, now: now)
        }
        return t
    }

    /// Target tracking: reads the metrics, asks `TargetTracking.decide`, applies and records the change.
    func track(_ target: ScalableTarget, now: Double) async throws {
        var t = target
        let stored = try store.db.readNow { db in try AASStore.policies(of: t, db) }
        let tracking = stored.compactMap { p in Self.trackingPolicy(p).map { (p, $0.0, $0.metricType) } }
        guard !tracking.isEmpty,
              let current = await resources.capacity(namespace: t.key.namespace, resourceID: t.key.resourceID, dimension: t.key.dimension,
                                                     account: t.account, region: t.region) else { return }
        var policies: [TrackingPolicy] = []
        for (_, var policy, metricType) in tracking {
            if let metricType {
                policy.metric = await resources.metric(metricType, namespace: t.key.namespace, resourceID: t.key.resourceID,
                                                       account: t.account, region: t.region)
            }
            policies.append(policy)
        }
        let state = TrackedTarget(current: current, minCapacity: t.minCapacity, maxCapacity: t.maxCapacity, lastScaleOut: t.lastScaleOut,
                                  lastScaleIn: t.lastScaleIn, scaleInSuspended: t.scalingInSuspended,
                                  scaleOutSuspended: t.scalingOutSuspended)
        guard let decision = TargetTracking.decide(policies, state, now: now),
              let policy = tracking.first(where: { $0.0.name == decision.policy })?.0 else { return }
        let kind = decision.direction == .scaleOut ? "-AlarmHigh-" : "-AlarmLow-"
        let alarm = Self.alarms(policy).first { $0["AlarmName"]?.contains(kind) == true }?["AlarmName"] ?? policy.name
        let ok = await applyCapacity(decision.capacity, to: t, cause: "monitor alarm \(alarm) in state ALARM triggered policy \(policy.name)",
                                     now: now)
        guard ok else { return }
        if decision.direction == .scaleOut { t.lastScaleOut = now } else { t.lastScaleIn = now }
        let updated = t
        try store.db.writeNow { db in
            // Only the cooldown clock changes; the target may have been updated or deregistered meanwhile.
            guard var fresh = try AASStore.target(updated.account, updated.region, updated.key, db) else { return }
            fresh.lastScaleOut = updated.lastScaleOut
            fresh.lastScaleIn = updated.lastScaleIn
            try AASStore.save(fresh, db)
        }
    }
}
