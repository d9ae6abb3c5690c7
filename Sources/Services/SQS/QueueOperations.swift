import Core
import Foundation
import GRDB

extension SQSService {
    static let deletedNameHold = 60.0

    func createQueue(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        let name = try Self.string(input, "QueueName")
        let attributes = QueueAttributes.normalized(try Self.stringMap(input, "Attributes"))
        let tags = try Self.stringMap(input, "tags")
        let fifo = attributes["FifoQueue"] == "true"
        if let f = attributes["FifoQueue"], f != "true", f != "false" { throw SQSError.invalidAttributeValue("FifoQueue") }
        // Standard queues have no FifoQueue attribute at all, not even "false".
        if attributes["FifoQueue"] == "false" { throw SQSError.invalidAttributeName("FifoQueue") }
        try QueueAttributes.validateName(name, fifo: fifo)
        try QueueAttributes.validate(attributes, fifo: fifo, creating: true)
        let account = r.caller.accountID, region = r.caller.region
        try validateRedrive(attributes, fifo: fifo,
                            sourceARN: ARN(service: "sqs", region: region, account: account, resource: name).description)
        try QueueAttributes.validateThroughput(attributes)
        let now = clock.now()
        var stored = attributes
        stored.removeValue(forKey: "FifoQueue")
        try store.db.writeNow { db in
            if let existing = try Row.fetchOne(
                db, sql: "SELECT \(QueueStore.columns) FROM queue WHERE account = ? AND region = ? AND name = ?",
                arguments: [account, region, name]).map(QueueStore.queue) {
                // Idempotent when every attribute given matches the queue's current value.
                let current = Self.effectiveAttributes(existing)
                for (k, v) in attributes where current[k] != v {
                    throw SQSError.queueNameExists(k)
                }
                return
            }
            if let deleted = try Double.fetchOne(
                db, sql: "SELECT deleted FROM deleted_queue WHERE account = ? AND region = ? AND name = ?",
                arguments: [account, region, name]), now - deleted < Self.deletedNameHold {
                throw SQSError.queueDeletedRecently()
            }
            let q = Queue(account: account, region: region, name: name, attributes: stored, tags: tags, created: now, modified: now)
            try QueueStore.save(q, db)
        }
        return ["QueueUrl": QueueAddress.url(host: r.host, account: account, name: name)]
    }

    func getQueueUrl(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        let name = try Self.string(input, "QueueName")
        let account = (input["QueueOwnerAWSAccountId"] as? String) ?? r.caller.accountID
        guard try store.queue(account: account, region: r.caller.region, name: name) != nil else {
            throw SQSError.queueDoesNotExist()
        }
        return ["QueueUrl": QueueAddress.url(host: r.host, account: account, name: name)]
    }

    func listQueues(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        let prefix = (input["QueueNamePrefix"] as? String) ?? ""
        let (limit, paged, after) = try Self.pagination(input)
        let page = try store.queues(account: r.caller.accountID, region: r.caller.region, prefix: prefix, after: after, limit: limit + 1)
        var out: [String: Any] = [:]
        let shown = page.prefix(limit)
        if !shown.isEmpty {
            out["QueueUrls"] = shown.map { QueueAddress.url(host: r.host, account: $0.account, name: $0.name) }
        }
        if paged, page.count > limit, let last = shown.last {
            out["NextToken"] = Data(last.name.utf8).base64EncodedString()
        }
        return out
    }

    /// MaxResults (1–1000; NextToken only appears when it was given) and NextToken (the last name shown, base64).
    static func pagination(_ input: [String: Any]) throws -> (limit: Int, paged: Bool, after: String) {
        var limit = 1000
        if let m = input["MaxResults"] {
            guard let v = (m as? NSNumber)?.intValue, (1...1000).contains(v) else {
                throw SQSError.invalidParameterValue("Value for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.")
            }
            limit = v
        }
        var after = ""
        if let token = input["NextToken"] as? String {
            guard let d = Data(base64Encoded: token), let name = String(data: d, encoding: .utf8) else {
                throw SQSError.invalidParameterValue("Invalid NextToken value.")
            }
            after = name
        }
        return (limit, input["MaxResults"] != nil, after)
    }

