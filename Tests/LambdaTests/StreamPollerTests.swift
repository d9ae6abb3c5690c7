@testable import Lambda
import Core
import Foundation
import Synchronization
import Testing

/// A stream of one shard holding records 1...n.
final class FakeStream: StreamRecordSource {
    let count: Int
    init(_ count: Int) { self.count = count }
    func streamExists(arn: String) -> Bool { true }
    func shards(streamARN: String) throws -> [String] { ["shard-1"] }
    func latestSequenceNumber(streamARN: String, shard: String) throws -> String? { count == 0 ? nil : String(count) }
    func records(streamARN: String, shard: String, after: String?, max: Int) throws -> [StreamRecord] {
        let from = Int(after ?? "0") ?? 0
        return (from + 1..<min(count, from + max) + 1).map { i in
            StreamRecord(sequenceNumber: String(i),
                         json: #"{"eventName":"INSERT","dynamodb":{"SequenceNumber":"\#(i)","Keys":{"id":{"N":"\#(i)"}}}}"#)
        }
    }
}

struct StreamPollerTests {
    func mapping(batch: Int, retries: Int? = nil, bisect: Bool? = nil, filters: [String] = []) -> EventSourceMapping {
        var m = EventSourceMapping(UUID: "u", EventSourceArn: "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x",
                                   FunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:f", BatchSize: batch,
                                   MaximumBatchingWindowInSeconds: 0, Enabled: true, State: "Enabled", LastModified: 0,
                                   FunctionResponseTypes: [], FilterPatterns: filters, account: "000000000000", region: "us-east-1")
        m.StartingPosition = "TRIM_HORIZON"
        m.Positions = ["shard-1": "0"]
        m.MaximumRetryAttempts = retries
        m.BisectBatchOnFunctionError = bisect
        return m
    }

    static func sequence(_ payload: [UInt8]) -> [Int] {
        let o = try! JSONSerialization.jsonObject(with: Data(payload)) as! [String: Any]
        return (o["Records"] as! [[String: Any]]).map { Int(($0["dynamodb"] as! [String: Any])["SequenceNumber"] as! String)! }
    }

    /// Run steps until the stream is drained, applying each step's position as the poller persists it.
    func drain(_ m: EventSourceMapping, _ source: FakeStream, steps: Int = 50,
               invoke: @escaping ([Int]) -> StreamInvocation) async throws -> (EventSourceMapping, [[Int]]) {
        var m = m, cursor = StreamCursor(), seen: [[Int]] = []
        for _ in 0..<steps {
            guard let step = try await StreamDelivery.step(m, &cursor, source: source, invoke: { p in
                let s = Self.sequence(p)
                seen.append(s)
                return invoke(s)
            }) else { break }
            if let p = step.position { m.Positions?[step.shard] = p }
            m.LastProcessingResult = step.result
        }
        return (m, seen)
    }

    @Test func batchesInOrderAndAdvance() async throws {
        let (m, seen) = try await drain(mapping(batch: 4), FakeStream(10)) { _ in .succeeded }
        #expect(seen == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]])
        #expect(m.Positions?["shard-1"] == "10")
        #expect(m.LastProcessingResult == "OK")
    }

    @Test func failedBatchIsRetriedBeforeLaterRecords() async throws {
        var failures = 2
        let (m, seen) = try await drain(mapping(batch: 3), FakeStream(5)) { s in
            if s.first == 1, failures > 0 { failures -= 1; return .failed }
            return .succeeded
        }
        #expect(seen == [[1, 2, 3], [1, 2, 3], [1, 2, 3], [4, 5]])
        #expect(m.Positions?["shard-1"] == "5")
    }

    @Test func retriesSpentPassTheBatchOver() async throws {
        let (m, seen) = try await drain(mapping(batch: 2, retries: 1), FakeStream(4)) { s in s.first == 1 ? .failed : .succeeded }
        // The first try and one retry, then the batch is skipped.
        #expect(seen == [[1, 2], [1, 2], [3, 4]])
        #expect(m.Positions?["shard-1"] == "4")
    }

    /// The batch passed over is described for the OnFailure destination: its shard, sequence range, size and tries;
    /// after a partial failure, only the records from the first reported one.
    @Test func passedOverBatchesAreDescribed() async throws {
        func discarded(_ m: EventSourceMapping, _ invoke: @escaping ([Int]) -> StreamInvocation) async throws -> [StreamDelivery.DiscardedBatch] {
            var m = m, cursor = StreamCursor(), out: [StreamDelivery.DiscardedBatch] = []
            for _ in 0..<10 {
                guard let step = try await StreamDelivery.step(m, &cursor, source: FakeStream(5), invoke: { invoke(Self.sequence($0)) }) else { break }
                if let p = step.position { m.Positions?[step.shard] = p }
                if let d = step.discarded { out.append(d) }
            }
            return out
        }
        let whole = try await discarded(mapping(batch: 2, retries: 1)) { s in s.first == 3 ? .failed : .succeeded }
        #expect(whole.map { [$0.firstSequenceNumber, $0.lastSequenceNumber] } == [["3", "4"]])
        #expect(whole.first?.size == 2 && whole.first?.invokeCount == 2 && whole.first?.shard == "shard-1")
        var m = mapping(batch: 3, retries: 0)
        m.FunctionResponseTypes = ["ReportBatchItemFailures"]
        let partial = try await discarded(m) { s in s.first == 1 ? .partial(["2"]) : .succeeded }
        #expect(partial.map { [$0.firstSequenceNumber, $0.lastSequenceNumber] } == [["2", "3"]])
        #expect(partial.first?.size == 2)
        let none = try await discarded(mapping(batch: 2, retries: 1)) { _ in .succeeded }
        #expect(none.isEmpty)
    }

    @Test func bisectHalvesTheFailingBatch() async throws {
        let (_, seen) = try await drain(mapping(batch: 4, bisect: true), FakeStream(4)) { s in s.contains(3) && s.count > 1 ? .failed : .succeeded }
        #expect(seen.prefix(3) == [[1, 2, 3, 4], [1, 2], [3, 4]])
        #expect(seen.last == [4])
    }

    @Test func partialFailureResumesAtTheFirstReportedRecord() async throws {
        var once = true
        let (_, seen) = try await drain(mapping(batch: 4), FakeStream(4)) { s in
            if once { once = false; return .partial(["3"]) }
            return .succeeded
        }
        #expect(seen == [[1, 2, 3, 4], [3, 4]])
    }

    @Test func filteredRecordsArePassedOver() async throws {
        let (m, seen) = try await drain(mapping(batch: 10, filters: [#"{"dynamodb":{"Keys":{"id":{"N":["2","4"]}}}}"#]), FakeStream(5)) { _ in .succeeded }
        #expect(seen == [[2, 4]])
        #expect(m.Positions?["shard-1"] == "5")
    }

    @Test func batchingWindowWaitsForMoreRecords() async throws {
        var m = mapping(batch: 10)
        m.MaximumBatchingWindowInSeconds = 1
        var cursor = StreamCursor(), calls = 0
        let source = FakeStream(3)
        let early = try await StreamDelivery.step(m, &cursor, source: source) { _ in calls += 1; return .succeeded }
        #expect(early == nil && calls == 0)
        try await Task.sleep(for: .milliseconds(1100))
        let late = try await StreamDelivery.step(m, &cursor, source: source) { _ in calls += 1; return .succeeded }
        #expect(late?.position == "3" && calls == 1)
    }
}
