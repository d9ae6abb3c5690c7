import Core
import Foundation
import GRDB

/// A JSON object as CodeDeploy's API shows it. Resources are stored as the document their Get operation returns
/// (plus engine fields whose names start with `_`), so reads are one row and the wire shape is the stored shape.
typealias Doc = [String: Any]

/// `codedeploy.sqlite`: one table of documents keyed by kind (application, config, group, instance, revision,
/// deployment, target, hook), account, region and a key unique within the kind. Each engine step is one transaction.
final class CodeDeployStore: Sendable {
    let database: LazyDatabase
    /// Opened and migrated on first use, not at start.
    var db: DatabasePool { get throws { try database.pool() } }

    init(directory: String) throws {
        database = LazyDatabase(path: Self.path(directory), migrator: Self.migrator)
    }

    static func path(_ directory: String) -> String { directory + "/codedeploy.sqlite" }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE doc (
                    kind TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL, key TEXT NOT NULL,
                    parent TEXT NOT NULL DEFAULT '', seq INTEGER NOT NULL, body TEXT NOT NULL,
                    PRIMARY KEY (kind, account, region, key)
                );
                CREATE INDEX doc_parent ON doc (kind, account, region, parent, seq);
                """)
        }
        return m
    }

    func reset() throws {
        guard database.hasContent else { return }  // never used: nothing to empty, nothing to create
        try db.writeNow { db in try db.execute(sql: "DELETE FROM doc") }
    }

    static func encode(_ d: Doc) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: d, options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func decode(_ s: String) -> Doc { (try? JSONSerialization.jsonObject(with: Data(s.utf8))) as? Doc ?? [:] }

    static func get(_ kind: String, _ scope: Scope, _ key: String, _ db: Database) throws -> Doc? {
        try String.fetchOne(db, sql: "SELECT body FROM doc WHERE kind = ? AND account = ? AND region = ? AND key = ?",
                            arguments: [kind, scope.account, scope.region, key]).map(decode)
    }

    /// Insert or replace; `parent` groups children (a group's application, a target's deployment) in creation order.
    static func put(_ kind: String, _ scope: Scope, _ key: String, parent: String = "", _ d: Doc, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO doc (kind, account, region, key, parent, seq, body)
            VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM doc), ?)
            ON CONFLICT (kind, account, region, key) DO UPDATE SET body = excluded.body, parent = excluded.parent
            """, arguments: [kind, scope.account, scope.region, key, parent, encode(d)])
    }

    static func delete(_ kind: String, _ scope: Scope, _ key: String, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM doc WHERE kind = ? AND account = ? AND region = ? AND key = ?",
                       arguments: [kind, scope.account, scope.region, key])
    }

    static func deleteChildren(_ kind: String, _ scope: Scope, parent: String, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM doc WHERE kind = ? AND account = ? AND region = ? AND parent = ?",
                       arguments: [kind, scope.account, scope.region, parent])
    }

    /// Every document of a kind (under `parent` if given), oldest first.
    static func all(_ kind: String, _ scope: Scope, parent: String? = nil, _ db: Database) throws -> [(key: String, doc: Doc)] {
        let rows: [Row]
        if let parent {
            rows = try Row.fetchAll(db, sql: "SELECT key, body FROM doc WHERE kind = ? AND account = ? AND region = ? AND parent = ? ORDER BY seq",
                                    arguments: [kind, scope.account, scope.region, parent])
        } else {
            rows = try Row.fetchAll(db, sql: "SELECT key, body FROM doc WHERE kind = ? AND account = ? AND region = ? ORDER BY seq",
                                    arguments: [kind, scope.account, scope.region])
        }
        return rows.map { (key: $0["key"], doc: decode($0["body"])) }
    }

    /// Deployments the engine must drive, in every account and region.
    static func activeDeployments(_ db: Database) throws -> [(Scope, String)] {
        try Row.fetchAll(db, sql: "SELECT account, region, key, body FROM doc WHERE kind = 'deployment' ORDER BY seq").compactMap { row in
            let d = decode(row["body"])
            let status = d["status"] as? String ?? ""
            guard ["Created", "Queued", "InProgress", "Ready"].contains(status) || d["_rollbackPending"] != nil else { return nil }
            return (Scope(account: row["account"], region: row["region"]), row["key"])
        }
    }
}

/// An account and region: every CodeDeploy resource lives in one.
struct Scope: Sendable, Hashable {
    var account: String
    var region: String
}
