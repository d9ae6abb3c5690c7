import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import Testing
@testable import S3

// S3 event notifications (S3 User Guide, "Amazon S3 Event Notifications", "Event message structure",
// "Configuring event notifications using object key name filtering"): the NotificationConfiguration parser and
// its validation, the event JSON byte for byte, key encoding, sequencers, and publishing through S3Service
// to a recording QueueEventSink.

private let queueARN = "arn:aws:sqs:us-east-1:000000000000:events"

private func document(_ body: String) -> [UInt8] {
    Array("<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\(body)</NotificationConfiguration>".utf8)
}

private func queue(_ id: String = "q", arn: String = queueARN, events: [String] = ["s3:ObjectCreated:*"],
                   rules: [(String, String)] = []) -> String {
    var s = "<QueueConfiguration><Id>\(id)</Id><Queue>\(arn)</Queue>" + events.map { "<Event>\($0)</Event>" }.joined()
    if !rules.isEmpty {
        s += "<Filter><S3Key>" + rules.map { "<FilterRule><Name>\($0.0)</Name><Value>\($0.1)</Value></FilterRule>" }.joined()
            + "</S3Key></Filter>"
    }
    return s + "</QueueConfiguration>"
}

private func validated(_ body: String, region: String = "us-east-1") throws -> NotificationConfiguration {
    var c = try NotificationConfiguration.parse(document(body))
    try c.validate(bucketRegion: region)
    return c
}

private func rejection(_ body: String, region: String = "us-east-1") -> AWSError? {
    do { _ = try validated(body, region: region) } catch { return error as? AWSError }
    return nil
}

private func detail(_ e: AWSError?, _ name: String) -> String? { e?.details.first { $0.0 == name }?.1 }

// MARK: - Parsing and validation

@Suite struct NotificationConfigurationTests {
    @Test func parsesEveryDestinationKindAndRoundTrips() throws {
        let c = try validated("""
            <TopicConfiguration><Id>t</Id><Topic>arn:aws:sns:us-east-1:000000000000:tp</Topic><Event>s3:ObjectRemoved:*</Event></TopicConfiguration>
            \(queue("q", rules: [("prefix", "in/"), ("SUFFIX", ".csv")]))
            <CloudFunctionConfiguration><Id>f</Id><CloudFunction>arn:aws:lambda:us-east-1:000000000000:function:fn</CloudFunction>
              <InvocationRole>arn:aws:iam::000000000000:role/r</InvocationRole><Event>s3:ObjectRestore:*</Event></CloudFunctionConfiguration>
            <EventBridgeConfiguration/>
            """)
        #expect(c.destinations.map(\.type) == [.topic, .queue, .cloudFunction])
        #expect(c.eventBridge)
        #expect(c.queues.first?.filterRules == [.init(name: "Prefix", value: "in/"), .init(name: "Suffix", value: ".csv")])
        #expect(c.destinations[2].invocationRole == "arn:aws:iam::000000000000:role/r")
        // The stored form parses back to the same configuration.
        #expect(NotificationConfiguration.decode(c.encoded) == c)
        #expect(c.encoded.hasPrefix("<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TopicConfiguration><Id>t</Id>"))
    }

    @Test func lambdaFunctionConfigurationIsACloudFunction() throws {
        let c = try validated("""
            <LambdaFunctionConfiguration><LambdaFunctionArn>arn:aws:lambda:us-east-1:000000000000:function:fn</LambdaFunctionArn>
            <Event>s3:ObjectCreated:Put</Event></LambdaFunctionConfiguration>
            """)
        #expect(c.destinations.first?.type == .cloudFunction)
        #expect(c.encoded.contains("<CloudFunctionConfiguration>"))
    }

    @Test func missingIdsAreBase64UUIDs() throws {
        let c = try validated("<QueueConfiguration><Queue>\(queueARN)</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>")
        let id = try #require(c.destinations.first?.id)
        let decoded = try #require(Data(base64Encoded: id).map { String(decoding: $0, as: UTF8.self) })
        #expect(UUID(uuidString: decoded) != nil && decoded == decoded.lowercased())
    }

    @Test func emptyDocumentIsNoConfiguration() throws {
        #expect(try validated("").isEmpty)
        #expect(try NotificationConfiguration.parse(Array("<NotificationConfiguration/>".utf8)).isEmpty)
    }

