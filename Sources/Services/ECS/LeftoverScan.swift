import Core
import Foundation
import Synchronization

/// The search for containers an earlier run left (`Leftovers.kill`: it reads every process's environment in /proc, the
/// slowest part of ECS's start), started ahead on a background thread while the other services are built.
/// `Scheduler.load` takes its result, waiting for it; no container starts before that (the scheduler loop and RunTask
/// come after load), so a container of this run is never among those killed.
enum LeftoverScan {
    /// One scan under way or done, by task folder.
    private static let scans = Mutex<[String: Scan]>([:])

    private final class Scan: Sendable {
        let killed = Mutex<[pid_t]?>(nil)
        let done = DispatchSemaphore(value: 0)
    }

    static func run(inside folder: String) -> [pid_t] { Leftovers.kill(environment: "HOME", inside: folder) }

    static func start(inside folder: String) {
        let scan = Scan()
        let fresh = scans.withLock { map -> Bool in
            guard map[folder] == nil else { return false }
            map[folder] = scan
            return true
        }
        guard fresh else { return }
        DispatchQueue.global(qos: .userInitiated).async {
            let killed = run(inside: folder)
            scan.killed.withLock { $0 = killed }
            scan.done.signal()
        }
    }

    /// The pids the scan started for `folder` killed, once it has finished; nil if none was started.
    static func take(inside folder: String) -> [pid_t]? {
        guard let scan = scans.withLock({ $0.removeValue(forKey: folder) }) else { return nil }
        scan.done.wait()
        return scan.killed.withLock { $0 }
    }
}
