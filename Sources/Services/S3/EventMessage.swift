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
        var o = "{\"key\":\(JSONString.quote(encodeKey(r.key)))"
        if let size = r.size { o += ",\"size\":\(size)" }
        if let eTag = r.eTag { o += ",\"eTag\":\(JSONString.quote(eTag))" }
        if let v = r.versionID { o += ",\"versionId\":\(JSONString.quote(v))" }
        o += ",\"sequencer\":\(JSONString.quote(r.sequencer))}"
        return "{\"Records\":[{\"eventVersion\":\"2.1\",\"eventSource\":\"aws:s3\",\"awsRegion\":\(JSONString.quote(r.region))"
            + ",\"eventTime\":\(JSONString.quote(AWSDate.iso8601(r.time))),\"eventName\":\(JSONString.quote(r.eventName))"
            + ",\"userIdentity\":{\"principalId\":\(JSONString.quote(r.principalID))}"
            + ",\"requestParameters\":{\"sourceIPAddress\":\(JSONString.quote(r.sourceIP))}"
            + ",\"responseElements\":{\"x-amz-request-id\":\(JSONString.quote(r.requestID)),\"x-amz-id-2\":\(JSONString.quote(r.hostID))}"
            + ",\"s3\":{\"s3SchemaVersion\":\"1.0\",\"configurationId\":\(JSONString.quote(configurationID))"
            + ",\"bucket\":{\"name\":\(JSONString.quote(r.bucket)),\"ownerIdentity\":{\"principalId\":\(JSONString.quote(r.bucketOwnerID))}"
            + ",\"arn\":\(JSONString.quote("arn:aws:s3:::" + r.bucket))},\"object\":\(o)}}]}"
    }

    /// What S3 sends to each queue of a configuration it has just validated.
    static func testEvent(bucket: String, time: Double, requestID: String, hostID: String) -> String {
        "{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\",\"Time\":\(JSONString.quote(AWSDate.iso8601(time)))"
            + ",\"Bucket\":\(JSONString.quote(bucket)),\"RequestId\":\(JSONString.quote(requestID)),\"HostId\":\(JSONString.quote(hostID))}"
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
