import Core
import Foundation

/// The SQS poller of an event source mapping: receive a batch (up to BatchSize, within the batching window), invoke
/// the function, delete what succeeded. A failed invocation deletes nothing: the messages come back after the queue's
/// visibility timeout and its redrive policy applies. With ReportBatchItemFailures only the reported ones stay.
extension LambdaService {
    func poll(_ uuid: String) async {
        while !Task.isCancelled {
            guard let m = try? store.db.readNow({ db in try Self.mapping(uuid, db) }), m.Enabled, let queues else { return }
            do {
                // One batch holds the snapshot gate shared, as a request does, out of it while the receive waits
                // and while the function runs: its receive, delete and drops fall on one side of a save or restore.
                try await SnapshotGate.background {
                    if Task.isCancelled { return }  // stopped (a restore) while waiting for the gate
                    var batch = try await queues.receive(queueARN: m.EventSourceArn, max: min(10, m.BatchSize), waitSeconds: 1)
                    if batch.isEmpty || SnapshotGate.stateReplaced { return }
                    let windowEnd = ContinuousClock.now + .seconds(m.MaximumBatchingWindowInSeconds)
                    while batch.count < m.BatchSize && ContinuousClock.now < windowEnd && !Task.isCancelled {
                        let more = try await queues.receive(queueARN: m.EventSourceArn, max: min(10, m.BatchSize - batch.count), waitSeconds: 1)
                        if SnapshotGate.stateReplaced { return }  // the batch was received from a state now gone
                        batch += more
                    }
                    try await deliver(batch, mapping: m, queues: queues)
                }
            } catch {
                logger.debug("event source mapping poll failed", metadata: ["mapping": "\(uuid)", "error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    func deliver(_ batch: [ConsumedMessage], mapping m: EventSourceMapping, queues: any QueueConsumer) async throws {
        // Messages no filter matches are dropped (deleted), as Lambda does.
        let patterns = m.FilterPatterns.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        var records: [[String: Any]] = []
        var dropped: [String] = []
        for message in batch {
            let record = Self.record(message, queueARN: m.EventSourceArn)
            if patterns.isEmpty || patterns.contains(where: { EventFilter.matches(pattern: $0, record: record) }) {
                records.append(record)
            } else {
                dropped.append(message.receiptHandle)
            }
        }
        if !dropped.isEmpty { try queues.delete(queueARN: m.EventSourceArn, receiptHandles: dropped) }
        guard !records.isEmpty else { return }
        let (account, region, name, qualifier) = try Self.parseName(m.FunctionArn, LambdaRequestContext(account: m.account, region: m.region))
        guard let f = try store.function(account: account, region: region, name: name) else { return }
        let (config, _) = try Self.configuration(f, qualifier: qualifier)
        let payload = try JSONSerialization.data(withJSONObject: ["Records": records], options: [.withoutEscapingSlashes])
        let result = try await SnapshotGate.outside { try await run(f, config, payload: [UInt8](payload), clientContext: nil) }
        // Restored or reset while the function ran: the batch belongs to the old state (the restored queue has
        // its own copy of what was not yet deleted, which comes back).
        if SnapshotGate.stateReplaced { return }
        guard case .response(let bytes) = result.outcome else { return }  // failed: the whole batch comes back
        var failed = Set<String>()
        if m.FunctionResponseTypes.contains("ReportBatchItemFailures"),
           let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
           let failures = object["batchItemFailures"] as? [[String: Any]] {
            let ids = Set(records.compactMap { $0["messageId"] as? String })
            for f in failures {
                // An unknown or missing id fails the whole batch, as Lambda does.
                guard let id = f["itemIdentifier"] as? String, ids.contains(id) else { return }
                failed.insert(id)
            }
        }
        let done = records.filter { !failed.contains($0["messageId"] as? String ?? "") }.compactMap { $0["receiptHandle"] as? String }
        try queues.delete(queueARN: m.EventSourceArn, receiptHandles: done)
    }

    /// A record of the `aws:sqs` event, as Lambda builds it.
    static func record(_ m: ConsumedMessage, queueARN: String) -> [String: Any] {
        let attributes = (try? JSONSerialization.jsonObject(with: Data(m.messageAttributesJSON.utf8)) as? [String: Any]) ?? [:]
        var messageAttributes: [String: Any] = [:]
        for (name, value) in attributes {
            guard let v = value as? [String: Any] else { continue }
            var out: [String: Any] = ["stringListValues": [String](), "binaryListValues": [String](), "dataType": v["DataType"] ?? "String"]
            if let s = v["StringValue"] { out["stringValue"] = s }
            if let b = v["BinaryValue"] { out["binaryValue"] = b }
            messageAttributes[name] = out
        }
        return [
            "messageId": m.messageID, "receiptHandle": m.receiptHandle, "body": m.body, "attributes": m.attributes,
            "messageAttributes": messageAttributes, "md5OfBody": m.md5OfBody, "eventSource": "aws:sqs",
            "eventSourceARN": queueARN, "awsRegion": ARN(queueARN)?.region ?? "us-east-1",
        ]
    }
}

/// The account and region a mapping's function name is read in (no request involved).
struct LambdaRequestContext {
    var account: String
    var region: String
}

extension LambdaService {
    static func parseName(_ text: String, _ c: LambdaRequestContext) throws -> (String, String, String, String?) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 7 where parts[0] == "arn": return (parts[4], parts[3], parts[6], nil)
        case 8 where parts[0] == "arn": return (parts[4], parts[3], parts[6], parts[7])
        case 2: return (c.account, c.region, parts[0], parts[1])
        default: return (c.account, c.region, text, nil)
        }
    }
}

/// Lambda's event filtering (a subset of EventBridge patterns): a pattern's keys must all match; a list of values
/// matches when one does (exact values, `{"prefix": ...}`, `{"anything-but": [...]}`, `{"exists": bool}`,
/// `{"numeric": [op, n, ...]}`); a JSON `body` is matched field by field.
enum EventFilter {
    static func matches(pattern: [String: Any], record: [String: Any]) -> Bool {
        var subject = record
        if let body = record["body"] as? String, let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) {
            subject["body"] = json
        }
        return matches(pattern, subject)
    }

    static func matches(_ pattern: [String: Any], _ value: [String: Any]) -> Bool {
        pattern.allSatisfy { key, rule in
            if let nested = rule as? [String: Any] {
                guard let inner = value[key] as? [String: Any] else { return false }
                return matches(nested, inner)
            }
            guard let options = rule as? [Any] else { return false }
            return options.contains { option($0, value[key]) }
        }
    }

    static func option(_ option: Any, _ actual: Any?) -> Bool {
        if let o = option as? [String: Any] {
            if let p = o["prefix"] as? String { return (actual as? String)?.hasPrefix(p) ?? false }
            if let e = o["exists"] as? Bool { return (actual != nil) == e }
            if let not = o["anything-but"] {
                let list = not as? [Any] ?? [not]
                return actual != nil && !list.contains { equal($0, actual) }
            }
            if let numeric = o["numeric"] as? [Any], let n = (actual as? NSNumber)?.doubleValue {
                var i = 0
                while i + 1 < numeric.count {
                    guard let op = numeric[i] as? String, let bound = (numeric[i + 1] as? NSNumber)?.doubleValue else { return false }
                    let ok: Bool
                    switch op {
                    case "=": ok = n == bound
                    case "<": ok = n < bound
                    case "<=": ok = n <= bound
                    case ">": ok = n > bound
                    case ">=": ok = n >= bound
                    default: ok = false
                    }
                    if !ok { return false }
                    i += 2
                }
                return true
            }
            return false
        }
        if let list = actual as? [Any] { return list.contains { equal(option, $0) } }
        return equal(option, actual)
    }

    static func equal(_ a: Any, _ b: Any?) -> Bool {
        switch (a, b) {
        case (let x as String, let y as String): return x == y
        case (let x as NSNumber, let y as NSNumber): return x.doubleValue == y.doubleValue
        case (is NSNull, nil), (is NSNull, is NSNull): return true
        default: return false
        }
    }
}
