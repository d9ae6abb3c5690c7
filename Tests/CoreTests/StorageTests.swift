#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import GRDB
import Testing
@testable import Core

// The blob folder, the SQLite opener and the clock, each test in a temporary folder of its own.

/// A fresh folder under the system temporary directory, removed when the test is done.
private func withTempDir<T>(_ body: (String) throws -> T) throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-storage-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

private func files(in dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
}

/// Every file under `blobs/<xx>/`, as `xx/id`.
private func blobFiles(_ store: BlobStore) -> [String] {
    files(in: store.blobsDir).flatMap { sub in files(in: store.blobsDir + "/" + sub).map { sub + "/" + $0 } }.sorted()
}

private func contents(_ path: String) -> [UInt8]? {
    FileManager.default.contents(atPath: path).map { Array($0) }
}

private func write(_ store: BlobStore, _ bytes: [UInt8]) throws -> String {
    let w = try store.create()
    try bytes.withUnsafeBytes { try w.write($0) }
    try w.commit()
    return w.id
}

private func readAll(_ store: BlobStore, _ id: String) throws -> [UInt8] {
    let r = try store.open(id)
    defer { r.close() }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 7)  // small on purpose: several reads
    while true {
        let n = try buf.withUnsafeMutableBytes { try r.read(into: $0, at: out.count, max: 7) }
        if n == 0 { return out }
        out += buf[0..<n]
    }
}

// MARK: - BlobStore

