import Core
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Testing

@testable import Lambda

// GET /_cloudless/lambda/async-queue/<account>/<region>/<function>[:<qualifier>][/<request id>]: the queued
// asynchronous invocations with their states, counts over all of them, payloads only one at a time, and nothing
// in the table changes.

private func withFunction(_ body: (LambdaService, LambdaFunction) async throws -> Void) async throws {
    let dir = NSTemporaryDirectory() + "lambda-async-queue-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let service = try LambdaService(directory: dir, clock: EmulatorClock(), endpoint: ServerEndpoint(), logs: DiscardingLogSink(),
                                    supervisor: ProcessSupervisor(), logger: Logger(label: "lambda-async-queue-test"))
    service.dispatcher.stop()  // nothing is attempted: the states are set by hand
    let f = LambdaFunction(account: "000000000000", region: "us-east-1", name: "f", latest: AsyncInvocationTests.config(), created: 0)
    try service.store.db.writeNow { db in try FunctionStore.save(f, db) }
    try await body(service, f)
    await service.shutdown()
    try service.store.db.close()
}

private func queueTable(_ s: LambdaService) throws -> [String] {
    try s.store.db.readNow { db in try Row.fetchAll(db, sql: "SELECT * FROM async_invocation ORDER BY id").map(\.description) }
}

private func id(_ s: LambdaService, _ requestID: String) throws -> Int64 {
    try #require(try s.store.db.readNow { db in
        try Int64.fetchOne(db, sql: "SELECT id FROM async_invocation WHERE request_id = ?", arguments: [requestID])
    })
}

private func json(_ r: AWSResponse) async throws -> [String: Any] {
    let sink = BodySink()
    try await r.body.write(BodyCollector(sink: sink))
    return try #require(try JSONSerialization.jsonObject(with: Data(sink.bytes)) as? [String: Any])
}

