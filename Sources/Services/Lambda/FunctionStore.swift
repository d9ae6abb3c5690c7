import Core
import Foundation
import GRDB

/// A function's configuration as Lambda reports it (GetFunctionConfiguration), kept as one JSON document.
struct FunctionConfig: Codable, Sendable {
    var FunctionName: String
    var FunctionArn: String
    var Runtime: String?
    var Role: String
    var Handler: String?
    var CodeSize: Int
    var Description: String
    var Timeout: Int
    var MemorySize: Int
    var LastModified: String
    var CodeSha256: String
    var Version: String
    var Environment: [String: String]?
    var PackageType: String
    var ImageUri: String?
    var Architectures: [String]
    var EphemeralStorageSize: Int
    var Layers: [String]
    /// Each layer's archive, in the order of `Layers` (kept here: a deleted layer version stays usable, as in AWS).
    var LayerContents: [LayerContent]?
    var State: String
    var LastUpdateStatus: String
    var RevisionId: String
    /// `hot-reload`: the absolute folder the code is read from at each invoke.
    var HotReloadPath: String?
    /// DeadLetterConfig.TargetArn: where failed asynchronous events go.
    var DeadLetterTargetArn: String?
    /// Tracing, image, logging, SnapStart, VPC, KMS and file-system blocks, as given.
    var Settings: FunctionSettings?

    /// The API shape (GetFunctionConfiguration / CreateFunction answer).
    var json: [String: Any] {
        var out: [String: Any] = [
            "FunctionName": FunctionName, "FunctionArn": FunctionArn, "Role": Role, "CodeSize": CodeSize,
            "Description": Description, "Timeout": Timeout, "MemorySize": MemorySize, "LastModified": LastModified,
            "CodeSha256": CodeSha256, "Version": Version, "PackageType": PackageType, "Architectures": Architectures,
            "EphemeralStorage": ["Size": EphemeralStorageSize], "State": State, "LastUpdateStatus": LastUpdateStatus,
            "RevisionId": RevisionId,
        ]
        (Settings ?? FunctionSettings()).write(into: &out, functionName: FunctionName, packageType: PackageType, published: Version != "$LATEST")
        if let r = Runtime {
            out["Runtime"] = r
            let region = FunctionArn.split(separator: ":", omittingEmptySubsequences: false).dropFirst(3).first.map(String.init) ?? ""
            out["RuntimeVersionConfig"] = ["RuntimeVersionArn": FunctionSettings.runtimeVersionArn(runtime: r, region: region)]
        }
        if let h = Handler { out["Handler"] = h }
        if let e = Environment { out["Environment"] = ["Variables": e] }
        if let d = DeadLetterTargetArn { out["DeadLetterConfig"] = ["TargetArn": d] }
        if !Layers.isEmpty {
            let contents = LayerContents ?? []
            out["Layers"] = Layers.enumerated().map { i, arn in ["Arn": arn, "CodeSize": i < contents.count ? contents[i].CodeSize : 0] }
        }
        return out
    }
}

/// A function: its $LATEST configuration, published versions and aliases, tags and resource policy.
struct LambdaFunction: Codable, Sendable {
    var account: String
    var region: String
    var name: String
    var latest: FunctionConfig
    var versions: [FunctionConfig] = []
    var aliases: [FunctionAlias] = []
    var tags: [String: String] = [:]
    /// Resource policies by qualifier ("" for the unqualified function).
    var policies: [String: ResourcePolicy]?
    var reservedConcurrency: Int?
    var created: Double
    /// The stored zip (hex SHA-256) of $LATEST, and of each published version.
    var codeHex: String = ""
    var versionCode: [String: String] = [:]
    /// Event invoke configs by qualifier ($LATEST, version or alias). Optional: documents written before it existed lack it.
    var eventInvokeConfigs: [String: EventInvokeConfig]?
    /// PutFunctionCodeSigningConfig's configuration (kept, not enforced).
    var codeSigningConfigArn: String?

    var arn: String { latest.FunctionArn }
}

struct FunctionAlias: Codable, Sendable {
    var Name: String
    var FunctionVersion: String
    var Description: String
    var AdditionalVersionWeights: [String: Double]?
    var RevisionId: String
}

/// `lambda.sqlite`: one row per function with its whole state as JSON; code packages live in `lambda/code/`.
final class FunctionStore: Sendable {
    /// Lambda's `EventOutbox` table: destination and dead-letter messages not yet delivered.
    static let destinationOutbox = "destination_outbox"
    let database: LazyDatabase
    /// Opened and migrated on first use, not at start.
    var db: DatabasePool { get throws { try database.pool() } }
    let codeDirectory: String