@Suite struct BlobStoreTests {
    @Test func initCreatesTheFolders() throws {
        try withTempDir { dir in
            let store = try BlobStore(root: dir + "/s3")
            #expect(store.tmpDir == dir + "/s3/tmp")
            #expect(store.blobsDir == dir + "/s3/blobs")
            var isDir: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: store.tmpDir, isDirectory: &isDir) && isDir.boolValue)
            #expect(FileManager.default.fileExists(atPath: store.blobsDir, isDirectory: &isDir) && isDir.boolValue)
        }
    }

    @Test func idsAre32LowercaseHexAndPathsShardByTheFirstTwo() throws {
        let hex = Set("0123456789abcdef".utf8)
        var seen = Set<String>()
        var malformed: [String] = []
        for _ in 0..<1000 {
            let id = BlobStore.newID()
            if id.utf8.count != 32 || !id.utf8.allSatisfy({ hex.contains($0) }) { malformed.append(id) }
            seen.insert(id)
        }
        #expect(malformed.isEmpty)
        #expect(seen.count == 1000)
        try withTempDir { dir in
            let store = try BlobStore(root: dir)
            #expect(store.path("abcdef") == dir + "/blobs/ab/abcdef")
        }
    }

    @Test func createWriteCommitPutsTheFileUnderBlobs() throws {
        try withTempDir { dir in
            let store = try BlobStore(root: dir)
            let w = try store.create()
            #expect(files(in: store.tmpDir) == [w.id])  // written in tmp/ first
            let data: [UInt8] = Array("hello, ".utf8)
            let more: [UInt8] = Array("world".utf8)
            try data.withUnsafeBytes { try w.write($0) }
            try more.withUnsafeBytes { try w.write($0) }
            #expect(w.length == 12)
            #expect(blobFiles(store).isEmpty)  // nothing visible before commit
            try w.commit(fsync: true)
            #expect(files(in: store.tmpDir).isEmpty)
            #expect(blobFiles(store) == ["\(w.id.prefix(2))/\(w.id)"])
            #expect(contents(store.path(w.id)) == Array("hello, world".utf8))
        }
    }

    @Test func emptyBlob() throws {
        try withTempDir { dir in
            let store = try BlobStore(root: dir)
            let id = try write(store, [])
            #expect(contents(store.path(id)) == [])
            #expect(try readAll(store, id) == [])
        }
    }

    @Test func initRemovesLeftoverTempFiles() throws {
        try withTempDir { dir in
            let first = try BlobStore(root: dir)
            let kept = try write(first, [1, 2, 3])
            #expect(FileManager.default.createFile(atPath: first.tmpDir + "/leftover1", contents: Data([9])))
            #expect(FileManager.default.createFile(atPath: first.tmpDir + "/leftover2", contents: Data()))
            #expect(files(in: first.tmpDir) == ["leftover1", "leftover2"])

            let second = try BlobStore(root: dir)
            #expect(files(in: second.tmpDir).isEmpty)
            // Committed blobs are not touched.
            #expect(contents(second.path(kept)) == [1, 2, 3])
        }
    }

    @Test func discardLeavesNothing() throws {
        try withTempDir { dir in
            let store = try BlobStore(root: dir)
            let w = try store.create()
            try [UInt8](repeating: 7, count: 100).withUnsafeBytes { try w.write($0) }
            w.discard()
            w.discard()  // twice is harmless
            #expect(files(in: store.tmpDir).isEmpty)
            #expect(blobFiles(store).isEmpty)
            #expect(throws: BlobError.self) { try store.open(w.id) }
        }
    }

    @Test func abandonedWriterIsRemovedWhenReleased() throws {
        try withTempDir { dir in
            let store = try BlobStore(root: dir)
            do {
                let w = try store.create()
                try [UInt8](repeating: 1, count: 10).withUnsafeBytes { try w.write($0) }
                withExtendedLifetime(w) { #expect(files(in: store.tmpDir).count == 1) }
            }
            #expect(files(in: store.tmpDir).isEmpty)
            #expect(blobFiles(store).isEmpty)
        }
    }

    @Test func linkSharesBytesAndSurvivesRemovingTheOriginal() throws {
        try withTempDir { dir in
            let store = try BlobStore(root: dir)
            let original = try write(store, Array("shared bytes".utf8))
            let copy = try store.link(original)
            #expect(copy != original)
            #expect(contents(store.path(copy)) == Array("shared bytes".utf8))

            // One inode, two names.
            var a = stat(), b = stat()
            #expect(stat(store.path(original), &a) == 0)
            #expect(stat(store.path(copy), &b) == 0)
            #expect(a.st_ino == b.st_ino)
            #expect(a.st_nlink == 2)

            store.remove([original])
            #expect(contents(store.path(original)) == nil)
            #expect(try readAll(store, copy) == Array("shared bytes".utf8))
            #expect(blobFiles(store) == ["\(copy.prefix(2))/\(copy)"])
        }
    }

    @Test func linkOfAMissingBlobThrows() throws {
        try withTempDir { dir in
            let store = try BlobStore(root: dir)
            #expect(throws: BlobError.self) { try store.link("00000000000000000000000000000000") }
        }
    }

    @Test func sweepRemovesUnreferencedFilesOnly() throws {
        try withTempDir { dir in
            let store = try BlobStore(root: dir)
            let keep1 = try write(store, [1])
            let keep2 = try write(store, [2])
            let drop1 = try write(store, [3])
            let drop2 = try store.link(keep1)  // an orphaned second name of a kept blob
            let before = blobFiles(store).count
            #expect(before == 4)

            let removed = store.sweep(referenced: [keep1, keep2, "ffffffffffffffffffffffffffffffff"])
            #expect(removed == 2)
            #expect(contents(store.path(keep1)) == [1])
            #expect(contents(store.path(keep2)) == [2])
            #expect(contents(store.path(drop1)) == nil)
            #expect(contents(store.path(drop2)) == nil)
            #expect(Set(blobFiles(store)) == ["\(keep1.prefix(2))/\(keep1)", "\(keep2.prefix(2))/\(keep2)"])
            // Nothing left to do the second time.
            #expect(store.sweep(referenced: [keep1, keep2]) == 0)
        }
    }

    @Test func sweepLeavesTempFilesAlone() throws {
        try withTempDir { dir in
            let store = try BlobStore(root: dir)
            let w = try store.create()  // an upload in progress
            #expect(store.sweep(referenced: []) == 0)
            #expect(files(in: store.tmpDir) == [w.id])
            w.discard()
        }
    }

    @Test func copyRange() throws {
        try withTempDir { dir in
            let store = try BlobStore(root: dir)
            let source = try write(store, Array("0123456789".utf8))

            let w = try store.create()
            try store.copyRange(of: source, offset: 3, length: 4, into: w)
            try store.copyRange(of: source, offset: 0, length: 1, into: w)
            try store.copyRange(of: source, offset: 9, length: 0, into: w)
            try w.commit()
            #expect(w.length == 5)
            #expect(contents(store.path(w.id)) == Array("34560".utf8))
        }
    }

    @Test func copyRangeLargerThanOneBuffer() throws {
        try withTempDir { dir in
            let store = try BlobStore(root: dir)
            let big = (0..<(3 << 20) / 2).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }  // 1.5 MiB
            let source = try write(store, big)
            let w = try store.create()
            try store.copyRange(of: source, offset: 1000, length: big.count - 1001, into: w)
            try w.commit()
            #expect(contents(store.path(w.id)) == Array(big[1000..<(big.count - 1)]))
        }
    }

    @Test func copyRangePastTheEndThrowsTruncated() throws {
        try withTempDir { dir in
            let store = try BlobStore(root: dir)
            let source = try write(store, Array("0123456789".utf8))
            let w = try store.create()
            defer { w.discard() }
            let error = #expect(throws: BlobError.self) {
                try store.copyRange(of: source, offset: 8, length: 5, into: w)
            }
            guard case .truncated? = error else {
                Issue.record("expected BlobError.truncated, got \(String(describing: error))")
                return
            }
        }
    }

    @Test func readerPreadsAtAnyOffset() throws {
        try withTempDir { dir in
            let store = try BlobStore(root: dir)
            let id = try write(store, Array("abcdefghij".utf8))
            let r = try store.open(id)
            defer { r.close() }
            var buf = [UInt8](repeating: 0, count: 4)
            // Reads do not move a shared position: the same offset reads the same bytes again.
            for _ in 0..<2 {
                let n = try buf.withUnsafeMutableBytes { try r.read(into: $0, at: 6, max: 4) }
                #expect(n == 4)
                #expect(buf == Array("ghij".utf8))
            }
            // max is honoured, then the buffer size caps the read.
            var n = try buf.withUnsafeMutableBytes { try r.read(into: $0, at: 0, max: 2) }
            #expect(n == 2)
            #expect(buf[0..<2] == Array("ab".utf8)[...])
            n = try buf.withUnsafeMutableBytes { try r.read(into: $0, at: 1, max: 100) }
            #expect(n == 4)
            #expect(buf == Array("bcde".utf8))
            // Near and past the end.
            n = try buf.withUnsafeMutableBytes { try r.read(into: $0, at: 8, max: 4) }
            #expect(n == 2)
            #expect(buf[0..<2] == Array("ij".utf8)[...])
            n = try buf.withUnsafeMutableBytes { try r.read(into: $0, at: 10, max: 4) }
            #expect(n == 0)
            #expect(try readAll(store, id) == Array("abcdefghij".utf8))
        }
    }

    @Test func openingAMissingBlobThrows() throws {
        try withTempDir { dir in
            let store = try BlobStore(root: dir)
            #expect(throws: BlobError.self) { try store.open("0123456789abcdef0123456789abcdef") }
        }
    }
}

