import Synchronization

/// Values decoded from stored text (a JSON column), by that text. The text is the whole input of the decoding, so a
/// hit is always right, whatever wrote the row and whenever; the cache only saves the decoder's CPU (JSONDecoder on
/// Linux costs tens of microseconds for a small record, read on every request). Bounded: emptied when full.
public final class DecodedCache<Value: Sendable>: Sendable {
    private let entries = Mutex<[String: Value]>([:])
    private let limit: Int

    public init(limit: Int = 4096) { self.limit = limit }

    public func value(for text: String, decode: (String) throws -> Value) rethrows -> Value {
        if let hit = entries.withLock({ $0[text] }) { return hit }
        let value = try decode(text)
        entries.withLock {
            if $0.count >= limit { $0.removeAll(keepingCapacity: true) }
            $0[text] = value
        }
        return value
    }

    public var count: Int { entries.withLock { $0.count } }
}
