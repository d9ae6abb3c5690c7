import Core
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import Testing
@testable import S3

// S3's notification outbox: an event is a row written in the object's transaction (or not at all), delivered after
// the commit, and delivered again by a restarted service when the first delivery did not happen.

private let queueARN = "arn:aws:sqs:us-east-1:000000000000:events"

/// A queue sink that records bodies; while `down` it fails as a database error would (worth retrying).
private final class FlakySink: QueueEventSink {
    let sent = Mutex<[String]>([])
    let down = Mutex(false)
    func acceptsEvents(queueARN: String) -> Bool { true }
    func deliver(_ body: String, toQueueARN: String, from: ServicePrincipal, traceHeader: String?,
                 attributes: [String: EventMessageAttribute]) throws {
        if down.withLock({ $0 }) { throw AWSError.internalError() }
        sent.withLock { $0.append(body) }
    }
    var bodies: [String] { sent.withLock { $0 } }
}

private let configuration = """
    <NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><QueueConfiguration><Id>q</Id>\
    <Queue>\(queueARN)</Queue><Event>s3:ObjectCreated:*</Event><Event>s3:ObjectRemoved:*</Event></QueueConfiguration>\
    </NotificationConfiguration>
    """

private func withBucket(_ sink: FlakySink, _ body: (S3Service, String) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-outbox-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let service = try S3Service(directory: dir, clock: EmulatorClock(), logger: Logger(label: "t"), queueEvents: sink)
    _ = try await service.handle(request(.put, "/bkt"))
    _ = try await service.handle(request(.put, "/bkt", query: "notification", body: configuration))
    _ = sink.sent.withLock { $0.removeAll() }  // the s3:TestEvent
    try await body(service, dir)
    try service.store.db.close()
}

private func outboxBodies(_ s: S3Service) throws -> [String] {
    try s.store.db.readNow { try String.fetchAll($0, sql: "SELECT body FROM notification_outbox ORDER BY id") }
}

@Suite struct NotificationOutboxTests {
    @Test func anUndeliveredEventIsDeliveredByTheNextRunWithTheSameMessage() async throws {
        let sink = FlakySink()
        try await withBucket(sink) { s, dir in
            sink.down.withLock { $0 = true }
            let put = try await s.handle(request(.put, "/bkt/k1", body: "hello"))
            #expect(put.status == .ok)  // the write stands: its event waits in the outbox
            let staged = try outboxBodies(s)
            #expect(staged.count == 1 && staged[0].contains("\"key\":\"k1\"") && staged[0].contains("ObjectCreated:Put"))

            // The next run (the same folder), once the retry is due (a second later), delivers exactly the message
            // built at write time.
            sink.down.withLock { $0 = false }
            let later = EmulatorClock()
            later.advance(by: 1)
            let again = try S3Service(directory: dir, clock: later, logger: Logger(label: "t"), queueEvents: sink)
            again.outbox.deliverDue()
            #expect(sink.bodies == staged)
            #expect(try outboxBodies(again).isEmpty)
            try again.store.db.close()
        }
    }

    @Test func deliveredBeforeTheAnswerAndDeletedInABatch() async throws {
        let sink = FlakySink()
        try await withBucket(sink) { s, _ in
            _ = try await s.handle(request(.put, "/bkt/a", body: "1"))
            _ = try await s.handle(request(.put, "/bkt/b", body: "2"))
            #expect(sink.bodies.count == 2)
            let delete = "<Delete><Object><Key>a</Key></Object><Object><Key>b</Key></Object></Delete>"
            _ = try await s.handle(request(.post, "/bkt", query: "delete", body: delete))
            #expect(sink.bodies.count == 4)
            #expect(sink.bodies.suffix(2).allSatisfy { $0.contains("ObjectRemoved:Delete") })
            #expect(try outboxBodies(s).count == 4)  // delivered; deleted by the next flush
            s.outbox.flush()
            #expect(try outboxBodies(s).isEmpty)
        }
    }

    @Test func aRefusedWriteStagesNoEvent() async throws {
        let sink = FlakySink()
        try await withBucket(sink) { s, _ in
            _ = try await s.handle(request(.put, "/bkt/k", body: "1"))
            s.outbox.flush()
            await #expect(throws: AWSError.self) {
                _ = try await s.handle(request(.put, "/bkt/k", headers: [("if-none-match", "*")], body: "2"))
            }
            #expect(sink.bodies.count == 1)
            #expect(try outboxBodies(s).isEmpty)
        }
    }
}
