import Foundation
import Synchronization
import Testing

@testable import Core

@Suite struct ProcessSupervisorTests {
    @Test func outputLinesExitStatusAndOnlyTheGivenEnvironment() async throws {
        let supervisor = ProcessSupervisor()
        let lines = Mutex<[String]>([])
        let done = Mutex<Int32?>(nil)
        _ = try supervisor.spawn(
            executable: "/bin/sh", arguments: ["-c", "echo out; echo err >&2; echo \"$ONLY:$HOME\"; pwd; exit 3"],
            environment: ["ONLY": "given"], directory: "/tmp",
            output: { line in lines.withLock { $0.append(line) } }, onExit: { code in done.withLock { $0 = code } })
        for _ in 0..<200 where done.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(done.withLock { $0 } == Int32(3))
        #expect(Set(lines.withLock { $0 }) == ["out", "err", "given:", "/tmp"])
        #expect(supervisor.liveCount == 0)
    }

    @Test func killReachesTheWholeProcessGroup() async throws {
        let supervisor = ProcessSupervisor()
        let pidLine = Mutex<String?>(nil)
        let done = Mutex<Int32?>(nil)
        let p = try supervisor.spawn(
            executable: "/bin/sh", arguments: ["-c", "sleep 30 & echo $!; wait"], environment: [:], directory: "/",
            output: { line in pidLine.withLock { $0 = line } }, onExit: { code in done.withLock { $0 = code } })
        for _ in 0..<200 where pidLine.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
        let child = try #require(pidLine.withLock { $0 }.flatMap { Int32($0) })
        p.kill()
        for _ in 0..<200 where done.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(done.withLock { $0 } == Int32(128 + 9))
        try await Task.sleep(for: .milliseconds(100))
        // The grandchild is gone too: no such process, or a zombie waiting for init to reap it.
        let stat = (try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8)) ?? ""
        let state = stat.split(separator: ")").last?.split(separator: " ").first
        #expect(stat.isEmpty || state == "Z")
    }

    @Test func onlyTheStandardDescriptorsPassToTheChild() async throws {
        // A descriptor the parent opened without O_CLOEXEC (as NIO's listeners are) must not reach the child.
        let leaked = open("/dev/null", O_RDONLY)
        defer { close(leaked) }
        let supervisor = ProcessSupervisor()
        let lines = Mutex<[String]>([])
        let done = Mutex<Int32?>(nil)
        _ = try supervisor.spawn(
            executable: "/bin/sh", arguments: ["-c", "ls /proc/self/fd"], environment: [:], directory: "/",
            output: { line in lines.withLock { $0.append(line) } }, onExit: { code in done.withLock { $0 = code } })
        for _ in 0..<200 where done.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(50))
        let fds = Set(lines.withLock { $0 }.compactMap { Int32($0) })
        // 0, 1, 2, and the one `ls` opens to read the folder.
        #expect(!fds.contains(leaked))
        #expect(fds.filter { $0 > 2 }.count <= 1)
    }
}
