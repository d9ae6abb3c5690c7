import Core
import Foundation
import Synchronization

/// A short helper process (tar) run to its end under the supervisor, with its output.
enum ProcessRun {
    struct Result: Sendable {
        var status: Int32
        var output: [String]
    }

    static func run(_ supervisor: ProcessSupervisor, _ executable: String, _ arguments: [String],
                    directory: String) async throws -> Result {
        let lines = Mutex<[String]>([])
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            do {
                _ = try supervisor.spawn(
                    executable: executable, arguments: arguments,
                    environment: ["PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C"], directory: directory,
                    output: { line in lines.withLock { $0.append(line) } },
                    onExit: { continuation.resume(returning: $0) })
            } catch {
                continuation.resume(throwing: error)
            }
        }
        return Result(status: status, output: lines.withLock { $0 })
    }
}