    func deleteQueue(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        let q = try queue(r, input)
        let now = clock.now()
        try store.db.writeNow { db in
            try db.execute(sql: "DELETE FROM queue WHERE account = ? AND region = ? AND name = ?", arguments: [q.account, q.region, q.name])
            try db.execute(sql: "DELETE FROM message WHERE queue = ?", arguments: [q.key])
            try db.execute(sql: "DELETE FROM dedup WHERE queue = ?", arguments: [q.key])
            try db.execute(sql: "DELETE FROM receive_attempt WHERE queue = ?", arguments: [q.key])
            try db.execute(sql: "INSERT OR REPLACE INTO deleted_queue (account, region, name, deleted) VALUES (?, ?, ?, ?)",
                           arguments: [q.account, q.region, q.name, now])
        }
        return [:]
    }

    /// Stored attributes over the defaults, as GetQueueAttributes shows them (without the computed ones).
    static func effectiveAttributes(_ q: Queue) -> [String: String] {
        var out = QueueAttributes.defaults
        if q.isFIFO { out.merge(QueueAttributes.fifoDefaults) { _, new in new } }
        out.merge(q.attributes) { _, new in new }
        return out
    }

    func getQueueAttributes(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        let q = try queue(r, input)
        let names = try Self.stringList(input, "AttributeNames")
        var all = Self.effectiveAttributes(q)
        all["QueueArn"] = q.arn
        all["CreatedTimestamp"] = String(Int(q.created))
        all["LastModifiedTimestamp"] = String(Int(q.modified))
        let counts = try messageCounts(q)
        all["ApproximateNumberOfMessages"] = String(counts.visible)
        all["ApproximateNumberOfMessagesNotVisible"] = String(counts.inFlight)
        all["ApproximateNumberOfMessagesDelayed"] = String(counts.delayed)
        var out: [String: String] = [:]
        for name in names {
            if name == "All" {
                out = all
                break
            }
            let known = QueueAttributes.settable.contains(name) || QueueAttributes.computed.contains(name) || name == "FifoQueue"
            guard known else { throw SQSError.invalidAttributeName(name) }
            if let v = all[name] { out[name] = v }
        }
        return out.isEmpty ? [:] : ["Attributes": out]
    }

    func setQueueAttributes(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        var q = try queue(r, input)
        var attributes = QueueAttributes.normalized(try Self.stringMap(input, "Attributes"))
        try QueueAttributes.validate(attributes, fifo: q.isFIFO, creating: false)
        try validateRedrive(attributes, fifo: q.isFIFO, sourceARN: q.arn)
        attributes.removeValue(forKey: "FifoQueue")  // only ever "true" here, and implied by the name
        q.attributes.merge(attributes) { _, new in new }
        // An empty policy removes the attribute: GetQueueAttributes then leaves it out, as AWS does.
        for name in QueueAttributes.removedWhenEmpty where q.attributes[name] == "" { q.attributes.removeValue(forKey: name) }
        try QueueAttributes.validateThroughput(q.attributes)
        q.modified = clock.now()
        let updated = q
        try store.db.writeNow { db in try QueueStore.save(updated, db) }
        return [:]
    }

    func tagQueue(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        var q = try queue(r, input)
        let tags = try Self.stringMap(input, "Tags")
        q.tags.merge(tags) { _, new in new }
        if q.tags.count > 50 { throw SQSError.invalidParameterValue("Too many tags added for queue \(q.name).") }
        let updated = q
        try store.db.writeNow { db in try QueueStore.save(updated, db) }
        return [:]
    }

    func untagQueue(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        var q = try queue(r, input)
        for key in try Self.stringList(input, "TagKeys") { q.tags.removeValue(forKey: key) }
        let updated = q
        try store.db.writeNow { db in try QueueStore.save(updated, db) }
        return [:]
    }

    func listQueueTags(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        let q = try queue(r, input)
        return q.tags.isEmpty ? [:] : ["Tags": q.tags]
    }
}
