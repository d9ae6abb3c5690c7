import Core
import Foundation

/// When the scheduler must look again without being told: everything that changes with time alone. Between two such
/// moments, with no call and no process event, a pass would change nothing, so the loop skips it (an idle cluster
/// costs a clock read every 50 ms). Moving the emulator's clock forward makes these moments due at once.
extension Scheduler {
    func nextTimedChange(now: Double) -> Double {
        var due = Double.infinity
        func at(_ t: Double) { due = min(due, t) }
        for e in tasks.values {
            if e.task.isStopped {
                at((e.task.stoppedAt ?? now) + Self.stoppedRetention)
                continue
            }
            // Stopping tasks wait for their processes (SIGKILL after stopTimeout, on real time): look every turn.
            if e.task.desiredStatus == "STOPPED" { return now }
            if e.meta.targetsState == "registered" { at(lastHealthPoll + Self.healthPollInterval) }  // TaskTargets.swift
            guard let run = e.run else { continue }
            for c in run.containers {
                if c.state == .waiting, let timeout = c.spec.startTimeout, timeout > 0, let pending = e.task.pullStoppedAt {
                    at(pending + Double(timeout))
                }
                if c.state == .running, c.launch != nil, c.spec.healthCheck != nil, !c.healthCheckRunning {
                    at(c.nextHealthCheck)
                }
            }
            if e.task.lastStatus == "RUNNING", e.meta.runsProcesses, !e.meta.hasHealthChecks, !e.meta.becameHealthy,
               let remaining = settleRemaining(e) {
                // Settling is real time; the emulator's clock runs at least as fast, so this moment is never late.
                at(now + max(0, remaining))
            }
            if e.task.healthStatus == "UNHEALTHY", let arn = e.meta.serviceArn, let s = services[arn] {
                at((e.task.startedAt ?? now) + Double(s.service.healthCheckGracePeriodSeconds ?? 0))
            }
        }
        for e in services.values where e.service.status != "INACTIVE" {
            if e.state.launchNotBefore > now { at(e.state.launchNotBefore) }
            if e.state.steadyStateAnnounced { at(e.state.lastSteadyStateEvent + 6 * 3600) }
            if e.service.launchType == "EC2" && e.service.runningCount + e.service.pendingCount < e.service.desiredCount {
                at(e.state.unableToPlaceEventAt + 300)
            }
        }
        return due
    }
}
