import Core

/// What one health check found.
enum HealthCheckResult: Sendable, Equatable {
    case success
    case responseCode(Int)
    case timeout
    case failed
}

/// One target's health as the checks have seen it: `initial` until its first check passes, `unhealthy` after
/// UnhealthyThresholdCount failures in a row, healthy again after HealthyThresholdCount successes in a row.
struct HealthRecord: Sendable, Equatable {
    enum State: Sendable { case initial, healthy, unhealthy }
    var state = State.initial
    var successes = 0
    var failures = 0
    var last: HealthCheckResult?
    /// When the next check is due (emulator clock).
    var nextCheck: Double

    init(due: Double) { nextCheck = due }

    mutating func record(_ result: HealthCheckResult, healthyThreshold: Int, unhealthyThreshold: Int) {
        last = result
        if result == .success {
            successes += 1
            failures = 0
            if state == .initial || (state == .unhealthy && successes >= healthyThreshold) { state = .healthy }
        } else {
            failures += 1
            successes = 0
            if state != .unhealthy && failures >= unhealthyThreshold { state = .unhealthy }
        }
    }

    /// DescribeTargetHealth's state, reason and description.
    var description: TargetHealthDescription {
        switch state {
        case .healthy: return TargetHealthDescription(state: .healthy)
        case .initial:
            return TargetHealthDescription(state: .initial, reason: "Elb.RegistrationInProgress", description: "Target registration is in progress")
        case .unhealthy:
            switch last {
            case .responseCode(let code):
                return TargetHealthDescription(state: .unhealthy, reason: "Target.ResponseCodeMismatch", description: "Health checks failed with these codes: [\(code)]")
            case .timeout:
                return TargetHealthDescription(state: .unhealthy, reason: "Target.Timeout", description: "Request timed out")
            default:
                return TargetHealthDescription(state: .unhealthy, reason: "Target.FailedHealthChecks", description: "Health checks failed")
            }
        }
    }
}
