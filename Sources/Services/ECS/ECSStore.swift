import Core
import Foundation
import GRDB

/// `ecs.sqlite`: one row per resource, its AWS document as JSON beside the columns it is found by. The scheduler
/// keeps services and live tasks in memory and writes every change through here before it is acknowledged.
final class ECSStore: Sendable {
    let database: LazyDatabase
    /// Opened and migrated on first use, not at start.
    var db: DatabasePool { get throws { try database.pool() } }

    init(directory: String) throws {
        database = LazyDatabase(path: Self.path(directory), migrator: Self.migrator)
    }

    static func path(_ directory: String) -> String { directory + "/ecs.sqlite" }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE cluster (
                    arn TEXT PRIMARY KEY,
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    name TEXT NOT NULL,
                    status TEXT NOT NULL,
                    doc TEXT NOT NULL,
                    UNIQUE (account, region, name)
                );
                CREATE TABLE task_definition (
                    arn TEXT PRIMARY KEY,
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    family TEXT NOT NULL,
                    revision INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    doc TEXT NOT NULL,
                    tags TEXT NOT NULL DEFAULT '[]',
                    UNIQUE (account, region, family, revision)
                );
                CREATE TABLE service (
                    arn TEXT PRIMARY KEY,
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    cluster_arn TEXT NOT NULL,
                    name TEXT NOT NULL,
                    status TEXT NOT NULL,
                    doc TEXT NOT NULL,
                    state TEXT NOT NULL
                );
                CREATE INDEX service_by_cluster ON service (cluster_arn, name);
                CREATE TABLE task (
                    arn TEXT PRIMARY KEY,
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    cluster_arn TEXT NOT NULL,
                    meta TEXT NOT NULL,
                    doc TEXT NOT NULL
                );
                CREATE INDEX task_by_cluster ON task (cluster_arn);
                CREATE TABLE account_setting (
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    principal TEXT NOT NULL,
                    name TEXT NOT NULL,
                    value TEXT NOT NULL,
                    PRIMARY KEY (account, region, principal, name)
                );
                CREATE TABLE capacity_provider (
                    arn TEXT PRIMARY KEY,
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    name TEXT NOT NULL,
                    doc TEXT NOT NULL,
                    UNIQUE (account, region, name)
                );
                """)
        }
        m.registerMigration("v2") { db in
            // Container instances (the EC2 launch type): the document as DescribeContainerInstances shows it without
            // the parts derived from the tasks on it (remaining resources, task counts).
            try db.execute(sql: """
                CREATE TABLE container_instance (
                    arn TEXT PRIMARY KEY,
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    cluster_arn TEXT NOT NULL,
                    ec2_instance_id TEXT NOT NULL,
                    status TEXT NOT NULL,
                    doc TEXT NOT NULL
                );
                CREATE INDEX container_instance_by_cluster ON container_instance (cluster_arn);
                """)
        }
        registerServiceDeployments(&m)
        return m
    }

    func reset() throws {
        guard database.hasContent else { return }  // never used: nothing to empty, nothing to create
        try db.writeNow { db in
            for t in ["cluster", "task_definition", "service", "task", "account_setting", "capacity_provider", "container_instance",
                      "service_deployment", "service_revision"] {
                try db.execute(sql: "DELETE FROM \(t)")
            }
        }
    }

    // MARK: Documents

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes]
        return e
    }()

    static func text<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func value<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }
}

/// The region-and-account scope every ECS resource lives in.
struct Scope: Sendable, Hashable {
    var account: String
    var region: String

    init(_ r: AWSRequest) {
        account = r.caller.accountID
        region = r.caller.region
    }

    init(account: String, region: String) {
        self.account = account
        self.region = region
    }

    func arn(_ resource: String) -> String { "arn:aws:ecs:\(region):\(account):\(resource)" }
}