    @Test(arguments: [
        "<Other/>",
        "<QueueConfiguration><Event>s3:ObjectCreated:*</Event></QueueConfiguration>",  // no Queue
        "<QueueConfiguration><Queue>\(queueARN)</Queue></QueueConfiguration>",  // no Event
        "<QueueConfiguration><Queue>\(queueARN)</Queue>",  // not well-formed
    ])
    func malformed(_ body: String) {
        #expect(rejection(body)?.code == "MalformedXML")
    }

    @Test func wrongRootIsMalformed() {
        #expect(throws: AWSError.self) { try NotificationConfiguration.parse(Array("<Tagging/>".utf8)) }
    }

    @Test(arguments: ["invalid-queue", "arn:aws:sns:us-east-1:000000000000:topic", "arn:aws:sqs:us-east-1:000000000000:", "arn:aws:sqs"])
    func unparsableARN(_ arn: String) {
        let e = rejection(queue(arn: arn))
        #expect(e?.code == "InvalidArgument")
        #expect(e?.message == "The ARN could not be parsed")
        #expect(detail(e, "ArgumentName") == "Queue")
        #expect(detail(e, "ArgumentValue") == arn)
    }

    @Test func destinationInAnotherRegion() {
        let e = rejection(queue(), region: "eu-west-1")
        #expect(e?.message == "The notification destination service region is not valid for the bucket location constraint")
    }

    @Test(arguments: ["s3:ObjectCreated", "ObjectCreated:Put", "s3:ObjectCreated:Get", "s3:*"])
    func unsupportedEvent(_ event: String) {
        let e = rejection(queue(events: [event]))
        #expect(e?.code == "InvalidArgument")
        #expect(e?.message == "The event is not supported for notifications")
    }

    @Test func filterRuleNames() {
        let e = rejection(queue(rules: [("INVALID", "x")]))
        #expect(e?.message == "filter rule name must be either prefix or suffix")
        #expect(detail(e, "ArgumentName") == "FilterRule.Name")
        #expect(detail(e, "ArgumentValue") == "INVALID")
        #expect(rejection(queue(rules: [("prefix", "a"), ("Prefix", "b")]))?.message == "Cannot specify more than one prefix rule in a filter.")
    }

    @Test func idsMustBeUnique() {
        let body = queue("same", events: ["s3:ObjectCreated:*"]) + queue("same", events: ["s3:ObjectRemoved:*"])
        #expect(rejection(body)?.code == "InvalidArgument")
    }

    /// (events and filter of one configuration, of another, nil when valid / true "overlap" / false "ambiguous").
    @Test(arguments: [
        (["s3:ObjectCreated:*"], [], ["s3:ObjectRemoved:*"], [], nil),
        (["s3:ObjectCreated:*"], [], ["s3:ObjectCreated:*"], [], true),
        (["s3:ObjectCreated:*"], [], ["s3:ObjectCreated:Put"], [], true),  // a wildcard includes its sub-types
        (["s3:ObjectCreated:Copy"], [], ["s3:ObjectCreated:Put"], [], nil),
        (["s3:ObjectCreated:*"], [("prefix", "images/")], ["s3:ObjectCreated:*"], [("prefix", "logs/")], nil),
        (["s3:ObjectCreated:*"], [("prefix", "images")], ["s3:ObjectCreated:*"], [("prefix", "images/")], false),
        (["s3:ObjectCreated:*"], [("suffix", ".jpg")], ["s3:ObjectCreated:*"], [("suffix", ".png")], nil),
        (["s3:ObjectCreated:*"], [("suffix", "jpg")], ["s3:ObjectCreated:*"], [("suffix", ".jpg")], false),
        (["s3:ObjectCreated:*"], [("prefix", "images/")], ["s3:ObjectCreated:*"], [("suffix", ".jpg")], false),
        (["s3:ObjectCreated:*"], [], ["s3:ObjectCreated:*"], [("suffix", ".jpg")], false),
        (["s3:ObjectCreated:*"], [("prefix", "a/"), ("suffix", ".jpg")], ["s3:ObjectCreated:*"], [("prefix", "a/"), ("suffix", ".png")], nil),
    ] as [([String], [(String, String)], [String], [(String, String)], Bool?)])
    func overlaps(_ eventsA: [String], _ rulesA: [(String, String)], _ eventsB: [String], _ rulesB: [(String, String)], _ expected: Bool?) {
        let body = queue("a", events: eventsA, rules: rulesA) + queue("b", arn: queueARN + "2", events: eventsB, rules: rulesB)
        let e = rejection(body)
        switch expected {
        case nil: #expect(e == nil)
        case true?:
            #expect(e?.message == "Configurations overlap. Configurations on the same bucket cannot share a common event type.")
            #expect(detail(e, "ArgumentName") == "Event")
        case false?:
            #expect(e?.message == "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the prefixes are overlapping for the same event type.")
        }
    }

