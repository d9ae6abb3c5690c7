import Dispatch
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

// Run Swift concurrency on NIO's event loops: a request then stays on the thread that read it instead of
// hopping between NIO threads and the cooperative pool (each hop is a futex wake-up; together they cost more
// CPU than the request itself). Must happen before the first task starts.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

Task.detached {
    // The usual `serve` command line skips ArgumentParser's reflection (QuickServeArguments); errors read the same.
    if let options = QuickServeArguments.parse(Array(CommandLine.arguments.dropFirst())) {
        do { try await options.run() } catch { CloudlessCommand.exit(withError: error) }
        exit(0)
    }
    await CloudlessCommand.main()
    exit(0)
}
dispatchMain()
