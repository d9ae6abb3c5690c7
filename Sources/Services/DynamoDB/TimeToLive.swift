import Core
import Foundation
import GRDB

/// Time to Live: items whose TTL attribute (epoch seconds) is in the past on the emulator's clock are deleted by a
/// sweep (Serve.swift runs it every 5 s, and at once when the clock moves). Until swept, reads still return them,
/// as DynamoDB's do. Each deletion goes through `DynamoDBStore.writeItem`, where a stream record (a service deletion)
/// will be written.
extension DynamoDBService {
    /// Delete what has expired, at most 1000 items per transaction; the number deleted.
    @discardableResult
    public func sweepExpired() throws -> Int {
        guard store.database.hasContent else { return 0 }  // never created: nothing due, nothing opened
        let now = clock.now()
        var total = 0
        while true {
            let n = try store.db.writeNow { db -> Int in
                let rows = try Row.fetchAll(db, sql: "SELECT tid, body FROM items WHERE expires IS NOT NULL AND expires <= ? LIMIT 1000",
                                            arguments: [now])
                var tables: [Int64: TableSchema] = [:]
                for row in rows {
                    let tid: Int64 = row["tid"]
                    if tables[tid] == nil {
                        guard let body = try String.fetchOne(db, sql: "SELECT body FROM tables WHERE id = ?", arguments: [tid]) else { continue }
                        var t = try JSONDecoder().decode(TableSchema.self, from: Data(body.utf8))
                        t.id = tid
                        tables[tid] = t
                    }
                    let item = try DynamoDBStore.decodeBody(row["body"])
                    try DynamoDBStore.writeItem(tables[tid]!, old: item, new: nil, now: now, byTTL: true, db)
                }
                return rows.count
            }
            total += n
            if n < 1000 {
                try DynamoDBStore.trimStreams(now: now, store.db)
                return total
            }
        }
    }
}