    @Test func matching() throws {
        let c = try validated(queue(events: ["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"], rules: [("prefix", "in/"), ("suffix", ".csv")]))
        let d = try #require(c.queues.first)
        #expect(d.matches(event: "s3:ObjectCreated:Put", encodedKey: "in/a.csv"))
        #expect(d.matches(event: "s3:ObjectCreated:CompleteMultipartUpload", encodedKey: "in/a.csv"))
        #expect(d.matches(event: "s3:ObjectRemoved:Delete", encodedKey: "in/a.csv"))
        #expect(!d.matches(event: "s3:ObjectRemoved:DeleteMarkerCreated", encodedKey: "in/a.csv"))
        #expect(!d.matches(event: "s3:ObjectCreated:Put", encodedKey: "out/a.csv"))
        #expect(!d.matches(event: "s3:ObjectCreated:Put", encodedKey: "in/a.txt"))
        // Filters are written against the encoded key: a space is "+".
        let spaced = try #require(try validated(queue(rules: [("prefix", "my+dir/")])).queues.first)
        #expect(spaced.matches(event: "s3:ObjectCreated:Put", encodedKey: S3EventMessage.encodeKey("my dir/x")))
    }
}

// MARK: - Event messages

@Suite struct EventMessageTests {
    static let record = S3EventMessage.Record(
        eventName: "ObjectCreated:Put", region: "us-east-1", time: 1_700_000_000.123, principalID: "AWS:AIDATEST",
        sourceIP: "127.0.0.1", requestID: "C3D13FE58DE4C810", hostID: "cloudless/C3D13FE58DE4C810", bucket: "bkt",
        bucketOwnerID: "A3NL1KOZZKEXAM", key: "dir/Happy Face.jpg", size: 1024, eTag: "d41d8cd98f00b204e9800998ecf8427e",
        versionID: nil, sequencer: "0055AED6DCD90281E5")

    @Test func createdEventIsAWSsJSON() {
        let expected = """
            {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2023-11-14T22:13:20.123Z",\
            "eventName":"ObjectCreated:Put","userIdentity":{"principalId":"AWS:AIDATEST"},"requestParameters":{"sourceIPAddress":"127.0.0.1"},\
            "responseElements":{"x-amz-request-id":"C3D13FE58DE4C810","x-amz-id-2":"cloudless/C3D13FE58DE4C810"},\
            "s3":{"s3SchemaVersion":"1.0","configurationId":"cfg","bucket":{"name":"bkt","ownerIdentity":{"principalId":"A3NL1KOZZKEXAM"},\
            "arn":"arn:aws:s3:::bkt"},"object":{"key":"dir/Happy+Face.jpg","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e",\
            "sequencer":"0055AED6DCD90281E5"}}}]}
            """
        #expect(S3EventMessage.json(Self.record, configurationID: "cfg") == expected)
    }

    @Test func removedEventHasNoSizeOrETagAndVersionedHasVersionId() throws {
        var r = Self.record
        r.eventName = "ObjectRemoved:DeleteMarkerCreated"
        r.size = nil
        r.eTag = nil
        r.versionID = "096fKKXTRTtl3on89fVO.nfljtsv6qko"
        let json = S3EventMessage.json(r, configurationID: "cfg")
        #expect(json.hasSuffix(#""object":{"key":"dir/Happy+Face.jpg","versionId":"096fKKXTRTtl3on89fVO.nfljtsv6qko","sequencer":"0055AED6DCD90281E5"}}}]}"#))
        // And it is valid JSON.
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect((parsed["Records"] as? [[String: Any]])?.count == 1)
    }

