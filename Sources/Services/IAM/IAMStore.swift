import Core
import Foundation
import GRDB

/// `iam.sqlite`: IAM is global, so everything is keyed by account alone. Names compare without case
/// (`COLLATE NOCASE`), as IAM refuses `Admins` beside `admins` and finds either by the other.
final class IAMStore: Sendable {
    let database: LazyDatabase
    /// Opened and migrated on first use, not at start.
    var db: DatabasePool { get throws { try database.pool() } }

    init(directory: String) throws {
        database = LazyDatabase(path: Self.path(directory), migrator: Self.migrator)
    }

    static func path(_ directory: String) -> String { directory + "/iam.sqlite" }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE role (
                    account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, id TEXT NOT NULL, path TEXT NOT NULL,
                    assume_policy TEXT NOT NULL, description TEXT, max_session INTEGER NOT NULL, tags TEXT NOT NULL,
                    created REAL NOT NULL,
                    PRIMARY KEY (account, name)
                ) WITHOUT ROWID;
                CREATE TABLE user (
                    account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, id TEXT NOT NULL, path TEXT NOT NULL,
                    tags TEXT NOT NULL, created REAL NOT NULL,
                    PRIMARY KEY (account, name)
                ) WITHOUT ROWID;
                CREATE TABLE grp (
                    account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, id TEXT NOT NULL, path TEXT NOT NULL,
                    created REAL NOT NULL,
                    PRIMARY KEY (account, name)
                ) WITHOUT ROWID;
                CREATE TABLE group_member (
                    account TEXT NOT NULL, grp TEXT NOT NULL COLLATE NOCASE, user TEXT NOT NULL COLLATE NOCASE,
                    PRIMARY KEY (account, grp, user)
                ) WITHOUT ROWID;
                CREATE INDEX group_member_user ON group_member(account, user);
                -- Inline policies of roles, users and groups (kind: role, user, group).
                CREATE TABLE inline_policy (
                    account TEXT NOT NULL, kind TEXT NOT NULL, owner TEXT NOT NULL COLLATE NOCASE,
                    name TEXT NOT NULL COLLATE NOCASE, document TEXT NOT NULL,
                    PRIMARY KEY (account, kind, owner, name)
                ) WITHOUT ROWID;
                -- Customer managed policies; versions below. Names are unique in an account whatever the path.
                CREATE TABLE policy (
                    account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, id TEXT NOT NULL, path TEXT NOT NULL,
                    description TEXT, default_version TEXT NOT NULL, next_version INTEGER NOT NULL, tags TEXT NOT NULL,
                    created REAL NOT NULL, updated REAL NOT NULL,
                    PRIMARY KEY (account, name)
                ) WITHOUT ROWID;
                CREATE TABLE policy_version (
                    account TEXT NOT NULL, policy TEXT NOT NULL COLLATE NOCASE, version INTEGER NOT NULL,
                    document TEXT NOT NULL, created REAL NOT NULL,
                    PRIMARY KEY (account, policy, version)
                ) WITHOUT ROWID;
                -- Managed policies (customer or AWS, by ARN) attached to roles, users and groups.
                CREATE TABLE attachment (
                    account TEXT NOT NULL, kind TEXT NOT NULL, owner TEXT NOT NULL COLLATE NOCASE, policy_arn TEXT NOT NULL,
                    attached REAL NOT NULL,
                    PRIMARY KEY (account, kind, owner, policy_arn)
                ) WITHOUT ROWID;
                CREATE INDEX attachment_policy ON attachment(account, policy_arn);
                -- Access keys of users (user NULL: the account's root user). Ids are global, as on AWS.
                CREATE TABLE access_key (
                    id TEXT PRIMARY KEY, account TEXT NOT NULL, user TEXT COLLATE NOCASE, secret TEXT NOT NULL,
                    status TEXT NOT NULL, created REAL NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX access_key_user ON access_key(account, user);
                CREATE TABLE instance_profile (
                    account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, id TEXT NOT NULL, path TEXT NOT NULL,
                    tags TEXT NOT NULL, created REAL NOT NULL,
                    PRIMARY KEY (account, name)
                ) WITHOUT ROWID;
                CREATE TABLE instance_profile_role (
                    account TEXT NOT NULL, profile TEXT NOT NULL COLLATE NOCASE, role TEXT NOT NULL COLLATE NOCASE,
                    PRIMARY KEY (account, profile, role)
                ) WITHOUT ROWID;
                CREATE INDEX instance_profile_role_role ON instance_profile_role(account, role);
                -- When each account was first seen: the CreateDate of its root user.
                CREATE TABLE account (account TEXT PRIMARY KEY, created REAL NOT NULL) WITHOUT ROWID;
                """)
        }
        return m
    }

    static let tables = [
        "role", "user", "grp", "group_member", "inline_policy", "policy", "policy_version", "attachment", "access_key",
        "instance_profile", "instance_profile_role", "account",
    ]

    func reset() throws {
        guard database.hasContent else { return }  // never used: nothing to empty, nothing to create
        try db.writeNow { db in
            for t in Self.tables { try db.execute(sql: "DELETE FROM \(t)") }
        }
    }

    static func encode(_ tags: [Tag]) -> String {
        (try? JSONEncoder().encode(tags)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    static func decode(_ text: String) -> [Tag] {
        (try? JSONDecoder().decode([Tag].self, from: Data(text.utf8))) ?? []
    }

    /// Whether a row matches, for the existence checks before writes.
    static func exists(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (\(sql))", arguments: arguments) ?? false
    }
}
