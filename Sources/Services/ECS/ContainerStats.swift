#if canImport(Glibc)
import Glibc
#endif
import Core
import Foundation

/// A container's resource use in the shape of Docker's stats API, which the task metadata endpoint's `/stats` and
/// `/task/stats` return: CPU time in nanoseconds, memory in bytes, read from `/proc` for the container's process
/// (zeros for a simulated container).
struct ContainerStats {
    var cpuNanoseconds: Double = 0
    var userNanoseconds: Double = 0
    var systemNanoseconds: Double = 0
    var memoryBytes: Double = 0
    var threads: Int = 0

    init() {}

    init(pid: pid_t) {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return }
        // Fields after the command: utime [11], stime [12], num_threads [17], rss in pages [21].
        let f = stat[stat.index(after: close)...].split(separator: " ")
        guard f.count > 21, let ut = Double(f[11]), let st = Double(f[12]), let pages = Double(f[21]) else { return }
        let tick = 1e9 / Double(sysconf(Int32(_SC_CLK_TCK)))
        userNanoseconds = ut * tick
        systemNanoseconds = st * tick
        cpuNanoseconds = userNanoseconds + systemNanoseconds
        memoryBytes = pages * Double(sysconf(Int32(_SC_PAGESIZE)))
        threads = Int(f[17]) ?? 1
    }

    /// Time the machine's CPUs have run, in nanoseconds (Docker's `system_cpu_usage`).
    static func systemNanoseconds() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return 0 }
        let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }.reduce(0, +)
        return ticks * 1e9 / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func json(name: String, id: String, read: String, limitBytes: Double) -> JSON {
        let cpu: JSON = .object([
            "cpu_usage": .object([
                "total_usage": .number(cpuNanoseconds), "usage_in_usermode": .number(userNanoseconds),
                "usage_in_kernelmode": .number(systemNanoseconds), "percpu_usage": .array([]),
            ]),
            "system_cpu_usage": .number(Self.systemNanoseconds()),
            "online_cpus": .number(Double(ProcessInfo.processInfo.activeProcessorCount)),
            "throttling_data": .object(["periods": .number(0), "throttled_periods": .number(0), "throttled_time": .number(0)]),
        ])
        return .object([
            "read": .string(read), "preread": .string("0001-01-01T00:00:00Z"), "name": .string(name), "id": .string(id),
            "num_procs": .number(0), "pids_stats": .object(["current": .number(Double(threads))]),
            "blkio_stats": .object(["io_service_bytes_recursive": .array([]), "io_serviced_recursive": .array([])]),
            "storage_stats": .object([:]), "cpu_stats": cpu, "precpu_stats": cpu,
            "memory_stats": .object(["usage": .number(memoryBytes), "max_usage": .number(memoryBytes), "limit": .number(limitBytes),
                                     "stats": .object(["rss": .number(memoryBytes)])]),
            "networks": .object(["eth1": .object(["rx_bytes": .number(0), "rx_packets": .number(0), "rx_errors": .number(0),
                                                  "rx_dropped": .number(0), "tx_bytes": .number(0), "tx_packets": .number(0),
                                                  "tx_errors": .number(0), "tx_dropped": .number(0)])]),
        ])
    }
}
