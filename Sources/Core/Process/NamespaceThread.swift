#if canImport(Glibc)
import Glibc
#endif
import CCloudless
import Foundation
import Synchronization

/// One long-lived thread that does the emulator's work inside network namespaces. setns() and unshare(CLONE_NEWNET)
/// move only the calling thread, and a socket or child process belongs to the namespace its creating thread was in at
/// that moment; doing this on pool threads would leave a Dispatch or NIO thread in a task's namespace. Every job here
/// ends with the thread back in the emulator's own namespace. Jobs are short (a socket(), a posix_spawn).
final class NamespaceThread: Sendable {
    static let shared = NamespaceThread()

    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let wake = DispatchSemaphore(value: 0)
    /// The emulator's own network namespace, to return to after each job.
    private let home: Int32

    private init() {
        home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        let thread = Thread { [self] in loop() }
        thread.name = "cloudless-netns"
        thread.start()
    }

    private func loop() -> Never {
        while true {
            wake.wait()
            for job in jobs.withLock({ j in defer { j = [] }; return j }) {
                job()
                // A thread stuck in a task's namespace would put later sockets and processes there: fatal.
                precondition(cloudless_setns_net(home) == 0, "cannot return to the emulator's network namespace")
            }
        }
    }

    /// Run `body` on the namespace thread and wait for its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        guard home >= 0 else { throw NetworkNamespaceError.system("open /proc/thread-self/ns/net", ENOENT) }
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Result<T, any Error>?>(nil)
        jobs.withLock { $0.append({ result.withLock { $0 = Result { try body() } }; done.signal() }) }
        wake.signal()
        done.wait()
        return try result.withLock { $0! }.get()
    }
}
