import Synchronization

/// A tiny lock for counters and small maps touched on every request.
public final class SpinLock: Sendable {
    private let mutex = Mutex<Void>(())
    public init() {}
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        try mutex.withLock { _ in try body() }
    }
}
