#if canImport(Glibc)
import Glibc
#endif
public import GRDB
import Foundation
import Logging
import Synchronization

/// One service's database, opened (and migrated) on its first use rather than at start: a start opens nothing, and
/// a service that never gets a request never creates its file. Every store reaches its pool through `pool()`.
///
/// The first use opens it under a lock: concurrent first uses wait for that one open and share its pool. A failed
/// open is not remembered: it is thrown to this use (the request gets a 500 saying why, the log says it too) and the
/// next use tries again.
public final class LazyDatabase: Sendable {
    public let path: String
    let migrator: DatabaseMigrator
    let open: @Sendable (String, DatabaseMigrator) throws -> DatabasePool
    private let state = Mutex<DatabasePool?>(nil)

    /// `open` is for tests (counting opens, failing one); the service stores use `ServiceDatabase.openNow`.
    public init(path: String, migrator: DatabaseMigrator,
                open: (@Sendable (String, DatabaseMigrator) throws -> DatabasePool)? = nil) {
        self.path = path
        self.migrator = migrator
        self.open = open ?? { path, migrator in try ServiceDatabase.openNow(path: path, migrator: migrator, warmReader: false) }
        LazyDatabases.register(self)
    }

    /// A pool already open (tests; code that opens its own), not registered for snapshot restores.
    public init(opened pool: DatabasePool) {
        path = pool.path
        migrator = DatabaseMigrator()
        open = { _, _ in pool }
        state.withLock { $0 = pool }
    }

    /// The pool, opened and migrated now if this is the first use.
    public func pool() throws -> DatabasePool {
        try state.withLock { pool in
            if let pool { return pool }
            do {
                let opened = try open(path, migrator)
                pool = opened
                return opened
            } catch {
                let name = (path as NSString).lastPathComponent
                Logger(label: "cloudless").error("cannot open database", metadata: ["path": "\(path)", "error": "\(error)"])
                throw AWSError.internalError("Cloudless could not open its database \(name): \(error)")
            }
        }
    }

    public var isOpen: Bool { state.withLock { $0 != nil } }

    /// Whether there is anything to read: the database is open, or its file exists and is not empty. Work that runs
    /// without a request (sweeps, resuming what an earlier run left) checks this first, so that it opens no database
    /// a fresh folder does not have.
    public var hasContent: Bool { isOpen || !ServiceDatabase.isAbsentOrEmpty(path) }

    /// The pool when `hasContent`, else nil (nothing opened, nothing created).
    public func poolIfPresent() throws -> DatabasePool? { hasContent ? try pool() : nil }

    /// Empty it as if it had never been used (a restored snapshot that has no such database): an open pool is
    /// erased and migrated again in place (its connections stay valid); files no pool holds are removed.
    func makeAbsent() throws {
        try state.withLock { pool in
            if let pool {
                try pool.erase()
                try migrator.migrate(pool)
            } else {
                ServiceDatabase.remove(path)
            }
        }
    }
}

/// The live `LazyDatabase`s by path, for a snapshot restore that must empty a database the snapshot does not have.
enum LazyDatabases {
    private final class Weak: Sendable {
        weak let value: LazyDatabase?
        init(_ value: LazyDatabase) { self.value = value }
    }
    private static let all = Mutex<[String: Weak]>([:])

    static func register(_ database: LazyDatabase) {
        all.withLock { $0[database.path] = Weak(database) }
    }

    /// Make the database at `path` absent: through its handle if one lives, else by removing its files.
    static func makeAbsent(path: String) throws {
        if let database = all.withLock({ $0[path]?.value }) {
            try database.makeAbsent()
        } else {
            ServiceDatabase.remove(path)
        }
    }
}

extension ServiceDatabase {
    /// Remove a database that no connection holds, with its WAL and shared-memory files.
    static func remove(_ path: String) {
        for suffix in ["-wal", "-shm", ""] { unlink(path + suffix) }
    }
}
