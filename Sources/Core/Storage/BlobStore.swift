#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Files holding object bytes. A blob is written under `tmp/`, then renamed to `blobs/<xx>/<id>` before
/// the row that points at it commits, so a crash leaves either nothing visible or a complete file;
/// files no row points to are removed at the next start (`sweep`).
public struct BlobStore: Sendable {
    public let root: String
    public var tmpDir: String { root + "/tmp" }
    public var blobsDir: String { root + "/blobs" }

    public init(root: String) throws {
        self.root = root
        for dir in [root, root + "/tmp", root + "/blobs"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        // Temporary files of a previous run are never referenced: remove them.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root + "/tmp")) ?? [] {
            unlink(root + "/tmp/" + name)
        }
    }

    /// The final path of a blob id.
    public func path(_ id: String) -> String {
        "\(blobsDir)/\(id.prefix(2))/\(id)"
    }

    public static func newID() -> String {
        var g = SystemRandomNumberGenerator()
        let a = g.next() as UInt64, b = g.next() as UInt64
        return hex(a) + hex(b)
    }

    private static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    /// Start writing a new blob into `tmp/`.
    public func create() throws -> BlobWriter {
        let id = BlobStore.newID()
        let tmp = "\(tmpDir)/\(id)"
        let fd = Glibc.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BlobError.io("create", errno) }
        return BlobWriter(id: id, fd: fd, tmpPath: tmp, finalPath: path(id))
    }

    /// A second name for an existing blob (CopyObject shares bytes without copying them).
    public func link(_ id: String) throws -> String {
        let newID = BlobStore.newID()
        try ensureDir(for: newID)
        if Glibc.link(path(id), path(newID)) != 0 { throw BlobError.io("link", errno) }
        return newID
    }

    func ensureDir(for id: String) throws {
        let dir = "\(blobsDir)/\(id.prefix(2))"
        if access(dir, F_OK) != 0 {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
    }

    public func remove(_ ids: some Sequence<String>) {
        for id in ids { unlink(path(id)) }
    }

    /// Remove every blob file not in `referenced` (crash leftovers: renamed but never committed).
    /// Files modified at or after `olderThan` (seconds since 1970) are kept: the sweep runs while the server
    /// already takes uploads, and a blob renamed a moment ago may be about to be committed.
    public func sweep(referenced: Set<String>, olderThan cutoff: Double = .infinity) -> Int {
        var removed = 0
        let fm = FileManager.default
        for dir in (try? fm.contentsOfDirectory(atPath: blobsDir)) ?? [] {
            for name in (try? fm.contentsOfDirectory(atPath: "\(blobsDir)/\(dir)")) ?? [] where !referenced.contains(name) {
                let path = "\(blobsDir)/\(dir)/\(name)"
                var st = stat()
                guard stat(path, &st) == 0, Double(st.st_mtim.tv_sec) + 1 < cutoff else { continue }
                unlink(path)
                removed += 1
            }
        }
        return removed
    }

    /// Open a blob for reading.
    public func open(_ id: String) throws -> BlobReader {
        let fd = Glibc.open(path(id), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BlobError.io("open", errno) }
        return BlobReader(fd: fd)
    }

    /// Hand `length` bytes at `offset` of blob `id` to `body`, a megabyte at a time (copies, re-hashing).
    public func readRange(of id: String, offset: Int, length: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let reader = try open(id)
        defer { reader.close() }
        var remaining = length
        var at = offset
        var buf = [UInt8](repeating: 0, count: min(length, 1 << 20))
        while remaining > 0 {
            let n = try buf.withUnsafeMutableBytes { try reader.read(into: $0, at: at, max: min(remaining, 1 << 20)) }
            if n == 0 { throw BlobError.truncated }
            try buf.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            remaining -= n
            at += n
        }
    }

    /// Copy `length` bytes at `offset` of blob `id` into a writer.
    public func copyRange(of id: String, offset: Int, length: Int, into writer: BlobWriter) throws {
        try readRange(of: id, offset: offset, length: length) { try writer.write($0) }
    }
}

public enum BlobError: Error, CustomStringConvertible {
    case io(String, Int32)
    case truncated
    public var description: String {
        switch self {
        case .io(let op, let e): return "\(op): \(String(cString: strerror(e)))"
        case .truncated: return "blob shorter than its row says"
        }
    }
}

/// One blob being written. Plain blocking writes: they land in the page cache in microseconds.
public final class BlobWriter: @unchecked Sendable {
    public let id: String
    private var fd: Int32
    let tmpPath: String
    let finalPath: String
    public private(set) var length = 0

    init(id: String, fd: Int32, tmpPath: String, finalPath: String) {
        self.id = id
        self.fd = fd
        self.tmpPath = tmpPath
        self.finalPath = finalPath
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var off = 0
        while off < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + off, bytes.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                throw BlobError.io("write", errno)
            }
            off += n
        }
        length += bytes.count
    }

    /// Close and rename into place. After this the blob exists under its id.
    public func commit(fsync doSync: Bool = false) throws {
        if doSync { fsync(fd) }
        Glibc.close(fd)
        fd = -1
        // The rename says whether the `blobs/<xx>` folder exists yet (saves a lookup per object).
        if rename(tmpPath, finalPath) == 0 { return }
        guard errno == ENOENT else { throw BlobError.io("rename", errno) }
        let dir = String(finalPath[..<finalPath.lastIndex(of: "/")!])
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if rename(tmpPath, finalPath) != 0 { throw BlobError.io("rename", errno) }
    }

    /// Drop the temporary file (failed upload).
    public func discard() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
            unlink(tmpPath)
        }
    }

    deinit {
        if fd >= 0 {
            Glibc.close(fd)
            unlink(tmpPath)
        }
    }
}

public final class BlobReader: @unchecked Sendable {
    private var fd: Int32
    init(fd: Int32) { self.fd = fd }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int, max: Int) throws -> Int {
        while true {
            let n = pread(fd, buffer.baseAddress!, Swift.min(max, buffer.count), off_t(offset))
            if n < 0 {
                if errno == EINTR { continue }
                throw BlobError.io("read", errno)
            }
            return n
        }
    }

    public func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    deinit { close() }
}
