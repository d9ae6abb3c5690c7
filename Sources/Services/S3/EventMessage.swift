import Core
import Foundation
import Synchronization

/// The messages S3 publishes to notification destinations, byte for byte as AWS writes them: compact JSON with
/// the keys in AWS's order (event structure version 2.1, see "Event message structure" in the S3 User Guide),
/// and the `s3:TestEvent` sent when a configuration is set.
enum S3EventMessage {
    /// One object event, the same for every destination it goes to (only configurationId differs).
    struct Record: Sendable {
        var eventName: String  // without "s3:", e.g. "ObjectCreated:Put"
        var region: String
        var time: Double
        var principalID: String
        var sourceIP: String
        var requestID: String
        var hostID: String
        var bucket: String
        var bucketOwnerID: String
        var key: String  // as stored; URL-encoded when written
        var size: Int?  // created events only
        var eTag: String?  // unquoted; created events only
        var versionID: String?  // versioned buckets only
        var sequencer: String
    }

    static func json(_ r: Record, configurationID: String) -> String {
        var o = "{\"key\":\(quote(encodeKey(r.key)))"
        if let size = r.size { o += ",\"size\":\(size)" }
        if let eTag = r.eTag { o += ",\"eTag\":\(quote(eTag))" }
        if let v = r.versionID { o += ",\"versionId\":\(quote(v))" }
        o += ",\"sequencer\":\(quote(r.sequencer))}"
        return "{\"Records\":[{\"eventVersion\":\"2.1\",\"eventSource\":\"aws:s3\",\"awsRegion\":\(quote(r.region))"
            + ",\"eventTime\":\(quote(AWSDate.iso8601(r.time))),\"eventName\":\(quote(r.eventName))"
            + ",\"userIdentity\":{\"principalId\":\(quote(r.principalID))}"
            + ",\"requestParameters\":{\"sourceIPAddress\":\(quote(r.sourceIP))}"
            + ",\"responseElements\":{\"x-amz-request-id\":\(quote(r.requestID)),\"x-amz-id-2\":\(quote(r.hostID))}"
            + ",\"s3\":{\"s3SchemaVersion\":\"1.0\",\"configurationId\":\(quote(configurationID))"
            + ",\"bucket\":{\"name\":\(quote(r.bucket)),\"ownerIdentity\":{\"principalId\":\(quote(r.bucketOwnerID))}"
            + ",\"arn\":\(quote("arn:aws:s3:::" + r.bucket))},\"object\":\(o)}}]}"
    }

    /// What S3 sends to each queue of a configuration it has just validated.
    static func testEvent(bucket: String, time: Double, requestID: String, hostID: String) -> String {
        "{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\",\"Time\":\(quote(AWSDate.iso8601(time)))"
            + ",\"Bucket\":\(quote(bucket)),\"RequestId\":\(quote(requestID)),\"HostId\":\(quote(hostID))}"
    }

    /// Keys are URL-encoded as HTML forms encode them (`red flower.jpg` → `red+flower.jpg`, `a@b` → `a%40b`),
    /// except that `/` stays. Letters, digits and `.-_*` pass.
    static func encodeKey(_ key: String) -> String {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(key.utf8.count)
        for c in key.utf8 {
            switch c {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2E, 0x2D, 0x5F, 0x2A, 0x2F: out.append(c)
            case 0x20: out.append(0x2B)
            default: out += [0x25, hex[Int(c >> 4)], hex[Int(c & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped, everything else as UTF-8.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where u.value < 0x20:
                let h = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    // MARK: Who

    /// The "Amazon customer ID" S3 shows for an account (`A3NL1KOZZKExample`-shaped: A and 13 of [A-Z0-9]), stable.
    static func customerID(_ account: String) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let digest = SHA256.hash(Array("cloudless-customer-\(account)".utf8))
        return "A" + String(digest.prefix(13).map { alphabet[Int($0) % alphabet.count] })
    }

    /// userIdentity.principalId of a request: `AWS:<IAM user id>` for access keys (the id SQS also reports as
    /// SenderId), the account's customer id for its root credentials (a 12-digit key), `anonymous` unsigned.
    static func principalID(_ caller: CallerIdentity) -> String {
        guard let key = caller.accessKeyID else { return "anonymous" }
        return AccountID.isValid(key) ? customerID(caller.accountID) : "AWS:AIDA" + key.uppercased()
    }
}

/// Event sequencers: 18 hex digits that only grow (S3's are `00` + the time in seconds + a fraction), so that
/// of two events for one key, the later one has the greater sequencer, compared as strings.
enum Sequencer {
    private static let last = Atomic<UInt64>(0)

    static func next(now: Double) -> String {
        let seconds = UInt64(max(now, 0))
        let fraction = UInt64((max(now, 0) - Double(seconds)) * 4_294_967_296)
        let candidate = seconds << 32 | min(fraction, 0xFFFF_FFFF)
        var current = last.load(ordering: .relaxed)
        while true {
            let value = max(candidate, current &+ 1)
            let (exchanged, original) = last.compareExchange(expected: current, desired: value, ordering: .relaxed)
            if exchanged { return format(value) }
            current = original
        }
    }

    static func format(_ v: UInt64) -> String {
        let h = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: 18 - h.count) + h
    }
}
