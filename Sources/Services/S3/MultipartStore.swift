import Core
import Foundation
import GRDB

extension S3Store {
    static func upload(_ row: Row) -> MultipartUpload {
        let keyData: Data = row["key"]
        return MultipartUpload(
            uploadID: row["upload_id"], bucket: row["bucket"], key: String(decoding: keyData, as: UTF8.self),
            initiated: row["initiated"], headers: HeaderPairs.decode(row["headers"]), metadata: HeaderPairs.decode(row["metadata"]),
            tags: TagSet.decode(row["tags"]), storageClass: row["storage_class"],
            checksumAlgorithm: (row["checksum_algorithm"] as String?).flatMap(ChecksumAlgorithm.init(rawValue:)),
            checksumType: row["checksum_type"], owner: row["owner"])
    }

    static func part(_ row: Row) -> UploadedPart {
        UploadedPart(partNumber: row["part_number"], size: row["size"], etag: row["etag"], lastModified: row["last_modified"],
                     blob: row["blob"], checksum: row["checksum"])
    }

    func insertUpload(_ u: MultipartUpload) async throws {
        try db.writeNow { db in
            try db.execute(
                sql: """
                    INSERT INTO upload (upload_id, bucket, key, initiated, headers, metadata, tags, storage_class,
                      checksum_algorithm, checksum_type, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [u.uploadID, u.bucket, Self.keyData(u.key), u.initiated, HeaderPairs.encode(u.headers),
                            HeaderPairs.encode(u.metadata), u.tags.isEmpty ? nil : TagSet.encode(u.tags), u.storageClass,
                            u.checksumAlgorithm?.rawValue, u.checksumType, u.owner])
        }
    }

    /// The upload, when it exists for this bucket and key.
    func upload(_ id: String, bucket: String, key: String) async throws -> MultipartUpload? {
        try db.readNow { db in
            try Row.fetchOne(db, sql: "SELECT * FROM upload WHERE upload_id = ? AND bucket = ? AND key = ?",
                             arguments: [id, bucket, Self.keyData(key)]).map(Self.upload)
        }
    }

    /// Record a part (replacing one with the same number); returns the replaced blob.
    func putPart(_ uploadID: String, _ p: UploadedPart) async throws -> String? {
        try db.writeNow { db -> String? in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM upload WHERE upload_id = ?)", arguments: [uploadID]) == true else {
                throw S3Error.noSuchUpload(uploadID)
            }
            let old = try String.fetchOne(db, sql: "SELECT blob FROM part WHERE upload_id = ? AND part_number = ?",
                                          arguments: [uploadID, p.partNumber])
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO part (upload_id, part_number, size, etag, last_modified, blob, checksum)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [uploadID, p.partNumber, p.size, p.etag, p.lastModified, p.blob, p.checksum])
            return old
        }
    }

    func parts(_ uploadID: String) async throws -> [UploadedPart] {
        try db.readNow { db in
            try Row.fetchAll(db, sql: "SELECT * FROM part WHERE upload_id = ? ORDER BY part_number", arguments: [uploadID]).map(Self.part)
        }
    }

    /// Remove an upload and its parts rows; returns their blobs (for the caller to delete or keep).
    static func removeUpload(_ uploadID: String, _ db: Database) throws -> [String] {
        let blobs = try String.fetchAll(db, sql: "SELECT blob FROM part WHERE upload_id = ?", arguments: [uploadID])
        try db.execute(sql: "DELETE FROM part WHERE upload_id = ?", arguments: [uploadID])
        try db.execute(sql: "DELETE FROM upload WHERE upload_id = ?", arguments: [uploadID])
        return blobs
    }

    func uploads(bucket: String, prefix: String) async throws -> [MultipartUpload] {
        try db.readNow { db in
            var sql = "SELECT * FROM upload WHERE bucket = ?"
            var args: StatementArguments = [bucket]
            if !prefix.isEmpty {
                sql += " AND key >= ? AND key < ?"
                _ = args.append(contentsOf: [Self.keyData(prefix), Self.keyData(prefix) + Data([0xFF])])
            }
            sql += " ORDER BY key, initiated, upload_id"
            return try Row.fetchAll(db, sql: sql, arguments: args).map(Self.upload)
        }
    }
}
