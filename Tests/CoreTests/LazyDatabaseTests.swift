import Foundation
import GRDB
import Synchronization
import Testing
@testable import Core

// LazyDatabase: a service's database is opened on its first use, once, and never created by a start.

private func tempDir() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-lazy-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

private struct Refused: Error {}

@Suite(.serialized) struct LazyDatabaseTests {
    static func migrator() -> DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in try db.execute(sql: "CREATE TABLE item (id INTEGER PRIMARY KEY, value TEXT)") }
        return m
    }

    @Test func nothingIsCreatedUntilTheFirstUse() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let database = LazyDatabase(path: dir + "/svc.sqlite", migrator: Self.migrator())
        #expect(!database.isOpen && !database.hasContent)
        #expect(try database.poolIfPresent() == nil)
        #expect(!FileManager.default.fileExists(atPath: dir + "/svc.sqlite"))
        let pool = try database.pool()
        #expect(database.isOpen && database.hasContent)
        #expect(try pool.readNow { db in try db.tableExists("item") })
        #expect(try database.pool() === pool)
    }

    @Test func concurrentFirstUsesOpenItOnce() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let opens = Mutex(0)
        let database = LazyDatabase(path: dir + "/svc.sqlite", migrator: Self.migrator()) { path, migrator in
            opens.withLock { $0 += 1 }
            Thread.sleep(forTimeInterval: 0.05)  // a slow open: the other first uses arrive meanwhile
            return try ServiceDatabase.openNow(path: path, migrator: migrator, warmReader: false)
        }
        // 16 threads of their own at once (not the test run's cooperative pool, which the waits would stall).
        let pools = Mutex(Set<ObjectIdentifier>())
        let done = DispatchGroup()
        for _ in 0..<16 {
            done.enter()
            Thread {
                if let pool = try? database.pool() { pools.withLock { _ = $0.insert(ObjectIdentifier(pool)) } }
                done.leave()
            }.start()
        }
        done.wait()
        #expect(opens.withLock { $0 } == 1)
        #expect(pools.withLock { $0.count } == 1)
    }

    @Test func aFailureReachesTheUseThatOpensAndTheNextUseTriesAgain() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fail = Mutex(true)
        let database = LazyDatabase(path: dir + "/svc.sqlite", migrator: Self.migrator()) { path, migrator in
            if fail.withLock({ $0 }) { throw Refused() }
            return try ServiceDatabase.openNow(path: path, migrator: migrator, warmReader: false)
        }
        do {
            _ = try database.pool()
            Issue.record("opened")
        } catch let error as AWSError {
            // The request that opens it gets a 500 saying which database and why.
            #expect(error.code == "InternalError" && error.status == .internalServerError)
            #expect(error.message.contains("svc.sqlite") && error.message.contains("Refused"))
        }
        #expect(!database.isOpen)
        fail.withLock { $0 = false }
        #expect(try database.pool().readNow { db in try db.tableExists("item") })
    }

    @Test func aMigrationFailureIsThrownToo() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var broken = DatabaseMigrator()
        broken.registerMigration("v1") { db in try db.execute(sql: "CREATE TABLE item (") }
        let database = LazyDatabase(path: dir + "/svc.sqlite", migrator: broken)
        #expect(throws: AWSError.self) { try database.pool() }
        #expect(!database.isOpen)
    }

    @Test func aSnapshotOfANeverOpenedDatabaseIsItsAbsence() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let used = LazyDatabase(path: dir + "/used.sqlite", migrator: Self.migrator())
        let unused = LazyDatabase(path: dir + "/unused.sqlite", migrator: Self.migrator())
        try used.pool().writeNow { db in try db.execute(sql: "INSERT INTO item (value) VALUES ('saved')") }
        let store = SnapshotStore(folder: dir, gate: SnapshotGate(), participants: [], linkedFolders: [], version: "test")
        let manifest = try await store.save("one")
        #expect(manifest.databases == ["used.sqlite"])
        #expect(!unused.isOpen && !FileManager.default.fileExists(atPath: unused.path))

        // Used after the save, open: the restore empties it in place (migrated again, its pool still serves).
        let pool = try unused.pool()
        try pool.writeNow { db in try db.execute(sql: "INSERT INTO item (value) VALUES ('after')") }
        try await store.restore("one")
        #expect(try unused.pool() === pool)
        #expect(try pool.readNow { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM item") } == 0)
        #expect(try used.pool().readNow { db in try String.fetchAll(db, sql: "SELECT value FROM item") } == ["saved"])
    }

    @Test func aRestoreIntoADatabaseNotYetOpenedIsThereOnItsFirstUse() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/svc.sqlite"
        let store = SnapshotStore(folder: dir, gate: SnapshotGate(), participants: [], linkedFolders: [], version: "test")
        do {
            let first = LazyDatabase(path: path, migrator: Self.migrator())
            try first.pool().writeNow { db in try db.execute(sql: "INSERT INTO item (value) VALUES ('saved')") }
            try await store.save("one")
            try first.pool().writeNow { db in try db.execute(sql: "INSERT INTO item (value) VALUES ('later')") }
            try first.pool().close()
        }
        // As after a restart: a handle that has not opened its file yet.
        let database = LazyDatabase(path: path, migrator: Self.migrator())
        try await store.restore("one")
        #expect(!database.isOpen)
        #expect(try database.pool().readNow { db in try String.fetchAll(db, sql: "SELECT value FROM item") } == ["saved"])
    }

    @Test func aRestoreRemovesADatabaseNeverOpenedThatTheSnapshotDoesNotHave() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = SnapshotStore(folder: dir, gate: SnapshotGate(), participants: [], linkedFolders: [], version: "test")
        try await store.save("empty")
        #expect(store.list().first?.manifest.databases == [])
        do {
            let earlier = LazyDatabase(path: dir + "/svc.sqlite", migrator: Self.migrator())
            try earlier.pool().writeNow { db in try db.execute(sql: "INSERT INTO item (value) VALUES ('x')") }
            try earlier.pool().close()
        }
        let database = LazyDatabase(path: dir + "/svc.sqlite", migrator: Self.migrator())
        try await store.restore("empty")
        #expect(!FileManager.default.fileExists(atPath: database.path))
        #expect(!database.hasContent)
    }
}
