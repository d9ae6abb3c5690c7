import Core
import Foundation
import GRDB

/// What names a scalable target (and, with a name, its policies and scheduled actions).
struct TargetKey: Hashable, Sendable {
    var namespace: String
    var resourceID: String
    var dimension: String
}

struct ScalableTarget: Sendable {
    var account: String
    var region: String
    var key: TargetKey
    var id: String
    var minCapacity: Int
    var maxCapacity: Int
    var roleARN: String
    var scalingInSuspended = false
    var scalingOutSuspended = false
    var scheduledSuspended = false
    var tags: [String: String] = [:]
    var created: Double
    /// When target tracking last scaled out / in: the cooldowns count from them.
    var lastScaleOut: Double?
    var lastScaleIn: Double?

    var arn: String { "arn:aws:application-autoscaling:\(region):\(account):scalable-target/\(id)" }
}

struct StoredPolicy: Sendable {
    var account: String
    var region: String
    var key: TargetKey
    var name: String
    var arn: String
    var type: String
    /// The request's StepScaling / TargetTracking / PredictiveScaling configuration, as JSON.
    var configuration: String
    /// [{AlarmName, AlarmARN}] as JSON.
    var alarms: String
    var created: Double
}

struct StoredScheduledAction: Sendable {
    var account: String
    var region: String
    var key: TargetKey
    var name: String
    var arn: String
    var schedule: String
    var timezone: String?
    var start: Double?
    var end: Double?
    var minCapacity: Int?
    var maxCapacity: Int?
    var created: Double
    /// The sweep has looked for fire times up to here.
    var checkedUntil: Double
}

struct Activity: Sendable {
    var id: String
    var account: String
    var region: String
    var key: TargetKey
    var description: String
    var cause: String
    /// Successful or Failed: the emulator's changes complete at once.
    var statusCode: String
    var statusMessage: String
    var start: Double
    var end: Double
}

/// `application-autoscaling.sqlite`: targets, policies, scheduled actions and the activity history.
final class AASStore: Sendable {
    let database: LazyDatabase
    /// Opened and migrated on first use, not at start.
    var db: DatabasePool { get throws { try database.pool() } }

    init(directory: String) throws {
        database = LazyDatabase(path: Self.path(directory), migrator: Self.migrator)
    }