@Suite struct AsyncQueueEndpointTests {
    @Test func listsStatesAttemptsAndCountsWithoutPayloadsAndChangesNothing() async throws {
        try await withFunction { s, f in
            let first = try s.enqueueAsync(f, qualifier: nil, payload: Array(#"{"secret":"hunter2"}"#.utf8), clientContext: nil)
            let second = try s.enqueueAsync(f, qualifier: "live", payload: Array(#"{"n":2}"#.utf8), clientContext: nil)
            let third = try s.enqueueAsync(f, qualifier: nil, payload: Array(#"{"n":3}"#.utf8), clientContext: nil)
            // The second failed once and waits a minute; the third is being attempted.
            let now = s.clock.now()
            try s.store.db.writeNow { db in
                try db.execute(sql: "UPDATE async_invocation SET attempts = 1, due = ?, last_error = 'Unhandled', last_response = ? WHERE request_id = ?",
                               arguments: [now + 60, Data(#"{"errorMessage":"boom"}"#.utf8), second])
            }
            #expect(s.dispatcher.claim(try id(s, third)))
            let before = try queueTable(s)

            let queue = try s.asyncQueue(f, qualifier: nil)
            let items = try #require(queue["invocations"] as? [[String: Any]])
            #expect(items.map { $0["requestId"] as? String } == [first, second, third])
            #expect(items.map { $0["state"] as? String } == ["queued", "waitingToRetry", "running"])
            #expect(items.map { $0["attempts"] as? Int } == [0, 1, 0])
            #expect(items.map { $0["qualifier"] as? String } == ["$LATEST", "live", "$LATEST"])
            #expect(items[0]["payloadSize"] as? Int == 20)
            #expect(items[1]["nextAttempt"] as? Int == LambdaService.millis(now + 60))
            #expect(items[1]["lastError"] as? String == "Unhandled" && items[0]["lastError"] == nil)
            #expect(items.allSatisfy { $0["payload"] == nil && $0["lastResponse"] == nil })
            let counts = try #require(queue["counts"] as? [String: Int])
            #expect(counts == ["total": 3, "queued": 1, "running": 1, "waitingToRetry": 1, "retried": 1])
            #expect(queue["now"] as? Int ?? 0 >= LambdaService.millis(now))

            // A qualifier keeps its own invocations ($LATEST includes those sent without one).
            #expect((try s.asyncQueue(f, qualifier: "live")["invocations"] as? [[String: Any]])?.map { $0["requestId"] as? String } == [second])
            #expect((try s.asyncQueue(f, qualifier: "$LATEST")["counts"] as? [String: Int])?["total"] == 2)
            // The list is cut, the counts are not.
            let cut = try s.asyncQueue(f, qualifier: nil, limit: 1)
            #expect((cut["invocations"] as? [Any])?.count == 1 && (cut["counts"] as? [String: Int])?["total"] == 3)
            #expect(cut["truncated"] as? Bool == true && queue["truncated"] as? Bool == false)

            // One invocation, asked for by request id, carries its payload and its last answer.
            let one = try #require(try s.asyncInvocation(f, requestID: second))
            #expect(one["payload"] as? String == #"{"n":2}"# && one["lastResponse"] as? String == #"{"errorMessage":"boom"}"#)
            #expect(one["state"] as? String == "waitingToRetry")
            #expect(try s.asyncInvocation(f, requestID: "no-such-request") == nil)

            #expect(try queueTable(s) == before)
            #expect(s.dispatcher.running == [try id(s, third)])

            // A finished invocation leaves the list and is counted by its condition.
            #expect(queue["finished"] as? [String: Int] == [:])
            let e = try #require(try s.store.db.readNow { db in
                try Row.fetchOne(db, sql: "SELECT \(AsyncInvocation.columns) FROM async_invocation WHERE request_id = ?", arguments: [second])
                    .map(AsyncInvocation.init(row:))
            })
            s.complete(e, f, AsyncInvocationTests.config(), condition: "RetriesExhausted", response: nil, functionError: "Unhandled")
            let after = try s.asyncQueue(f, qualifier: nil)
            #expect(after["finished"] as? [String: Int] == ["RetriesExhausted": 1])
            #expect((after["counts"] as? [String: Int])?["total"] == 2)
            try await s.reset()
            #expect(try s.asyncQueue(f, qualifier: nil)["finished"] as? [String: Int] == [:])
        }
    }

    @Test func theRouteAnswersJSONAndRefusesBadRequests() async throws {
        try await withFunction { s, f in
            let request = try s.enqueueAsync(f, qualifier: nil, payload: Array("{}".utf8), clientContext: nil)
            let base = "/_cloudless/lambda/async-queue/000000000000/us-east-1/"
            let list = try #require(await s.internalResponse(method: .get, path: base + "f"))
            #expect(list.status == .ok && list.headers[.contentType] == "application/json")
            let listed = try await json(list)
            #expect((listed["counts"] as? [String: Int])?["queued"] == 1)
            let qualified = try #require(await s.internalResponse(method: .get, path: base + "f%3Alive"))
            let qualifiedBody = try await json(qualified)
            #expect((qualifiedBody["counts"] as? [String: Int])?["total"] == 0)
            let one = try #require(await s.internalResponse(method: .get, path: base + "f/" + request))
            let oneBody = try await json(one)
            #expect(oneBody["payload"] as? String == "{}")

            let missing = try #require(await s.internalResponse(method: .get, path: base + "nope"))
            let missingBody = try await json(missing)
            #expect(missing.status == .notFound && missingBody["error"] as? String == "ResourceNotFoundException")
            #expect(await s.internalResponse(method: .get, path: base + "f/unknown-id")?.status == .notFound)
            #expect(await s.internalResponse(method: .get, path: base)?.status == .badRequest)
            #expect(await s.internalResponse(method: .get, path: base + "f:")?.status == .badRequest)
            #expect(await s.internalResponse(method: .get, path: base + "f/a/b")?.status == .badRequest)
            #expect(await s.internalResponse(method: .post, path: base + "f")?.status == .methodNotAllowed)
            #expect(await s.internalResponse(method: .delete, path: base + "f/" + request)?.status == .methodNotAllowed)
            #expect((try s.asyncQueue(f, qualifier: nil)["counts"] as? [String: Int])?["total"] == 1)
        }
    }
}

private final class BodySink: @unchecked Sendable {
    var bytes: [UInt8] = []
}

private struct BodyCollector: ResponseBodyWriter {
    let sink: BodySink
    mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes += Array(buffer.readableBytesView) }
    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for b in buffers { sink.bytes += Array(b.readableBytesView) }
    }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
