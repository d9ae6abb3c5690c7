import Core
import Foundation
import GRDB

/// A queue as stored: its settable attributes and tags.
struct Queue: Sendable {
    var account: String
    var region: String
    var name: String
    var attributes: [String: String]
    var tags: [String: String]
    var created: Double
    var modified: Double

    var isFIFO: Bool { name.hasSuffix(".fifo") }
    /// The key messages are filed under.
    var key: String { "\(account)/\(region)/\(name)" }
    func int(_ attribute: String) -> Int { Int(attributes[attribute] ?? QueueAttributes.defaults[attribute] ?? "0") ?? 0 }
    var arn: String { ARN(service: "sqs", region: region, account: account, resource: name).description }
}

/// `sqs.sqlite`: queues per account and region, and recently deleted names (QueueDeletedRecently).
final class QueueStore: Sendable {
    let database: LazyDatabase
    /// Opened and migrated on first use, not at start.
    var db: DatabasePool { get throws { try database.pool() } }

    init(directory: String) throws {
        database = LazyDatabase(path: Self.path(directory), migrator: Self.migrator)
    }

    static func path(_ directory: String) -> String { directory + "/sqs.sqlite" }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE queue (
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    name TEXT NOT NULL,
                    attributes TEXT NOT NULL,
                    tags TEXT NOT NULL,
                    created REAL NOT NULL,
                    modified REAL NOT NULL,
                    PRIMARY KEY (account, region, name)
                ) WITHOUT ROWID;
                CREATE TABLE deleted_queue (
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    name TEXT NOT NULL,
                    deleted REAL NOT NULL,
                    PRIMARY KEY (account, region, name)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v2 messages") { db in
            try db.execute(sql: """
                CREATE TABLE message (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    queue TEXT NOT NULL,
                    id TEXT NOT NULL UNIQUE,
                    body TEXT NOT NULL,
                    attributes TEXT,
                    md5_body TEXT NOT NULL,
                    md5_attributes TEXT,
                    system_attributes TEXT,
                    md5_system_attributes TEXT,
                    sender TEXT NOT NULL,
                    sent REAL NOT NULL,
                    visible_at REAL NOT NULL,
                    receive_count INTEGER NOT NULL DEFAULT 0,
                    first_receive REAL,
                    receipt TEXT,
                    expires REAL NOT NULL
                );
                CREATE INDEX message_visible ON message(queue, visible_at);
                """)
        }
        m.registerMigration("v3 fifo, dead-letter sources, move tasks") { db in
            // FIFO: message groups, deduplication ids kept 5 minutes (also after the message is deleted), and
            // ReceiveRequestAttemptIds. SequenceNumber derives from `seq`, so it is not stored with the message.
            try db.execute(sql: """
                ALTER TABLE message ADD COLUMN group_id TEXT;
                ALTER TABLE message ADD COLUMN dedup_id TEXT;
                -- The queue a dead-lettered message came from: where a message move task returns it by default.
                ALTER TABLE message ADD COLUMN source_queue TEXT;
                CREATE INDEX message_group ON message(queue, group_id, seq) WHERE group_id IS NOT NULL;
                CREATE TABLE dedup (
                    queue TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    dedup_id TEXT NOT NULL,
                    message_id TEXT NOT NULL,
                    sequence TEXT NOT NULL,
                    expires REAL NOT NULL,
                    PRIMARY KEY (queue, scope, dedup_id)
                ) WITHOUT ROWID;
                CREATE INDEX dedup_expires ON dedup(expires);
                CREATE TABLE receive_attempt (
                    queue TEXT NOT NULL,
                    attempt_id TEXT NOT NULL,
                    receipts TEXT NOT NULL,
                    expires REAL NOT NULL,
                    PRIMARY KEY (queue, attempt_id)
                ) WITHOUT ROWID;
                CREATE TABLE move_task (
                    task_id TEXT PRIMARY KEY,
                    source_arn TEXT NOT NULL,
                    destination_arn TEXT,
                    rate INTEGER,
                    status TEXT NOT NULL,
                    moved INTEGER NOT NULL DEFAULT 0,
                    to_move INTEGER NOT NULL,
                    failure TEXT,
                    started REAL NOT NULL
                );
                CREATE INDEX move_task_source ON move_task(source_arn, started);
                """)
        }
        m.registerMigration("v4 expiry index") { db in
            // Retention sweeps on every receive must not scan the whole queue.
            try db.execute(sql: "CREATE INDEX message_expiry ON message(queue, expires)")
        }
        return m
    }

    static func encode(_ map: [String: String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: map, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// Attribute and tag maps as decoded from their JSON columns (read on every send and receive).
    static let decoded = DecodedCache<[String: String]>()

    static func decode(_ text: String) -> [String: String] {
        decoded.value(for: text) { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]) ?? [:] }
    }

    static func queue(_ row: Row) -> Queue {
        Queue(account: row[0], region: row[1], name: row[2], attributes: decode(row[3]), tags: decode(row[4]),
              created: row[5], modified: row[6])
    }

    static let columns = "account, region, name, attributes, tags, created, modified"

    func queue(account: String, region: String, name: String) throws -> Queue? {
        try db.readNow { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT \(Self.columns) FROM queue WHERE account = ? AND region = ? AND name = ?"),
                arguments: [account, region, name]
            ).map(Self.queue)
        }
    }

    func queues(account: String, region: String, prefix: String, after: String, limit: Int) throws -> [Queue] {
        try db.readNow { db in
            try Row.fetchAll(
                db.cachedStatement(sql: """
                    SELECT \(Self.columns) FROM queue WHERE account = ? AND region = ? AND name > ?
                      AND substr(name, 1, ?) = ? ORDER BY name LIMIT ?
                    """),
                arguments: [account, region, after, prefix.count, prefix, limit]
            ).map(Self.queue)
        }
    }

    static func save(_ q: Queue, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO queue (account, region, name, attributes, tags, created, modified)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [q.account, q.region, q.name, encode(q.attributes), encode(q.tags), q.created, q.modified])
    }

    func reset() throws {
        guard database.hasContent else { return }  // never used: nothing to empty, nothing to create
        try db.writeNow { db in try db.execute(sql: "DELETE FROM message; DELETE FROM queue; DELETE FROM deleted_queue; DELETE FROM dedup; DELETE FROM receive_attempt; DELETE FROM move_task;") }
    }
}
