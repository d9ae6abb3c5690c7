import Core
import Foundation
import GRDB

/// DynamoDB Streams (`DynamoDBStreams_20120810.<Op>`, the same signing name): ListStreams, DescribeStream,
/// GetShardIterator, GetRecords. A table's stream is one shard; its records are rows of `stream_records`, written by
/// `DynamoDBStore.writeItem` in the item's own transaction and kept 24 hours (of the emulator's clock).
extension DynamoDBStore {
    static let streamRetention = 86_400.0

    static func appendStreamRecord(_ t: TableSchema, old: Item?, new: Item?, now: Double, byTTL: Bool, _ db: Database) throws {
        guard let label = t.streamLabel, let view = t.streamViewType else { return }
        let event = old == nil ? "INSERT" : new == nil ? "REMOVE" : "MODIFY"
        let keys = t.key(of: (new ?? old)!)
        var body: [String: Any] = ["ApproximateCreationDateTime": now.rounded(.down), "Keys": Items.encode(keys),
                                   "StreamViewType": view]
        if view == "NEW_IMAGE" || view == "NEW_AND_OLD_IMAGES", let new { body["NewImage"] = Items.encode(new) }
        if view == "OLD_IMAGE" || view == "NEW_AND_OLD_IMAGES", let old { body["OldImage"] = Items.encode(old) }
        body["SizeBytes"] = Items.size(keys) + (body["NewImage"] != nil ? Items.size(new!) : 0) + (body["OldImage"] != nil ? Items.size(old!) : 0)
        var record: [String: Any] = ["eventName": event, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
                                     "awsRegion": t.arn.split(separator: ":")[3], "dynamodb": body]
        if byTTL { record["userIdentity"] = ["Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"] }
        let text = String(decoding: try JSONSerialization.data(withJSONObject: record), as: UTF8.self)
        try db.cachedStatement(sql: "INSERT INTO stream_records (tid, label, at, record) VALUES (?, ?, ?, ?)")
            .execute(arguments: [t.id, label, now, text])
    }

    static func trimStreams(now: Double, _ pool: DatabasePool) throws {
        try pool.writeNow { db in
            try db.execute(sql: "DELETE FROM stream_records WHERE at < ?", arguments: [now - streamRetention])
        }
    }
}

extension DynamoDBService {
    /// A sequence number as DynamoDB shows them: 21 digits.
    static func sequenceNumber(_ seq: Int64) -> String { String(format: "%021lld", seq) }
    /// As DynamoDB writes them: `shardId-` + 20 digits (the stream's start in ms) + `-` + 8 hex digits.
    static func shardId(_ t: TableSchema) -> String {
        String(format: "shardId-%020lld-", Int64(t.created * 1000)) + String(t.tableId.replacingOccurrences(of: "-", with: "").prefix(8))
    }

    /// The table and label of a stream ARN (`<table arn>/stream/<label>`); the table must still have that stream.
    func stream(_ s: Scope, _ arn: String) throws -> (TableSchema, String) {
        let notFound = AWSError("ResourceNotFoundException", "Requested resource not found: Stream: \(arn) not found")
        guard let range = arn.range(of: "/stream/") else {
            throw DDBError.validation("Invalid StreamArn")
        }
        let name = try tableName(arn: String(arn[..<range.lowerBound]), s)
        let label = String(arn[range.upperBound...])
        guard let t = try store.table(s, name), t.streamLabel == label else { throw notFound }
        return (t, label)
    }

    func listStreams(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let only = try input.string("TableName")
        let limit = try input.int("Limit") ?? 100
        let start = try input.string("ExclusiveStartStreamArn")
        var streams: [[String: Any]] = []
        for name in try store.db.readNow({ db in try DynamoDBStore.tableNames(s, db) }) where only == nil || only == name {
            guard let t = try store.table(s, name), let arn = t.streamArn, let label = t.streamLabel else { continue }
            streams.append(["StreamArn": arn, "TableName": name, "StreamLabel": label])
        }
        if let start, let i = streams.firstIndex(where: { $0["StreamArn"] as? String == start }) { streams.removeFirst(i + 1) }
        var out: [String: Any] = ["Streams": Array(streams.prefix(limit))]
        if streams.count > limit { out["LastEvaluatedStreamArn"] = streams[limit - 1]["StreamArn"] }
        return out
    }

