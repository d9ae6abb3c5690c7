#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Processes an earlier run of the emulator started but could not hand to its lifeline: a kill -9 that lands between
/// posix_spawn and `Lifeline.hold` leaves the child running, its parent gone, in no group anyone will kill. A service
/// recognizes its own by an environment entry it always sets (an ECS container's HOME is its task's folder) and kills
/// them when it loads, before it starts anything.
public enum Leftovers {
    /// SIGKILL every process (with its group, when it leads one) whose environment has `key` set to a path inside
    /// `folder`; the pids killed. Never the emulator itself.
    @discardableResult
    public static func kill(environment key: String, inside folder: String) -> [pid_t] {
        let prefix = Array((key + "=" + folder + "/").utf8)
        let me = getpid()
        var killed: [pid_t] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(name), pid != me,
                  let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            let entries = environ.split(separator: 0, omittingEmptySubsequences: true)
            guard entries.contains(where: { $0.starts(with: prefix) }) else { continue }
            // Our children lead their own group (POSIX_SPAWN_SETPGROUP): what they started goes with them.
            _ = Glibc.kill(leadsItsGroup(pid) ? -pid : pid, SIGKILL)
            killed.append(pid)
        }
        return killed
    }

    static func leadsItsGroup(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        // After the command: state [0], ppid [1], pgrp [2].
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 2 && pid_t(fields[2]) == pid
    }
}
