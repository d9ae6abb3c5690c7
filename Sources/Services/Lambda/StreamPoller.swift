import Core
import Foundation

/// The poller of an event source mapping on a DynamoDB stream: read the shard's records after the mapping's position
/// (up to BatchSize, within the batching window), invoke the function with them, move the position past them. A
/// failed invocation moves nothing: the same batch is retried (later records wait, so each shard is delivered in
/// order) until it succeeds or MaximumRetryAttempts is spent; BisectBatchOnFunctionError halves it first. The
/// position is in the mapping's document, so a restart resumes where it stopped.
extension LambdaService {
    static func isStreamARN(_ arn: String) -> Bool { arn.hasPrefix("arn:aws:dynamodb:") && arn.contains("/stream/") }

    func checkStreamSource(_ source: String, _ input: [String: Any]) throws {
        guard let streams, streams.streamExists(arn: source) else {
            throw LambdaError.invalid("Stream not found: \(source)")
        }
        guard let start = input["StartingPosition"] as? String else {
            throw LambdaError.invalid("1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.")
        }
        guard ["TRIM_HORIZON", "LATEST"].contains(start) else {
            throw LambdaError.invalid("Unsupported starting position for arn type: \(start)")
        }
    }

    /// The stream settings of CreateEventSourceMapping / UpdateEventSourceMapping, checked as Lambda does.
    func streamSettings(_ m: inout EventSourceMapping, _ input: [String: Any], create: Bool) throws {
        if create {
            m.StartingPosition = input["StartingPosition"] as? String
            // LATEST starts after what the stream holds now; TRIM_HORIZON at its oldest record.
            var positions: [String: String] = [:]
            for shard in try streams?.shards(streamARN: m.EventSourceArn) ?? [] {
                positions[shard] = m.StartingPosition == "LATEST"
                    ? try streams?.latestSequenceNumber(streamARN: m.EventSourceArn, shard: shard) ?? "0" : "0"
            }
            m.Positions = positions
        }
        if let n = input["MaximumRetryAttempts"] as? NSNumber {
            guard (-1...10_000).contains(n.intValue) else {
                throw LambdaError.validation(n.stringValue, "maximumRetryAttempts", "Member must have value less than or equal to 10000")
            }
            m.MaximumRetryAttempts = n.intValue
        }
        if let n = input["MaximumRecordAgeInSeconds"] as? NSNumber { m.MaximumRecordAgeInSeconds = n.intValue }
        if let n = input["ParallelizationFactor"] as? NSNumber {
            guard (1...10).contains(n.intValue) else {
                throw LambdaError.validation(n.stringValue, "parallelizationFactor", "Member must have value less than or equal to 10")
            }
            m.ParallelizationFactor = n.intValue
        }
        if let b = input["BisectBatchOnFunctionError"] as? Bool { m.BisectBatchOnFunctionError = b }
        if let d = input["DestinationConfig"] as? [String: Any], let data = try? JSONSerialization.data(withJSONObject: d) {
            m.DestinationConfig = try? JSON(parsing: data)
        }
    }

    func pollMapping(_ uuid: String) async {
        guard let m = try? store.db.readNow({ db in try Self.mapping(uuid, db) }) else { return }
        if Self.isStreamARN(m.EventSourceArn) { await pollStream(uuid) } else { await poll(uuid) }
    }

    func pollStream(_ uuid: String) async {
        var cursor = StreamCursor()
        while !Task.isCancelled {
            guard let m = try? store.db.readNow({ db in try Self.mapping(uuid, db) }), m.Enabled, let streams else { return }
            var idle = true
            do {
                try await SnapshotGate.background {
                    if Task.isCancelled { return }
                    let step = try await StreamDelivery.step(m, &cursor, source: streams) { payload in
                        try await self.invokeForStream(m, payload)
                    }
                    if SnapshotGate.stateReplaced { return }
                    guard let step else { return }
                    idle = false
                    // The position and the OnFailure record move together: a crash loses neither.
                    let failure = step.discarded.flatMap { onFailureMessage(m, $0) }
                    let staged = try store.db.writeNow { db in
                        guard var now = try Self.mapping(uuid, db) else { return EventOutbox.Staged() }
                        if let p = step.position { now.Positions = (now.Positions ?? [:]).merging([step.shard: p]) { $1 } }
                        now.LastProcessingResult = step.result
                        try Self.saveMapping(now, db)
                        return try destinations.stage(failure.map { [$0] } ?? [], db)
                    }
                    destinations.deliver(staged)
                }
            } catch {
                logger.debug("stream event source mapping poll failed", metadata: ["mapping": "\(uuid)", "error": "\(error)"])
            }
            // Streams are polled about four times a second; a failed batch waits as long before its retry.
            if idle || cursor.attempts > 0 { try? await Task.sleep(for: .milliseconds(250)) }
        }
    }

