import Core
import Foundation
import GRDB
import Logging
import Testing

@testable import SQS

// SQS as the destination of S3 event notifications (Core's QueueEventSink): which ARNs take events, and a
// delivered event stored as a sent message with S3's SenderId, the queue's delay and the trace header.

private func withQueues(_ names: [String: [String: String]], _ body: (SQSService) throws -> Void) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-sqs-events-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let service = try SQSService(directory: dir, clock: EmulatorClock(), logger: Logger(label: "t"))
    try service.store.db.writeNow { db in
        for (name, attributes) in names {
            try QueueStore.save(Queue(account: "000000000000", region: "us-east-1", name: name, attributes: attributes, tags: [:],
                                      created: 0, modified: 0), db)
        }
    }
    try body(service)
    try service.store.db.close()
}

private let arn = "arn:aws:sqs:us-east-1:000000000000:"

@Suite struct NotificationDeliveryTests {
    @Test func onlyExistingStandardQueuesTakeEvents() throws {
        try withQueues(["events": [:], "ordered.fifo": [:]]) { s in
            #expect(s.acceptsEvents(queueARN: arn + "events"))
            #expect(!s.acceptsEvents(queueARN: arn + "ordered.fifo"))  // S3 does not publish to FIFO queues
            #expect(!s.acceptsEvents(queueARN: arn + "missing"))
            #expect(!s.acceptsEvents(queueARN: "arn:aws:sqs:eu-west-1:000000000000:events"))  // another region's queue
            #expect(!s.acceptsEvents(queueARN: "arn:aws:sns:us-east-1:000000000000:events"))
            #expect(!s.acceptsEvents(queueARN: "events"))
            #expect(throws: AWSError.self) { try s.deliver("{}", toQueueARN: arn + "missing", from: .s3, traceHeader: nil) }
        }
    }

    @Test func deliveredEventIsAMessageFromS3() throws {
        try withQueues(["events": ["DelaySeconds": "5"], "small": ["MaximumMessageSize": "1024"]]) { s in
            let before = s.clock.now()
            try s.deliver(#"{"Records":[]}"#, toQueueARN: arn + "events", from: .s3, traceHeader: "Root=1-abc")
            let row = try #require(try s.store.db.readNow { db in
                try Row.fetchOne(db, sql: "SELECT body, sender, sent, visible_at, system_attributes FROM message")
            })
            #expect(row["body"] as String == #"{"Records":[]}"#)
            #expect(row["sender"] as String == "AIDAJHIPRHEMV73VRJEBU")
            #expect((row["visible_at"] as Double) - (row["sent"] as Double) == 5)  // the queue's delay applies
            #expect((row["sent"] as Double) >= before)
            #expect((row["system_attributes"] as String?)?.contains("Root=1-abc") == true)
            // A message over the queue's MaximumMessageSize is refused, as AWS documents for notifications.
            #expect(throws: AWSError.self) {
                try s.deliver(String(repeating: "x", count: 2000), toQueueARN: arn + "small", from: .s3, traceHeader: nil)
            }
        }
    }
}
