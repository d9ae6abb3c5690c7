import Synchronization

/// A continuation resumed by whichever of several racers comes first; the others find it gone.
final class ResumeOnce: Sendable {
    private let continuation = Mutex<CheckedContinuation<Void, Never>?>(nil)

    func set(_ c: CheckedContinuation<Void, Never>) { continuation.withLock { $0 = c } }

    func resume() { continuation.withLock { $0.take() }?.resume() }
}
