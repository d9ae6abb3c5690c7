import Core
import Foundation
import GRDB
import Synchronization

extension SQSService {
    func deleteMessage(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        let q = try queue(r, input)
        let handle = try Self.string(input, "ReceiptHandle")
        let now = clock.now()
        try store.db.writeNow { db in try Self.delete(q, handle: handle, now: now, db) }
        return [:]
    }

    /// Delete the message a receipt handle names. On standard queues a handle from an earlier receive still deletes
    /// the message; FIFO queues refuse a handle whose visibility timeout has ended (or that a later receive replaced).
    static func delete(_ q: Queue, handle: String, now: Double, _ db: Database) throws {
        let id = try messageID(fromReceipt: handle)
        if q.isFIFO, let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT receipt, visible_at FROM message WHERE queue = ? AND id = ?"),
                                                arguments: [q.key, id]),
           row[0] as String? != handle || (row[1] as Double) <= now {
            throw SQSError.invalidParameterValue("Value \(handle) for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.")
        }
        try db.cachedStatement(sql: "DELETE FROM message WHERE queue = ? AND id = ?").execute(arguments: [q.key, id])
    }

    func deleteMessageBatch(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        let q = try queue(r, input)
        let entries = try Self.batchEntries(input, "Entries")
        var ok: [[String: Any]] = [], failed: [[String: Any]] = []
        let now = clock.now()
        try store.db.writeNow { db in
            for e in entries {
                let entryID = e["Id"] as? String ?? ""
                do {
                    try Self.delete(q, handle: try Self.string(e, "ReceiptHandle"), now: now, db)
                    ok.append(["Id": entryID])
                } catch let error as AWSError {
                    failed.append(Self.failure(entryID, error))
                }
            }
        }
        return ["Successful": ok, "Failed": failed]
    }

    /// Set a received message's remaining invisibility; it must be in flight.
    func changeVisibility(_ q: Queue, _ entry: [String: Any], now: Double, _ db: Database) throws {
        let handle = try Self.string(entry, "ReceiptHandle")
        let id = try Self.messageID(fromReceipt: handle)
        guard let t = (entry["VisibilityTimeout"] as? NSNumber)?.intValue else { throw SQSError.missingParameter("VisibilityTimeout") }
        guard (0...Self.maxVisibility).contains(t) else {
            throw SQSError.invalidParameterValue("Value \(t) for parameter VisibilityTimeout is invalid. Reason: VisibilityTimeout must be an integer between 0 and 43200.")
        }
        // In flight, or the latest receipt handle (which may still change visibility after its timeout ran out).
        try db.cachedStatement(sql: """
            UPDATE message SET visible_at = ? WHERE queue = ? AND id = ? AND receive_count > 0 AND (visible_at > ? OR receipt = ?)
            """).execute(arguments: [now + Double(t), q.key, id, now, handle])
        if db.changesCount == 0 {
            let message = "Value \(handle) for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change."
            let exists = try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM message WHERE queue = ? AND id = ?)"),
                                           arguments: [q.key, id]) ?? false
            if !exists { throw SQSError.invalidParameterValue(message) }
            throw AWSError("MessageNotInflight", message).query("AWS.SimpleQueueService.MessageNotInflight")
        }
    }

    func changeMessageVisibility(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        let q = try queue(r, input)
        let now = clock.now()
        try store.db.writeNow { db in try changeVisibility(q, input, now: now, db) }
        signals.signal(q.key)
        return [:]
    }

    func changeMessageVisibilityBatch(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        let q = try queue(r, input)
        let entries = try Self.batchEntries(input, "Entries")
        let now = clock.now()
        var ok: [[String: Any]] = [], failed: [[String: Any]] = []
        try store.db.writeNow { db in
            for e in entries {
                let entryID = e["Id"] as? String ?? ""
                do {
                    try changeVisibility(q, e, now: now, db)
                    ok.append(["Id": entryID])
                } catch let error as AWSError {
                    failed.append(Self.failure(entryID, error))
                }
            }
        }
        signals.signal(q.key)
        return ["Successful": ok, "Failed": failed]
    }

    func purgeQueue(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        let q = try queue(r, input)
        let now = clock.now()
        try purges.begin(q.key, now: now)
        try store.db.writeNow { db in
            try db.cachedStatement(sql: "DELETE FROM message WHERE queue = ? AND sent <= ?").execute(arguments: [q.key, now])
            // A purged FIFO queue forgets its deduplication ids: the same id may be sent again at once.
            try db.cachedStatement(sql: "DELETE FROM dedup WHERE queue = ?").execute(arguments: [q.key])
        }
        return [:]
    }

    /// ApproximateNumberOfMessages, …NotVisible and …Delayed.
    func messageCounts(_ q: Queue) throws -> (visible: Int, inFlight: Int, delayed: Int) {
        let now = clock.now()
        return try store.db.readNow { db in
            let row = try Row.fetchOne(
                db.cachedStatement(sql: """
                    SELECT COALESCE(SUM(visible_at <= ?), 0), COALESCE(SUM(visible_at > ? AND receive_count > 0), 0),
                           COALESCE(SUM(visible_at > ? AND receive_count = 0), 0)
                    FROM message WHERE queue = ? AND expires > ?
                    """),
                arguments: [now, now, now, q.key, now])
            return (row?[0] ?? 0, row?[1] ?? 0, row?[2] ?? 0)
        }
    }
}

/// PurgeQueue may run once per 60 seconds per queue.
final class PurgeLog: Sendable {
    private let last = Mutex<[String: Double]>([:])

    func begin(_ queue: String, now: Double) throws {
        try last.withLock { map in
            if let t = map[queue], now - t < 60 {
                throw AWSError("PurgeQueueInProgress", "Only one PurgeQueue operation on \(queue.split(separator: "/").last ?? "") is allowed every 60 seconds.",
                               status: .forbidden)
                    .query("AWS.SimpleQueueService.PurgeQueueInProgress")
            }
            map[queue] = now
        }
    }
}
