public import GRDB
import Foundation

/// Opens one SQLite database per service (`<data>/<name>.sqlite`) in WAL mode and runs its migrations.
/// `synchronous=NORMAL` in WAL mode: a committed transaction survives the process being killed at any moment.
public enum ServiceDatabase {
    /// The database at `path`, migrated. One `openAhead` started for this path is waited for and taken instead.
    public static func open(path: String, migrator: DatabaseMigrator) throws -> DatabasePool {
        if let ahead = AheadOpens.shared.take(path) { return try ahead.get() }
        return try openNow(path: path, migrator: migrator, warmReader: false)
    }

    /// Start opening the database at `path` on a background thread; the next `open(path:)` takes it (waiting if it is
    /// still being opened, opening it itself if no thread has started yet). The nine databases are independent: at
    /// start they open side by side while the services are built one after another. `warmReader`: also open a reader
    /// connection and read the schema, for a store that reads at its init.
    public static func openAhead(path: String, migrator: DatabaseMigrator, warmReader: Bool) {
        AheadOpens.shared.add(path: path) { try openNow(path: path, migrator: migrator, warmReader: warmReader) }
    }

    static func openNow(path: String, migrator: DatabaseMigrator, warmReader: Bool) throws -> DatabasePool {
        var config = Configuration()
        config.busyMode = .timeout(10)
        let creating = isAbsentOrEmpty(path)
        config.prepareDatabase { db in
            if creating && !db.configuration.readonly {
                // A new, empty database: its switch to WAL and the first frame (GRDB wants a non-empty WAL) are
                // written without fsync. Synced, they cost five fsyncs per database (nine databases: a storm at first
                // start). Nothing is at risk: a crash before the first checkpoint leaves an empty database (SQLite
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

/// The databases `ServiceDatabase.openAhead` was asked for, opened in order by up to `workerLimit` background threads.
final class AheadOpens: @unchecked Sendable {  // every field is read and written under `condition`
    static let shared = AheadOpens()

    private enum State { case waiting(@Sendable () throws -> DatabasePool), opening, done(Result<DatabasePool, any Error>) }

    private let condition = NSCondition()
    private var states: [String: State] = [:]
    private var order: [String] = []  // paths still `waiting`, first asked first
    private var workers = 0
    /// Two cores are enough to halve the opens; more threads would only queue behind SQLite's file locks and the disk.
    private let workerLimit = max(1, min(2, ProcessInfo.processInfo.activeProcessorCount))

    func add(path: String, open: @escaping @Sendable () throws -> DatabasePool) {
        condition.lock()
        defer { condition.unlock() }
        guard states[path] == nil else { return }
        states[path] = .waiting(open)
        order.append(path)
        if workers < workerLimit {
            workers += 1
            DispatchQueue.global(qos: .userInitiated).async { self.work() }
        }
    }

    /// The database opened ahead for `path` (opened now, on the calling thread, if no worker has begun it); nil if none.
    func take(_ path: String) -> Result<DatabasePool, any Error>? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            switch states[path] {
            case nil:
                return nil
            case .waiting(let open):
                order.removeAll { $0 == path }
                states[path] = nil
                condition.unlock()
                let result = Result { try open() }
                condition.lock()
                return result
            case .opening:
                condition.wait()
            case .done(let result):
                states[path] = nil
                return result
            }
        }
    }

    private func work() {
        condition.lock()
        while !order.isEmpty {
            let path = order.removeFirst()
            guard case .waiting(let open) = states[path] else { continue }
            states[path] = .opening
            condition.unlock()
            let result = Result { try open() }
            condition.lock()
            states[path] = .done(result)
            condition.broadcast()
        }
        workers -= 1
        condition.unlock()
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