    @Test func testEvent() {
        #expect(S3EventMessage.testEvent(bucket: "bkt", time: 1_413_215_822.089, requestID: "5582815E1AEA5ADF", hostID: "h")
            == #"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2014-10-13T15:57:02.089Z","Bucket":"bkt","RequestId":"5582815E1AEA5ADF","HostId":"h"}"#)
    }

    @Test(arguments: [
        ("HappyFace.jpg", "HappyFace.jpg"), ("red flower.jpg", "red+flower.jpg"), ("a@b", "a%40b"), ("dir/sub/x", "dir/sub/x"),
        ("a+b", "a%2Bb"), ("k=v&x", "k%3Dv%26x"), ("(1)", "%281%29"), ("ä", "%C3%A4"), ("a*b-c_d.e~", "a*b-c_d.e%7E"), ("%", "%25"),
    ])
    func keyEncoding(_ key: String, _ encoded: String) {
        #expect(S3EventMessage.encodeKey(key) == encoded)
    }

    @Test func jsonStringsAreEscaped() throws {
        let s = "quote\" back\\ slash/ tab\t nl\n bell\u{07} ü"
        let q = JSONString.quote(s)
        #expect(q == #""quote\" back\\ slash/ tab\t nl\n bell\u0007 ü""#)
        #expect(try JSONSerialization.jsonObject(with: Data(q.utf8), options: .fragmentsAllowed) as? String == s)
    }

    @Test func sequencersGrow() {
        let now = 1_690_057_715.5
        let a = Sequencer.next(now: now), b = Sequencer.next(now: now), c = Sequencer.next(now: now - 10)
        for s in [a, b, c] {
            #expect(s.count == 18 && s.allSatisfy { $0.isHexDigit && !$0.isLowercase })
        }
        #expect(a.hasPrefix("0064BC3BF3") || a > "0064BC3BF3")  // 00, the seconds, then a fraction
        #expect(a < b && b < c)  // later calls are greater even when the clock stands still or goes back
    }

    @Test func principals() {
        let id = S3EventMessage.customerID("000000000000")
        #expect(id.count == 14 && id.first == "A" && id.allSatisfy { $0.isUppercase || $0.isNumber })
        #expect(id == S3EventMessage.customerID("000000000000") && id != S3EventMessage.customerID("111111111111"))
        #expect(S3EventMessage.principalID(CallerIdentity(accountID: "000000000000", region: "us-east-1", accessKeyID: "test")) == "AWS:AIDATEST")
        #expect(S3EventMessage.principalID(CallerIdentity(accountID: "111111111111", region: "us-east-1", accessKeyID: "111111111111"))
            == S3EventMessage.customerID("111111111111"))
        #expect(S3EventMessage.principalID(CallerIdentity(accountID: "000000000000", region: "us-east-1", accessKeyID: nil)) == "anonymous")
    }
}

// MARK: - Through the service

/// A QueueEventSink that records what it is given; `queues` are the ARNs that exist.
private final class RecordingSink: QueueEventSink {
    let queues: Set<String>
    let sent = Mutex<[(arn: String, body: String)]>([])
    init(queues: Set<String>) { self.queues = queues }

    func acceptsEvents(queueARN: String) -> Bool { queues.contains(queueARN) }
    func deliver(_ body: String, toQueueARN queueARN: String, from principal: ServicePrincipal, traceHeader: String?,
                 attributes: [String: EventMessageAttribute]) throws {
        guard queues.contains(queueARN) else { throw AWSError("QueueDoesNotExist", "no queue") }
        sent.withLock { $0.append((queueARN, body)) }
    }
    func take() -> [(arn: String, body: String)] { sent.withLock { s in defer { s.removeAll() }; return s } }
}

private func withService(sink: RecordingSink, _ body: (S3Service, String) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-notify-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let service = try S3Service(directory: dir, clock: EmulatorClock(), logger: Logger(label: "t"), queueEvents: sink)
    _ = try await service.handle(request(.put, "/bkt"))
    try await body(service, dir)
    try service.store.db.close()
}

