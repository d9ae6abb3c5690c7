import Core
import Foundation
import GRDB

/// A log group as stored. Times are milliseconds since the epoch, as CloudWatch Logs reports them.
struct LogGroup: Sendable {
    var id: Int64
    var account: String
    var region: String
    var name: String
    var created: Int64
    var retentionInDays: Int?
    var kmsKeyId: String?
    var logGroupClass: String
    var deletionProtection: Bool
    var tags: [String: String]
    var storedBytes: Int64
    var metricFilterCount: Int

    /// `arn:aws:logs:<region>:<account>:log-group:<name>` (logGroupArn; `arn` adds `:*`).
    var arn: String { "arn:aws:logs:\(region):\(account):log-group:\(name)" }

    /// The oldest timestamp still kept: events before it have passed the retention period.
    func retentionCutoff(now: Double) -> Int64 {
        guard let days = retentionInDays else { return 0 }
        return Int64((now * 1000).rounded(.down)) - Int64(days) * 86_400_000
    }
}

struct LogStream: Sendable {
    var id: Int64
    var groupID: Int64
    var name: String
    var created: Int64
    var firstEvent: Int64?
    var lastEvent: Int64?
    var lastIngestion: Int64?
    var uploadSequence: Int64

    /// AWS's 56-digit sequence tokens; accepted and ignored by PutLogEvents, as AWS does today.
    var sequenceToken: String {
        let s = String(uploadSequence)
        return "4" + String(repeating: "0", count: 55 - s.count) + s
    }
}

struct StoredEvent: Sendable {
    var id: Int64
    var streamID: Int64
    var timestamp: Int64
    var ingestion: Int64
    var message: String

    var position: EventPosition { EventPosition(timestamp: timestamp, id: id) }
}

/// `logs.sqlite`: groups, streams, events (ordered by timestamp, then by row id: the order of ingestion) and metric
/// filters. Event ids are plain row ids, not AUTOINCREMENT (one page write less per append): a new id is always above
/// every id that exists, which is all the ordering needs.
final class LogStore: Sendable {
    let database: LazyDatabase
    /// Opened and migrated on first use, not at start.
    var db: DatabasePool { get throws { try database.pool() } }

    init(directory: String) throws {
        database = LazyDatabase(path: Self.path(directory), migrator: Self.migrator)
    }

