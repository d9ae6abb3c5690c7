#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GRDB
import Synchronization
import Testing
@testable import Core

// Snapshots: names, the gate, the file work and a save/restore round trip against a live pool.

private func tempDir() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-snap-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

@Suite struct SnapshotNameTests {
    @Test func acceptsPlainNames() {
        for name in ["a", "before-test_1", "v1.2", String(repeating: "x", count: 128)] { #expect(SnapshotName.problem(name) == nil) }
    }

    @Test func refusesWhatCouldLeaveTheFolder() {
        for name in ["", "a/b", "..", "a..b", "../x", ".hidden", "a\\b", "a b", "é", String(repeating: "x", count: 129)] {
            #expect(SnapshotName.problem(name) != nil, "\(name)")
        }
    }
}

/// Records the order things happen in, across tasks.
private final class Log: Sendable {
    let entries = Mutex<[String]>([])
    func add(_ s: String) { entries.withLock { $0.append(s) } }
    var all: [String] { entries.withLock { $0 } }
}

private func until(_ condition: () -> Bool) async {
    for _ in 0..<2000 where !condition() { try? await Task.sleep(for: .milliseconds(1)) }
}

@Suite struct SnapshotGateTests {
    @Test func exclusiveWaitsForRequestsInFlightAndHoldsNewOnesBack() async {
        let gate = SnapshotGate()
        let log = Log()
        let release = Mutex(false)
        let first = Task {
            await gate.shared {
                log.add("request 1 in")
                while !release.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(1)) }
                log.add("request 1 out")
            }
        }
        await until { gate.counts.readers == 1 }
        let save = Task { await gate.exclusive { log.add("save") } }
        await until { gate.counts.waitingWriters == 1 }
        // A request arriving while the save waits goes after it (the save is not starved).
        let second = Task { await gate.shared { log.add("request 2") } }
        await until { gate.counts.waitingReaders == 1 }
        #expect(log.all == ["request 1 in"])
        release.withLock { $0 = true }
        await first.value
        await save.value
        await second.value
        #expect(log.all == ["request 1 in", "request 1 out", "save", "request 2"])
        #expect(gate.counts.readers == 0 && !gate.counts.writer)
    }

    @Test func aRequestWaitingOutsideDoesNotHoldASaveBack() async {
        let gate = SnapshotGate()
        let log = Log()
        let release = Mutex(false)
        let poll = Task {
            await gate.shared {
                log.add("poll in")
                await SnapshotGate.outside {
                    while !release.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(1)) }
                }
                log.add("poll reads again")
            }
        }
        await until { log.all.count == 1 && gate.counts.readers == 0 }
        await gate.exclusive { log.add("save") }
        release.withLock { $0 = true }
        await poll.value
        #expect(log.all == ["poll in", "save", "poll reads again"])
        #expect(gate.counts.readers == 0)
    }

    @Test func aTaskStartedByARequestNeverReleasesItAfterTheRequestEnded() async {
        let gate = SnapshotGate()
        var background: Task<Void, Never>?
        await gate.shared {
            // Inherits the request's hold (a task local); runs its wait after the request is over.
            background = Task {
                try? await Task.sleep(for: .milliseconds(20))
                await SnapshotGate.outside { try? await Task.sleep(for: .milliseconds(5)) }
            }
        }
        await background?.value
        #expect(gate.counts.readers == 0)
        await gate.exclusive {}
        #expect(!gate.counts.writer)
    }

    @Test func outsideWithoutARequestJustRuns() async {
        let value = await SnapshotGate.outside { 7 }
        #expect(value == 7)
    }
}

@Suite struct SnapshotFilesTests {
    @Test func mirrorLinksMissingFilesAndRemovesExtraOnes() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let live = dir + "/live", snap = dir + "/snap"
        for d in [live + "/aa", live + "/bb"] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        FileManager.default.createFile(atPath: live + "/aa/aa1", contents: Data("one".utf8))
        FileManager.default.createFile(atPath: live + "/bb/bb2", contents: Data("two".utf8))
        #expect(try SnapshotFiles.link(from: live, to: snap) == 2)
        // The snapshot's file is the same inode: no bytes copied.
        var a = stat(), b = stat()
        stat(live + "/aa/aa1", &a)
        stat(snap + "/aa/aa1", &b)
        #expect(a.st_ino == b.st_ino)
        unlink(live + "/aa/aa1")
        FileManager.default.createFile(atPath: live + "/aa/aa3", contents: Data("three".utf8))
        try SnapshotFiles.mirror(from: snap, to: live)
        #expect(Set(SnapshotFiles.files(under: live)) == ["aa/aa1", "bb/bb2"])
        #expect(FileManager.default.contents(atPath: live + "/aa/aa1") == Data("one".utf8))
        #expect(SnapshotFiles.size(of: snap) == 6)
    }
}

