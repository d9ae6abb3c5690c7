import Synchronization

/// Request ids as AWS prints them. Cheap: one random seed per process, a counter per request.
public enum RequestID {
    private static let seed = UInt64.random(in: 0...UInt64.max)
    private static let counter = Atomic<UInt64>(0)

    /// 16 uppercase hex digits, the form S3 uses (`x-amz-request-id`).
    public static func next() -> String {
        let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        // Mix so consecutive ids do not look consecutive.
        var x = (seed ^ n) &* 0x9E37_79B9_7F4A_7C15
        x ^= x >> 31
        return hex16(x)
    }

    /// A UUID-shaped id (`x-amzn-RequestId` of the JSON and Query protocols).
    public static func uuid() -> String {
        let a = next(), b = next()
        let s = Array((a + b).lowercased())
        return String(s[0..<8]) + "-" + String(s[8..<12]) + "-" + String(s[12..<16]) + "-" + String(s[16..<20]) + "-" + String(s[20..<32])
    }

    /// The opaque `x-amz-id-2` host id S3 adds beside the request id.
    public static func hostID(for requestID: String) -> String {
        "cloudless/" + requestID
    }

    private static func hex16(_ v: UInt64) -> String {
        let digits: [UInt8] = Array("0123456789ABCDEF".utf8)
        return String(unsafeUninitializedCapacity: 16) { buf in
            var v = v
            for i in stride(from: 15, through: 0, by: -1) {
                buf[i] = digits[Int(v & 0xF)]
                v >>= 4
            }
            return 16
        }
    }
}
