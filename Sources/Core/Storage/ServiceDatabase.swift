public import GRDB
import Foundation

/// Opens one SQLite database per service (`<data>/<name>.sqlite`) in WAL mode and runs its migrations.
/// `synchronous=NORMAL` in WAL mode: a committed transaction survives the process being killed at any moment.
public enum ServiceDatabase {
    public static func open(path: String, migrator: DatabaseMigrator) throws -> DatabasePool {
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        let pool = try DatabasePool(path: path, configuration: config)
        try migrator.migrate(pool)
        return pool
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
