import Core
import Foundation
import GRDB

/// DynamoDB's streams as Core's StreamRecordSource, for Lambda's event source mappings: the same shard and records
/// GetRecords serves, read in-process (the stream ARN names the account and region).
extension DynamoDBService: StreamRecordSource {
    func scope(streamARN: String) -> Scope? {
        let parts = streamARN.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[2] == "dynamodb" else { return nil }
        return Scope(account: String(parts[4]), region: String(parts[3]))
    }

    func streamTable(_ arn: String) throws -> (TableSchema, String) {
        guard let s = scope(streamARN: arn) else {
            throw AWSError("ResourceNotFoundException", "Requested resource not found: Stream: \(arn) not found")
        }
        return try stream(s, arn)
    }

    public func streamExists(arn: String) -> Bool { (try? streamTable(arn)) != nil }

    public func shards(streamARN: String) throws -> [String] { [Self.shardId(try streamTable(streamARN).0)] }

    public func latestSequenceNumber(streamARN: String, shard: String) throws -> String? {
        let (t, label) = try streamTable(streamARN)
        return try store.db.readNow { db in
            try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM stream_records WHERE tid = ? AND label = ?", arguments: [t.id, label])
        }.map(Self.sequenceNumber)
    }

    public func records(streamARN: String, shard: String, after: String?, max: Int) throws -> [StreamRecord] {
        let (t, label) = try streamTable(streamARN)
        let from = after.flatMap { Int64($0) } ?? 0
        let rows = try store.db.readNow { db in
            try Row.fetchAll(db, sql: "SELECT seq, record FROM stream_records WHERE tid = ? AND label = ? AND seq > ? ORDER BY seq LIMIT ?",
                             arguments: [t.id, label, from, Swift.max(1, max)])
        }
        return rows.compactMap { row in
            let seq: Int64 = row["seq"]
            guard var r = (try? JSONSerialization.jsonObject(with: Data((row["record"] as String).utf8))) as? [String: Any] else { return nil }
            var body = r["dynamodb"] as? [String: Any] ?? [:]
            body["SequenceNumber"] = Self.sequenceNumber(seq)
            r["dynamodb"] = body
            r["eventID"] = String(format: "%032llx", seq)
            guard let data = try? JSONSerialization.data(withJSONObject: r, options: [.withoutEscapingSlashes]) else { return nil }
            return StreamRecord(sequenceNumber: Self.sequenceNumber(seq), json: String(decoding: data, as: UTF8.self))
        }
    }
}