/// Serialized; each test's background work holds its own store's gate (`SnapshotGate.$scoped`), never another test's.
@Suite(.serialized) struct SnapshotStoreTests {
    static func migrator(_ extra: Bool = false) -> DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in try db.execute(sql: "CREATE TABLE item (id INTEGER PRIMARY KEY, value TEXT)") }
        if extra { m.registerMigration("v2") { db in try db.execute(sql: "CREATE TABLE other (id INTEGER)") } }
        return m
    }

    @Test func restoreBringsTheLivePoolBackWhileItStaysOpen() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pool = try ServiceDatabase.open(path: dir + "/svc.sqlite", migrator: Self.migrator())
        let blobs = try BlobStore(root: dir + "/s3")
        let w = try blobs.create()
        try [UInt8]("kept".utf8).withUnsafeBytes { try w.write($0) }
        try w.commit()
        try pool.writeNow { db in try db.execute(sql: "INSERT INTO item (value) VALUES ('saved')") }
        let store = SnapshotStore(folder: dir, gate: SnapshotGate(), participants: [], linkedFolders: ["s3/blobs"], version: "test")
        let manifest = try await store.save("one")
        #expect(manifest.databases == ["svc.sqlite"] && manifest.linkedFiles == 1)
        try pool.writeNow { db in try db.execute(sql: "UPDATE item SET value = 'changed'; INSERT INTO item (value) VALUES ('new')") }
        blobs.remove([w.id])
        let w2 = try blobs.create()
        try w2.commit()
        try await store.restore("one")
        let values = try pool.readNow { db in try String.fetchAll(db, sql: "SELECT value FROM item ORDER BY id") }
        #expect(values == ["saved"])
        #expect(SnapshotFiles.files(under: blobs.blobsDir) == ["\(w.id.prefix(2))/\(w.id)"])
        // The pool still writes, and the snapshot is unchanged by it.
        try pool.writeNow { db in try db.execute(sql: "INSERT INTO item (value) VALUES ('after')") }
        try await store.restore("one")
        #expect(try pool.readNow { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM item") } == 1)
        #expect(store.list().map(\.manifest.name) == ["one"])
        try store.delete("one")
        #expect(store.list().isEmpty)
        await #expect(throws: SnapshotError.self) { try await store.restore("one") }
    }

    @Test func aSnapshotFromOtherMigrationsIsRefusedBeforeAnythingChanges() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pool = try ServiceDatabase.open(path: dir + "/svc.sqlite", migrator: Self.migrator())
        let store = SnapshotStore(folder: dir, gate: SnapshotGate(), participants: [], linkedFolders: [], version: "test")
        try await store.save("old")
        try Self.migrator(true).migrate(pool)
        try pool.writeNow { db in try db.execute(sql: "INSERT INTO item (value) VALUES ('live')") }
        do {
            try await store.restore("old")
            Issue.record("restored across migrations")
        } catch let e as SnapshotError {
            #expect(e.status == 409 && e.code == "SnapshotIncompatible")
        }
        #expect(try pool.readNow { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM item") } == 1)
    }

    @Test func aCrashMidSaveLeavesTheOlderSnapshotAndNoHalfOne() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pool = try ServiceDatabase.open(path: dir + "/svc.sqlite", migrator: Self.migrator())
        let store = SnapshotStore(folder: dir, gate: SnapshotGate(), participants: [], linkedFolders: [], version: "test")
        try await store.save("x")
        // As a crash between moving the older one aside and renaming the new one in would leave them.
        #expect(rename(store.snapshotsFolder + "/x", store.snapshotsFolder + "/.old-1") == 0)
        try FileManager.default.createDirectory(atPath: store.snapshotsFolder + "/.tmp-2", withIntermediateDirectories: true)
        let again = SnapshotStore(folder: dir, gate: SnapshotGate(), participants: [], linkedFolders: [], version: "test")
        #expect(again.list().map(\.manifest.name) == ["x"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.snapshotsFolder) == ["x"])
        try pool.close()
    }

    @Test func backgroundWorkWaitsForASaveInProgress() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = SnapshotStore(folder: dir, gate: SnapshotGate(), participants: [], linkedFolders: [], version: "test")
        try await SnapshotGate.$scoped.withValue(store.gate) {
            let log = Log()
            let release = Mutex(false)
            let save = Task {
                await store.gate.exclusive {
                    log.add("save in")
                    while !release.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(1)) }
                    log.add("save out")
                }
            }
            await until { store.gate.counts.writer }
            let sweep = Task { await SnapshotGate.background { log.add("sweep") } }
            await until { store.gate.counts.waitingReaders == 1 }
            #expect(log.all == ["save in"])
            release.withLock { $0 = true }
            await save.value
            await sweep.value
            #expect(log.all == ["save in", "save out", "sweep"])
        }
    }

    @Test func workBackFromOutsideKnowsARestoreOrResetReplacedTheState() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = SnapshotStore(folder: dir, gate: SnapshotGate(), participants: [], linkedFolders: [], version: "test")
        try await SnapshotGate.$scoped.withValue(store.gate) {
            let release = Mutex(false)
            let seen = Mutex<[Bool]>([])
            let attempt = Task {
                await SnapshotGate.background {
                    seen.withLock { $0.append(SnapshotGate.stateReplaced) }
                    await SnapshotGate.outside {  // the function runs
                        while !release.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(1)) }
                    }
                    seen.withLock { $0.append(SnapshotGate.stateReplaced) }
                }
            }
            await until { seen.withLock { $0.count } == 1 && store.gate.counts.readers == 0 }
            try await store.save("kept")  // a save replaces nothing
            try await store.replacingState { }
            release.withLock { $0 = true }
            await attempt.value
            #expect(seen.withLock { $0 } == [false, true])
            // New work starts on the new state.
            let fresh = await SnapshotGate.background { SnapshotGate.stateReplaced }
            #expect(!fresh)
            #expect(!SnapshotGate.stateReplaced)  // no hold: nothing to be stale
        }
    }

    @Test func aSaveDoesNotMarkTheStateReplaced() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = SnapshotStore(folder: dir, gate: SnapshotGate(), participants: [], linkedFolders: [], version: "test")
        try await SnapshotGate.$scoped.withValue(store.gate) {
            let replaced = await SnapshotGate.background { () async -> Bool in
                await SnapshotGate.outside { _ = try? await store.save("s") }
                return SnapshotGate.stateReplaced
            }
            #expect(!replaced)
        }
    }

    /// As CloudFormation: its pause waits for an operation that needs an ECS scheduler pass, which holds the gate.
    private final class WaitsForGatedWork: SnapshotParticipant {
        let log: Log
        init(log: Log) { self.log = log }
        func pause() async {
            await SnapshotGate.background { log.add("gated work") }
            log.add("paused")
        }
        func stopForRestore() async { log.add("stop") }
        func resumeAfterRestore() async throws { log.add("resume") }
        func unpause() async { log.add("unpaused") }
    }

    @Test func aRestoreOrResetPausesOutsideTheGateThenHoldsItExclusively() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = Log()
        let store = SnapshotStore(folder: dir, gate: SnapshotGate(), participants: [WaitsForGatedWork(log: log)],
                                  linkedFolders: [], version: "test")
        try await SnapshotGate.$scoped.withValue(store.gate) {
            try await store.save("s")
            try await store.restore("s")
            #expect(log.all == ["gated work", "paused", "stop", "resume", "unpaused"])
            // A reset: the same order; a failure inside still unpauses.
            struct Failed: Error {}
            await #expect(throws: Failed.self) {
                try await store.replacingState {
                    #expect(store.gate.counts.writer)
                    log.add("reset")
                    throw Failed()
                }
            }
            #expect(Array(log.all.suffix(4)) == ["gated work", "paused", "reset", "unpaused"])
            #expect(!store.gate.counts.writer && store.gate.counts.readers == 0)
        }
    }

    @Test func installAtStartReplacesTheFiles() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let pool = try ServiceDatabase.open(path: dir + "/svc.sqlite", migrator: Self.migrator())
            try pool.writeNow { db in try db.execute(sql: "INSERT INTO item (value) VALUES ('saved')") }
            let store = SnapshotStore(folder: dir, gate: SnapshotGate(), participants: [], linkedFolders: [], version: "test")
            try await store.save("boot")
            try pool.writeNow { db in try db.execute(sql: "INSERT INTO item (value) VALUES ('later')") }
            try pool.close()
        }
        try SnapshotStore.installAtStart(folder: dir, name: "boot")
        let pool = try ServiceDatabase.open(path: dir + "/svc.sqlite", migrator: Self.migrator())
        #expect(try pool.readNow { db in try String.fetchAll(db, sql: "SELECT value FROM item") } == ["saved"])
        #expect(try pool.readNow { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") } == "wal")
        #expect(throws: SnapshotError.self) { try SnapshotStore.installAtStart(folder: dir, name: "missing") }
    }
}
