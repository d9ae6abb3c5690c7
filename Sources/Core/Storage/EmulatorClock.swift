import Foundation
import Synchronization

/// The one clock of the emulator. Tests move it forward (`POST /_cloudless/clock`) so that expiry,
/// retention and visibility timeouts are testable in milliseconds.
public final class EmulatorClock: Sendable {
    private let offset = Mutex<Double>(0)

    public init() {}

    /// Seconds since 1970, moved by the offset.
    public func now() -> Double {
        Date().timeIntervalSince1970 + offset.withLock { $0 }
    }

    public func advance(by seconds: Double) {
        offset.withLock { $0 += seconds }
    }

    public func resetOffset() {
        offset.withLock { $0 = 0 }
    }

    public var currentOffset: Double { offset.withLock { $0 } }
}
