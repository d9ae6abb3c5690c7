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

    @Test func exitCodesAndSignalsPassThroughUnchanged() async throws {
        let supervisor = ProcessSupervisor()
        for (script, expected) in [("exit 42", Int32(42)), ("kill -TERM $$", Int32(128 + 15)), ("exit 0", Int32(0))] {
            let done = Mutex<Int32?>(nil)
            _ = try supervisor.spawn(executable: "/bin/sh", arguments: ["-c", script], environment: [:], directory: "/",
                                     output: { _ in }, onExit: { code in done.withLock { $0 = code } })
            for _ in 0..<300 where done.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
            #expect(done.withLock { $0 } == expected, "\(script)")
        }
    }

    /// What happens when the emulator dies by kill -9: the kernel closes its end of the lifeline, and the watcher
    /// kills every group it holds, background jobs included. `cut()` closes that end as the kernel would.
    @Test func cuttingTheLifelineKillsTheProcessAndItsChildren() async throws {
        let lifeline = Lifeline()
        let supervisor = ProcessSupervisor(lifeline: lifeline)
        let pidLine = Mutex<String?>(nil)
        let done = Mutex<Int32?>(nil)
        _ = try supervisor.spawn(
            executable: "/bin/sh", arguments: ["-c", "sleep 300 & echo $!; sleep 300"], environment: [:], directory: "/",
            output: { line in pidLine.withLock { $0 = line } }, onExit: { code in done.withLock { $0 = code } })
        for _ in 0..<200 where pidLine.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
        let background = try #require(pidLine.withLock { $0 }.flatMap { Int32($0) })
        try await Task.sleep(for: .milliseconds(50))
        #expect(done.withLock { $0 } == nil)
        lifeline.cut()
        for _ in 0..<300 where done.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(done.withLock { $0 } == Int32(128 + 9))
        for _ in 0..<100 where Self.alive(background) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(!Self.alive(background))
    }

    @Test func aReleasedGroupIsSpared() async throws {
        // A group that ended is forgotten, so a later process that reuses its id is not killed.
        let sleeper = try ProcessSupervisor(lifeline: Lifeline()).spawn(
            executable: "/bin/sleep", arguments: ["30"], environment: [:], directory: "/", output: { _ in }, onExit: { _ in })
        defer { sleeper.kill() }
        let other = Lifeline()
        other.hold(sleeper.pid)
        other.release(sleeper.pid)
        other.cut()
        try await Task.sleep(for: .milliseconds(200))
        #expect(sleeper.isRunning && Self.alive(sleeper.pid))
    }

    /// Alive and not a zombie.
    static func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        return stat.split(separator: ")").last?.split(separator: " ").first != "Z"
    }
}