private func events(_ sink: RecordingSink) throws -> [[String: Any]] {
    try sink.take().map { m in
        let doc = try JSONSerialization.jsonObject(with: Data(m.body.utf8)) as? [String: Any]
        return (doc?["Records"] as? [[String: Any]])?.first ?? doc ?? [:]
    }
}

@Suite struct NotificationServiceTests {
    @Test func configurationEventsAndRestart() async throws {
        let sink = RecordingSink(queues: [queueARN])
        try await withService(sink: sink) { s, dir in
            let empty = try await s.handle(request(.get, "/bkt", query: "notification"))
            #expect(empty.status == .ok)
            #expect(NotificationConfiguration().encoded == "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></NotificationConfiguration>")

            let doc = String(decoding: document(queue("cfg", events: ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"], rules: [("prefix", "in/")])), as: UTF8.self)
            _ = try await s.handle(request(.put, "/bkt", query: "notification", body: doc))
            let test = try events(sink)
            #expect(test.count == 1 && test.first?["Event"] as? String == "s3:TestEvent" && test.first?["RequestId"] as? String == "REQ1")

            _ = try await s.handle(request(.put, "/bkt/in/a%20b.txt", body: "hello"))
            _ = try await s.handle(request(.put, "/bkt/out/skipped.txt", body: "hello"))
            _ = try await s.handle(request(.delete, "/bkt/in/a%20b.txt"))
            let got = try events(sink)
            #expect(got.map { $0["eventName"] as? String } == ["ObjectCreated:Put", "ObjectRemoved:Delete"])
            let created = try #require((got.first?["s3"] as? [String: Any])?["object"] as? [String: Any])
            #expect(created["key"] as? String == "in/a+b.txt")
            #expect(created["size"] as? Int == 5)
            #expect(created["eTag"] as? String == "5d41402abc4b2a76b9719d911017c592")
            let removed = try #require((got.last?["s3"] as? [String: Any])?["object"] as? [String: Any])
            #expect(removed["size"] == nil && removed["eTag"] == nil)
            #expect((removed["sequencer"] as? String ?? "") > (created["sequencer"] as? String ?? "~"))

            // The configuration is in s3.sqlite: a new service over the same folder has it.
            let again = try S3Service(directory: dir, clock: EmulatorClock(), logger: Logger(label: "t"), queueEvents: sink)
            #expect(again.store.bucket("bkt")?.notification == s.store.bucket("bkt")?.notification)
            #expect(again.store.bucket("bkt")?.notification?.queues.first?.id == "cfg")
            try again.store.db.close()

            // An empty document removes it.
            _ = try await s.handle(request(.put, "/bkt", query: "notification", body: String(decoding: document(""), as: UTF8.self)))
            #expect(s.store.bucket("bkt")?.notification == nil)
            _ = try await s.handle(request(.put, "/bkt/in/c.txt", body: "x"))
            #expect(sink.take().isEmpty)
        }
    }

    @Test func destinationsAreValidatedUnlessSkipped() async throws {
        let sink = RecordingSink(queues: [queueARN])
        try await withService(sink: sink) { s, _ in
            let missing = "arn:aws:sqs:us-east-1:000000000000:missing"
            let doc = String(decoding: document(queue("a", arn: missing) + queue("b", arn: missing + "2", events: ["s3:ObjectRemoved:*"])), as: UTF8.self)
            var caught: AWSError?
            do { _ = try await s.handle(request(.put, "/bkt", query: "notification", body: doc)) } catch { caught = error as? AWSError }
            #expect(caught?.message == "Unable to validate the following destination configurations")
            #expect(caught?.details.map(\.0) == ["ArgumentName1", "ArgumentValue1", "ArgumentName2", "ArgumentValue2"])
            #expect(detail(caught, "ArgumentName2") == missing + "2")
            #expect(detail(caught, "ArgumentValue1") == "The destination queue does not exist")
            #expect(s.store.bucket("bkt")?.notification == nil)

            _ = try await s.handle(request(.put, "/bkt", query: "notification", headers: [("x-amz-skip-destination-validation", "true")], body: doc))
            #expect(s.store.bucket("bkt")?.notification?.queues.count == 2)
            #expect(sink.take().isEmpty)  // no TestEvent without validation
        }
    }
}