    /// What Lambda sends the mapping's OnFailure destination about a batch it passed over (nil without one).
    func onFailureMessage(_ m: EventSourceMapping, _ batch: StreamDelivery.DiscardedBatch) -> OutboxMessage? {
        guard let destination = m.DestinationConfig?["OnFailure"]?["Destination"]?.string, !destination.isEmpty else { return nil }
        let record: [String: Any] = [
            "version": "1.0",
            "timestamp": AWSDate.iso8601(clock.now()),
            "requestContext": ["requestId": UUID().uuidString.lowercased(), "functionArn": m.FunctionArn,
                               "condition": "RetryAttemptsExhausted", "approximateInvokeCount": batch.invokeCount] as [String: Any],
            "responseContext": ["statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"] as [String: Any],
            "DDBStreamBatchInfo": [
                "shardId": batch.shard, "startSequenceNumber": batch.firstSequenceNumber, "endSequenceNumber": batch.lastSequenceNumber,
                "approximateArrivalOfFirstRecord": AWSDate.iso8601(batch.firstArrival),
                "approximateArrivalOfLastRecord": AWSDate.iso8601(batch.lastArrival),
                "batchSize": batch.size, "streamArn": m.EventSourceArn,
            ] as [String: Any],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return message(String(decoding: data, as: UTF8.self), to: destination, functionARN: m.FunctionArn)
    }

    /// Invoke the mapping's function with an event; whether it succeeded, and the sequence numbers it reported as
    /// failed (ReportBatchItemFailures).
    func invokeForStream(_ m: EventSourceMapping, _ payload: [UInt8]) async throws -> StreamInvocation {
        let (account, region, name, qualifier) = try Self.parseName(m.FunctionArn, LambdaRequestContext(account: m.account, region: m.region))
        guard let f = try store.function(account: account, region: region, name: name) else { return .failed }
        let (config, _) = try Self.configuration(f, qualifier: qualifier)
        let result = try await SnapshotGate.outside { try await run(f, config, payload: payload, clientContext: nil) }
        guard case .response(let bytes) = result.outcome else { return .failed }
        if m.FunctionResponseTypes.contains("ReportBatchItemFailures"),
           let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
           let failures = object["batchItemFailures"] as? [[String: Any]], !failures.isEmpty {
            let ids = failures.compactMap { $0["itemIdentifier"] as? String }
            guard ids.count == failures.count else { return .failed }
            return .partial(ids)
        }
        return .succeeded
    }
}

enum StreamInvocation: Sendable, Equatable {
    case succeeded
    case failed
    /// ReportBatchItemFailures: the batch is done up to the first of these sequence numbers.
    case partial([String])
}

/// Per poller, in memory: failures of the current batch, its size limit while bisecting, its batching window.
struct StreamCursor: Sendable {
    var attempts = 0
    var limit: Int?
    /// When the batching window of the current batch began.
    var windowStart: ContinuousClock.Instant?
}

/// One delivery step of a stream mapping, independent of Lambda's storage (unit-tested with a fake stream).
enum StreamDelivery {
    struct Step: Equatable {
        var shard: String
        /// The new position (the last sequence number done), nil when the batch failed and waits.
        var position: String?
        var result: String
        /// A batch passed over after its retries: what the OnFailure destination is told.
        var discarded: DiscardedBatch? = nil
    }

    /// `DDBStreamBatchInfo` of the record Lambda sends to a stream mapping's OnFailure destination.
    struct DiscardedBatch: Equatable {
        var shard: String
        var firstSequenceNumber: String
        var lastSequenceNumber: String
        var size: Int
        var firstArrival: Double
        var lastArrival: Double
        var invokeCount: Int
    }

