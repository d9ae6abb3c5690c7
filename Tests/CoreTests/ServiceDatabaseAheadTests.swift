import Foundation
import GRDB
import Testing
@testable import Core

// ServiceDatabase.openAhead: databases opened on background threads, taken by the `open` of their path.

private func withTempDir<T>(_ body: (String) throws -> T) throws -> T {
    let dir = NSTemporaryDirectory() + "cloudless-ahead-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

@Suite struct ServiceDatabaseAheadTests {
    /// ServiceDatabaseTests' migrator: v1 seeds one row; v2 (`extra`) adds a column. Which of them ran tells which
    /// migrator opened the database.
    static func migrator(extra: Bool = false) -> DatabaseMigrator { ServiceDatabaseTests.migrator(extra: extra) }

    static func migrations(_ pool: DatabasePool) throws -> [String] {
        try pool.read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") }
    }

    @Test func openTakesTheDatabaseOpenedAheadInWALWithNormalSync() throws {
        try withTempDir { dir in
            let paths = (0..<9).map { dir + "/db\($0).sqlite" }
            for (i, path) in paths.enumerated() {
                ServiceDatabase.openAhead(path: path, migrator: Self.migrator(), warmReader: i % 2 == 0)
            }
            for path in paths {
                // A migrator with v2: had `open` opened the file itself, v2 would have run.
                let pool = try ServiceDatabase.open(path: path, migrator: Self.migrator(extra: true))
                defer { try? pool.close() }
                #expect(try Self.migrations(pool) == ["v1"])
                #expect(try pool.read { try String.fetchAll($0, sql: "SELECT name FROM item") } == ["seed"])
                #expect(try pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
                #expect(try pool.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 1)
                #expect(try pool.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 1)
            }
        }
    }

    @Test func aDatabaseIsTakenOnceThenOpenedAsUsual() throws {
        try withTempDir { dir in
            let path = dir + "/t.sqlite"
            ServiceDatabase.openAhead(path: path, migrator: Self.migrator(), warmReader: true)
            let first = try ServiceDatabase.open(path: path, migrator: Self.migrator())
            try first.write { try $0.execute(sql: "INSERT INTO item (name) VALUES ('kept')") }
            try first.close()
            let again = try ServiceDatabase.open(path: path, migrator: Self.migrator(extra: true))
            defer { try? again.close() }
            #expect(try Self.migrations(again) == ["v1", "v2"])
            #expect(try again.read { try String.fetchAll($0, sql: "SELECT name FROM item ORDER BY id") } == ["seed", "kept"])
        }
    }

    @Test func aFailureAheadIsThrownByOpen() throws {
        try withTempDir { dir in
            let path = dir + "/missing-folder/t.sqlite"
            ServiceDatabase.openAhead(path: path, migrator: Self.migrator(), warmReader: false)
            _ = #expect(throws: (any Error).self) { _ = try ServiceDatabase.open(path: path, migrator: Self.migrator()) }
            // Nothing is left behind: the folder is made and the path opens as usual.
            try FileManager.default.createDirectory(atPath: dir + "/missing-folder", withIntermediateDirectories: true)
            let pool = try ServiceDatabase.open(path: path, migrator: Self.migrator())
            defer { try? pool.close() }
            #expect(try Self.migrations(pool) == ["v1"])
        }
    }

    @Test func databasesTakenFromManyThreadsAtOnce() async throws {
        let dir = NSTemporaryDirectory() + "cloudless-ahead-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paths = (0..<12).map { dir + "/db\($0).sqlite" }
        for path in paths { ServiceDatabase.openAhead(path: path, migrator: Self.migrator(), warmReader: true) }
        // Taken in reverse, side by side: some still waiting (opened by the taker), some opening, some done.
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for path in paths.reversed() {
                group.addTask {
                    let pool = try ServiceDatabase.open(path: path, migrator: Self.migrator(extra: true))
                    defer { try? pool.close() }
                    return try pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM grdb_migrations") } ?? -1
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(counts == Array(repeating: 1, count: paths.count))
    }

    @Test func absentOrEmptyFromStat() throws {
        try withTempDir { dir in
            #expect(ServiceDatabase.isAbsentOrEmpty(dir + "/none"))
            #expect(FileManager.default.createFile(atPath: dir + "/empty", contents: Data()))
            #expect(ServiceDatabase.isAbsentOrEmpty(dir + "/empty"))
            #expect(FileManager.default.createFile(atPath: dir + "/full", contents: Data([1])))
            #expect(!ServiceDatabase.isAbsentOrEmpty(dir + "/full"))
        }
    }
}