    static func path(_ directory: String) -> String { directory + "/logs.sqlite" }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE log_group (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    name TEXT NOT NULL,
                    created INTEGER NOT NULL,
                    retention INTEGER,
                    kms_key_id TEXT,
                    class TEXT NOT NULL,
                    deletion_protection INTEGER NOT NULL DEFAULT 0,
                    tags TEXT NOT NULL DEFAULT '{}',
                    stored_bytes INTEGER NOT NULL DEFAULT 0,
                    UNIQUE (account, region, name)
                );
                CREATE TABLE log_stream (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    group_id INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    created INTEGER NOT NULL,
                    first_event INTEGER,
                    last_event INTEGER,
                    last_ingestion INTEGER,
                    upload_sequence INTEGER NOT NULL DEFAULT 0,
                    UNIQUE (group_id, name)
                );
                CREATE TABLE event (
                    id INTEGER PRIMARY KEY,
                    group_id INTEGER NOT NULL,
                    stream_id INTEGER NOT NULL,
                    timestamp INTEGER NOT NULL,
                    ingestion INTEGER NOT NULL,
                    message TEXT NOT NULL
                );
                CREATE INDEX event_stream ON event(stream_id, timestamp);
                CREATE INDEX event_group ON event(group_id, timestamp);
                CREATE TABLE metric_filter (
                    group_id INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    pattern TEXT NOT NULL,
                    transformations TEXT NOT NULL,
                    created INTEGER NOT NULL,
                    PRIMARY KEY (group_id, name)
                ) WITHOUT ROWID;
                """)
        }
        return m
    }

    // MARK: Groups

    static let groupColumns = """
        id, account, region, name, created, retention, kms_key_id, class, deletion_protection, tags, stored_bytes,
        (SELECT COUNT(*) FROM metric_filter m WHERE m.group_id = log_group.id)
        """

    static func group(_ row: Row) -> LogGroup {
        let tags = (try? JSONDecoder().decode([String: String].self, from: Data((row[9] as String).utf8))) ?? [:]
        return LogGroup(id: row[0], account: row[1], region: row[2], name: row[3], created: row[4], retentionInDays: row[5],
                        kmsKeyId: row[6], logGroupClass: row[7], deletionProtection: row[8], tags: tags, storedBytes: row[10],
                        metricFilterCount: row[11])
    }

    static func group(account: String, region: String, name: String, _ db: Database) throws -> LogGroup? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(groupColumns) FROM log_group WHERE account = ? AND region = ? AND name = ?"),
                         arguments: [account, region, name]).map(group)
    }

    /// Groups of an account and region in name order (ASCII, as AWS sorts them).
    static func groups(account: String, region: String, _ db: Database) throws -> [LogGroup] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT \(groupColumns) FROM log_group WHERE account = ? AND region = ? ORDER BY name"),
                         arguments: [account, region]).map(group)
    }

    static func insertGroup(account: String, region: String, name: String, created: Int64, kmsKeyId: String?, logGroupClass: String,
                            deletionProtection: Bool, tags: [String: String], _ db: Database) throws -> Int64 {
        try db.cachedStatement(sql: """
            INSERT INTO log_group (account, region, name, created, kms_key_id, class, deletion_protection, tags)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [account, region, name, created, kmsKeyId, logGroupClass, deletionProtection, encode(tags)])
        return db.lastInsertedRowID
    }

    static func deleteGroup(_ id: Int64, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM event WHERE group_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM log_stream WHERE group_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM metric_filter WHERE group_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM log_group WHERE id = ?", arguments: [id])
    }

    static func setRetention(_ days: Int?, group id: Int64, _ db: Database) throws {
        try db.execute(sql: "UPDATE log_group SET retention = ? WHERE id = ?", arguments: [days, id])
    }

    static func setTags(_ tags: [String: String], group id: Int64, _ db: Database) throws {
        try db.execute(sql: "UPDATE log_group SET tags = ? WHERE id = ?", arguments: [encode(tags), id])
    }

    static func encode(_ tags: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(tags)) ?? Data("{}".utf8), as: UTF8.self)
    }

    // MARK: Streams

    static let streamColumns = "id, group_id, name, created, first_event, last_event, last_ingestion, upload_sequence"

    static func stream(_ row: Row) -> LogStream {
        LogStream(id: row[0], groupID: row[1], name: row[2], created: row[3], firstEvent: row[4], lastEvent: row[5],
                  lastIngestion: row[6], uploadSequence: row[7])
    }

    static func stream(group: Int64, name: String, _ db: Database) throws -> LogStream? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(streamColumns) FROM log_stream WHERE group_id = ? AND name = ?"),
                         arguments: [group, name]).map(stream)
    }

    static func streams(group: Int64, _ db: Database) throws -> [LogStream] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT \(streamColumns) FROM log_stream WHERE group_id = ? ORDER BY name"),
                         arguments: [group]).map(stream)
    }

    static func insertStream(group: Int64, name: String, created: Int64, _ db: Database) throws -> LogStream {
        try db.cachedStatement(sql: "INSERT INTO log_stream (group_id, name, created) VALUES (?, ?, ?)")
            .execute(arguments: [group, name, created])
        return LogStream(id: db.lastInsertedRowID, groupID: group, name: name, created: created, firstEvent: nil, lastEvent: nil,
                         lastIngestion: nil, uploadSequence: 0)
    }

    static func deleteStream(_ s: LogStream, _ db: Database) throws {
        let bytes = try Int64.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(SUM(LENGTH(CAST(message AS BLOB))), 0) FROM event WHERE stream_id = ?"),
                                       arguments: [s.id]) ?? 0
        try db.execute(sql: "DELETE FROM event WHERE stream_id = ?", arguments: [s.id])
        try db.execute(sql: "DELETE FROM log_stream WHERE id = ?", arguments: [s.id])
        try db.execute(sql: "UPDATE log_group SET stored_bytes = MAX(0, stored_bytes - ?) WHERE id = ?", arguments: [bytes, s.groupID])
    }

    // MARK: Events

    /// Appends events (already in order) to a stream in the caller's transaction and moves the stream's and group's
    /// figures along: one INSERT per event, one UPDATE each for the stream and the group.
    static func append(_ events: [Core.LogEvent], to stream: LogStream, ingestion: Int64, _ db: Database) throws -> LogStream {
        guard !events.isEmpty else { return stream }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO event (group_id, stream_id, timestamp, ingestion, message) VALUES (?, ?, ?, ?, ?)
            """)
        var bytes: Int64 = 0
        var first = Int64.max, last = Int64.min
        for e in events {
            try insert.execute(arguments: [stream.groupID, stream.id, e.timestamp, ingestion, e.message])
            bytes += Int64(e.message.utf8.count)
            first = min(first, e.timestamp)
            last = max(last, e.timestamp)
        }
        var s = stream
        s.firstEvent = min(s.firstEvent ?? first, first)
        s.lastEvent = max(s.lastEvent ?? last, last)
        s.lastIngestion = ingestion
        s.uploadSequence += 1
        try db.cachedStatement(sql: """
            UPDATE log_stream SET first_event = ?, last_event = ?, last_ingestion = ?, upload_sequence = ? WHERE id = ?
            """).execute(arguments: [s.firstEvent, s.lastEvent, s.lastIngestion, s.uploadSequence, s.id])
        try db.cachedStatement(sql: "UPDATE log_group SET stored_bytes = stored_bytes + ? WHERE id = ?")
            .execute(arguments: [bytes, stream.groupID])
        return s
    }

    static let eventColumns = "id, stream_id, timestamp, ingestion, message"

    static func event(_ row: Row) -> StoredEvent {
        StoredEvent(id: row[0], streamID: row[1], timestamp: row[2], ingestion: row[3], message: row[4])
    }

    /// Removes events past their group's retention and takes their bytes off the group's storedBytes.
    static func purgeExpired(now: Double, _ db: Database) throws -> Int {
        var removed = 0
        let rows = try Row.fetchAll(db, sql: "SELECT id, retention FROM log_group WHERE retention IS NOT NULL")
        for row in rows {
            let id: Int64 = row[0]
            let days: Int = row[1]
            let cutoff = Int64((now * 1000).rounded(.down)) - Int64(days) * 86_400_000
            let bytes = try Int64.fetchOne(db, sql: """
                SELECT COALESCE(SUM(LENGTH(CAST(message AS BLOB))), 0) FROM event WHERE group_id = ? AND timestamp < ?
                """, arguments: [id, cutoff]) ?? 0
            try db.execute(sql: "DELETE FROM event WHERE group_id = ? AND timestamp < ?", arguments: [id, cutoff])
            removed += db.changesCount
            if bytes > 0 {
                try db.execute(sql: "UPDATE log_group SET stored_bytes = MAX(0, stored_bytes - ?) WHERE id = ?", arguments: [bytes, id])
            }
        }
        return removed
    }

    func reset() throws {
        guard database.hasContent else { return }  // never used: nothing to empty, nothing to create
        try db.writeNow { db in
            try db.execute(sql: "DELETE FROM event; DELETE FROM log_stream; DELETE FROM metric_filter; DELETE FROM log_group;")
        }
    }
}
