import Testing

@testable import ApplicationAutoScaling

@Suite struct TargetTrackingTests {
    func policy(_ name: String = "cpu", metric: Double?, target: Double = 50, disableScaleIn: Bool = false) -> TrackingPolicy {
        TrackingPolicy(name: name, metric: metric, targetValue: target, disableScaleIn: disableScaleIn)
    }

    func target(_ current: Int, min: Int = 1, max: Int = 10, out: Double? = nil, in lastIn: Double? = nil) -> TrackedTarget {
        TrackedTarget(current: current, minCapacity: min, maxCapacity: max, lastScaleOut: out, lastScaleIn: lastIn)
    }

    @Test func scalesOutInProportionToTheMetric() {
        // 2 tasks at 90 % for a 50 % target: 2 * 90 / 50 = 3.6, rounded up.
        #expect(TargetTracking.decide([policy(metric: 90)], target(2), now: 1000)
                == ScalingDecision(capacity: 4, direction: .scaleOut, policy: "cpu"))
    }

    @Test func scaleOutAddsAtLeastOne() {
        // Barely above the target: the proportional capacity is the current one, but the alarm asks for more.
        #expect(TargetTracking.vote(policy(metric: 50.000_000_000_1), target(3), now: 0) == .scaleOut(4))
        #expect(TargetTracking.vote(policy(metric: 51), target(1), now: 0) == .scaleOut(2))
    }

    @Test func exactProductsAreNotRoundedUpByFloatNoise() {
        #expect(TargetTracking.proportional(3, 60, 60) == 3)
        #expect(TargetTracking.proportional(10, 33, 110) == 3)
        #expect(TargetTracking.proportional(3, 20, 60) == 1)
    }

    @Test func scaleOutStopsAtMaxCapacity() {
        #expect(TargetTracking.vote(policy(metric: 100, target: 10), target(2, max: 5), now: 0) == .scaleOut(5))
        #expect(TargetTracking.vote(policy(metric: 100, target: 10), target(5, max: 5), now: 0) == .hold)
        // Above the maximum already (the maximum was lowered): never "out" to a smaller capacity.
        #expect(TargetTracking.vote(policy(metric: 100, target: 10), target(7, max: 5), now: 0) == .hold)
    }

    @Test func scaleOutWaitsForItsCooldown() {
        let p = policy(metric: 90)
        #expect(TargetTracking.vote(p, target(2, out: 1000), now: 1299) == .hold)
        #expect(TargetTracking.vote(p, target(2, out: 1000), now: 1300) == .scaleOut(4))
        var short = p
        short.scaleOutCooldown = 60
        #expect(TargetTracking.vote(short, target(2, out: 1000), now: 1060) == .scaleOut(4))
    }

    @Test func scalesInBelowNinetyPercentOfTheTarget() {
        #expect(TargetTracking.vote(policy(metric: 20), target(4), now: 0) == .scaleIn(2))
        // Between 90 % of the target and the target: hold.
        #expect(TargetTracking.vote(policy(metric: 46), target(4), now: 0) == .hold)
        #expect(TargetTracking.vote(policy(metric: 50), target(4), now: 0) == .hold)
        // Never below the minimum.
        #expect(TargetTracking.vote(policy(metric: 1), target(4, min: 3), now: 0) == .scaleIn(3))
        #expect(TargetTracking.vote(policy(metric: 1), target(3, min: 3), now: 0) == .hold)
    }

    @Test func disableScaleInOnlyStopsScalingIn() {
        #expect(TargetTracking.vote(policy(metric: 10, disableScaleIn: true), target(4), now: 0) == .hold)
        #expect(TargetTracking.vote(policy(metric: 90, disableScaleIn: true), target(4), now: 0) == .scaleOut(8))
    }

    @Test func scaleInWaitsForItsCooldownUnlessAScaleOutCameAfter() {
        let p = policy(metric: 10)
        #expect(TargetTracking.vote(p, target(4, in: 1000), now: 1200) == .hold)
        #expect(TargetTracking.vote(p, target(4, in: 1000), now: 1300) == .scaleIn(1))
        // A scale-out after the last scale-in ends the scale-in cooldown, as in AWS.
        #expect(TargetTracking.vote(p, target(4, out: 1100, in: 1000), now: 1200) == .scaleIn(1))
    }

    @Test func noDataHolds() {
        #expect(TargetTracking.vote(policy(metric: nil), target(4), now: 0) == .hold)
        // ... and so blocks a scale-in the other policies ask for.
        #expect(TargetTracking.decide([policy("a", metric: 10), policy("b", metric: nil)], target(4), now: 0) == nil)
    }

    @Test func anyPolicyScalesOutToTheLargestCapacity() {
        let d = TargetTracking.decide([policy("cpu", metric: 10), policy("mem", metric: 75), policy("other", metric: 60)],
                                      target(4), now: 0)
        #expect(d == ScalingDecision(capacity: 6, direction: .scaleOut, policy: "mem"))
    }

    @Test func scaleInOnlyWhenAllAgreeAndThenByTheLeast() {
        #expect(TargetTracking.decide([policy("cpu", metric: 10), policy("mem", metric: 47)], target(4), now: 0) == nil)
        let d = TargetTracking.decide([policy("cpu", metric: 10), policy("mem", metric: 30)], target(4), now: 0)
        #expect(d == ScalingDecision(capacity: 3, direction: .scaleIn, policy: "mem"))
        // One policy that may not scale in keeps the capacity.
        #expect(TargetTracking.decide([policy("cpu", metric: 10), policy("mem", metric: 10, disableScaleIn: true)], target(4), now: 0) == nil)
    }

    @Test func suspendedDirectionsHold() {
        var t = target(4)
        t.scaleOutSuspended = true
        #expect(TargetTracking.vote(policy(metric: 90), t, now: 0) == .hold)
        #expect(TargetTracking.vote(policy(metric: 10), t, now: 0) == .scaleIn(1))
        t = target(4)
        t.scaleInSuspended = true
        #expect(TargetTracking.vote(policy(metric: 10), t, now: 0) == .hold)
        #expect(TargetTracking.decide([], t, now: 0) == nil)
    }
}
