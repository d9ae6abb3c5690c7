import Core
import Foundation
import Testing

@testable import SQS

@Suite struct MessageAttributeTests {
    // Expected values computed with an independent Python implementation of the documented encoding
    // (4-byte big-endian lengths, transport byte 1 for String/Number, 2 for Binary, names in byte order).
    @Test func md5OfMessageAttributesMatchesTheDocumentedEncoding() throws {
        let attrs = try MessageAttribute.parse([
            "a": ["DataType": "String", "StringValue": "x"],
            "b": ["DataType": "Binary", "BinaryValue": Data([0, 1]).base64EncodedString()],
            "n": ["DataType": "Number.int", "StringValue": "12"],
        ], field: "MessageAttributes")
        #expect(MessageAttribute.md5(attrs) == "95b660b4f3e207b71f70de869cd4ce26")
        let city = try MessageAttribute.parse([
            "City": ["DataType": "String", "StringValue": "Any City"],
            "Population": ["DataType": "Number", "StringValue": "1250800"],
        ], field: "MessageAttributes")
        #expect(MessageAttribute.md5(city) == "bf1eb494fecc925abadc71de4be9785c")
        #expect(MessageAttribute.md5([:]) == nil)
    }

    @Test func invalidAttributesAreRejected() {
        #expect(throws: AWSError.self) { try MessageAttribute.parse(["a": ["DataType": "Str", "StringValue": "x"]], field: "") }
        #expect(throws: AWSError.self) { try MessageAttribute.parse(["a": ["DataType": "Number", "StringValue": "x1"]], field: "") }
        #expect(throws: AWSError.self) { try MessageAttribute.parse(["a": ["DataType": "String"]], field: "") }
        #expect(throws: AWSError.self) { try MessageAttribute.parse(["a": ["DataType": "Binary", "StringValue": "x"]], field: "") }
    }

    @Test func encodeDecodeRoundTrip() throws {
        let attrs = try MessageAttribute.parse([
            "b": ["DataType": "Binary.custom", "BinaryValue": Data([9, 8, 7]).base64EncodedString()],
            "s": ["DataType": "String", "StringValue": "ünï"],
        ], field: "")
        #expect(MessageAttribute.decode(MessageAttribute.encode(attrs)) == attrs)
    }

    @Test func bodyCharacters() {
        #expect(MessageBody.isValid("hello\t\n\r world ✓ 😀"))
        #expect(!MessageBody.isValid("a\u{0}b"))
        #expect(!MessageBody.isValid("a\u{1}b"))
        #expect(!MessageBody.isValid("\u{FFFF}"))
    }
}

@Suite struct QueueTests {
    @Test func queueURLsFromAnyHostNameTheSameQueue() throws {
        for url in ["http://localhost:4566/000000000000/orders", "http://127.0.0.1:4566/000000000000/orders",
                    "http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/orders", "/000000000000/orders"] {
            let (account, name) = try QueueAddress.parse(url)
            #expect(account == "000000000000")
            #expect(name == "orders")
        }
        #expect(throws: AWSError.self) { try QueueAddress.parse("http://localhost:4566/orders") }
        #expect(QueueAddress.url(host: "localhost:4566", account: "000000000000", name: "q") == "http://localhost:4566/000000000000/q")
    }

    @Test func attributeLimits() throws {
        try QueueAttributes.validate(["VisibilityTimeout": "43200", "DelaySeconds": "900"], fifo: false, creating: true)
        #expect(throws: AWSError.self) { try QueueAttributes.validate(["VisibilityTimeout": "43201"], fifo: false, creating: true) }
        #expect(throws: AWSError.self) { try QueueAttributes.validate(["MaximumMessageSize": "1023"], fifo: false, creating: true) }
        #expect(throws: AWSError.self) { try QueueAttributes.validate(["NoSuchAttribute": "1"], fifo: false, creating: true) }
        #expect(throws: AWSError.self) { try QueueAttributes.validate(["ContentBasedDeduplication": "true"], fifo: false, creating: true) }
        // FifoQueue only exists on FIFO queues, and the queue type never changes.
        try QueueAttributes.validate(["FifoQueue": "true"], fifo: true, creating: false)
        #expect(throws: AWSError.self) { try QueueAttributes.validate(["FifoQueue": "false"], fifo: true, creating: false) }
        #expect(throws: AWSError.self) { try QueueAttributes.validate(["FifoQueue": "false"], fifo: false, creating: true) }
        #expect(QueueAttributes.normalized(["FifoQueue": "True", "ContentBasedDeduplication": "FALSE"])
                == ["FifoQueue": "true", "ContentBasedDeduplication": "false"])
    }

    @Test func queueNames() throws {
        try QueueAttributes.validateName("orders-2_b", fifo: false)
        try QueueAttributes.validateName("orders.fifo", fifo: true)
        #expect(throws: AWSError.self) { try QueueAttributes.validateName("orders.fifo", fifo: false) }
        #expect(throws: AWSError.self) { try QueueAttributes.validateName("orders", fifo: true) }
        #expect(throws: AWSError.self) { try QueueAttributes.validateName("bad name", fifo: false) }
        #expect(throws: AWSError.self) { try QueueAttributes.validateName(String(repeating: "a", count: 81), fifo: false) }
    }

    @Test func receiptHandlesNameTheMessage() throws {
        let h = SQSService.receiptHandle(messageID: "abc")
        #expect(try SQSService.messageID(fromReceipt: h) == "abc")
        #expect(h != SQSService.receiptHandle(messageID: "abc"))
        #expect(throws: AWSError.self) { try SQSService.messageID(fromReceipt: "not a handle") }
    }
}

@Suite struct QueueSignalsTests {
    @Test func aSignalWakesAWaiterAtOnce() async {
        let signals = QueueSignals()
        let seen = signals.generation("q")
        let started = ContinuousClock.now
        // Far from the 30 s deadline, even on a loaded machine.
        async let waited: Void = signals.wait("q", seen: seen, seconds: 30)
        try? await Task.sleep(for: .milliseconds(50))
        signals.signal("q")
        await waited
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func aWaiterThatMissedTheSignalDoesNotSleep() async {
        let signals = QueueSignals()
        let seen = signals.generation("q")
        signals.signal("q")
        let started = ContinuousClock.now
        await signals.wait("q", seen: seen, seconds: 30)
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func withoutASignalTheWaitEndsAtItsDeadline() async {
        let signals = QueueSignals()
        let started = ContinuousClock.now
        await signals.wait("q", seen: signals.generation("q"), seconds: 0.2)
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(150) && elapsed < .seconds(10))
    }
}
