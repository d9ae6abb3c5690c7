import HummingbirdCore
import Logging
import NIOCore

/// Runs each connection's task on the event loop that owns its socket. Without it, Swift concurrency runs the
/// handler on any thread and every read and write crosses threads (a futex wake-up each way), which cost more
/// CPU than the request itself.
public final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    public init(loop: any EventLoop) { self.loop = loop }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}

/// Wraps a child channel (HTTP/1) so that `handle` runs with its event loop as the preferred task executor (Cloudless's
/// port, and the load balancers' own listener ports).
public struct EventLoopBoundChannel<Inner: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Inner.Value
    let inner: Inner

    public init(inner: Inner) { self.inner = inner }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger)
    }

    public func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(loop: value.channel.eventLoop)) {
            await inner.handle(value: value, logger: logger)
        }
    }
}
