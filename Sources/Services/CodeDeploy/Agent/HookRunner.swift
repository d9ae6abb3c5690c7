#if canImport(Glibc)
import Glibc
#endif
import Core
import Foundation
import Logging
import Synchronization

/// Runs one AppSpec hook script as the agent does: in the archive folder, with the agent's environment, up to its
/// timeout, its output tagged `[stdout]`/`[stderr]` into the script logs.
///
/// A script runs under a small bash wrapper that the supervisor starts as a process group leader. The wrapper tags
/// the script's two streams, reports the script's exit status on a marker line, then stays alive, holding the process
/// group, for as long as anything the script left in the background (`nohup server &`) runs: the supervisor kills a
/// group when its leader ends, and it kills it with the emulator, so a server started by ApplicationStart lives on
/// after its script and never outlives Cloudless. The real agent waits until the script's stdout closes, so a
/// background child holding it hangs the event until the timeout; here the agent waits for the script's exit only
/// (and up to half a second for its last lines), and what the background child prints later is read and dropped.
struct HookRunner: Sendable {
    let supervisor: ProcessSupervisor
    let logger: Logger

    enum Result: Sendable, Equatable {
        case succeeded
        case failed(errorCode: String, message: String)
    }

    /// The wrapper: $1 a nonce for the marker line, then the command. `read -t` on a pipe nobody writes is a sleep
    /// without a process; the script's last lines get up to half a second to arrive (about 25 ms when nothing holds
    /// its output open); the group is looked for in /proc every 2 s (about 0.3 % of a core per live background
    /// server, measured with 95 processes).
    static let wrapper = #"""
    nonce=$1; shift
    exec {out}> >(while IFS= read -r l || [ -n "$l" ]; do printf '\001O%s\n' "$l"; done)
    op=$!
    exec {err}> >(while IFS= read -r l || [ -n "$l" ]; do printf '\001E%s\n' "$l"; done)
    ep=$!
    "$@" >&$out 2>&$err {out}>&- {err}>&-
    rc=$?
    exec {out}>&- {err}>&-
    exec {nap}<> <(:)
    for i in {1..100}; do
      if ! kill -0 $op 2>/dev/null && ! kill -0 $ep 2>/dev/null; then break; fi
      read -t 0.005 -u $nap
    done
    printf '\001X%s %d\n' "$nonce" "$rc"
    exec >/dev/null 2>&1
    while :; do
      alive=0
      for f in /proc/[0-9]*/stat; do
        read -r s < "$f" 2>/dev/null || continue
        s=${s##*) }
        set -- $s
        [ "$3" = "$$" ] || continue
        [ "$1" = Z ] && continue
        p=${f#/proc/}; p=${p%/stat}
        [ "$p" = "$$" ] && continue
        alive=1; break
      done
      [ $alive = 1 ] || exit $rc
      read -t 2 -u $nap
    done
    """#

    private enum Event: Sendable {
        case finished(Int32)
        case exited(Int32)
        case timedOut
        case cancelled
    }

    func run(hook: AppSpec.Hook, script: String, directory: String, environment: [String: String],
             log: ScriptLog) async -> Result {
        let timeout = hook.timeout
        log.resetTail()
        log.header("Script - \(hook.location)")
        var info = stat()
        guard stat(script, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            return .failed(errorCode: "ScriptMissing", message: "Script does not exist at specified location: \(script)")
        }
        // A script with a shebang runs as itself (made executable first, as the agent does); others run with bash.
        var command = ["/bin/bash", script]
        if Self.hasShebang(script) {
            if access(script, X_OK) != 0 {
                log.header("Script at specified location: \(hook.location) is not executable. Trying to make it executable.")
                chmod(script, info.st_mode & 0o7777 | 0o111)
            }
            if access(script, X_OK) == 0 { command = [script] }
        }
        if let user = hook.runas, getuid() == 0, user != "root", getpwnam(user) != nil,
           FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser") {
            command = ["/usr/sbin/runuser", "-u", user, "--"] + command
        }
        let nonce = UUID().uuidString
        let marker = "\u{1}X\(nonce) "
        let (events, continuation) = AsyncStream<Event>.makeStream()
        let done = Mutex(false)
        let process: SupervisedProcess
        do {
            process = try supervisor.spawn(
                executable: "/bin/bash", arguments: ["-c", Self.wrapper, "codedeploy-hook", nonce] + command,
                environment: environment, directory: directory,
                output: { line in
                    if done.withLock({ $0 }) { return }  // a background child's output after its script ended
                    if let range = line.range(of: marker) {
                        let before = String(line[..<range.lowerBound])
                        if !before.isEmpty { Self.route(before, to: log) }
                        let status = Int32(line[range.upperBound...].trimmingCharacters(in: .whitespaces)) ?? 1
                        done.withLock { $0 = true }
                        continuation.yield(.finished(status))
                    } else {
                        Self.route(line, to: log)
                    }
                },
                onExit: { status in
                    continuation.yield(.exited(status))
                    continuation.finish()
                })
        } catch {
            return .failed(errorCode: "UnknownError", message: "The script \(hook.location) could not be started: \(error)")
        }
        let event = await withTaskGroup(of: Event?.self) { group in
            group.addTask {
                for await event in events { return event }
                return nil
            }
            group.addTask {
                do { try await Task.sleep(for: .seconds(timeout)) } catch { return nil }
                return .timedOut
            }
            var first: Event? = nil
            while let next = await group.next() {
                if let next { first = next; break }
            }
            group.cancelAll()
            // Nothing came: the engine cancelled the event (StopDeployment, shutdown).
            return first ?? .cancelled
        }
        let user = NSUserName()
        switch event {
        case .finished(let status), .exited(let status):
            done.withLock { $0 = true }
            if status == 0 { return .succeeded }
            return .failed(errorCode: "ScriptFailed",
                           message: "Script at specified location: \(hook.location) run as user \(hook.runas ?? user) failed with exit code \(status)")
        case .cancelled:
            done.withLock { $0 = true }
            process.kill()
            return .failed(errorCode: "UnknownError", message: "The deployment was stopped while the script \(hook.location) ran.")
        case .timedOut:
            // The script and everything it started: the process group.
            done.withLock { $0 = true }
            process.kill()
            logger.info("codedeploy hook timed out", metadata: ["script": "\(hook.location)", "timeout": "\(timeout)"])
            return .failed(errorCode: "ScriptTimedOut",
                           message: "Script at specified location: \(hook.location) failed to complete in \(timeout) seconds")
        }
    }

    private static func route(_ line: String, to log: ScriptLog) {
        if line.hasPrefix("\u{1}O") { log.output(String(line.dropFirst(2)), stream: "stdout") }
        else if line.hasPrefix("\u{1}E") { log.output(String(line.dropFirst(2)), stream: "stderr") }
        else { log.output(line, stream: "stdout") }
    }

    private static func hasShebang(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 2)) == Data("#!".utf8)
    }
}
