#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// The agent's two script logs: the deployment's `logs/scripts.log` (`2024-05-01 10:00:00 [stdout]line`) and the
/// instance-wide `deployment-logs/codedeploy-agent-deployments.log` (`[2024-05-01 10:00:00.123] [d-X][stdout]line`).
/// It also keeps the running script's tagged lines for the 4 KiB log tail the agent reports on failure.
final class ScriptLog: Sendable {
    private let scriptsFD: Int32
    private let agentFD: Int32
    private let deploymentID: String
    /// The running script's last tagged lines (about twice the tail's size, trimmed as lines arrive) and their bytes.
    private let tail = Mutex<(lines: [String], bytes: Int)>(([], 0))

    static let tailLimit = 4096

    init(scriptsLog: String, agentLog: String, deploymentID: String) {
        for path in [scriptsLog, agentLog] {
            try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                     withIntermediateDirectories: true)
        }
        scriptsFD = open(scriptsLog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        agentFD = open(agentLog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        self.deploymentID = deploymentID
    }

    deinit {
        if scriptsFD >= 0 { close(scriptsFD) }
        if agentFD >= 0 { close(agentFD) }
    }

    /// `LifecycleEvent - X` and `Script - path` lines.
    func header(_ text: String) { write(text) }

    /// One line of a script's output, `stream` being `stdout` or `stderr`.
    func output(_ line: String, stream: String) {
        let tagged = "[\(stream)]\(line)"
        write(tagged)
        tail.withLock { tail in
            tail.lines.append(tagged)
            tail.bytes += tagged.utf8.count + 1
            var drop = 0
            while tail.bytes > Self.tailLimit * 2 && tail.lines.count - drop > 1 {
                tail.bytes -= tail.lines[drop].utf8.count + 1
                drop += 1
            }
            if drop > 0 { tail.lines.removeFirst(drop) }
        }
    }

    func resetTail() { tail.withLock { $0 = ([], 0) } }

    /// The last 4 KiB of the script's tagged output (the first line may be cut, never a UTF-8 character).
    func logTail() -> String {
        let text = tail.withLock { $0.lines.map { $0 + "\n" }.joined() }
        let bytes = Array(text.utf8)
        guard bytes.count > Self.tailLimit else { return text }
        var start = bytes.count - Self.tailLimit
        while start < bytes.count && (bytes[start] & 0xC0) == 0x80 { start += 1 }  // not inside a UTF-8 character
        return String(decoding: bytes[start...], as: UTF8.self)
    }

    private func write(_ text: String) {
        let now = Date()
        append(scriptsFD, "\(Self.stamp(now, millis: false)) \(text)\n")
        append(agentFD, "[\(Self.stamp(now, millis: true))] [\(deploymentID)]\(text)\n")
    }

    private func append(_ fd: Int32, _ text: String) {
        guard fd >= 0 else { return }
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    static func stamp(_ date: Date, millis: Bool) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = String(format: "%04d-%02d-%02d %02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                          Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        if millis {
            let ms = Int((date.timeIntervalSince1970 - Double(seconds)) * 1000)
            text += String(format: ".%03d", max(0, min(999, ms)))
        }
        return text
    }
}
