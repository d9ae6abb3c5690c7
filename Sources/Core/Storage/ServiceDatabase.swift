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
