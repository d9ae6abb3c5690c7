import Foundation
import GRDB
import Logging
import Synchronization
import Testing
@testable import Core

// The transactional outbox: rows inserted with the change that causes them, delivered after the commit, deleted in
// batches once the sink took them, retried while the sink fails in a way worth retrying, and picked up again by a
// new outbox over the same database (a restart).

/// A sink for queues and functions that records what it takes; `failure` is thrown instead while set.
private final class FakeSink: QueueEventSink, FunctionEventSink {
    let sent = Mutex<[(target: String, body: String, attributes: [String: EventMessageAttribute])]>([])
    let failure = Mutex<(any Error)?>(nil)

    func acceptsEvents(queueARN: String) -> Bool { true }
    func acceptsEvents(functionARN: String) -> Bool { true }
    func deliver(_ body: String, toQueueARN queueARN: String, from principal: ServicePrincipal, traceHeader: String?,
                 attributes: [String: EventMessageAttribute]) throws {
        if let e = failure.withLock({ $0 }) { throw e }
        sent.withLock { $0.append((queueARN, body, attributes)) }
    }
    func invokeAsync(functionARN: String, payload: [UInt8], from principal: ServicePrincipal) throws {
        if let e = failure.withLock({ $0 }) { throw e }
        sent.withLock { $0.append((functionARN, String(decoding: payload, as: UTF8.self), [:])) }
    }
    var bodies: [String] { sent.withLock { $0.map(\.body) } }
}

private struct Fixture {
    let dir: String
    let db: DatabasePool
    let clock = EmulatorClock()
    let sink = FakeSink()
    let outbox: EventOutbox

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-outbox-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        db = try Self.open(dir)
        outbox = EventOutbox(db: db, clock: clock, logger: Logger(label: "t"), queues: sink, functions: sink)
    }

    static func open(_ dir: String) throws -> DatabasePool {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: "CREATE TABLE thing (name TEXT PRIMARY KEY)")
            try EventOutbox.createTable(db)
        }
        return try ServiceDatabase.open(path: dir + "/t.sqlite", migrator: m)
    }

    /// One write: a row of `thing` and its events, in one transaction.
    func write(_ name: String, _ messages: [OutboxMessage]) throws -> EventOutbox.Staged {
        try db.writeNow { db in
            try db.execute(sql: "INSERT INTO thing (name) VALUES (?)", arguments: [name])
            return try outbox.stage(messages, db)
        }
    }

    func rows() throws -> Int { try outbox.count() }
    func attempts() throws -> [Int] { try db.readNow { try Int.fetchAll($0, sql: "SELECT attempts FROM event_outbox ORDER BY id") } }
    func cleanUp() { try? db.close(); try? FileManager.default.removeItem(atPath: dir) }
}

private func queued(_ body: String) -> OutboxMessage {
    OutboxMessage(.queue, target: "arn:aws:sqs:us-east-1:000000000000:q", body: body, principal: .s3, traceHeader: "Root=1")
}