// MARK: - ServiceDatabase

@Suite struct ServiceDatabaseTests {
    static func migrator(extra: Bool = false) -> DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
            // A row per run: a migration that ran twice would leave two (and fail on CREATE TABLE first).
            try db.execute(sql: "INSERT INTO item (name) VALUES ('seed')")
        }
        if extra {
            m.registerMigration("v2") { db in
                try db.execute(sql: "ALTER TABLE item ADD COLUMN size INTEGER NOT NULL DEFAULT 0")
            }
        }
        return m
    }

    @Test func walModeAndNormalSync() throws {
        try withTempDir { dir in
            let pool = try ServiceDatabase.open(path: dir + "/t.sqlite", migrator: Self.migrator())
            defer { try? pool.close() }
            #expect(try pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
            // synchronous: 0 OFF, 1 NORMAL, 2 FULL; on the writer and on readers.
            #expect(try pool.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 1)
            #expect(try pool.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 1)
            #expect(FileManager.default.fileExists(atPath: dir + "/t.sqlite"))
        }
    }

    @Test func migrationsRunOnceAndReopenKeepsData() throws {
        try withTempDir { dir in
            let path = dir + "/t.sqlite"
            do {
                let pool = try ServiceDatabase.open(path: path, migrator: Self.migrator())
                try pool.write { try $0.execute(sql: "INSERT INTO item (name) VALUES ('kept')") }
                try pool.close()
            }
            do {
                let pool = try ServiceDatabase.open(path: path, migrator: Self.migrator())
                #expect(try pool.read { try String.fetchAll($0, sql: "SELECT name FROM item ORDER BY id") } == ["seed", "kept"])
                #expect(try pool.read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations") } == ["v1"])
                try pool.close()
            }
            do {
                // A later version adds a migration: only that one runs.
                let pool = try ServiceDatabase.open(path: path, migrator: Self.migrator(extra: true))
                #expect(try pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM item") } == 2)
                #expect(try pool.read { try Int.fetchOne($0, sql: "SELECT sum(size) FROM item") } == 0)
                #expect(try pool.read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") }
                    == ["v1", "v2"])
                #expect(try pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
                try pool.close()
            }
        }
    }

    @Test func aNewDatabaseIsInWALModeWithNothingLeftOfItsStart() throws {
        try withTempDir { dir in
            let path = dir + "/t.sqlite"
            let pool = try ServiceDatabase.open(path: path, migrator: Self.migrator())
            #expect(try pool.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") }
                == ["grdb_migrations", "item"])
            #expect(try pool.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 1)
            try pool.write { try $0.execute(sql: "INSERT INTO item (name) VALUES ('kept')") }
            try pool.close()
            let again = try ServiceDatabase.open(path: path, migrator: Self.migrator())
            defer { try? again.close() }
            #expect(try again.read { try String.fetchAll($0, sql: "SELECT name FROM item ORDER BY id") } == ["seed", "kept"])
        }
    }

    @Test func aZeroLengthFileIsCreatedAfresh() throws {
        // What a crash during the very first start can leave: an empty file (and maybe a WAL beside it).
        try withTempDir { dir in
            let path = dir + "/t.sqlite"
            #expect(FileManager.default.createFile(atPath: path, contents: Data()))
            #expect(FileManager.default.createFile(atPath: path + "-wal", contents: Data(repeating: 7, count: 4096)))
            let pool = try ServiceDatabase.open(path: path, migrator: Self.migrator())
            defer { try? pool.close() }
            #expect(try pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
            #expect(try pool.read { try String.fetchAll($0, sql: "SELECT name FROM item") } == ["seed"])
        }
    }

    @Test func openFailsWhereNoFileCanBe() throws {
        try withTempDir { dir in
            _ = #expect(throws: (any Error).self) {
                _ = try ServiceDatabase.open(path: dir + "/missing-folder/t.sqlite", migrator: Self.migrator())
            }
        }
    }
}

