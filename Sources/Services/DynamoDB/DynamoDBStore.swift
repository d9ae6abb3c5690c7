import Core
import Foundation
import GRDB
import Synchronization

/// `dynamodb.sqlite`. Tables are JSON documents (`tables`); items are rows keyed by (table id, hash key bytes, range
/// key bytes) in `KeyOrder.bytes` form, so one hash key's items are a contiguous range of the primary key in
/// DynamoDB's order and a Query reads that range alone. Each secondary index is a second keyed range (`index_items`)
/// pointing back at the item, kept in the same transaction as the item (`writeItem`).
final class DynamoDBStore: Sendable {
    let database: LazyDatabase
    /// Opened and migrated on first use, not at start.
    var db: DatabasePool { get throws { try database.pool() } }
    /// Decoded table documents by "account/region/name": every item request needs its table's key schema.
    private let cache = Mutex<[String: TableSchema]>([:])

    init(directory: String) throws {
        database = LazyDatabase(path: Self.path(directory), migrator: Self.migrator)
    }

    static func path(_ directory: String) -> String { directory + "/dynamodb.sqlite" }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE tables (
                    id INTEGER PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
                    body TEXT NOT NULL, UNIQUE (account, region, name)
                );
                CREATE TABLE items (
                    tid INTEGER NOT NULL, hk BLOB NOT NULL, rk BLOB NOT NULL, body BLOB NOT NULL,
                    size INTEGER NOT NULL, expires REAL, PRIMARY KEY (tid, hk, rk)
                ) WITHOUT ROWID;
                CREATE INDEX items_expires ON items (expires) WHERE expires IS NOT NULL;
                CREATE TABLE index_items (
                    tid INTEGER NOT NULL, idx TEXT NOT NULL, hk BLOB NOT NULL, rk BLOB NOT NULL,
                    thk BLOB NOT NULL, trk BLOB NOT NULL, PRIMARY KEY (tid, idx, hk, rk, thk, trk)
                ) WITHOUT ROWID;
                CREATE TABLE tokens (
                    account TEXT NOT NULL, region TEXT NOT NULL, token TEXT NOT NULL, digest TEXT NOT NULL,
                    at REAL NOT NULL, answer TEXT NOT NULL, PRIMARY KEY (account, region, token)
                );
                """)
        }
        m.registerMigration("v2 streams") { db in
            try db.execute(sql: """
                CREATE TABLE stream_records (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, tid INTEGER NOT NULL, label TEXT NOT NULL, at REAL NOT NULL,
                    record TEXT NOT NULL
                );
                CREATE INDEX stream_records_stream ON stream_records (tid, label, seq);
                """)
        }
        return m
    }

    func reset() throws {
        guard database.hasContent else { return }  // never used: nothing to empty, nothing to create
        try db.writeNow { db in
            try db.execute(sql: "DELETE FROM tables; DELETE FROM items; DELETE FROM index_items; DELETE FROM tokens; DELETE FROM stream_records")
        }
        forget()
    }

    /// Drop the cached documents (after a reset or a snapshot restore).
    func forget() { cache.withLock { $0 = [:] } }

    // MARK: tables

    private static func cacheKey(_ s: Scope, _ name: String) -> String { "\(s.account)/\(s.region)/\(name)" }

    func table(_ s: Scope, _ name: String) throws -> TableSchema? {
        let key = Self.cacheKey(s, name)
        if let t = cache.withLock({ $0[key] }) { return t }
        guard let t = try db.readNow({ db in try Self.table(s, name, db) }) else { return nil }
        cache.withLock { $0[key] = t }
        return t
    }

    static func table(_ s: Scope, _ name: String, _ db: Database) throws -> TableSchema? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, body FROM tables WHERE account = ? AND region = ? AND name = ?"),
                                         arguments: [s.account, s.region, name]) else { return nil }
        var t = try JSONDecoder().decode(TableSchema.self, from: Data((row["body"] as String).utf8))
        t.id = row["id"]
        return t
    }

    static func tableNames(_ s: Scope, _ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT name FROM tables WHERE account = ? AND region = ? ORDER BY name", arguments: [s.account, s.region])
    }

    /// Insert (id 0) or replace a table document; the cache follows once the transaction commits.
    func save(_ t: inout TableSchema, _ s: Scope, _ db: Database) throws {
        let body = String(decoding: try JSONEncoder().encode(t), as: UTF8.self)
        if t.id == 0 {
            try db.execute(sql: "INSERT INTO tables (account, region, name, body) VALUES (?, ?, ?, ?)",
                           arguments: [s.account, s.region, t.name, body])
            t.id = db.lastInsertedRowID
        } else {
            try db.execute(sql: "UPDATE tables SET body = ? WHERE id = ?", arguments: [body, t.id])
        }
        let saved = t, key = Self.cacheKey(s, t.name)
        db.afterNextTransaction { _ in self.cache.withLock { $0[key] = saved } }
    }

    func drop(_ t: TableSchema, _ s: Scope, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM tables WHERE id = ?", arguments: [t.id])
        try db.execute(sql: "DELETE FROM items WHERE tid = ?", arguments: [t.id])
        try db.execute(sql: "DELETE FROM index_items WHERE tid = ?", arguments: [t.id])
        try db.execute(sql: "DELETE FROM stream_records WHERE tid = ?", arguments: [t.id])
        let key = Self.cacheKey(s, t.name)
        cache.withLock { $0[key] = nil }
        db.afterNextTransaction { _ in self.cache.withLock { $0[key] = nil } }
    }

    /// Item count and size of a table, and item count of each index.
    static func counts(_ t: TableSchema, _ db: Database) throws -> (items: Int, bytes: Int, indexes: [String: Int]) {
        let row = try Row.fetchOne(db, sql: "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM items WHERE tid = ?", arguments: [t.id])
        var indexes: [String: Int] = [:]
        for r in try Row.fetchAll(db, sql: "SELECT idx, COUNT(*) FROM index_items WHERE tid = ? GROUP BY idx", arguments: [t.id]) {
            indexes[r[0]] = r[1]
        }
        return (row?[0] ?? 0, row?[1] ?? 0, indexes)
    }

    // MARK: items

    /// The stored bytes of a key value ("" for a table without a range key).
    static func keyBytes(_ v: AttributeValue?) -> Data { v.map { Data(KeyOrder.bytes($0)) } ?? Data() }

    static func decodeBody(_ data: Data) throws -> Item {
        try Items.decode(try JSONSerialization.jsonObject(with: data))
    }

    static func encodeBody(_ item: Item) throws -> Data {
        try JSONSerialization.data(withJSONObject: Items.encode(item))
    }

    /// The item with this key (already validated against the schema), or nil.
    static func item(_ t: TableSchema, key: Item, _ db: Database) throws -> Item? {
        let hk = keyBytes(key[t.hashKey.name]), rk = keyBytes(t.rangeKey.flatMap { key[$0.name] })
        guard let body = try Data.fetchOne(db.cachedStatement(sql: "SELECT body FROM items WHERE tid = ? AND hk = ? AND rk = ?"),
                                           arguments: [t.id, hk, rk]) else { return nil }
        return try decodeBody(body)
    }

    /// The one way an item changes (put, update, delete, TTL expiry): the item row and every index entry in the caller's
    /// transaction. `old` is the item before, `new` after (nil: absent).
    /// With a stream enabled, its record is written here too, in the same transaction (`byTTL`: a service deletion).
    static func writeItem(_ t: TableSchema, old: Item?, new: Item?, now: Double, byTTL: Bool = false, _ db: Database) throws {
        let source = new ?? old
        guard let source else { return }
        if t.streamEnabled, old != new { try appendStreamRecord(t, old: old, new: new, now: now, byTTL: byTTL, db) }
        let hk = keyBytes(source[t.hashKey.name]), rk = keyBytes(t.rangeKey.flatMap { source[$0.name] })
        if let new {
            var expires: Double?
            if t.ttlEnabled, let a = t.ttlAttribute { expires = ttlExpiry(new[a]) }
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO items (tid, hk, rk, body, size, expires) VALUES (?, ?, ?, ?, ?, ?)")
                .execute(arguments: [t.id, hk, rk, try encodeBody(new), Items.size(new), expires])
        } else {
            try db.cachedStatement(sql: "DELETE FROM items WHERE tid = ? AND hk = ? AND rk = ?").execute(arguments: [t.id, hk, rk])
        }
        for index in t.indexes {
            let before = old.flatMap { indexKey($0, index) }, after = new.flatMap { indexKey($0, index) }
            if let before, before != after || new == nil {
                try db.cachedStatement(sql: "DELETE FROM index_items WHERE tid = ? AND idx = ? AND hk = ? AND rk = ? AND thk = ? AND trk = ?")
                    .execute(arguments: [t.id, index.name, before.h, before.r, hk, rk])
            }
            if let after, after != before {
                try db.cachedStatement(sql: "INSERT OR REPLACE INTO index_items (tid, idx, hk, rk, thk, trk) VALUES (?, ?, ?, ?, ?, ?)")
                    .execute(arguments: [t.id, index.name, after.h, after.r, hk, rk])
            }
        }
    }

    /// An item's key bytes in an index, nil when the item lacks (or has a wrongly typed) index key attribute: such
    /// items are not in the index, as in DynamoDB's sparse indexes.
    static func indexKey(_ item: Item, _ index: IndexSchema) -> IndexKey? {
        guard let h = item[index.hashKey.name], h.typeName == index.hashKey.type else { return nil }
        var r: Data = Data()
        if let rk = index.rangeKey {
            guard let v = item[rk.name], v.typeName == rk.type else { return nil }
            r = keyBytes(v)
        }
        return IndexKey(h: keyBytes(h), r: r)
    }

    /// The epoch second an item expires at: its TTL attribute, when a number (a set, a string or a date in another
    /// form never expires, as in DynamoDB).
    static func ttlExpiry(_ v: AttributeValue?) -> Double? {
        guard case .n(let n)? = v else { return nil }
        return Double(n.description)
    }

    /// Fill one new index from the items already in the table (UpdateTable's GSI creation).
    static func backfill(_ t: TableSchema, _ index: IndexSchema, _ db: Database) throws {
        let rows = try Row.fetchCursor(db, sql: "SELECT hk, rk, body FROM items WHERE tid = ?", arguments: [t.id])
        while let row = try rows.next() {
            guard let key = indexKey(try decodeBody(row["body"]), index) else { continue }
            try db.execute(sql: "INSERT OR REPLACE INTO index_items (tid, idx, hk, rk, thk, trk) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [t.id, index.name, key.h, key.r, row["hk"] as Data, row["rk"] as Data])
        }
    }

    /// Recompute the expiry column of a table's items after its TTL setting changed.
    static func refreshExpiry(_ t: TableSchema, _ db: Database) throws {
        guard t.ttlEnabled, let a = t.ttlAttribute else {
            try db.execute(sql: "UPDATE items SET expires = NULL WHERE tid = ?", arguments: [t.id])
            return
        }
        let rows = try Row.fetchAll(db, sql: "SELECT hk, rk, body FROM items WHERE tid = ?", arguments: [t.id])
        for row in rows {
            let e = ttlExpiry(try decodeBody(row["body"])[a])
            try db.execute(sql: "UPDATE items SET expires = ? WHERE tid = ? AND hk = ? AND rk = ?",
                           arguments: [e, t.id, row["hk"] as Data, row["rk"] as Data])
        }
    }
}

/// An item's key in one index, as stored.
struct IndexKey: Equatable {
    var h: Data
    var r: Data
}

/// An account and region: every table lives in one.
struct Scope: Sendable, Hashable {
    var account: String
    var region: String
}
