#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CCloudless
import Foundation
import Synchronization

/// A child process in its own process group, so a kill reaches everything it started. Its stdout and stderr arrive
/// line by line; its exit status once it ends.
///
/// Spawned with posix_spawn rather than swift-subprocess: instances must outlive the call that starts them, be
/// killed as a group (POSIX_SPAWN_SETPGROUP) and stream their output for their whole life.
public final class SupervisedProcess: Sendable {
    public let pid: pid_t
    private let exited = Mutex<Int32?>(nil)
    /// The read end of the output pipe, and whether the reader is between a read and handing its lines on.
    let outputFD: Int32
    let reading = Mutex<Bool>(false)

    init(pid: pid_t, outputFD: Int32) {
        self.pid = pid
        self.outputFD = outputFD
    }

    /// Wait (up to `limit`) until everything the process has written so far has been handed to `output`: lines
    /// printed just before a runtime answers then belong to that invocation's log.
    public func settleOutput(limit: Duration = .milliseconds(50)) async {
        let end = ContinuousClock.now + limit
        while ContinuousClock.now < end {
            var pending: Int32 = 0
            let unread = ioctl(outputFD, UInt(FIONREAD), &pending) == 0 ? pending : 0
            if unread == 0 && !reading.withLock({ $0 }) { return }
            try? await Task.sleep(for: .microseconds(200))
        }
    }

    public var isRunning: Bool { exited.withLock { $0 == nil } }
    public var exitStatus: Int32? { exited.withLock { $0 } }

    /// SIGKILL the whole process group.
    public func kill() {
        guard isRunning else { return }
        _ = Glibc.kill(-pid, SIGKILL)
    }

    func markExited(_ status: Int32) { exited.withLock { $0 = status } }
}

public enum ProcessError: Error, CustomStringConvertible {
    case spawnFailed(String, Int32)

    public var description: String {
        switch self {
        case .spawnFailed(let path, let errno): return "could not start \(path): \(String(cString: strerror(errno)))"
        }
    }
}

/// Starts processes and remembers the live ones, so none outlives the emulator (`killAll` at shutdown).
public final class ProcessSupervisor: Sendable {
    private let live = Mutex<[pid_t: SupervisedProcess]>([:])
    private let ownLifeline: Lifeline?
    /// The shared watcher starts with the first process, not with the emulator: nothing to spawn before the first request.
    var lifeline: Lifeline { ownLifeline ?? .shared }

    public convenience init() { self.init(lifeline: nil) }
    init(lifeline: Lifeline?) { ownLifeline = lifeline }

    public var liveCount: Int { live.withLock { $0.count } }

