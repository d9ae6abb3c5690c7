import Synchronization

/// SigV4 signing keys by (secret, date, region, service): the four-HMAC derivation is the same for every request a
/// client signs on one day, so under --strict-auth it runs once a day per client, not once per request. Bounded:
/// emptied when full (a key is cheap to derive again).
public enum SigningKeyCache {
    private static let keys = Mutex<[String: [UInt8]]>([:])
    static let limit = 1024

    public static func key(secret: String, date: String, region: String, service: String) -> [UInt8] {
        let id = secret + "\u{0}" + date + "\u{0}" + region + "\u{0}" + service
        if let hit = keys.withLock({ $0[id] }) { return hit }
        let key = SigV4.signingKey(secret: secret, date: date, region: region, service: service)
        keys.withLock {
            if $0.count >= limit { $0.removeAll(keepingCapacity: true) }
            $0[id] = key
        }
        return key
    }

    static var count: Int { keys.withLock { $0.count } }
}
