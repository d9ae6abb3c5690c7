import Core
import Foundation

/// How one container runs: as a local process (its command line, environment and folder), or simulated.
struct Launch: Sendable {
    var executable: String
    var arguments: [String]
    var environment: [String: String]
    var directory: String
}

enum ContainerState: Sendable, Equatable {
    case waiting
    case running
    case exited(Int32)
}

/// A container of a running task.
struct ContainerRun: Sendable {
    var spec: ContainerSpec
    /// nil: simulated (it reaches RUNNING and stays there until stopped).
    var launch: Launch?
    var process: SupervisedProcess?
    var state: ContainerState = .waiting
    var startedAt: Double?
    /// nil when the container has no health check.
    var health: String?
    var healthFailures = 0
    var nextHealthCheck: Double = 0
    var healthCheckRunning = false
    /// `awslogs`: where its output goes.
    var logDestination: LogDestination?

    var hasExited: Bool { if case .exited = state { return true } else { return false } }
    var exitCode: Int32? { if case .exited(let c) = state { return c } else { return nil } }
}

struct LogDestination: Sendable {
    var account: String
    var region: String
    var group: String
    var stream: String
}

/// The running side of a task: its containers, its address, its folder.
struct TaskRun: Sendable {
    var containers: [ContainerRun]
    /// The address its ports are reached at from the host.
    var address: String
    var directory: String
    var network: NetworkNamespace?
    /// The first StopTask signal (real time), for SIGKILL after each container's stopTimeout.
    var stopSignalledAt: ContinuousClock.Instant?
    /// When the task reached RUNNING, in real time: how long its processes have lived (`Scheduler.isHealthy`).
    var runningSince: ContinuousClock.Instant?

    func index(of name: String) -> Int? { containers.firstIndex { $0.spec.name == name } }
}

/// Why a task could not start (its stoppedReason), with the container reason AWS gives.
struct LaunchFailure: Error {
    var reason: String
}
