#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GRDB

/// The file work of snapshots: which databases there are, hard-linking immutable files, mirroring a folder back.
enum SnapshotFiles {
    static func failure(_ op: String, _ path: String) -> SnapshotError {
        SnapshotError(status: 500, code: "InternalError", message: "\(op) \(path): \(String(cString: strerror(errno)))")
    }

    /// The service databases at the top of the data folder (`s3.sqlite`, …), sorted.
    static func databases(in folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".sqlite") }.sorted()
    }

    /// Files under `root`, as paths relative to it (folders nest: `blobs/ab/abcd…`).
    static func files(under root: String) -> [String] {
        var out: [String] = []
        func walk(_ relative: String) {
            let path = relative.isEmpty ? root : root + "/" + relative
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                let child = relative.isEmpty ? name : relative + "/" + name
                var st = stat()
                guard lstat(root + "/" + child, &st) == 0 else { continue }
                if st.st_mode & S_IFMT == S_IFDIR { walk(child) } else if st.st_mode & S_IFMT == S_IFREG { out.append(child) }
            }
        }
        walk("")
        return out
    }

    /// Hard-link every file under `source` to the same place under `destination`. Returns how many.
    static func link(from source: String, to destination: String) throws -> Int {
        var made = Set<String>()
        let all = files(under: source)
        for file in all {
            let dir = parent(destination + "/" + file)
            if made.insert(dir).inserted { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            guard Glibc.link(source + "/" + file, destination + "/" + file) == 0 else { throw failure("link", source + "/" + file) }
        }
        return all.count
    }

    /// Make `live` hold exactly the files of `snapshot`: missing ones linked back, extra ones removed. A file whose
    /// name is in both is kept: names identify immutable content (S3's blob ids are random, never reused).
    static func mirror(from snapshot: String, to live: String) throws {
        let wanted = Set(files(under: snapshot))
        let present = Set(files(under: live))
        var made = Set<String>()
        for file in wanted.subtracting(present) {
            let dir = parent(live + "/" + file)
            if made.insert(dir).inserted { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            guard Glibc.link(snapshot + "/" + file, live + "/" + file) == 0 else { throw failure("link", live + "/" + file) }
        }
        for file in present.subtracting(wanted) { unlink(live + "/" + file) }
    }

    /// Bytes of every file under `root`.
    static func size(of root: String) -> Int {
        var total = 0
        for file in files(under: root) {
            var st = stat()
            if stat(root + "/" + file, &st) == 0 { total += Int(st.st_size) }
        }
        return total
    }

    /// A snapshot restores into live databases whose schema came from the same migrations; one saved by a
    /// Cloudless with other migrations is refused before anything changes.
    static func checkMigrations(snapshot: String, live: String) throws {
        func identifiers(_ path: String) throws -> Set<String> {
            var config = Configuration()
            config.readonly = true
            config.busyMode = .timeout(10)
            let q = try DatabaseQueue(path: path, configuration: config)
            defer { try? q.close() }
            return try q.read { db in
                guard try db.tableExists("grdb_migrations") else { return [] }
                return Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
            }
        }
        guard FileManager.default.fileExists(atPath: live) else { return }
        if try identifiers(snapshot) != identifiers(live) {
            let name = (live as NSString).lastPathComponent
            throw SnapshotError(status: 409, code: "SnapshotIncompatible",
                                message: "The snapshot's \(name) was made by a Cloudless with other database migrations.")
        }
    }

    static func parent(_ path: String) -> String { String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) }
}