@Suite struct EventOutboxTests {
    @Test func stagedWithTheChangeDeliveredAfterCommitDeletedInABatch() throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        let staged = try f.write("a", [queued("one"), OutboxMessage(.function, target: "arn:aws:lambda:us-east-1:000000000000:function:fn",
                                                                     body: "two", principal: .s3)])
        #expect(try f.rows() == 2)
        // Held by the writer: the loop's scan does not send them meanwhile (no duplicate).
        f.outbox.deliverDue()
        #expect(f.sink.bodies.isEmpty)
        f.outbox.deliver(staged)
        #expect(f.sink.bodies == ["one", "two"])
        #expect(try f.rows() == 2)  // deleted by the next flush, not one transaction per event
        f.outbox.flush()
        #expect(try f.rows() == 0)
        f.outbox.deliverDue()
        #expect(f.sink.bodies.count == 2)
    }

    @Test func aRolledBackWriteLeavesNoEvent() throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            _ = try f.db.writeNow { db -> EventOutbox.Staged in
                _ = try f.outbox.stage([queued("never")], db)
                throw Refused()
            }
        }
        #expect(try f.rows() == 0)
        f.outbox.deliver(try f.write("a", [queued("first")]))
        f.outbox.flush()
        #expect(f.sink.bodies == ["first"])
        #expect(try f.rows() == 0)
    }

    @Test func failuresWorthRetryingAreRetriedWithGrowingDelays() throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        f.sink.failure.withLock { $0 = AWSError.internalError() }
        f.outbox.deliver(try f.write("a", [queued("late")]))
        #expect(f.sink.bodies.isEmpty)
        #expect(try f.attempts() == [1])
        f.outbox.deliverDue()  // not due yet: 1 s later
        #expect(try f.attempts() == [1])
        f.clock.advance(by: 1)
        f.outbox.deliverDue()
        #expect(try f.attempts() == [2])
        #expect(EventOutbox.retryDelay(attempts: 1) == 1 && EventOutbox.retryDelay(attempts: 2) == 2)
        #expect(EventOutbox.retryDelay(attempts: 3) == 4 && EventOutbox.retryDelay(attempts: 30) == 60)
        f.sink.failure.withLock { $0 = nil }
        f.clock.advance(by: 1)
        f.outbox.deliverDue()  // 2 s after the second failure: not yet
        #expect(f.sink.bodies.isEmpty)
        f.clock.advance(by: 1)
        f.outbox.deliverDue()
        #expect(f.sink.bodies == ["late"])
        #expect(try f.rows() == 0)
    }

    @Test func refusalsForGoodAreDroppedAsAWSDropsThem() throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        f.sink.failure.withLock { $0 = AWSError("AWS.SimpleQueueService.NonExistentQueue", "gone") }
        f.outbox.deliver(try f.write("a", [queued("lost")]))
        f.outbox.flush()
        #expect(try f.rows() == 0)
        f.sink.failure.withLock { $0 = nil }
        f.clock.advance(by: 120)
        f.outbox.deliverDue()
        #expect(f.sink.bodies.isEmpty)
    }

    @Test func tooOldIsDroppedAfterRetrying() throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        f.sink.failure.withLock { $0 = AWSError.internalError() }
        f.outbox.deliver(try f.write("a", [queued("old")]))
        f.clock.advance(by: EventOutbox.maximumAge + 1)
        f.outbox.deliverDue()
        #expect(try f.rows() == 0)
    }

    @Test func aRestartDeliversWhatTheCrashLeftWithTheSameBytes() throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        let attributes = ["ErrorCode": EventMessageAttribute("Number", "200")]
        // Committed, never delivered: the process died before `deliver`.
        _ = try f.write("a", [queued("{\"n\":1}"), OutboxMessage(.queue, target: "arn:aws:sqs:us-east-1:000000000000:dlq", body: "{\"n\":2}",
                                                                 principal: .lambda, attributes: attributes)])
        try f.db.close()
        let db = try Fixture.open(f.dir)
        defer { try? db.close() }
        let sink = FakeSink()
        let outbox = EventOutbox(db: db, clock: f.clock, logger: Logger(label: "t"), queues: sink, functions: sink)
        outbox.deliverDue()
        #expect(sink.bodies == ["{\"n\":1}", "{\"n\":2}"])
        #expect(sink.sent.withLock { $0.last?.attributes } == attributes)
        #expect(try outbox.count() == 0)
    }

    @Test func aCleanStopDeletesWhatWasDelivered() throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        f.outbox.start()
        f.outbox.deliver(try f.write("a", [queued("once")]))
        f.outbox.stop()
        #expect(try f.rows() == 0)
    }

    @Test func theLoopDeliversLeftoversAndDeletesThem() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        _ = try f.db.writeNow { db in try f.outbox.stage([queued("leftover")], db) }
        // A second outbox over the same file stands for the restarted process.
        let sink = FakeSink()
        let outbox = EventOutbox(db: f.db, clock: f.clock, logger: Logger(label: "t"), queues: sink, functions: sink)
        outbox.start()
        defer { outbox.stop() }
        for _ in 0..<100 where try outbox.count() > 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(sink.bodies == ["leftover"])
        #expect(try outbox.count() == 0)
    }
}
