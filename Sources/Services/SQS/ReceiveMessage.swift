import Core
import Foundation
import GRDB

extension SQSService {
    static let maxVisibility = 43_200

    /// Receipt handles name the message and change with every receive.
    static func receiptHandle(messageID: String) -> String {
        Data("\(messageID)|\(UUID().uuidString)".utf8).base64EncodedString()
    }

    static func messageID(fromReceipt handle: String) throws -> String {
        guard let d = Data(base64Encoded: handle), let s = String(data: d, encoding: .utf8), let bar = s.firstIndex(of: "|") else {
            throw AWSError("ReceiptHandleIsInvalid", "The input receipt handle \"\(handle)\" is not a valid receipt handle.")
                .query("ReceiptHandleIsInvalid")
        }
        return String(s[..<bar])
    }

    func receiveMessage(_ r: AWSRequest, _ input: [String: Any]) async throws -> [String: Any] {
        let q = try queue(r, input)
        var max = 1
        if let m = input["MaxNumberOfMessages"] {
            guard let v = (m as? NSNumber)?.intValue, (1...10).contains(v) else {
                throw SQSError.invalidParameterValue("Value \(m) for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.")
            }
            max = v
        }
        var visibility = q.int("VisibilityTimeout")
        if let v = input["VisibilityTimeout"] {
            guard let t = (v as? NSNumber)?.intValue, (0...Self.maxVisibility).contains(t) else {
                throw SQSError.invalidParameterValue("Value \(v) for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.")
            }
            visibility = t
        }
        var wait = q.int("ReceiveMessageWaitTimeSeconds")
        if let w = input["WaitTimeSeconds"] {
            guard let t = (w as? NSNumber)?.intValue, (0...20).contains(t) else {
                throw SQSError.invalidParameterValue("Value \(w) for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.")
            }
            wait = t
        }
        var attemptID: String?
        if let a = input["ReceiveRequestAttemptId"] {
            guard let s = a as? String, FIFO.isValidToken(s) else {
                throw FIFO.invalid(a, "ReceiveRequestAttemptId", "ReceiveRequestAttemptId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
            }
            attemptID = q.isFIFO ? s : nil  // standard queues ignore it
        }
        let systemNames = Set(try Self.stringList(input, "AttributeNames") + Self.stringList(input, "MessageSystemAttributeNames"))
        let attributeNames = try Self.stringList(input, "MessageAttributeNames")
        let deadline = clock.now() + Double(wait)
        while true {
            let seen = signals.generation(q.key)
            let now = clock.now()
            let got = try takeMessages(q, max: max, visibility: visibility, attemptID: attemptID, now: now)
            if !got.isEmpty || now >= deadline {
                return got.isEmpty ? [:] : ["Messages": got.map { Self.render($0, fifo: q.isFIFO, systemNames: systemNames, attributeNames: attributeNames) }]
            }
            // Sleep until a send, the next message becoming visible, or the deadline.
            let next = try store.db.readNow { db in
                try Double.fetchOne(db.cachedStatement(sql: "SELECT MIN(visible_at) FROM message WHERE queue = ?"), arguments: [q.key])
            }
            let until = min(deadline, next.map { Swift.max($0, now + 0.001) } ?? deadline)
            // Out of the snapshot gate while waiting: a long poll does not hold a snapshot back.
            await SnapshotGate.outside { await signals.wait(q.key, seen: seen, seconds: until - now) }
            if Task.isCancelled { return [:] }
        }
    }

    /// A received message as the answer shows it.
    struct Received {
        var id: String
        var receipt: String
        var body: String
        var md5Body: String
        var attributes: String?
        var md5Attributes: String?
        var systemAttributes: String?
        var sender: String
        var sent: Double
        var receiveCount: Int
        var firstReceive: Double
        var seq: Int64
        var group: String?
        var dedup: String?

        static let columns = "seq, id, body, md5_body, attributes, md5_attributes, system_attributes, sender, sent, receive_count, first_receive, group_id, dedup_id, receipt"

        /// A row of `columns`, received now (again) under `receipt`.
        init(_ row: Row, receipt: String, receiveCount: Int, firstReceive: Double) {
            self.init(id: row[1], receipt: receipt, body: row[2], md5Body: row[3], attributes: row[4], md5Attributes: row[5],
                      systemAttributes: row[6], sender: row[7], sent: row[8], receiveCount: receiveCount, firstReceive: firstReceive,
                      seq: row[0], group: row[11], dedup: row[12])
        }

        init(id: String, receipt: String, body: String, md5Body: String, attributes: String?, md5Attributes: String?,
             systemAttributes: String?, sender: String, sent: Double, receiveCount: Int, firstReceive: Double, seq: Int64,
             group: String?, dedup: String?) {
            (self.id, self.receipt, self.body, self.md5Body, self.attributes, self.md5Attributes) = (id, receipt, body, md5Body, attributes, md5Attributes)
            (self.systemAttributes, self.sender, self.sent, self.receiveCount, self.firstReceive) = (systemAttributes, sender, sent, receiveCount, firstReceive)
            (self.seq, self.group, self.dedup) = (seq, group, dedup)
        }
    }

    /// Visible messages in send order. On FIFO queues a message group is locked while any of its messages is in
    /// flight, and a message waits for every earlier message of its group. A FIFO batch is filled from one group
    /// first (groups taken by their oldest available message), each group in send order, so a message made visible
    /// again is back in its original place.
    /// Standard queues take the longest-visible messages first: the (queue, visible_at) index gives them in order
    /// (ties in send order), so a receive reads only what it returns.
    static let visibleMessages = "SELECT \(Received.columns) FROM message WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?"
    static let visibleFIFOMessages = """
        SELECT \(Received.columns) FROM message m WHERE m.queue = ? AND m.visible_at <= ?
          AND NOT EXISTS (SELECT 1 FROM message b WHERE b.queue = m.queue AND b.group_id = m.group_id AND b.visible_at > ?2
                          AND (b.seq < m.seq OR b.receive_count > 0))
        ORDER BY MIN(m.seq) OVER (PARTITION BY m.group_id), m.seq LIMIT ?
        """

    /// Make up to `max` visible messages invisible for `visibility` seconds and hand them out (one transaction, so
    /// two concurrent receives never get the same message). Expired messages are dropped on the way.
    func takeMessages(_ q: Queue, max: Int, visibility: Int, attemptID: String? = nil, now: Double) throws -> [Received] {
        let redrive = Self.redrive(q)
        let deadLetter = try redrive.flatMap { r -> Queue? in
            guard let arn = ARN(r.targetARN) else { return nil }
            return try store.queue(account: arn.account, region: arn.region, name: arn.resource)
        }
        let (received, moved) = try store.db.writeNow { db -> ([Received], Bool) in
            try db.cachedStatement(sql: "DELETE FROM message INDEXED BY message_expiry WHERE queue = ? AND expires <= ? AND visible_at <= ?")
                .execute(arguments: [q.key, now, now])
            // Messages received maxReceiveCount times go to the dead-letter queue instead of out again.
            var moved = false
            if let redrive, let deadLetter {
                try db.cachedStatement(sql: """
                    UPDATE message SET source_queue = queue, queue = ?, visible_at = ?, expires = sent + ? WHERE queue = ? AND visible_at <= ? AND receive_count >= ?
                    """).execute(arguments: [deadLetter.key, now, Double(deadLetter.int("MessageRetentionPeriod")), q.key, now,
                                             redrive.maxReceiveCount])
                moved = db.changesCount > 0
            }
            if let attemptID, let again = try Self.retriedAttempt(q, attemptID, visibility: visibility, now: now, db) {
                return (again, moved)
            }
            let rows = try Row.fetchAll(db.cachedStatement(sql: q.isFIFO ? Self.visibleFIFOMessages : Self.visibleMessages),
                                        arguments: [q.key, now, max])
            var out: [Received] = []
            for row in rows {
                let receipt = Self.receiptHandle(messageID: row[1])
                let first: Double = (row[10] as Double?) ?? now
                let count: Int = row[9] + 1
                try db.cachedStatement(sql: "UPDATE message SET visible_at = ?, receive_count = ?, first_receive = ?, receipt = ? WHERE seq = ?")
                    .execute(arguments: [now + Double(visibility), count, first, receipt, row[0] as Int64])
                out.append(Received(row, receipt: receipt, receiveCount: count, firstReceive: first))
            }
            if let attemptID, !out.isEmpty {
                try FIFO.rememberAttempt(q, id: attemptID, receipts: out.map(\.receipt), now: now, db)
            }
            return (out, moved)
        }
        if moved, let deadLetter { signals.signal(deadLetter.key) }
        return received
    }

    /// A FIFO receive retried with the same ReceiveRequestAttemptId gets the same messages and receipt handles (their
    /// visibility timeout starts again), as long as none of them was deleted or received by someone else since.
    static func retriedAttempt(_ q: Queue, _ attemptID: String, visibility: Int, now: Double, _ db: Database) throws -> [Received]? {
        guard let receipts = try FIFO.attempt(q, id: attemptID, now: now, db), !receipts.isEmpty else { return nil }
        let rows = try Row.fetchAll(
            db, sql: "SELECT \(Received.columns) FROM message WHERE queue = ? AND receipt IN (\(databaseQuestionMarks(count: receipts.count))) ORDER BY seq",
            arguments: StatementArguments([q.key] + receipts))
        guard rows.count == receipts.count else { return nil }
        var out: [Received] = []
        for row in rows {
            try db.cachedStatement(sql: "UPDATE message SET visible_at = ? WHERE seq = ?").execute(arguments: [now + Double(visibility), row[0] as Int64])
            out.append(Received(row, receipt: row[13], receiveCount: row[9], firstReceive: (row[10] as Double?) ?? now))
        }
        return out
    }

    /// Whether a receive's name filter takes `name`: `All`, `*` or `.*` take every name, `prefix.*` those starting with
    /// the prefix (`Hel.*` takes `Hello` and `Help.Me`), anything else only itself; unknown names are ignored.
    static func selects<S: Sequence<String>>(_ filter: S, _ name: String) -> Bool {
        filter.contains { want in
            want == "All" || want == ".*" || want == "*" || want == name
                || (want.hasSuffix(".*") && name.hasPrefix(String(want.dropLast(2))))
        }
    }

    static func render(_ m: Received, fifo: Bool, systemNames: Set<String>, attributeNames: [String]) -> [String: Any] {
        var out: [String: Any] = ["MessageId": m.id, "ReceiptHandle": m.receipt, "Body": m.body, "MD5OfBody": m.md5Body]
        var system: [String: String] = [:]
        func add(_ name: String, _ value: String) { if Self.selects(systemNames, name) { system[name] = value } }
        add("SenderId", m.sender)
        add("SentTimestamp", String(Int64(m.sent * 1000)))
        add("ApproximateReceiveCount", String(m.receiveCount))
        add("ApproximateFirstReceiveTimestamp", String(Int64(m.firstReceive * 1000)))
        if let trace = MessageAttribute.decode(m.systemAttributes)["AWSTraceHeader"]?.string { add("AWSTraceHeader", trace) }
        if let group = m.group { add("MessageGroupId", group) }
        if fifo {
            if let dedup = m.dedup { add("MessageDeduplicationId", dedup) }
            add("SequenceNumber", FIFO.sequenceNumber(m.seq))
        }
        if !system.isEmpty { out["Attributes"] = system }
        let attributes = MessageAttribute.decode(m.attributes)
        if !attributes.isEmpty && !attributeNames.isEmpty {
            let chosen = attributes.filter { name, _ in Self.selects(attributeNames, name) }
            if !chosen.isEmpty {
                out["MessageAttributes"] = chosen.mapValues { $0.json }
                // The MD5 covers the attributes returned, as SDKs recompute it from those.
                out["MD5OfMessageAttributes"] = MessageAttribute.md5(chosen)
            }
        }
        return out
    }
}