    /// Read the next batch of the first shard with records, invoke, and say where the shard stands; nil when there
    /// was nothing to deliver yet (no record, or a batching window still open).
    static func step(_ m: EventSourceMapping, _ cursor: inout StreamCursor, source: any StreamRecordSource,
                     invoke: ([UInt8]) async throws -> StreamInvocation) async throws -> Step? {
        let patterns = m.FilterPatterns.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        for shard in try source.shards(streamARN: m.EventSourceArn) {
            let after = m.Positions?[shard] ?? "0"
            let batch = try source.records(streamARN: m.EventSourceArn, shard: shard, after: after, max: cursor.limit ?? m.BatchSize)
            if batch.isEmpty { continue }
            // A batch short of BatchSize waits for the batching window, counted from when its first record was seen;
            // the poller waits outside the snapshot gate and asks again.
            if batch.count < m.BatchSize, m.MaximumBatchingWindowInSeconds > 0, cursor.attempts == 0, cursor.limit == nil {
                let now = ContinuousClock.now
                let start = cursor.windowStart ?? now
                cursor.windowStart = start
                if now - start < .seconds(m.MaximumBatchingWindowInSeconds) { return nil }
            }
            cursor.windowStart = nil
            let last = batch.last!.sequenceNumber
            // Records no filter matches are passed over, as Lambda does.
            let records: [[String: Any]] = batch.compactMap { r in
                guard var o = (try? JSONSerialization.jsonObject(with: Data(r.json.utf8))) as? [String: Any] else { return nil }
                o["eventSourceARN"] = m.EventSourceArn
                return patterns.isEmpty || patterns.contains(where: { EventFilter.matches(pattern: $0, record: o) }) ? o : nil
            }
            if records.isEmpty { return Step(shard: shard, position: last, result: m.LastProcessingResult ?? "No records processed") }
            let payload = try JSONSerialization.data(withJSONObject: ["Records": records], options: [.withoutEscapingSlashes])
            let sequence = records.map { (($0["dynamodb"] as? [String: Any])?["SequenceNumber"] as? String) ?? "" }
            func discarded(from first: Int) -> DiscardedBatch {
                let arrivals = records.map { (($0["dynamodb"] as? [String: Any])?["ApproximateCreationDateTime"] as? NSNumber)?.doubleValue ?? 0 }
                return DiscardedBatch(shard: shard, firstSequenceNumber: sequence[first], lastSequenceNumber: sequence.last ?? "",
                                      size: records.count - first, firstArrival: arrivals[first], lastArrival: arrivals.last ?? 0,
                                      invokeCount: cursor.attempts)
            }
            var outcome = try await invoke([UInt8](payload))
            // An unknown reported id fails the whole batch, as Lambda does.
            if case .partial(let failed) = outcome, !failed.allSatisfy(sequence.contains) { outcome = .failed }
            switch outcome {
            case .succeeded:
                cursor = StreamCursor()
                return Step(shard: shard, position: last, result: "OK")
            case .partial(let failed):
                // Done up to the first failed record; it and what follows come again.
                let first = sequence.firstIndex(where: failed.contains) ?? 0
                cursor.attempts += 1
                let done = first == 0 ? after : sequence[first - 1]
                if exhausted(m, cursor) {
                    let lost = discarded(from: first)
                    cursor = StreamCursor()
                    return Step(shard: shard, position: last, result: "PROBLEM: Function call failed", discarded: lost)
                }
                return Step(shard: shard, position: done, result: "PROBLEM: Function call failed")
            case .failed:
                if m.BisectBatchOnFunctionError == true, batch.count > 1 {
                    cursor.limit = batch.count / 2
                } else {
                    cursor.attempts += 1
                }
                if exhausted(m, cursor) {
                    let lost = discarded(from: 0)
                    cursor = StreamCursor()  // retries spent: the batch is passed over
                    return Step(shard: shard, position: last, result: "PROBLEM: Function call failed", discarded: lost)
                }
                return Step(shard: shard, position: nil, result: "PROBLEM: Function call failed")
            }
        }
        return nil
    }

    /// Whether the batch has failed more often than MaximumRetryAttempts allows (-1: retried until it succeeds).
    static func exhausted(_ m: EventSourceMapping, _ cursor: StreamCursor) -> Bool {
        let max = m.MaximumRetryAttempts ?? -1
        return max >= 0 && cursor.attempts > max
    }
}
