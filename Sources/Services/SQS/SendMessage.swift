import Core
import Foundation
import GRDB

/// A message about to be stored.
struct NewMessage {
    var id: String
    var body: String
    var attributes: [String: MessageAttribute]
    var systemAttributes: [String: MessageAttribute]
    var delay: Int
    var md5Body: String
    var md5Attributes: String?
    var md5SystemAttributes: String?
    var group: String?
    var dedup: String?
}

/// What a send stored: the MessageId, the SequenceNumber on FIFO queues, and whether it was new (not a duplicate
/// within the deduplication window, which SQS accepts with the first message's id and stores nothing).
struct StoredMessage {
    var id: String
    var sequence: String?
    var isNew: Bool
}

extension SQSService {
    /// Validate one SendMessage / SendMessageBatch entry against the queue's limits. `traceHeader` is the request's
    /// X-Amzn-Trace-Id, which SQS keeps as AWSTraceHeader when the entry sets none.
    /// A batch entry over the queue's MaximumMessageSize fails alone, worded as AWS words it there ("cannot be validated").
    func newMessage(_ entry: [String: Any], queue q: Queue, traceHeader: String? = nil, inBatch: Bool = false) throws -> NewMessage {
        let body = try Self.string(entry, "MessageBody")
        if body.isEmpty { throw SQSError.missingParameter("MessageBody") }
        guard MessageBody.isValid(body) else {
            throw AWSError("InvalidMessageContents", "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
                .query("InvalidMessageContents")
        }
        let attributes = try MessageAttribute.parse(entry["MessageAttributes"] as? [String: Any], field: "MessageAttributes")
        var system = try MessageAttribute.parse(entry["MessageSystemAttributes"] as? [String: Any], field: "MessageSystemAttributes")
        if system["AWSTraceHeader"] == nil, let traceHeader {
            system["AWSTraceHeader"] = MessageAttribute(dataType: "String", string: traceHeader, binary: nil)
        }
        for name in system.keys where name != "AWSTraceHeader" {
            throw SQSError.invalidParameterValue("Message system attribute name '\(name)' is invalid.")
        }
        let size = body.utf8.count + attributes.reduce(0) { $0 + $1.key.utf8.count + $1.value.size }
        let max = q.int("MaximumMessageSize")
        if size > max {
            throw SQSError.invalidParameterValue(
                "One or more parameters \(inBatch ? "cannot be validated" : "are invalid"). Reason: Message must be shorter than \(max) bytes.")
        }
        var delay = q.int("DelaySeconds")
        if let d = entry["DelaySeconds"] {
            guard let v = (d as? NSNumber)?.intValue, (0...900).contains(v) else {
                throw SQSError.invalidParameterValue("Value \(d) for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.")
            }
            // FIFO queues delay whole queues only; an explicit 0 there keeps the queue's delay.
            if q.isFIFO && v != 0 { throw FIFO.invalid(d, "DelaySeconds", FIFO.wrongQueueType) }
            if !q.isFIFO { delay = v }
        }
        let (group, dedup) = try FIFO.ids(entry, body: body, queue: q)
        return NewMessage(
            id: UUID().uuidString.lowercased(), body: body, attributes: attributes, systemAttributes: system, delay: delay,
            md5Body: Hex.encode(MD5.hash(Array(body.utf8))), md5Attributes: MessageAttribute.md5(attributes),
            md5SystemAttributes: MessageAttribute.md5(system), group: group, dedup: dedup)
    }

    /// Store `m`, unless (FIFO) its deduplication id is still remembered.
    static func insert(_ m: NewMessage, queue q: Queue, sender: String, now: Double, _ db: Database) throws -> StoredMessage {
        let scope = m.dedup.map { _ in FIFO.scope(q, group: m.group ?? "") }
        if let dedup = m.dedup, let scope, let (id, sequence) = try FIFO.duplicate(q, scope: scope, dedup: dedup, now: now, db) {
            return StoredMessage(id: id, sequence: sequence, isNew: false)
        }
        try db.cachedStatement(sql: """
            INSERT INTO message (queue, id, body, attributes, md5_body, md5_attributes, system_attributes,
              md5_system_attributes, sender, sent, visible_at, expires, group_id, dedup_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                q.key, m.id, m.body, m.attributes.isEmpty ? nil : MessageAttribute.encode(m.attributes), m.md5Body, m.md5Attributes,
                m.systemAttributes.isEmpty ? nil : MessageAttribute.encode(m.systemAttributes), m.md5SystemAttributes, sender, now,
                now + Double(m.delay), now + Double(q.int("MessageRetentionPeriod")), m.group, m.dedup,
            ])
        guard q.isFIFO else { return StoredMessage(id: m.id, sequence: nil, isNew: true) }
        let sequence = FIFO.sequenceNumber(db.lastInsertedRowID)
        if let dedup = m.dedup, let scope {
            try FIFO.remember(q, scope: scope, dedup: dedup, messageID: m.id, sequence: sequence, now: now, db)
        }
        return StoredMessage(id: m.id, sequence: sequence, isNew: true)
    }

    static func sendResult(_ m: NewMessage, _ stored: StoredMessage) -> [String: Any] {
        var out: [String: Any] = ["MessageId": stored.id, "MD5OfMessageBody": m.md5Body]
        if let s = stored.sequence { out["SequenceNumber"] = s }
        if let a = m.md5Attributes { out["MD5OfMessageAttributes"] = a }
        if let s = m.md5SystemAttributes { out["MD5OfMessageSystemAttributes"] = s }
        return out
    }

    func sendMessage(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        let q = try queue(r, input)
        let m = try newMessage(input, queue: q, traceHeader: r.header("x-amzn-trace-id"))
        let now = clock.now()
        let stored = try store.db.writeNow { db in try Self.insert(m, queue: q, sender: Self.senderID(r), now: now, db) }
        if m.delay == 0 && stored.isNew { signals.signal(q.key) }
        return Self.sendResult(m, stored)
    }

    static func senderID(_ r: AWSRequest) -> String {
        r.caller.accessKeyID.map { AccountID.isValid($0) ? $0 : "AIDA" + $0.uppercased() } ?? r.caller.accountID
    }

    /// Entries of a batch request: 1–10 with distinct ids.
    static func batchEntries(_ input: [String: Any], _ name: String) throws -> [[String: Any]] {
        guard let entries = input[name] as? [[String: Any]], !entries.isEmpty else {
            throw AWSError("EmptyBatchRequest", "There should be at least one \(name == "Entries" ? "SendMessageBatchRequestEntry" : "entry") in the request.")
                .query("AWS.SimpleQueueService.EmptyBatchRequest")
        }
        if entries.count > 10 {
            throw AWSError("TooManyEntriesInBatchRequest", "Maximum number of entries per request are 10. You have sent \(entries.count).")
                .query("AWS.SimpleQueueService.TooManyEntriesInBatchRequest")
        }
        var seen = Set<String>()
        for e in entries {
            guard let id = e["Id"] as? String else { throw SQSError.missingParameter("Id") }
            let valid = !id.isEmpty && id.utf8.count <= 80
                && id.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95 }
            if !valid {
                throw AWSError("InvalidBatchEntryId", "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
                    .query("AWS.SimpleQueueService.InvalidBatchEntryId")
            }
            if !seen.insert(id).inserted {
                throw AWSError("BatchEntryIdsNotDistinct", "Id \(id) repeated.").query("AWS.SimpleQueueService.BatchEntryIdsNotDistinct")
            }
        }
        return entries
    }

    static func failure(_ id: String, _ e: AWSError) -> [String: Any] {
        ["Id": id, "SenderFault": e.isSenderFault, "Code": e.queryCode ?? e.code, "Message": e.message]
    }

    func sendMessageBatch(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        let q = try queue(r, input)
        let entries = try Self.batchEntries(input, "Entries")
        if q.isFIFO { try FIFO.checkBatch(entries, queue: q) }
        var ok: [(String, NewMessage)] = []
        var failed: [[String: Any]] = []
        var total = 0
        for e in entries {
            let id = e["Id"] as? String ?? ""
            do {
                let m = try newMessage(e, queue: q, traceHeader: r.header("x-amzn-trace-id"), inBatch: true)
                total += m.body.utf8.count + m.attributes.reduce(0) { $0 + $1.key.utf8.count + $1.value.size }
                ok.append((id, m))
            } catch let error as AWSError {
                failed.append(Self.failure(id, error))
            }
        }
        if total > 1_048_576 {  // the whole batch, like a single message, is at most 1 MiB
            throw AWSError("BatchRequestTooLong", "Batch requests cannot be longer than 1048576 bytes. You have sent \(total) bytes.")
                .query("AWS.SimpleQueueService.BatchRequestTooLong")
        }
        let now = clock.now()
        let sender = Self.senderID(r)
        let stored = try store.db.writeNow { db in
            try ok.map { _, m in try Self.insert(m, queue: q, sender: sender, now: now, db) }
        }
        if ok.contains(where: { $0.1.delay == 0 }) { signals.signal(q.key) }
        return [
            "Successful": zip(ok, stored).map { entry, s in Self.sendResult(entry.1, s).merging(["Id": entry.0]) { a, _ in a } },
            "Failed": failed,
        ]
    }
}
