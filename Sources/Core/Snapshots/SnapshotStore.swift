#if canImport(Glibc)
import Glibc
#endif
import Foundation
public import GRDB

/// Why a snapshot call failed: the internal endpoint's status and code.
public struct SnapshotError: Error, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    public var description: String { "\(code): \(message)" }

    static func notFound(_ name: String) -> Self { .init(status: 404, code: "SnapshotNotFound", message: "No snapshot named '\(name)'.") }
    static func invalidName(_ why: String) -> Self { .init(status: 400, code: "InvalidSnapshotName", message: why) }
}

/// What a snapshot folder holds besides its files.
public struct SnapshotManifest: Codable, Sendable {
    public var name: String
    /// Seconds since 1970 (real time) of the save.
    public var created: Double
    /// The Cloudless version that saved it.
    public var version: String
    /// `<service>.sqlite` files, copied with SQLite's online backup.
    public var databases: [String]
    /// Folders of immutable files (S3's object bytes), hard-linked.
    public var linkedFolders: [String]
    public var linkedFiles: Int
}

/// Saves, restores, lists and deletes snapshots of the whole state in `<data>/snapshots/<name>/`.
///
/// A save holds the gate exclusively (no request in flight), copies each service database with SQLite's online backup
/// (one read transaction per database: a consistent copy while background work may still read and write), hard-links
/// the immutable object files (a blob is never modified once renamed into place), writes a manifest, and renames the
/// folder into place (a crash never leaves half a snapshot under its name). A restore, under the same gate, stops what
/// runs, copies each database back into the live file with the backup API (the service's pool stays open and sees the
/// new content at its next read), makes the linked folders match, and lets each service reload its memory.
public final class SnapshotStore: Sendable {
    public let gate: SnapshotGate
    let folder: String
    let participants: [any SnapshotParticipant]
    let linkedFolders: [String]
    let version: String

    public var snapshotsFolder: String { folder + "/snapshots" }

    /// `linkedFolders`: folders under `folder` whose files are immutable and whose names identify their content.
    /// `servesBackgroundWork`: the server's store, whose gate every background writer in the process holds
    /// (`SnapshotGate.background`); one per process.
    public init(folder: String, gate: SnapshotGate, participants: [any SnapshotParticipant], linkedFolders: [String], version: String,
                servesBackgroundWork: Bool = false) {
        self.folder = folder
        self.gate = gate
        self.participants = participants
        self.linkedFolders = linkedFolders
        self.version = version
        if servesBackgroundWork { SnapshotGate.serve(gate) }
        // What a crash left mid-save, mid-replace or mid-delete (never a snapshot: those have plain names).
        // A snapshot moved aside for its replacement goes back when the replacement never arrived.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: snapshotsFolder)) ?? [] where name.hasPrefix(".") {
            let path = snapshotsFolder + "/" + name
            if name.hasPrefix(".old-"), let data = FileManager.default.contents(atPath: path + "/manifest.json"),
               let m = try? JSONDecoder().decode(SnapshotManifest.self, from: data), SnapshotName.problem(m.name) == nil,
               rename(path, snapshotsFolder + "/" + m.name) == 0 {
                continue
            }
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    // MARK: Save

    @discardableResult
    public func save(_ name: String) async throws -> SnapshotManifest {
        if let why = SnapshotName.problem(name) { throw SnapshotError.invalidName(why) }
        try FileManager.default.createDirectory(atPath: snapshotsFolder, withIntermediateDirectories: true)
        let tmp = snapshotsFolder + "/.tmp-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let manifest = try await gate.exclusive { () async throws -> SnapshotManifest in
            for p in participants { await p.prepareSnapshot() }
            try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
            let databases = try SnapshotFiles.databases(in: folder)
            for db in databases {
                try Self.copyDatabase(from: folder + "/" + db, to: tmp + "/" + db)
            }
            var linked = 0
            for f in linkedFolders {
                linked += try SnapshotFiles.link(from: folder + "/" + f, to: tmp + "/" + f)
            }
            return SnapshotManifest(name: name, created: Date().timeIntervalSince1970, version: version, databases: databases,
                                    linkedFolders: linkedFolders, linkedFiles: linked)
        }
        try JSONEncoder().encode(manifest).write(to: URL(fileURLWithPath: tmp + "/manifest.json"))
        // Replace an older snapshot of the same name: the new one is complete before the old one moves aside.
        let final = snapshotsFolder + "/" + name
        let old = snapshotsFolder + "/.old-" + UUID().uuidString
        let replaced = rename(final, old) == 0
        guard rename(tmp, final) == 0 else { throw SnapshotFiles.failure("rename", final) }
        if replaced { try? FileManager.default.removeItem(atPath: old) }
        return manifest
    }

