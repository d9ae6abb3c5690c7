import Foundation
import Synchronization

/// The one clock of the emulator. Tests move it forward (`POST /_cloudless/clock`) so that expiry,
/// retention and visibility timeouts are testable in milliseconds.
public final class EmulatorClock: Sendable {
    private let offset = Mutex<Double>(0)
    /// Told after every move of the clock (the background scheduler runs what fell due at once).
    private let observers = Mutex<[@Sendable () -> Void]>([])

    public init() {}

    /// Seconds since 1970, moved by the offset.
    public func now() -> Double {
        Date().timeIntervalSince1970 + offset.withLock { $0 }
    }

    public func advance(by seconds: Double) {
        offset.withLock { $0 += seconds }
        moved()
    }

    public func resetOffset() {
        offset.withLock { $0 = 0 }
        moved()
    }

    public var currentOffset: Double { offset.withLock { $0 } }

    /// Call `observer` after every `advance` or `resetOffset`.
    public func onMove(_ observer: @escaping @Sendable () -> Void) {
        observers.withLock { $0.append(observer) }
    }

    private func moved() {
        for observer in observers.withLock({ $0 }) { observer() }
    }
}