    static func path(_ directory: String) -> String { directory + "/application-autoscaling.sqlite" }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE target (
                    account TEXT NOT NULL, region TEXT NOT NULL, namespace TEXT NOT NULL, resource_id TEXT NOT NULL,
                    dimension TEXT NOT NULL, id TEXT NOT NULL, min_capacity INTEGER NOT NULL, max_capacity INTEGER NOT NULL,
                    role_arn TEXT NOT NULL, in_suspended INTEGER NOT NULL, out_suspended INTEGER NOT NULL,
                    scheduled_suspended INTEGER NOT NULL, tags TEXT NOT NULL, created REAL NOT NULL,
                    last_scale_out REAL, last_scale_in REAL,
                    PRIMARY KEY (account, region, namespace, resource_id, dimension)
                ) WITHOUT ROWID;
                CREATE UNIQUE INDEX target_id ON target(id);
                CREATE TABLE policy (
                    account TEXT NOT NULL, region TEXT NOT NULL, namespace TEXT NOT NULL, resource_id TEXT NOT NULL,
                    dimension TEXT NOT NULL, name TEXT NOT NULL, arn TEXT NOT NULL, type TEXT NOT NULL,
                    configuration TEXT NOT NULL, alarms TEXT NOT NULL, created REAL NOT NULL,
                    PRIMARY KEY (account, region, namespace, resource_id, dimension, name)
                ) WITHOUT ROWID;
                CREATE TABLE scheduled_action (
                    account TEXT NOT NULL, region TEXT NOT NULL, namespace TEXT NOT NULL, resource_id TEXT NOT NULL,
                    dimension TEXT NOT NULL, name TEXT NOT NULL, arn TEXT NOT NULL, schedule TEXT NOT NULL, timezone TEXT,
                    start_time REAL, end_time REAL, min_capacity INTEGER, max_capacity INTEGER, created REAL NOT NULL,
                    checked_until REAL NOT NULL,
                    PRIMARY KEY (account, region, namespace, resource_id, dimension, name)
                ) WITHOUT ROWID;
                CREATE TABLE activity (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL,
                    namespace TEXT NOT NULL, resource_id TEXT NOT NULL, dimension TEXT NOT NULL, description TEXT NOT NULL,
                    cause TEXT NOT NULL, status_code TEXT NOT NULL, status_message TEXT NOT NULL, start_time REAL NOT NULL, end_time REAL NOT NULL
                );
                CREATE INDEX activity_target ON activity(account, region, namespace);
                """)
        }
        return m
    }

    static let keyWhere = "account = ? AND region = ? AND namespace = ? AND resource_id = ? AND dimension = ?"

    static func keyArguments(_ account: String, _ region: String, _ k: TargetKey) -> StatementArguments {
        [account, region, k.namespace, k.resourceID, k.dimension]
    }

    // MARK: Targets

    static let targetColumns = """
        account, region, namespace, resource_id, dimension, id, min_capacity, max_capacity, role_arn, in_suspended,
        out_suspended, scheduled_suspended, tags, created, last_scale_out, last_scale_in
        """

    static func target(_ row: Row) -> ScalableTarget {
        ScalableTarget(account: row[0], region: row[1], key: TargetKey(namespace: row[2], resourceID: row[3], dimension: row[4]),
                       id: row[5], minCapacity: row[6], maxCapacity: row[7], roleARN: row[8], scalingInSuspended: row[9],
                       scalingOutSuspended: row[10], scheduledSuspended: row[11], tags: decodeTags(row[12]), created: row[13],
                       lastScaleOut: row[14], lastScaleIn: row[15])
    }

    static func target(_ account: String, _ region: String, _ key: TargetKey, _ db: Database) throws -> ScalableTarget? {
        try Row.fetchOne(db, sql: "SELECT \(targetColumns) FROM target WHERE \(keyWhere)", arguments: keyArguments(account, region, key))
            .map(target)
    }

    static func target(id: String, _ db: Database) throws -> ScalableTarget? {
        try Row.fetchOne(db, sql: "SELECT \(targetColumns) FROM target WHERE id = ?", arguments: [id]).map(target)
    }

    /// An account's targets in a namespace, in registration order (as AWS lists them).
    static func targets(_ account: String, _ region: String, namespace: String, _ db: Database) throws -> [ScalableTarget] {
        try Row.fetchAll(db, sql: "SELECT \(targetColumns) FROM target WHERE account = ? AND region = ? AND namespace = ? ORDER BY created, id",
                         arguments: [account, region, namespace]).map(target)
    }

    static func allTargets(_ db: Database) throws -> [ScalableTarget] {
        try Row.fetchAll(db, sql: "SELECT \(targetColumns) FROM target ORDER BY created, id").map(target)
    }

    static func save(_ t: ScalableTarget, _ db: Database) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO target (\(targetColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       arguments: [t.account, t.region, t.key.namespace, t.key.resourceID, t.key.dimension, t.id, t.minCapacity,
                                   t.maxCapacity, t.roleARN, t.scalingInSuspended, t.scalingOutSuspended, t.scheduledSuspended,
                                   encodeTags(t.tags), t.created, t.lastScaleOut, t.lastScaleIn])
    }

    /// Removes a target with its policies and scheduled actions; its activities stay in the history.
    static func deleteTarget(_ t: ScalableTarget, _ db: Database) throws {
        let args = keyArguments(t.account, t.region, t.key)
        for table in ["policy", "scheduled_action", "target"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE \(keyWhere)", arguments: args)
        }
    }

    static func encodeTags(_ tags: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(tags)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func decodeTags(_ s: String) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(s.utf8))) ?? [:]
    }

    // MARK: Policies

    static let policyColumns = "account, region, namespace, resource_id, dimension, name, arn, type, configuration, alarms, created"

    static func policy(_ row: Row) -> StoredPolicy {
        StoredPolicy(account: row[0], region: row[1], key: TargetKey(namespace: row[2], resourceID: row[3], dimension: row[4]),
                     name: row[5], arn: row[6], type: row[7], configuration: row[8], alarms: row[9], created: row[10])
    }

    static func policy(_ account: String, _ region: String, _ key: TargetKey, name: String, _ db: Database) throws -> StoredPolicy? {
        var args = keyArguments(account, region, key)
        args += [name]
        return try Row.fetchOne(db, sql: "SELECT \(policyColumns) FROM policy WHERE \(keyWhere) AND name = ?", arguments: args).map(policy)
    }

    static func policies(_ account: String, _ region: String, namespace: String, _ db: Database) throws -> [StoredPolicy] {
        try Row.fetchAll(db, sql: "SELECT \(policyColumns) FROM policy WHERE account = ? AND region = ? AND namespace = ? ORDER BY created, name",
                         arguments: [account, region, namespace]).map(policy)
    }

    static func policies(of t: ScalableTarget, _ db: Database) throws -> [StoredPolicy] {
        try Row.fetchAll(db, sql: "SELECT \(policyColumns) FROM policy WHERE \(keyWhere) ORDER BY created, name",
                         arguments: keyArguments(t.account, t.region, t.key)).map(policy)
    }

    static func save(_ p: StoredPolicy, _ db: Database) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO policy (\(policyColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       arguments: [p.account, p.region, p.key.namespace, p.key.resourceID, p.key.dimension, p.name, p.arn, p.type,
                                   p.configuration, p.alarms, p.created])
    }

    static func deletePolicy(_ p: StoredPolicy, _ db: Database) throws {
        var args = keyArguments(p.account, p.region, p.key)
        args += [p.name]
        try db.execute(sql: "DELETE FROM policy WHERE \(keyWhere) AND name = ?", arguments: args)
    }

    // MARK: Scheduled actions

    static let actionColumns = """
        account, region, namespace, resource_id, dimension, name, arn, schedule, timezone, start_time, end_time, min_capacity,
        max_capacity, created, checked_until
        """

    static func action(_ row: Row) -> StoredScheduledAction {
        StoredScheduledAction(account: row[0], region: row[1], key: TargetKey(namespace: row[2], resourceID: row[3], dimension: row[4]),
                              name: row[5], arn: row[6], schedule: row[7], timezone: row[8], start: row[9], end: row[10],
                              minCapacity: row[11], maxCapacity: row[12], created: row[13], checkedUntil: row[14])
    }

    static func action(_ account: String, _ region: String, _ key: TargetKey, name: String, _ db: Database) throws -> StoredScheduledAction? {
        var args = keyArguments(account, region, key)
        args += [name]
        return try Row.fetchOne(db, sql: "SELECT \(actionColumns) FROM scheduled_action WHERE \(keyWhere) AND name = ?", arguments: args)
            .map(action)
    }

    static func actions(_ account: String, _ region: String, namespace: String, _ db: Database) throws -> [StoredScheduledAction] {
        try Row.fetchAll(db, sql: """
            SELECT \(actionColumns) FROM scheduled_action WHERE account = ? AND region = ? AND namespace = ? ORDER BY created, name
            """, arguments: [account, region, namespace]).map(action)
    }

    static func actions(of t: ScalableTarget, _ db: Database) throws -> [StoredScheduledAction] {
        try Row.fetchAll(db, sql: "SELECT \(actionColumns) FROM scheduled_action WHERE \(keyWhere) ORDER BY created, name",
                         arguments: keyArguments(t.account, t.region, t.key)).map(action)
    }

    static func save(_ a: StoredScheduledAction, _ db: Database) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO scheduled_action (\(actionColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       arguments: [a.account, a.region, a.key.namespace, a.key.resourceID, a.key.dimension, a.name, a.arn, a.schedule,
                                   a.timezone, a.start, a.end, a.minCapacity, a.maxCapacity, a.created, a.checkedUntil])
    }

    static func deleteAction(_ a: StoredScheduledAction, _ db: Database) throws {
        var args = keyArguments(a.account, a.region, a.key)
        args += [a.name]
        try db.execute(sql: "DELETE FROM scheduled_action WHERE \(keyWhere) AND name = ?", arguments: args)
    }

    // MARK: Activities

    static func insert(_ a: Activity, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO activity (id, account, region, namespace, resource_id, dimension, description, cause, status_code,
                                  status_message, start_time, end_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [a.id, a.account, a.region, a.key.namespace, a.key.resourceID, a.key.dimension, a.description, a.cause,
                             a.statusCode, a.statusMessage, a.start, a.end])
    }

    /// A namespace's activities, newest first.
    static func activities(_ account: String, _ region: String, namespace: String, _ db: Database) throws -> [Activity] {
        try Row.fetchAll(db, sql: """
            SELECT id, account, region, namespace, resource_id, dimension, description, cause, status_code, status_message,
                   start_time, end_time
            FROM activity WHERE account = ? AND region = ? AND namespace = ? ORDER BY seq DESC
            """, arguments: [account, region, namespace]).map { row in
            Activity(id: row[0], account: row[1], region: row[2], key: TargetKey(namespace: row[3], resourceID: row[4], dimension: row[5]),
                     description: row[6], cause: row[7], statusCode: row[8], statusMessage: row[9], start: row[10], end: row[11])
        }
    }

    func reset() throws {
        guard database.hasContent else { return }  // never used: nothing to empty, nothing to create
        try db.writeNow { db in
            try db.execute(sql: "DELETE FROM activity; DELETE FROM scheduled_action; DELETE FROM policy; DELETE FROM target;")
        }
    }
}