    /// A consistent copy of a live database (one read transaction), itself in WAL mode like the live files.
    static func copyDatabase(from source: String, to destination: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.readonly = true
        let from = try DatabaseQueue(path: source, configuration: config)
        // Written without fsync (as the live databases' first frames are): a snapshot is as durable as the live
        // state, against a crash of the process, not of the machine; synced, a save of nine files cost up to a second
        // of fsyncs, during which requests wait.
        var write = Configuration()
        write.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = OFF") }
        let to = try DatabaseQueue(path: destination, configuration: write)
        try from.backup(to: to)
        try to.writeWithoutTransaction { db in _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") }
        try from.close()
        try to.close()
    }

    // MARK: Restore

    /// Bring the state back to the snapshot. Returns its manifest.
    @discardableResult
    public func restore(_ name: String) async throws -> SnapshotManifest {
        let (manifest, path) = try find(name)
        for db in manifest.databases { try SnapshotFiles.checkMigrations(snapshot: path + "/" + db, live: folder + "/" + db) }
        try await replacingState {
            for p in participants { await p.stopForRestore() }
            var failure: (any Error)?
            do {
                for db in manifest.databases {
                    try Self.restoreDatabase(from: path + "/" + db, into: folder + "/" + db)
                }
                // A database the snapshot does not have was never used when it was saved: it is absent again (an
                // open one is emptied and migrated in place, see `LazyDatabase`).
                for db in try SnapshotFiles.databases(in: folder) where !manifest.databases.contains(db) {
                    try LazyDatabases.makeAbsent(path: folder + "/" + db)
                }
                for f in manifest.linkedFolders {
                    try SnapshotFiles.mirror(from: path + "/" + f, to: folder + "/" + f)
                }
            } catch { failure = error }
            // Whatever happened, the services run again on what the databases now hold.
            for p in participants {
                do { try await p.resumeAfterRestore() } catch { failure = failure ?? error }
            }
            if let failure { throw failure }
        }
        return manifest
    }

    /// Run `body`, which replaces the whole state (a restore, a reset), with the gate held exclusively: the
    /// participants pause first, outside the gate (a stack operation may wait for an ECS pass, which needs the gate),
    /// and work that stepped out of the gate finds `SnapshotGate.stateReplaced` when it comes back.
    public func replacingState<T>(_ body: () async throws -> T) async throws -> T {
        for p in participants { await p.pause() }
        do {
            let value = try await gate.exclusive {
                gate.replaceState()
                return try await body()
            }
            for p in participants { await p.unpause() }
            return value
        } catch {
            for p in participants { await p.unpause() }
            throw error
        }
    }

    /// Copy a snapshot database into the live file through a new connection: the service's own connections stay
    /// open and read the new pages next time (the backup bumps the schema cookie, so prepared statements re-prepare).
    static func restoreDatabase(from snapshot: String, into live: String) throws {
        var readConfig = Configuration()
        readConfig.readonly = true
        let from = try DatabaseQueue(path: snapshot, configuration: readConfig)
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }  // as the service's own
        let to = try DatabaseQueue(path: live, configuration: config)
        try from.backup(to: to)
        try from.close()
        try to.close()
    }

    /// Before any service opens its database (`--snapshot NAME` at start): the snapshot's files replace the live
    /// ones as a whole (their WAL and shared-memory files first), the linked folders are mirrored.
    public static func installAtStart(folder: String, name: String) throws {
        let (manifest, path) = try find(name, in: folder + "/snapshots")
        // A live database the snapshot does not have goes: it had never been used when the snapshot was saved.
        for db in try SnapshotFiles.databases(in: folder) where !manifest.databases.contains(db) {
            ServiceDatabase.remove(folder + "/" + db)
        }
        for db in manifest.databases {
            let live = folder + "/" + db
            for suffix in ["-wal", "-shm"] { unlink(live + suffix) }
            let tmp = live + ".restoring"
            unlink(tmp)
            try FileManager.default.copyItem(atPath: path + "/" + db, toPath: tmp)
            guard rename(tmp, live) == 0 else { throw SnapshotFiles.failure("rename", live) }
        }
        for f in manifest.linkedFolders { try SnapshotFiles.mirror(from: path + "/" + f, to: folder + "/" + f) }
    }

    // MARK: List and delete

    public struct Entry: Sendable {
        public var manifest: SnapshotManifest
        /// Bytes of the snapshot's files (object files shared with the live state by hard links counted too).
        public var size: Int
    }

    public func list() -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: snapshotsFolder)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().compactMap { name in
            guard let (manifest, path) = try? find(name) else { return nil }
            return Entry(manifest: manifest, size: SnapshotFiles.size(of: path))
        }
    }

    public func delete(_ name: String) throws {
        let (_, path) = try find(name)
        let doomed = snapshotsFolder + "/.deleting-" + UUID().uuidString
        guard rename(path, doomed) == 0 else { throw SnapshotFiles.failure("rename", path) }
        try FileManager.default.removeItem(atPath: doomed)
    }

    func find(_ name: String) throws -> (SnapshotManifest, String) { try Self.find(name, in: snapshotsFolder) }

    static func find(_ name: String, in snapshots: String) throws -> (SnapshotManifest, String) {
        if let why = SnapshotName.problem(name) { throw SnapshotError.invalidName(why) }
        let path = snapshots + "/" + name
        guard let data = FileManager.default.contents(atPath: path + "/manifest.json") else { throw SnapshotError.notFound(name) }
        return (try JSONDecoder().decode(SnapshotManifest.self, from: data), path)
    }
}
