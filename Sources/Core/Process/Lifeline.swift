#if canImport(Glibc)
import Glibc
#endif
import CCloudless
import Foundation
import Synchronization

/// One small watcher process per emulator that SIGKILLs every process group it was told about as soon as the emulator
/// is gone, however it went (kill -9, crash, OOM): it reads the emulator's end of a socket pair, and the kernel closes
/// that end when the emulator dies, so the watcher's read returns EOF.
///
/// Why not a PID namespace per child (setpriv --pdeathsig + unshare --pid --fork --kill-child): it also catches
/// processes that leave their group (setsid), but inside it getpid() is 1 or 2 while /proc (the host's, without a
/// mount namespace too) still shows host pids, so `/proc/$$/…` reads another process; Lambda's e2e tests and
/// runtimes see host pids today. It also costs two or three extra execs per spawn (~2 ms measured); this costs a
/// few bytes written per spawn and works without privileges. What it cannot reach: a process that left its group.
final class Lifeline: Sendable {
    static let shared = Lifeline()

    /// Our end of the socket pair; -1 once closed or if the watcher could not be started (then children only die with
    /// the emulator when it shuts down cleanly, through `killAll`).
    private let socket = Mutex<Int32>(-1)

    /// dash-compatible. Groups are a space-separated set; `- g` removes one once it has ended, so a reused pid is not
    /// killed. INT/TERM/HUP are ignored: a Ctrl-C meant for the emulator must leave the watcher to do its job.
    private static let script = """
        trap '' INT TERM HUP PIPE
        groups=' '
        while read -r op g; do
          case $op in
            +) groups="$groups$g " ;;
            -) case $groups in *" $g "*) groups="${groups%% $g *} ${groups#* $g }" ;; esac ;;
          esac
        done
        for g in $groups; do kill -9 -$g 2>/dev/null; done
        """

    init() {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else { return }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        cloudless_spawn_addclosefrom(&actions, 3)
        // Not in any data folder, so tools that look for the emulator's leftover processes by folder do not see it.
        cloudless_spawn_addchdir(&actions, "/")
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        // Its own session (POSIX_SPAWN_SETSID, a GNU flag): a signal to the emulator's group does not reach it.
        let setsid: Int32 = 0x80
        posix_spawnattr_setflags(&attributes, Int16(setsid | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let words: [String] = ["/bin/sh", "-c", Self.script, "cloudless-lifeline"]
        let argv = words.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var envp: [UnsafeMutablePointer<CChar>?] = [nil]
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, &envp)
        Glibc.close(fds[1])
        guard rc == 0 else {
            Glibc.close(fds[0])
            return
        }
        socket.withLock { $0 = fds[0] }
    }

    /// The group led by `group` is killed if the emulator dies before `release(group)`.
    func hold(_ group: pid_t) { send("+ \(group)\n") }
    /// The group has ended: forget it (its id may be reused).
    func release(_ group: pid_t) { send("- \(group)\n") }

    /// What the emulator's death does: the watcher kills every group it holds, then exits. For tests.
    func cut() {
        socket.withLock {
            if $0 >= 0 { Glibc.close($0) }
            $0 = -1
        }
    }

    private func send(_ line: String) {
        socket.withLock { fd in
            guard fd >= 0 else { return }
            // Lines are far below PIPE_BUF and the watcher reads continuously: never blocks, never SIGPIPEs.
            _ = Array(line.utf8).withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL)) }
        }
    }
}