// MARK: - EmulatorClock

@Suite struct EmulatorClockTests {
    @Test func startsAtWallTime() {
        let clock = EmulatorClock()
        #expect(clock.currentOffset == 0)
        #expect(abs(clock.now() - Date().timeIntervalSince1970) < 5)
    }

    @Test func advanceAccumulatesAndReset() {
        let clock = EmulatorClock()
        clock.advance(by: 3600)
        #expect(clock.currentOffset == 3600)
        let ahead = clock.now() - Date().timeIntervalSince1970
        #expect(ahead > 3595 && ahead < 3605)

        clock.advance(by: 86400 * 2)
        clock.advance(by: -600)
        #expect(clock.currentOffset == 3600 + 172_800 - 600)
        let later = clock.now() - Date().timeIntervalSince1970
        #expect(abs(later - 175_800) < 5)

        clock.resetOffset()
        #expect(clock.currentOffset == 0)
        #expect(abs(clock.now() - Date().timeIntervalSince1970) < 5)
    }

    @Test func clocksAreIndependent() {
        let a = EmulatorClock(), b = EmulatorClock()
        a.advance(by: 10)
        #expect(a.currentOffset == 10)
        #expect(b.currentOffset == 0)
    }

    @Test func advanceIsSafeFromManyTasks() async {
        let clock = EmulatorClock()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<100 { group.addTask { clock.advance(by: 1) } }
        }
        #expect(clock.currentOffset == 100)
    }
}
