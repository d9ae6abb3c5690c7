import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// One connection to a target with the reader of its answers, kept together so a pooled one serves request after
/// request. `pooled`: counted in the pool (sent without `Connection: close`, given back after a clean answer).
final class UpstreamLink: Sendable {
    let connection: Upstream.Connection
    let reader: ResponseReader
    let key: String
    let opened: Double
    let pooled: Bool

    init(_ connection: Upstream.Connection, key: String, opened: Double, pooled: Bool) {
        self.connection = connection
        self.reader = ResponseReader(connection.inbound.makeAsyncIterator())
        self.key = key
        self.opened = opened
        self.pooled = pooled
    }

    /// A link dropped without `close` (a pool let go, an answer's body never read) must not take the process down:
    /// NIO traps on a writer that goes unfinished.
    deinit { close() }

    var isActive: Bool { connection.channel.isActive }

    func close() {
        connection.outbound.finish()  // NIO insists that a writer is finished before it goes
        connection.channel.close(promise: nil)
    }
}

/// The kept-alive connections to targets, by "host:port" (rules in `PoolBook`). The data plane's tick sweeps
/// expired idle ones and drains those of deregistered targets.
final class UpstreamPool: Sendable {
    let book: Mutex<PoolBook<UpstreamLink>>
    let now: @Sendable () -> Double

    init(now: @escaping @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }) {
        self.now = now
        self.book = Mutex(PoolBook())
    }

    /// An idle connection to `key` still open, or nil: one on the caller's event loop when there is one (only such
    /// one when `onCallersLoop`).
    func take(_ key: String, onCallersLoop: Bool = false) -> UpstreamLink? {
        while true {
            let t = now()
            let taken = book.withLock { b in b.take(key, now: t, only: onCallersLoop) { link in link.connection.channel.eventLoop.inEventLoop } }
            for link in taken.expired { link.close() }
            guard let entry = taken.idle else { return nil }
            if entry.connection.isActive { return entry.connection }
            // Closed by the target while idle.
            discard(entry.connection)
        }
    }

    /// Whether a new connection to `key` is pooled (else one-shot).
    func admit(_ key: String) -> Bool {
        let t = now()
        return book.withLock { $0.admit(key, now: t) }
    }

    /// After a clean answer on a pooled connection: kept idle, or closed when too old.
    func giveBack(_ link: UpstreamLink) {
        let t = now()
        if let old = book.withLock({ $0.giveBack(link.key, link, opened: link.opened, now: t) }) { old.close() }
    }

    /// Closed, and no longer counted when it was pooled.
    func discard(_ link: UpstreamLink) {
        link.close()
        if link.pooled { book.withLock { $0.forget(link.key) } }
    }

    /// A pooled connection that could not be opened: no longer counted.
    func forget(_ key: String) { book.withLock { $0.forget(key) } }

    func markNoKeepAlive(_ key: String) {
        let t = now()
        book.withLock { $0.markNoKeepAlive(key, now: t) }
    }

    func sweep() {
        let t = now()
        for link in book.withLock({ $0.sweep(now: t) }) { link.close() }
    }

    func drain(_ key: String) {
        for link in book.withLock({ $0.drain(key) }) { link.close() }
    }

    func closeAll() {
        let links = book.withLock { b in b.idle.keys.flatMap { b.drain($0) } }
        for link in links { link.close() }
    }
}
