import Core
import Foundation
import GRDB
import Logging
import Synchronization
import Testing

@testable import Lambda

/// A queue sink that records messages; while `down` it fails as a database error would (worth retrying).
private final class FlakyQueues: QueueEventSink {
    let sent = Mutex<[(arn: String, body: String, attributes: [String: EventMessageAttribute])]>([])
    let down = Mutex(false)
    func acceptsEvents(queueARN: String) -> Bool { true }
    func deliver(_ body: String, toQueueARN queueARN: String, from principal: ServicePrincipal, traceHeader: String?,
                 attributes: [String: EventMessageAttribute]) throws {
        if down.withLock({ $0 }) { throw AWSError.internalError() }
        sent.withLock { $0.append((queueARN, body, attributes)) }
    }
}

/// A finished asynchronous invocation leaves the queue and stages its destination (and dead-letter) messages in one
/// transaction: a crash between the two loses neither, and the next run delivers what was staged.
@Suite struct DestinationOutboxTests {
    static let onFailure = "arn:aws:sqs:us-east-1:000000000000:failures"
    static let dlq = "arn:aws:sqs:us-east-1:000000000000:dlq"

    fileprivate static func service(_ dir: String, _ queues: FlakyQueues) throws -> LambdaService {
        try LambdaService(directory: dir, clock: EmulatorClock(), endpoint: ServerEndpoint(), logs: DiscardingLogSink(),
                          supervisor: ProcessSupervisor(), queueEvents: queues, logger: Logger(label: "lambda-outbox-test"))
    }

    @Test func aFailureRecordAndTheDeadLetterSurviveAFailedDeliveryAndARestart() async throws {
        let dir = NSTemporaryDirectory() + "lambda-outbox-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let queues = FlakyQueues()
        let service = try Self.service(dir, queues)
        service.dispatcher.stop()  // the invocation is completed by hand below
        var config = AsyncInvocationTests.config()
        config.DeadLetterTargetArn = Self.dlq
        var f = LambdaFunction(account: "000000000000", region: "us-east-1", name: "f", latest: config, created: 0)
        f.eventInvokeConfigs = ["$LATEST": EventInvokeConfig(OnFailure: Self.onFailure, LastModified: 0)]
        try service.enqueueAsync(f, qualifier: nil, payload: Array(#"{"a":1}"#.utf8), clientContext: nil)
        let e = try #require(try service.store.db.readNow { db in
            try Row.fetchOne(db, sql: "SELECT \(AsyncInvocation.columns) FROM async_invocation").map(AsyncInvocation.init(row:))
        })

        queues.down.withLock { $0 = true }
        service.complete(e, f, config, condition: "RetriesExhausted", response: Array(#"{"errorMessage":"boom"}"#.utf8),
                         functionError: "Unhandled")
        let (left, staged) = try service.store.db.readNow { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM async_invocation") ?? -1,
             try String.fetchAll(db, sql: "SELECT target FROM destination_outbox ORDER BY id"))
        }
        #expect(left == 0)
        #expect(staged == [Self.onFailure, Self.dlq])
        #expect(queues.sent.withLock { $0.isEmpty })
        await service.shutdown()
        try service.store.db.close()

        queues.down.withLock { $0 = false }
        // The next run's outbox loop delivers what was staged (deliverDue does the same; claims keep it to one send).
        let again = try Self.service(dir, queues)
        for _ in 0..<150 where queues.sent.withLock({ $0.count }) < 2 {
            again.destinations.deliverDue()
            try await Task.sleep(for: .milliseconds(20))
        }
        again.destinations.flush()
        let sent = queues.sent.withLock { $0 }
        #expect(sent.map(\.arn) == [Self.onFailure, Self.dlq])
        #expect(sent.first?.body.contains(#""condition":"RetriesExhausted""#) == true)
        #expect(sent.last?.body == #"{"a":1}"#)
        #expect(sent.last?.attributes["ErrorMessage"]?.value == "boom")
        #expect(try again.destinations.count() == 0)
        await again.shutdown()
        try again.store.db.close()
    }
}
