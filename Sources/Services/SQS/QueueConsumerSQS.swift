import Core
import Foundation

/// Lambda's event source mappings read queues through Core's `QueueConsumer`, with a consumer's semantics: the
/// queue's visibility timeout, receive counts and dead-letter moves all apply.
extension SQSService: QueueConsumer {
    func queue(arn text: String) throws -> Queue? {
        guard let arn = ARN(text), arn.service == "sqs" else { return nil }
        return try store.queue(account: arn.account, region: arn.region, name: arn.resource)
    }

    public func queueExists(arn: String) -> Bool { (try? queue(arn: arn)) != nil }

    public func receive(queueARN: String, max: Int, waitSeconds: Int) async throws -> [ConsumedMessage] {
        let deadline = clock.now() + Double(waitSeconds)
        while true {
            guard let q = try queue(arn: queueARN) else { throw SQSError.queueDoesNotExist() }
            let seen = signals.generation(q.key)
            let now = clock.now()
            let got = try takeMessages(q, max: Swift.min(max, 10), visibility: q.int("VisibilityTimeout"), now: now)
            if !got.isEmpty || now >= deadline {
                return got.map { m in
                    let rendered = Self.render(m, fifo: q.isFIFO, systemNames: ["All"], attributeNames: ["All"])
                    let attributes = (rendered["MessageAttributes"] as? [String: Any]) ?? [:]
                    let json = (try? JSONSerialization.data(withJSONObject: attributes)) ?? Data("{}".utf8)
                    return ConsumedMessage(
                        messageID: m.id, receiptHandle: m.receipt, body: m.body, md5OfBody: m.md5Body,
                        attributes: rendered["Attributes"] as? [String: String] ?? [:],
                        messageAttributesJSON: String(decoding: json, as: UTF8.self))
                }
            }
            await SnapshotGate.outside { await signals.wait(q.key, seen: seen, seconds: Swift.min(1, deadline - now)) }
            if Task.isCancelled { return [] }
        }
    }

    public func delete(queueARN: String, receiptHandles: [String]) throws {
        guard let q = try queue(arn: queueARN) else { throw SQSError.queueDoesNotExist() }
        let now = clock.now()
        try store.db.writeNow { db in
            for h in receiptHandles { try? Self.delete(q, handle: h, now: now, db) }
        }
    }
}
