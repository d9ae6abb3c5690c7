import Foundation

/// One target-tracking policy as the decision sees it: its configuration and the metric's current value.
struct TrackingPolicy: Sendable, Equatable {
    var name: String
    /// nil when the resource reports no data (the alarms would be INSUFFICIENT_DATA): the policy holds.
    var metric: Double?
    var targetValue: Double
    var scaleOutCooldown: Double = TargetTracking.defaultCooldown
    var scaleInCooldown: Double = TargetTracking.defaultCooldown
    var disableScaleIn = false
}

/// The target as the decision sees it.
struct TrackedTarget: Sendable, Equatable {
    var current: Int
    var minCapacity: Int
    var maxCapacity: Int
    var lastScaleOut: Double?
    var lastScaleIn: Double?
    var scaleInSuspended = false
    var scaleOutSuspended = false
}

enum ScalingDirection: Sendable, Equatable { case scaleOut, scaleIn }

struct ScalingDecision: Sendable, Equatable {
    var capacity: Int
    var direction: ScalingDirection
    /// The policy whose alarm caused it.
    var policy: String
}

/// The target-tracking rules, as a pure function of the policies, the target and the time.
///
/// A policy votes out when the metric is above its target value, in when it is below 90 % of it (the low alarm's
/// threshold for ECS), else holds. The target scales out when any policy votes out (to the largest capacity asked
/// for), in only when every policy votes in (to the largest, i.e. most cautious, capacity asked for).
enum TargetTracking {
    /// ECS's default ScaleInCooldown and ScaleOutCooldown, in seconds.
    static let defaultCooldown: Double = 300
    /// The low alarm fires below this fraction of the target value.
    static let scaleInThreshold = 0.9

    enum Vote: Equatable { case scaleOut(Int), scaleIn(Int), hold }

    /// `current * metric / target` rounded up, forgiving the float noise of an exact product (3 * 60 / 60).
    static func proportional(_ current: Int, _ metric: Double, _ target: Double) -> Int {
        let x = Double(current) * metric / target
        return Int((x - 1e-9).rounded(.up))
    }

    static func vote(_ p: TrackingPolicy, _ t: TrackedTarget, now: Double) -> Vote {
        guard let metric = p.metric, p.targetValue > 0 else { return .hold }
        if metric > p.targetValue {
            if t.scaleOutSuspended { return .hold }
            if let last = t.lastScaleOut, now - last < p.scaleOutCooldown { return .hold }
            let wanted = max(proportional(t.current, metric, p.targetValue), t.current + 1)
            let capacity = min(max(wanted, t.minCapacity), t.maxCapacity)
            return capacity > t.current ? .scaleOut(capacity) : .hold
        }
        if metric < p.targetValue * scaleInThreshold {
            if p.disableScaleIn || t.scaleInSuspended { return .hold }
            // A scale-out since the last scale-in ends the scale-in cooldown early, as in AWS.
            if let lastIn = t.lastScaleIn, now - lastIn < p.scaleInCooldown, (t.lastScaleOut ?? -.infinity) < lastIn {
                return .hold
            }
            let wanted = max(proportional(t.current, metric, p.targetValue), t.minCapacity)
            let capacity = min(wanted, t.maxCapacity)
            return capacity < t.current ? .scaleIn(capacity) : .hold
        }
        return .hold
    }

    /// What the policies together do now, or nil to leave the capacity alone.
    static func decide(_ policies: [TrackingPolicy], _ t: TrackedTarget, now: Double) -> ScalingDecision? {
        let votes = policies.map { ($0.name, vote($0, t, now: now)) }
        var out: ScalingDecision?
        for (name, v) in votes {
            if case .scaleOut(let n) = v, n > (out?.capacity ?? Int.min) { out = ScalingDecision(capacity: n, direction: .scaleOut, policy: name) }
        }
        if let out { return out }
        var inward: ScalingDecision?
        for (name, v) in votes {
            guard case .scaleIn(let n) = v else { return nil }
            if n > (inward?.capacity ?? Int.min) { inward = ScalingDecision(capacity: n, direction: .scaleIn, policy: name) }
        }
        return inward
    }
}
