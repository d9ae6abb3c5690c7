import HummingbirdCore
import Logging
import NIOCore

/// Runs a listener connection's task on the event loop that owns its socket, as Core does for Cloudless's own port
/// (Core's `EventLoopBoundChannel`): without it every read and write of the request, of the exchange with the
/// target and of the answer crossed threads (a wake-up each way).
struct ListenerChannel<Inner: ServerChildChannel>: ServerChildChannel {
    typealias Value = Inner.Value
    let inner: Inner

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(LoopExecutor(loop: value.channel.eventLoop)) {
            await inner.handle(value: value, logger: logger)
        }
    }
}

final class LoopExecutor: TaskExecutor {
    let loop: any EventLoop

    init(loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}