    init(directory: String) throws {
        database = LazyDatabase(path: Self.path(directory), migrator: Self.migrator)
        codeDirectory = directory + "/lambda"
        try FileManager.default.createDirectory(atPath: codeDirectory + "/code", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: codeDirectory + "/unpacked", withIntermediateDirectories: true)
    }

    static func path(_ directory: String) -> String { directory + "/lambda.sqlite" }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE function (
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    name TEXT NOT NULL,
                    state TEXT NOT NULL,
                    PRIMARY KEY (account, region, name)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v2 event source mappings") { db in
            try db.execute(sql: """
                CREATE TABLE event_source_mapping (
                    uuid TEXT PRIMARY KEY,
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    doc TEXT NOT NULL
                );
                """)
        }
        m.registerMigration("v3 function url") { db in
            try db.execute(sql: """
                CREATE TABLE function_url (
                    url_id TEXT PRIMARY KEY,
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    name TEXT NOT NULL,
                    qualifier TEXT NOT NULL,
                    doc TEXT NOT NULL,
                    UNIQUE (account, region, name, qualifier)
                );
                """)
        }
        m.registerMigration("v4 layers") { db in
            try db.execute(sql: """
                CREATE TABLE layer (
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    name TEXT NOT NULL,
                    last_version INTEGER NOT NULL,
                    PRIMARY KEY (account, region, name)
                ) WITHOUT ROWID;
                CREATE TABLE layer_version (
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    name TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    doc TEXT NOT NULL,
                    PRIMARY KEY (account, region, name, version)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v5 async invocations") { db in
            // Asynchronous invocations waiting for their next attempt (times on the emulator's clock).
            try db.execute(sql: """
                CREATE TABLE async_invocation (
                    id INTEGER PRIMARY KEY,
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    function TEXT NOT NULL,
                    qualifier TEXT,
                    request_id TEXT NOT NULL,
                    payload BLOB NOT NULL,
                    client_context TEXT,
                    attempts INTEGER NOT NULL,
                    received REAL NOT NULL,
                    due REAL NOT NULL,
                    last_error TEXT,
                    last_response BLOB
                );
                CREATE INDEX async_invocation_due ON async_invocation(due);
                """)
        }
        m.registerMigration("v6 code signing configs") { db in
            try db.execute(sql: """
                CREATE TABLE code_signing_config (
                    arn TEXT PRIMARY KEY,
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    doc TEXT NOT NULL
                );
                """)
        }
        m.registerMigration("destination outbox") { db in try EventOutbox.createTable(db, name: Self.destinationOutbox) }
        return m
    }

    func function(account: String, region: String, name: String) throws -> LambdaFunction? {
        try db.readNow { db in try Self.function(account: account, region: region, name: name, db) }
    }

    static func function(account: String, region: String, name: String, _ db: Database) throws -> LambdaFunction? {
        guard let text = try String.fetchOne(db.cachedStatement(sql: "SELECT state FROM function WHERE account = ? AND region = ? AND name = ?"),
                                             arguments: [account, region, name]) else { return nil }
        return try JSONDecoder().decode(LambdaFunction.self, from: Data(text.utf8))
    }

    static func all(account: String, region: String, _ db: Database) throws -> [LambdaFunction] {
        try String.fetchAll(db.cachedStatement(sql: "SELECT state FROM function WHERE account = ? AND region = ? ORDER BY name"),
                            arguments: [account, region])
            .map { try JSONDecoder().decode(LambdaFunction.self, from: Data($0.utf8)) }
    }

    static func save(_ f: LambdaFunction, _ db: Database) throws {
        let data = try JSONEncoder().encode(f)
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO function (account, region, name, state) VALUES (?, ?, ?, ?)")
            .execute(arguments: [f.account, f.region, f.name, String(decoding: data, as: UTF8.self)])
    }

    static func delete(account: String, region: String, name: String, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM function WHERE account = ? AND region = ? AND name = ?", arguments: [account, region, name])
        try db.execute(sql: "DELETE FROM function_url WHERE account = ? AND region = ? AND name = ?", arguments: [account, region, name])
    }

    func reset() throws {
        guard database.hasContent else { return }  // never used: nothing to empty, nothing to create
        try db.writeNow { db in
            try db.execute(sql: """
                DELETE FROM function; DELETE FROM event_source_mapping; DELETE FROM function_url; DELETE FROM layer;
                DELETE FROM layer_version; DELETE FROM async_invocation; DELETE FROM code_signing_config; DELETE FROM \(Self.destinationOutbox);
                """)
        }
    }
}
