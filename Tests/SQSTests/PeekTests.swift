import Core
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Testing

@testable import SQS

// GET /_cloudless/sqs/peek/<account>/<region>/<queue>: every live message with its state, and nothing in the
// table changes (no receive count, visibility, receipt or first-receive time).

private func withQueue(_ attributes: [String: String] = [:], _ body: (SQSService, Queue) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-sqs-peek-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let service = try SQSService(directory: dir, clock: EmulatorClock(), logger: Logger(label: "t"))
    let queue = Queue(account: "000000000000", region: "us-east-1", name: "q", attributes: attributes, tags: [:], created: 0, modified: 0)
    try service.store.db.writeNow { db in try QueueStore.save(queue, db) }
    try await body(service, queue)
    try service.store.db.close()
}

private func messageTable(_ s: SQSService) throws -> [String] {
    try s.store.db.readNow { db in
        try Row.fetchAll(db, sql: "SELECT * FROM message ORDER BY seq").map { $0.description }
    }
}

private func json(_ response: AWSResponse?) async throws -> [String: Any] {
    let r = try #require(response)
    let sink = PeekSink()
    try await r.body.write(CollectingWriter(sink: sink))
    return try #require(try JSONSerialization.jsonObject(with: Data(sink.bytes)) as? [String: Any])
}

@Suite struct PeekTests {
    @Test func listsStatesAndChangesNothing() async throws {
        try await withQueue { s, q in
            let arn = "arn:aws:sqs:us-east-1:000000000000:q"
            for body in ["one", "two", "three"] { try s.deliver(body, toQueueARN: arn, from: .s3, traceHeader: nil) }
            let now = s.clock.now()
            // "one" is received (in flight); "three" is pushed into the future as a delayed message would be.
            let taken = try s.takeMessages(q, max: 1, visibility: 30, now: now)
            #expect(taken.map(\.body) == ["one"])
            try s.store.db.writeNow { db in try db.execute(sql: "UPDATE message SET visible_at = ? WHERE body = 'three'", arguments: [now + 60]) }
            let before = try messageTable(s)
            let peeked = try s.peek(q, limit: 100)
            #expect(peeked.map { $0["body"] as? String } == ["one", "two", "three"])
            #expect(peeked.map { $0["state"] as? String } == ["inFlight", "visible", "delayed"])
            #expect(peeked.map { $0["receiveCount"] as? Int } == [1, 0, 0])
            #expect(peeked[0]["firstReceiveTimestamp"] != nil && peeked[1]["firstReceiveTimestamp"] == nil)
            _ = try s.peek(q, limit: 100)
            #expect(try messageTable(s) == before)
            #expect(try s.peek(q, limit: 2).count == 2)
        }
    }

    @Test func routeAnswersByPath() async throws {
        try await withQueue { s, _ in
            try s.deliver("hello", toQueueARN: "arn:aws:sqs:us-east-1:000000000000:q", from: .s3, traceHeader: nil)
            let ok = try await json(await s.internalResponse(method: .get, path: "/_cloudless/sqs/peek/000000000000/us-east-1/q"))
            #expect((ok["messages"] as? [[String: Any]])?.first?["body"] as? String == "hello")
            #expect(await s.internalResponse(method: .get, path: "/_cloudless/sqs/peek/000000000000/us-east-1/missing")?.status == .notFound)
            #expect(await s.internalResponse(method: .get, path: "/_cloudless/sqs/peek/000000000000/q")?.status == .badRequest)
            #expect(await s.internalResponse(method: .post, path: "/_cloudless/sqs/peek/000000000000/us-east-1/q")?.status == .methodNotAllowed)
            #expect(await s.internalResponse(method: .get, path: "/_cloudless/sqs/other") == nil)
        }
    }
}

private final class PeekSink: @unchecked Sendable {
    var bytes: [UInt8] = []
}

private struct CollectingWriter: ResponseBodyWriter {
    let sink: PeekSink
    mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes += Array(buffer.readableBytesView) }
    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for b in buffers { sink.bytes += Array(b.readableBytesView) }
    }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
