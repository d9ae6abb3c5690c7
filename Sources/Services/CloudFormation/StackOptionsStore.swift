import Core
import Foundation
import GRDB

/// A stack's settings changed outside its operations (termination protection, stack policies), kept apart from the
/// stack's record so that an operation running in the background, which saves the record whole, never undoes them.
struct StackOptions: Sendable, Equatable {
    var terminationProtection = false
    var policy: String?
    /// StackPolicyDuringUpdateBody: replaces `policy` for the update under way only.
    var policyDuringUpdate: String?
    /// Resources ContinueUpdateRollback skipped: their state is unknown, so drift detection leaves them NOT_CHECKED
    /// until an update of the stack completes.
    var skippedInRollback: [String] = []
}

/// Tables of termination protection, stack policies and drift results (migration "v2-ops").
extension StackStore {
    static func migrateOps(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE stack_option (
                stack_id TEXT PRIMARY KEY,
                termination_protection INTEGER NOT NULL DEFAULT 0,
                policy TEXT,
                policy_during_update TEXT,
                skipped_in_rollback TEXT
            );
            CREATE TABLE drift_detection (
                id TEXT PRIMARY KEY,
                stack_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                record TEXT NOT NULL
            );
            CREATE INDEX drift_detection_stack ON drift_detection(stack_id, seq);
            CREATE TABLE resource_drift (
                stack_id TEXT NOT NULL,
                logical_id TEXT NOT NULL,
                record TEXT NOT NULL,
                PRIMARY KEY (stack_id, logical_id)
            );
            """)
    }

    func resetOps(_ db: Database) throws {
        try db.execute(sql: "DELETE FROM stack_option; DELETE FROM drift_detection; DELETE FROM resource_drift")
    }

    // MARK: Options

    func options(stackId: String) throws -> StackOptions {
        try db.readNow { db in try Self.options(db, stackId) }
    }

    static func options(_ db: Database, _ stackId: String) throws -> StackOptions {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM stack_option WHERE stack_id = ?", arguments: [stackId]) else {
            return StackOptions()
        }
        let skipped = (row["skipped_in_rollback"] as String?).flatMap { try? decode([String].self, $0) } ?? []
        return StackOptions(terminationProtection: (row["termination_protection"] as Int64? ?? 0) != 0,
                            policy: row["policy"], policyDuringUpdate: row["policy_during_update"], skippedInRollback: skipped)
    }

    static func save(_ db: Database, _ o: StackOptions, _ stackId: String) throws {
        let skipped = o.skippedInRollback.isEmpty ? nil : try encode(o.skippedInRollback)
        try db.execute(sql: """
            INSERT INTO stack_option (stack_id, termination_protection, policy, policy_during_update, skipped_in_rollback)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(stack_id) DO UPDATE SET termination_protection = excluded.termination_protection,
                policy = excluded.policy, policy_during_update = excluded.policy_during_update,
                skipped_in_rollback = excluded.skipped_in_rollback
            """, arguments: [stackId, o.terminationProtection ? 1 : 0, o.policy, o.policyDuringUpdate, skipped])
    }

    func save(_ o: StackOptions, stackId: String) throws {
        try db.writeNow { db in try Self.save(db, o, stackId) }
    }

    /// Change a stack's options in one transaction (two requests changing different options both count).
    func updateOptions(stackId: String, _ change: (inout StackOptions) -> Void) throws {
        try db.writeNow { db in
            var o = try Self.options(db, stackId)
            change(&o)
            try Self.save(db, o, stackId)
        }
    }

    // MARK: Drift

    func save(_ d: DriftDetection) throws {
        let record = try Self.encode(d)
        try db.writeNow { db in
            try db.execute(sql: """
                INSERT INTO drift_detection (id, stack_id, seq, record)
                VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM drift_detection), ?)
                ON CONFLICT(id) DO UPDATE SET record = excluded.record
                """, arguments: [d.id, d.stackId, record])
        }
    }

    func detection(id: String) throws -> DriftDetection? {
        try db.readNow { db in
            try String.fetchOne(db, sql: "SELECT record FROM drift_detection WHERE id = ?", arguments: [id])
        }.map { try Self.decode(DriftDetection.self, $0) }
    }

    /// The stack's latest finished detection (what DescribeStacks' DriftInformation shows).
    func lastDetection(stackId: String) throws -> DriftDetection? {
        try db.readNow { db in
            try String.fetchAll(db, sql: "SELECT record FROM drift_detection WHERE stack_id = ? ORDER BY seq DESC", arguments: [stackId])
        }.lazy.compactMap { try? Self.decode(DriftDetection.self, $0) }.first { $0.status != "DETECTION_IN_PROGRESS" }
    }

    func deleteResourceDrifts(stackId: String, logicalIds: [String]) throws {
        try db.writeNow { db in
            for id in logicalIds {
                try db.execute(sql: "DELETE FROM resource_drift WHERE stack_id = ? AND logical_id = ?", arguments: [stackId, id])
            }
        }
    }

    func save(_ r: ResourceDrift) throws {
        let record = try Self.encode(r)
        try db.writeNow { db in
            try db.execute(sql: "INSERT OR REPLACE INTO resource_drift (stack_id, logical_id, record) VALUES (?, ?, ?)",
                           arguments: [r.stackId, r.logicalId, record])
        }
    }

    /// The latest drift result of each resource of the stack, by logical id.
    func resourceDrifts(stackId: String) throws -> [String: ResourceDrift] {
        let all = try db.readNow { db in
            try String.fetchAll(db, sql: "SELECT record FROM resource_drift WHERE stack_id = ? ORDER BY logical_id", arguments: [stackId])
        }.map { try Self.decode(ResourceDrift.self, $0) }
        return Dictionary(all.map { ($0.logicalId, $0) }, uniquingKeysWith: { a, _ in a })
    }
}
