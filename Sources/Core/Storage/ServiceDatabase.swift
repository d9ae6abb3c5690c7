public import GRDB
import Foundation

/// Opens one SQLite database per service (`<data>/<name>.sqlite`) in WAL mode and runs its migrations.
/// `synchronous=NORMAL` in WAL mode: a committed transaction survives the process being killed at any moment.
public enum ServiceDatabase {
    /// The database at `path`, opened and migrated now. Services open theirs through `LazyDatabase`, on first use.
    public static func open(path: String, migrator: DatabaseMigrator) throws -> DatabasePool {
        try openNow(path: path, migrator: migrator, warmReader: false)
    }

    static func openNow(path: String, migrator: DatabaseMigrator, warmReader: Bool) throws -> DatabasePool {
        var config = Configuration()
        config.busyMode = .timeout(10)
        let creating = isAbsentOrEmpty(path)
        config.prepareDatabase { db in
            if creating && !db.configuration.readonly {
                // A new, empty database: its switch to WAL and the first frame (GRDB wants a non-empty WAL) are
                // written without fsync. Synced, they cost five fsyncs per database (thirteen databases: a storm at
                // first start). Nothing is at risk: a crash before the first checkpoint leaves an empty database (SQLite
                // drops a WAL beside a zero-length file) or this one, and the migrations run again either way.
                try db.execute(sql: "PRAGMA synchronous = OFF")
                _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "CREATE TABLE cloudless_wal_start (id INTEGER PRIMARY KEY); DROP TABLE cloudless_wal_start")
            }
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        let pool = try DatabasePool(path: path, configuration: config)
        try migrator.migrate(pool)
        if warmReader {
            try pool.unsafeRead { db in try db.execute(sql: "SELECT 1 FROM sqlite_master LIMIT 1") }
        }
        return pool
    }

    /// `stat(2)`, not FileManager: its attribute dictionary and `as? NSNumber` cost more than the check at start.
    static func isAbsentOrEmpty(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return true }
        return info.st_size == 0
    }
}

extension DatabasePool {
    /// Read on the calling thread. Queries here take microseconds; GRDB's async variants hop to a dispatch
    /// queue and back, which costs more CPU in thread wake-ups than the query itself.
    /// Without a transaction: each read here is one statement, which SQLite already runs on one snapshot.
    public func readNow<T>(_ body: (Database) throws -> T) throws -> T { try unsafeRead(body) }

    /// Write (one transaction) on the calling thread, waiting for the writer if another transaction runs.
    public func writeNow<T>(_ body: (Database) throws -> T) throws -> T { try write(body) }
}
