import Core
import Foundation
import GRDB
import Synchronization

/// S3's state: `s3.sqlite` for buckets, object versions and multipart uploads, and a blob folder for bytes.
/// Keys are stored as BLOBs so SQLite orders them by UTF-8 bytes, exactly as S3 lists them.
final class S3Store: Sendable {
    let database: LazyDatabase
    /// Opened and migrated on first use, not at start.
    var db: DatabasePool { get throws { try database.pool() } }
    let blobs: BlobStore
    /// Every bucket, in memory: each request looks its bucket up, and this process is the only writer.
    /// Updated after the transaction that changes a bucket commits. Nil until the first use reads it.
    private let bucketCache = Mutex<[String: Bucket]?>(nil)

    init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        database = LazyDatabase(path: Self.path(directory), migrator: Self.migrator)
        blobs = try BlobStore(root: directory + "/s3")
    }

    /// Read the buckets on first use (S3's requests call it first, so that a database that cannot be opened answers
    /// them with its 500).
    func loadBucketsIfNeeded() throws {
        if bucketCache.withLock({ $0 != nil }) { return }
        let buckets = try Self.loadBuckets(db)
        bucketCache.withLock { if $0 == nil { $0 = buckets } }
    }

    /// The cache, read first if need be (a failure is logged by `LazyDatabase` and leaves it empty for this call).
    private func withBuckets<T>(_ body: (inout [String: Bucket]) -> T) -> T {
        try? loadBucketsIfNeeded()
        return bucketCache.withLock { cache in
            var buckets = cache ?? [:]
            defer { if cache != nil { cache = buckets } }
            return body(&buckets)
        }
    }

    /// Every bucket with its configuration documents, from the database (at start, after a snapshot's restore).
    static func loadBuckets(_ db: DatabasePool) throws -> [String: Bucket] {
        let all = try db.readNow { db in
            try Row.fetchAll(db, sql: "SELECT * FROM bucket").map { row in
                var b = Self.bucket(row)
                b.notification = NotificationConfiguration.decode(row["notification"])
                return b
            }
        }
        let documents = try db.readNow { db in
            try Row.fetchAll(db, sql: "SELECT bucket, name, document FROM bucket_config").map { row in
                (row[0] as String, row[1] as String, row[2] as String)
            }
        }
        var buckets = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
        for (bucket, name, document) in documents { buckets[bucket]?.configuration[name] = document }
        return buckets
    }

    /// After a snapshot restore: the next use reads the buckets again (a restore opens no database).
    func reloadBuckets() throws {
        bucketCache.withLock { $0 = nil }
    }

    func cached(_ name: String) -> Bucket? { withBuckets { $0[name] } }
    func allBuckets() -> [Bucket] { withBuckets { Array($0.values) } }
    func cache(_ bucket: Bucket) { withBuckets { $0[bucket.name] = bucket } }
    func uncache(_ name: String) { _ = withBuckets { $0.removeValue(forKey: name) } }
    /// Change a cached bucket after a committed write. Only a bucket still cached: a DeleteBucket that committed
    /// meanwhile has removed it (or is about to).
    func modifyCached(_ name: String, _ change: (inout Bucket) -> Void) {
        withBuckets { if var b = $0[name] { change(&b); $0[name] = b } }
    }

    static func path(_ directory: String) -> String { directory + "/s3.sqlite" }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE bucket (
                    name TEXT PRIMARY KEY,
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    created REAL NOT NULL,
                    versioning TEXT,
                    object_lock INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX bucket_account ON bucket(account, name);
                CREATE TABLE object (
                    id INTEGER PRIMARY KEY,
                    bucket TEXT NOT NULL,
                    key BLOB NOT NULL,
                    version_id TEXT NOT NULL,
                    is_latest INTEGER NOT NULL,
                    is_delete_marker INTEGER NOT NULL DEFAULT 0,
                    size INTEGER NOT NULL,
                    etag TEXT NOT NULL,
                    last_modified REAL NOT NULL,
                    headers TEXT NOT NULL,
                    metadata TEXT NOT NULL,
                    tags TEXT,
                    storage_class TEXT NOT NULL,
                    checksum_algorithm TEXT,
                    checksum_value TEXT,
                    checksum_type TEXT,
                    parts TEXT,
                    blobs TEXT NOT NULL,
                    owner TEXT NOT NULL
                );
                CREATE UNIQUE INDEX object_version ON object(bucket, key, version_id);
                CREATE INDEX object_latest ON object(bucket, key) WHERE is_latest = 1;
                CREATE TABLE upload (
                    upload_id TEXT PRIMARY KEY,
                    bucket TEXT NOT NULL,
                    key BLOB NOT NULL,
                    initiated REAL NOT NULL,
                    headers TEXT NOT NULL,
                    metadata TEXT NOT NULL,
                    tags TEXT,
                    storage_class TEXT NOT NULL,
                    checksum_algorithm TEXT,
                    checksum_type TEXT,
                    owner TEXT NOT NULL
                );
                CREATE INDEX upload_key ON upload(bucket, key, initiated);
                CREATE TABLE part (
                    upload_id TEXT NOT NULL,
                    part_number INTEGER NOT NULL,
                    size INTEGER NOT NULL,
                    etag TEXT NOT NULL,
                    last_modified REAL NOT NULL,
                    blob TEXT NOT NULL,
                    checksum TEXT,
                    PRIMARY KEY (upload_id, part_number)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v2 bucket notification") { db in
            // The NotificationConfiguration document as GetBucketNotificationConfiguration answers it; NULL for none.
            try db.execute(sql: "ALTER TABLE bucket ADD COLUMN notification TEXT")
        }
        m.registerMigration("v3 bucket configuration") { db in
            // One row per bucket sub-resource that is set (cors, policy, website, lifecycle...): its document as stored.
            try db.execute(sql: """
                CREATE TABLE bucket_config (
                    bucket TEXT NOT NULL,
                    name TEXT NOT NULL,
                    document TEXT NOT NULL,
                    PRIMARY KEY (bucket, name)
                ) WITHOUT ROWID
                """)
        }
        // "v4 ..." is left to the bucket sub-resources branch; names must stay unique across branches.
        m.registerMigration("v5 object versions by key") { db in
            // Versions of a key newest first (row id order): ListObjectVersions pages and promoting a new latest
            // walk this index instead of sorting thousands of versions.
            try db.execute(sql: "CREATE INDEX object_key_versions ON object(bucket, key, id DESC)")
        }
        m.registerMigration("notification outbox") { db in try EventOutbox.createTable(db, name: NotificationOutbox.table) }
        return m
    }

    /// Remove blob files no row points to (a crash between rename and commit). Run once at start.
    func sweepOrphans(olderThan cutoff: Double) throws -> Int {
        guard database.hasContent else { return 0 }  // no database: no crash of an earlier run left blobs to sweep
        let referenced = try db.readNow { db -> Set<String> in
            var set = Set<String>()
            let rows = try Row.fetchCursor(db, sql: "SELECT blobs FROM object WHERE blobs != ''")
            while let row = try rows.next() {
                for s in BlobSegment.decode(row[0]) { set.insert(s.id) }
            }
            let parts = try String.fetchCursor(db, sql: "SELECT blob FROM part")
            while let b = try parts.next() { set.insert(b) }
            return set
        }
        return blobs.sweep(referenced: referenced, olderThan: cutoff)
    }

    func reset() async throws {
        guard database.hasContent else { return }  // never used: nothing to forget, nothing to create
        let all = try db.writeNow { db -> [String] in
            var ids: [String] = []
            for s in try String.fetchAll(db, sql: "SELECT blobs FROM object") { ids += BlobSegment.decode(s).map(\.id) }
            ids += try String.fetchAll(db, sql: "SELECT blob FROM part")
            try db.execute(sql: "DELETE FROM part; DELETE FROM upload; DELETE FROM object; DELETE FROM bucket_config; DELETE FROM bucket; DELETE FROM \(NotificationOutbox.table);")
            return ids
        }
        bucketCache.withLock { $0 = [:] }
        blobs.remove(all)
    }

    // MARK: Buckets

    static func bucket(_ row: Row) -> Bucket {
        Bucket(name: row["name"], account: row["account"], region: row["region"], created: row["created"],
               versioning: row["versioning"], objectLock: row["object_lock"])
    }

    func bucket(_ name: String) -> Bucket? { cached(name) }

    /// Replace a bucket's notification configuration (nil removes it), durably, then in the cache.
    func setNotification(bucket name: String, _ config: NotificationConfiguration?) throws {
        try db.writeNow { db in
            try db.execute(sql: "UPDATE bucket SET notification = ? WHERE name = ?", arguments: [config?.encoded, name])
            if db.changesCount == 0 { throw S3Error.noSuchBucket(name) }
        }
        modifyCached(name) { $0.notification = config }
    }

    // MARK: Object rows

    /// Object columns in the order `object(_:)` reads them by index (name lookups cost a lowercased copy per column).
    static let objectColumns = """
        id, bucket, key, version_id, is_latest, is_delete_marker, size, etag, last_modified, headers, metadata, tags,
        storage_class, checksum_algorithm, checksum_value, checksum_type, parts, blobs, owner
        """

    static func object(_ row: Row) -> ObjectVersion {
        let keyData: Data = row[2]
        return ObjectVersion(
            id: row[0], bucket: row[1], key: String(decoding: keyData, as: UTF8.self),
            versionID: row[3], isLatest: row[4], isDeleteMarker: row[5],
            size: row[6], etag: row[7], lastModified: row[8],
            headers: HeaderPairs.decode(row[9]), metadata: HeaderPairs.decode(row[10]),
            tags: TagSet.decode(row[11]), storageClass: row[12],
            checksumAlgorithm: (row[13] as String?).flatMap(ChecksumAlgorithm.init(rawValue:)),
            checksumValue: row[14], checksumType: row[15],
            parts: ObjectPart.decode(row[16]), segments: BlobSegment.decode(row[17]), owner: row[18])
    }

    static func keyData(_ key: String) -> Data { Data(key.utf8) }

    func latest(bucket: String, key: String) async throws -> ObjectVersion? {
        try db.readNow { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT \(Self.objectColumns) FROM object WHERE bucket = ? AND key = ? AND is_latest = 1"),
                arguments: [bucket, Self.keyData(key)]
            ).map(Self.object)
        }
    }

    func version(bucket: String, key: String, versionID: String) async throws -> ObjectVersion? {
        try db.readNow { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT \(Self.objectColumns) FROM object WHERE bucket = ? AND key = ? AND version_id = ?"),
                arguments: [bucket, Self.keyData(key), versionID]
            ).map(Self.object)
        }
    }

    static func insert(_ o: ObjectVersion, _ db: Database) throws {
        try db.cachedStatement(sql: """
                INSERT INTO object (bucket, key, version_id, is_latest, is_delete_marker, size, etag, last_modified,
                  headers, metadata, tags, storage_class, checksum_algorithm, checksum_value, checksum_type, parts, blobs, owner)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                o.bucket, keyData(o.key), o.versionID, o.isLatest, o.isDeleteMarker, o.size, o.etag, o.lastModified,
                HeaderPairs.encode(o.headers), HeaderPairs.encode(o.metadata), o.tags.isEmpty ? nil : TagSet.encode(o.tags),
                o.storageClass, o.checksumAlgorithm?.rawValue, o.checksumValue, o.checksumType,
                o.parts.isEmpty ? nil : ObjectPart.encode(o.parts), BlobSegment.encode(o.segments), o.owner,
            ])
    }

    /// Make `o` the latest version of its key. Without versioning it replaces the `null` version;
    /// returns the blobs that are no longer referenced (removed by the caller after the commit).
    /// `check` runs inside the transaction (the bucket may have been deleted meanwhile).
    static func putVersion(_ o: ObjectVersion, versioning: String?, _ db: Database) throws -> [String] {
        var freed: [String] = []
        let key = keyData(o.key)
        if versioning != "Enabled" {
            // The null version is replaced in place; other versions stay (suspended versioning).
            if let old = try String.fetchOne(
                db.cachedStatement(sql: "SELECT blobs FROM object WHERE bucket = ? AND key = ? AND version_id = 'null'"), arguments: [o.bucket, key]) {
                freed = BlobSegment.decode(old).map(\.id)
                try db.cachedStatement(sql: "DELETE FROM object WHERE bucket = ? AND key = ? AND version_id = 'null'")
                    .execute(arguments: [o.bucket, key])
            }
        }
        try db.cachedStatement(sql: "UPDATE object SET is_latest = 0 WHERE bucket = ? AND key = ? AND is_latest = 1")
            .execute(arguments: [o.bucket, key])
        try insert(o, db)
        return freed
    }

    /// Delete one version row; promote the newest remaining version (the highest row id: versions are rows in the
    /// order they were written) to latest. Returns freed blobs.
    static func deleteVersion(bucket: String, key: String, versionID: String, _ db: Database) throws -> [String] {
        let k = keyData(key)
        guard let row = try Row.fetchOne(
            db, sql: "SELECT id, blobs, is_latest FROM object WHERE bucket = ? AND key = ? AND version_id = ?",
            arguments: [bucket, k, versionID]) else { return [] }
        try db.execute(sql: "DELETE FROM object WHERE id = ?", arguments: [row["id"] as Int64])
        if row["is_latest"] as Bool {
            try db.execute(sql: """
                UPDATE object SET is_latest = 1 WHERE id = (
                  SELECT id FROM object WHERE bucket = ? AND key = ? ORDER BY id DESC LIMIT 1)
                """, arguments: [bucket, k])
        }
        return BlobSegment.decode(row["blobs"]).map(\.id)
    }

    /// Narrow a listing query to the keys that start with `prefix` and sort strictly after `after` (bytes).
    static func keyRange(prefix: String, after: Data?, _ sql: inout String, _ args: inout StatementArguments) {
        let p = keyData(prefix)
        if let after, !after.lexicographicallyPrecedes(p) {
            sql += " AND key > ?"
            _ = args.append(contentsOf: [after])
        } else if !prefix.isEmpty {
            sql += " AND key >= ?"
            _ = args.append(contentsOf: [p])
        }
        if !prefix.isEmpty {
            // Every key starting with the prefix sorts below prefix + 0xFF (0xFF never occurs in UTF-8).
            sql += " AND key < ?"
            _ = args.append(contentsOf: [p + Data([0xFF])])
        }
    }

    /// Latest, non-deleted objects of a bucket in key order, strictly after `after` (bytes) and starting with `prefix`.
    func listLatest(bucket: String, prefix: String, after: Data?, limit: Int) async throws -> [ObjectVersion] {
        try db.readNow { db in
            var sql = "SELECT \(Self.objectColumns) FROM object WHERE bucket = ? AND is_latest = 1 AND is_delete_marker = 0"
            var args: StatementArguments = [bucket]
            Self.keyRange(prefix: prefix, after: after, &sql, &args)
            sql += " ORDER BY key LIMIT ?"
            _ = args.append(contentsOf: [limit])
            return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: args).map(Self.object)
        }
    }
}
