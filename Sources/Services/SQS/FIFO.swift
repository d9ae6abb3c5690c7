import Core
import Foundation
import GRDB

/// FIFO queues: message groups, the 5-minute deduplication window, sequence numbers and ReceiveRequestAttemptId.
enum FIFO {
    /// How long a deduplication id (and a ReceiveRequestAttemptId) is remembered.
    static let window = 300.0

    /// SequenceNumber: 20 digits, increasing with every message stored (derived from the row's `seq`).
    static func sequenceNumber(_ seq: Int64) -> String {
        let digits = String(seq)
        return "1" + String(repeating: "0", count: max(0, 19 - digits.count)) + digits
    }

    /// MessageGroupId, MessageDeduplicationId and ReceiveRequestAttemptId: 1–128 of alphanumerics and punctuation.
    static func isValidToken(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 128 && s.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }
    }

    static func invalid(_ value: Any, _ parameter: String, _ reason: String) -> AWSError {
        SQSError.invalidParameterValue("Value \(value) for parameter \(parameter) is invalid. Reason: \(reason)")
    }

    static let wrongQueueType = "The request include parameter that is not valid for this queue type."

    /// The group and deduplication ids of an entry sent to `q`, checked as SQS does. Standard queues take a
    /// MessageGroupId (fair queues) but no deduplication id; FIFO queues need a group and a deduplication id,
    /// explicit or the SHA-256 of the body when ContentBasedDeduplication is on.
    static func ids(_ entry: [String: Any], body: String, queue q: Queue) throws -> (group: String?, dedup: String?) {
        let group = try token(entry, "MessageGroupId")
        let explicit = try token(entry, "MessageDeduplicationId")
        guard q.isFIFO else {
            if let explicit { throw invalid(explicit, "MessageDeduplicationId", wrongQueueType) }
            return (group, nil)
        }
        guard let group else { throw SQSError.missingParameter("MessageGroupId") }
        if let explicit { return (group, explicit) }
        guard q.attributes["ContentBasedDeduplication"] == "true" else {
            throw SQSError.invalidParameterValue(
                "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
        }
        return (group, Hex.encode(SHA256.hash(Array(body.utf8))))
    }

    /// A FIFO batch with an entry lacking its group or deduplication id fails as a whole (not entry by entry).
    static func checkBatch(_ entries: [[String: Any]], queue q: Queue) throws {
        for e in entries {
            if e["MessageGroupId"] == nil {
                throw SQSError.invalidParameterValue("The request must contain the parameter MessageGroupId.")
            }
            if e["MessageDeduplicationId"] == nil && q.attributes["ContentBasedDeduplication"] != "true" {
                throw SQSError.invalidParameterValue(
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
            }
        }
    }

    private static func token(_ entry: [String: Any], _ name: String) throws -> String? {
        guard let v = entry[name] else { return nil }
        guard let s = v as? String, isValidToken(s) else { throw invalid(v, name, "\(name) can only include alphanumeric and punctuation characters. 1 to 128 in length.") }
        return s
    }

    /// The deduplication scope key: the group with DeduplicationScope=messageGroup, else the whole queue.
    static func scope(_ q: Queue, group: String) -> String {
        q.attributes["DeduplicationScope"] == "messageGroup" ? group : ""
    }

    /// The message an unexpired deduplication id already stands for: (MessageId, SequenceNumber).
    static func duplicate(_ q: Queue, scope: String, dedup: String, now: Double, _ db: Database) throws -> (String, String)? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT message_id, sequence FROM dedup WHERE queue = ? AND scope = ? AND dedup_id = ? AND expires > ?"),
            arguments: [q.key, scope, dedup, now]
        ).map { ($0[0], $0[1]) }
    }

    static func remember(_ q: Queue, scope: String, dedup: String, messageID: String, sequence: String, now: Double, _ db: Database) throws {
        try db.cachedStatement(sql: "DELETE FROM dedup WHERE expires <= ?").execute(arguments: [now])
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO dedup (queue, scope, dedup_id, message_id, sequence, expires) VALUES (?, ?, ?, ?, ?, ?)
            """).execute(arguments: [q.key, scope, dedup, messageID, sequence, now + window])
    }

    // MARK: ReceiveRequestAttemptId

    /// The receipt handles an earlier receive with this attempt id handed out, while it is remembered.
    static func attempt(_ q: Queue, id: String, now: Double, _ db: Database) throws -> [String]? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT receipts FROM receive_attempt WHERE queue = ? AND attempt_id = ? AND expires > ?"),
            arguments: [q.key, id, now]
        ).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String] }
    }

    static func rememberAttempt(_ q: Queue, id: String, receipts: [String], now: Double, _ db: Database) throws {
        try db.cachedStatement(sql: "DELETE FROM receive_attempt WHERE expires <= ?").execute(arguments: [now])
        let text = String(decoding: (try? JSONSerialization.data(withJSONObject: receipts)) ?? Data("[]".utf8), as: UTF8.self)
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO receive_attempt (queue, attempt_id, receipts, expires) VALUES (?, ?, ?, ?)")
            .execute(arguments: [q.key, id, text, now + window])
    }
}