    /// Start `executable` with exactly `environment` (nothing inherited) in `directory`. `output` gets each line of
    /// stdout and stderr; `onExit` the exit status (or 128 + signal) once the process has ended. With
    /// `networkNamespace`, the process (and all it starts) runs inside that namespace.
    ///
    /// The process leads its own group; the group is killed when the process ends, on `kill()`, at `killAll()`,
    /// and by the lifeline watcher if the emulator dies without calling `killAll()`.
    public func spawn(executable: String, arguments: [String], environment: [String: String], directory: String,
                      networkNamespace: NetworkNamespace? = nil,
                      output: @escaping @Sendable (String) -> Void,
                      onExit: @escaping @Sendable (Int32) -> Void) throws -> SupervisedProcess {
        let lifeline = self.lifeline  // the first spawn starts the watcher before its child, never after
        var fds: [Int32] = [0, 0]
        guard cloudless_pipe_cloexec(&fds) == 0 else { throw ProcessError.spawnFailed(executable, errno) }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let argv = [executable] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        let spawned: (rc: Int32, pid: pid_t)
        if let namespace = networkNamespace {
            // A child is born in its creating thread's network namespace: spawn from the namespace thread, moved inside.
            let handle = namespace.handle
            let lifeline = self.lifeline
            do {
                spawned = try NamespaceThread.shared.run {
                    try handle.enter()
                    let spawned = Self.launch(executable, argv, envp, directory, writeEnd)
                    // At once, on this thread: the caller may wait long (a loaded host) before it runs again.
                    if spawned.rc == 0 { lifeline.hold(spawned.pid) }
                    return spawned
                }
            } catch {
                close(readEnd)
                close(writeEnd)
                throw error
            }
        } else {
            spawned = Self.launch(executable, argv, envp, directory, writeEnd)
            if spawned.rc == 0 { lifeline.hold(spawned.pid) }
        }
        let pid = spawned.pid
        close(writeEnd)
        guard spawned.rc == 0 else {
            close(readEnd)
            throw ProcessError.spawnFailed(executable, spawned.rc)
        }
        let process = SupervisedProcess(pid: pid, outputFD: readEnd)
        live.withLock { $0[pid] = process }

        // One reader thread per process: blocking reads of the pipe, split into lines.
        let drained = DispatchSemaphore(value: 0)
        let reader = Thread {
            defer { drained.signal() }
            var pending = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 16_384)
            // Wait for bytes with poll, and say "reading" before taking them out of the pipe: settleOutput then always
            // sees unread bytes either in the pipe or as a read under way (setting the flag after `read` returned left
            // a moment where a line was neither, and it fell out of its invocation's log).
            var ready = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            while true {
                let polled = poll(&ready, 1, -1)
                if polled < 0 && errno == EINTR { continue }
                if polled < 0 { break }
                process.reading.withLock { $0 = true }
                let n = read(readEnd, &buffer, buffer.count)
                let readError = errno
                if n > 0 {
                    pending += buffer[0..<n]
                    while let nl = pending.firstIndex(of: 10) {
                        output(String(decoding: pending[..<nl], as: UTF8.self))
                        pending.removeSubrange(...nl)
                    }
                }
                process.reading.withLock { $0 = false }
                if n < 0 && readError == EINTR { continue }
                if n <= 0 { break }
            }
            if !pending.isEmpty { output(String(decoding: pending, as: UTF8.self)) }
            close(readEnd)
        }
        reader.start()
        // And one waiter: the exit status, then forget the process.
        let waiter = Thread { [weak self] in
            // The exit is awaited without reaping first: until the zombie is reaped, its pid (and so its group's id)
            // cannot be given to a new process, so the group kill, the lifeline's release and `live` below still mean
            // this one. Reaping first let a new process take the pid (32768 of them wrap within minutes under load)
            // and be killed, forgotten by the lifeline, or dropped from `live` (then left running after shutdown).
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
            // Anything the process left in its group goes with it.
            _ = Glibc.kill(-pid, SIGKILL)
            self?.lifeline.release(pid)
            _ = self?.live.withLock { $0.removeValue(forKey: pid) }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            // Its last lines (a dying bootstrap's error) are delivered before the exit is.
            _ = drained.wait(timeout: .now() + 1)
            process.markExited(code)
            onExit(code)
        }
        waiter.start()
        return process
    }

    /// posix_spawn `executable` in its own process group with stdin /dev/null, stdout and stderr to `output`, and
    /// no other descriptor. Takes and returns only Sendable values: it may run on the namespace thread.
    private static func launch(_ executable: String, _ arguments: [String], _ environment: [String], _ directory: String,
                               _ output: Int32) -> (rc: Int32, pid: pid_t) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, output, 2)
        // Only stdin, stdout and stderr pass to the child. An inherited listener would keep the emulator's port (and
        // an instance's Runtime API port) open after a kill -9 of the emulator, and a restart could not bind it.
        cloudless_spawn_addclosefrom(&actions, 3)
        cloudless_spawn_addchdir(&actions, directory)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        return (rc, pid)
    }

    /// Kill every live process group (shutdown).
    public func killAll() {
        for p in live.withLock({ Array($0.values) }) { p.kill() }
    }
}
