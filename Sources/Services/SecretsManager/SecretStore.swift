import Core
import Foundation
import GRDB

/// A tag as Secrets Manager lists them (order kept).
struct Tag: Codable, Sendable, Equatable {
    var Key: String
    var Value: String
}

struct RotationRules: Codable, Sendable, Equatable {
    var AutomaticallyAfterDays: Int?
    var Duration: String?
    var ScheduleExpression: String?
}

/// A replica of a primary secret in another region, as the primary lists it.
struct Replica: Codable, Sendable, Equatable {
    var Region: String
    var KmsKeyId: String?
    var Status: String
    var StatusMessage: String?
}

/// What Secrets Manager knows about a secret besides its versions, kept as one JSON document per secret.
struct SecretRecord: Codable, Sendable {
    var description: String?
    var kmsKeyId: String?
    var tags: [Tag] = []
    /// Set once TagResource or UntagResource touched the secret: from then on DescribeSecret lists `Tags`, even empty.
    var tagged: Bool?
    var lastChanged: Double
    var lastAccessed: Double?
    var rotationEnabled: Bool?
    var rotationLambdaARN: String?
    var rotationRules: RotationRules?
    var lastRotated: Double?
    var nextRotation: Double?
    var policy: String?
    var replicas: [Replica] = []
    var type: String?
}

/// A secret: its identity, lifecycle dates and record. A replica (`primaryARN` set) has no record or versions of its
/// own: reads go to its primary.
struct Secret: Sendable {
    var arn: String
    var account: String
    var region: String
    var name: String
    var created: Double
    /// When DeleteSecret scheduled it for deletion; nil while active.
    var deleted: Double?
    /// When a scheduled deletion happens.
    var purgeAt: Double?
    var primaryARN: String?
    var record: SecretRecord

    var isDeleted: Bool { deleted != nil }
}

/// A version as stored: its value sealed under a per-version data key that the master key wraps.
struct SecretVersion: Sendable {
    var versionID: String
    var created: Double
    var lastAccessed: Double?
    var stages: [String]
    var isBinary: Bool
    var wrappedKey: [UInt8]
    var sealed: [UInt8]

    /// The version a rotation labels AWSPENDING before its createSecret step stores a value (as AWS does): an id and
    /// stages, no value yet.
    static func pending(_ versionID: String, now: Double) -> SecretVersion {
        SecretVersion(versionID: versionID, created: now, lastAccessed: nil, stages: [], isBinary: false, wrappedKey: [], sealed: [])
    }

    var hasValue: Bool { !sealed.isEmpty }
}

/// `secretsmanager.sqlite`: secrets and their versions. Values exist here only as AES-256-GCM ciphertext.
final class SecretStore: Sendable {
    let database: LazyDatabase
    /// Opened and migrated on first use, not at start.
    var db: DatabasePool { get throws { try database.pool() } }

    init(directory: String) throws {
        database = LazyDatabase(path: Self.path(directory), migrator: Self.migrator)
    }

    static func path(_ directory: String) -> String { directory + "/secretsmanager.sqlite" }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE secret (
                    arn TEXT PRIMARY KEY,
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    name TEXT NOT NULL,
                    created REAL NOT NULL,
                    deleted REAL,
                    purge_at REAL,
                    primary_arn TEXT,
                    record TEXT NOT NULL,
                    UNIQUE (account, region, name)
                );
                CREATE INDEX secret_purge ON secret(purge_at) WHERE purge_at IS NOT NULL;
                CREATE INDEX secret_primary ON secret(primary_arn) WHERE primary_arn IS NOT NULL;
                CREATE TABLE version (
                    arn TEXT NOT NULL,
                    version_id TEXT NOT NULL,
                    created REAL NOT NULL,
                    last_accessed REAL,
                    stages TEXT NOT NULL,
                    is_binary INTEGER NOT NULL,
                    wrapped_key BLOB NOT NULL,
                    sealed BLOB NOT NULL,
                    PRIMARY KEY (arn, version_id)
                ) WITHOUT ROWID;
                """)
        }
        return m
    }

    static let columns = "arn, account, region, name, created, deleted, purge_at, primary_arn, record"
    /// Records and stage lists as decoded from their JSON columns (read on every GetSecretValue).
    static let records = DecodedCache<SecretRecord>()
    static let stageLists = DecodedCache<[String]>()

    static func secret(_ row: Row) throws -> Secret {
        let record = try records.value(for: row[8]) { try JSONDecoder().decode(SecretRecord.self, from: Data($0.utf8)) }
        return Secret(arn: row[0], account: row[1], region: row[2], name: row[3], created: row[4], deleted: row[5], purgeAt: row[6],
                      primaryARN: row[7], record: record)
    }

    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func byARN(_ arn: String, _ db: Database) throws -> Secret? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(columns) FROM secret WHERE arn = ?"), arguments: [arn]).map(secret)
    }

    static func byName(account: String, region: String, name: String, _ db: Database) throws -> Secret? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(columns) FROM secret WHERE account = ? AND region = ? AND name = ?"),
                         arguments: [account, region, name]).map(secret)
    }

    static func all(account: String, region: String, _ db: Database) throws -> [Secret] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT \(columns) FROM secret WHERE account = ? AND region = ? ORDER BY created, arn"),
                         arguments: [account, region]).map(secret)
    }

    static func save(_ s: Secret, _ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO secret (arn, account, region, name, created, deleted, purge_at, primary_arn, record)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [s.arn, s.account, s.region, s.name, s.created, s.deleted, s.purgeAt, s.primaryARN, encode(s.record)])
    }

    static func remove(arn: String, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM secret WHERE arn = ?", arguments: [arn])
        try db.execute(sql: "DELETE FROM version WHERE arn = ?", arguments: [arn])
    }

    static let versionColumns = "version_id, created, last_accessed, stages, is_binary, wrapped_key, sealed"

    static func version(_ row: Row) -> SecretVersion {
        let stages = stageLists.value(for: row[3]) { (try? JSONDecoder().decode([String].self, from: Data($0.utf8))) ?? [] }
        return SecretVersion(versionID: row[0], created: row[1], lastAccessed: row[2], stages: stages, isBinary: row[4],
                             wrappedKey: [UInt8](row[5] as Data), sealed: [UInt8](row[6] as Data))
    }

    /// Every version of a secret, oldest first.
    static func versions(arn: String, _ db: Database) throws -> [SecretVersion] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT \(versionColumns) FROM version WHERE arn = ? ORDER BY created, version_id"),
                         arguments: [arn]).map(version)
    }

    static func saveVersion(_ v: SecretVersion, arn: String, _ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO version (arn, version_id, created, last_accessed, stages, is_binary, wrapped_key, sealed)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [arn, v.versionID, v.created, v.lastAccessed, encode(v.stages), v.isBinary,
                                     Data(v.wrappedKey), Data(v.sealed)])
    }

    static func setStages(_ stages: [String], arn: String, versionID: String, _ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE version SET stages = ? WHERE arn = ? AND version_id = ?")
            .execute(arguments: [encode(stages), arn, versionID])
    }

    func reset() throws {
        guard database.hasContent else { return }  // never used: nothing to empty, nothing to create
        try db.writeNow { db in try db.execute(sql: "DELETE FROM secret; DELETE FROM version;") }
    }
}