    func describeStream(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let arn = try input.required("StreamArn")
        let (t, label) = try stream(s, arn)
        let first = try store.db.readNow { db in
            try Int64.fetchOne(db, sql: "SELECT MIN(seq) FROM stream_records WHERE tid = ? AND label = ?", arguments: [t.id, label])
        }
        let shard: [String: Any] = ["ShardId": Self.shardId(t), "SequenceNumberRange": ["StartingSequenceNumber": Self.sequenceNumber(first ?? 1)]]
        var keySchema: [[String: Any]] = [["AttributeName": t.hashKey.name, "KeyType": "HASH"]]
        if let r = t.rangeKey { keySchema.append(["AttributeName": r.name, "KeyType": "RANGE"]) }
        return ["StreamDescription": [
            "StreamArn": arn, "StreamLabel": label, "StreamStatus": t.streamEnabled ? "ENABLED" : "DISABLED",
            "StreamViewType": t.streamViewType ?? "KEYS_ONLY", "CreationRequestDateTime": t.created, "TableName": t.name,
            "KeySchema": keySchema, "Shards": [shard],
        ]]
    }

    func getShardIterator(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let arn = try input.required("StreamArn")
        let shard = try input.required("ShardId")
        let type = try input.enumValue("ShardIteratorType", ["TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"]) ?? "TRIM_HORIZON"
        let (t, label) = try stream(s, arn)
        guard shard == Self.shardId(t) else {
            throw AWSError("ResourceNotFoundException", "Requested resource not found: Shard does not exist")
        }
        var after: Int64
        switch type {
        case "TRIM_HORIZON": after = 0
        case "LATEST":
            after = try store.db.readNow { db in
                try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM stream_records WHERE tid = ? AND label = ?", arguments: [t.id, label]) ?? 0
            }
        default:
            guard let text = try input.string("SequenceNumber"), let n = Int64(text) else {
                throw DDBError.validation("Invalid SequenceNumber for ShardIteratorType \(type)")
            }
            after = type == "AT_SEQUENCE_NUMBER" ? n - 1 : n
        }
        return ["ShardIterator": Self.iterator(arn, after)]
    }

    static func iterator(_ arn: String, _ after: Int64) -> String { Data("\(after)|\(arn)".utf8).base64EncodedString() }

    func getRecords(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let token = try input.required("ShardIterator")
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8),
              let bar = text.firstIndex(of: "|"), let after = Int64(text[..<bar]) else {
            throw DDBError.validation("Invalid ShardIterator")
        }
        let arn = String(text[text.index(after: bar)...])
        let limit = try input.int("Limit") ?? 1000
        let (t, label) = try stream(s, arn)
        let rows = try store.db.readNow { db in
            try Row.fetchAll(db, sql: "SELECT seq, record FROM stream_records WHERE tid = ? AND label = ? AND seq > ? ORDER BY seq LIMIT ?",
                             arguments: [t.id, label, after, max(1, min(limit, 1000))])
        }
        var records: [[String: Any]] = [], last = after
        for row in rows {
            let seq: Int64 = row["seq"]
            guard var r = (try? JSONSerialization.jsonObject(with: Data((row["record"] as String).utf8))) as? [String: Any] else { continue }
            var body = r["dynamodb"] as? [String: Any] ?? [:]
            body["SequenceNumber"] = Self.sequenceNumber(seq)
            r["dynamodb"] = body
            r["eventID"] = String(format: "%032llx", seq)
            records.append(r)
            last = seq
        }
        var out: [String: Any] = ["Records": records]
        if t.streamEnabled { out["NextShardIterator"] = Self.iterator(arn, last) }
        return out
    }
}
