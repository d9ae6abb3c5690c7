import Core
import Foundation
import GRDB
import HTTPTypes

extension S3Service {
    static func newVersionID() -> String {
        // 32 characters of [A-Za-z0-9._], the shape of S3 version ids.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._")
        var g = SystemRandomNumberGenerator()
        return String((0..<32).map { _ in alphabet[Int(g.next() as UInt8) % alphabet.count] })
    }

    /// Is `s` shaped as a version id `newVersionID` makes? (Anything else is InvalidArgument, as in AWS.)
    static func isVersionID(_ s: String) -> Bool {
        s.utf8.count == 32 && s.utf8.allSatisfy { c in
            (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2E || c == 0x5F
        }
    }

    func putObject(_ ctx: ObjectContext) async throws -> AWSResponse {
        let r = ctx.request
        let bucket = try await ownedBucket(ctx.bucket, r)
        let headers = ObjectHeaders.with(try requestedObjectACL(r, bucket: bucket), owner: Self.canonicalUserID(r.caller.accountID),
                                         withDefaultEncryption(try ObjectHeaders.systemHeaders(r), bucket: bucket.name)
                                            + (try lockHeaders(r, bucket: bucket, requireIntegrity: true)))
        let metadata = try ObjectHeaders.userMetadata(r)
        let tags = try ObjectHeaders.taggingHeader(r)
        let storageClass = try ObjectHeaders.storageClass(r)
        let requested = try UploadBody.requestedAlgorithm(r)
        // S3 gives every new object a CRC64NVME checksum when the client sent none.
        let body = try await UploadBody.ingest(r, store: store.blobs, algorithm: requested ?? .crc64nvme)
        try body.blob.commit()
        let versionID = bucket.versioning == "Enabled" ? Self.newVersionID() : "null"
        let object = ObjectVersion(
            bucket: ctx.bucket, key: ctx.key, versionID: versionID, isLatest: true, isDeleteMarker: false,
            size: body.size, etag: body.etag, lastModified: wallSeconds(), headers: headers, metadata: metadata, tags: tags,
            storageClass: storageClass, checksumAlgorithm: body.checksumAlgorithm, checksumValue: body.checksumBase64,
            checksumType: "FULL_OBJECT", parts: [], segments: [BlobSegment(id: body.blob.id, size: body.size)],
            owner: r.caller.accountID)
        try await commit(object, bucket: bucket, request: r, newBlobs: [body.blob.id], event: "ObjectCreated:Put")

        var h = HTTPFields()
        h.set("ETag", body.etag)
        Self.setEncryption(&h, from: object.headers)
        if let requested {
            h.set(requested.headerName, body.checksumBase64)
            h.set("x-amz-checksum-type", "FULL_OBJECT")
        }
        if bucket.versioning != nil { h.set("x-amz-version-id", versionID) }
        setExpiration(&h, object, bucket: bucket)
        return AWSResponse(headers: h)
    }

    /// Commit a new latest version (checking the bucket still exists and the write conditions), then free
    /// the blobs it replaced and deliver its `event` (staged in the same transaction). On failure the new blobs are removed.
    func commit(_ object: ObjectVersion, bucket: Bucket, request r: AWSRequest, newBlobs: [String], event: String) async throws {
        let ifNoneMatch = r.header("if-none-match")
        let ifMatch = r.header("if-match")
        do {
            let (freed, staged) = try store.db.writeNow { db -> ([String], EventOutbox.Staged) in
                guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM bucket WHERE name = ?)"),
                                        arguments: [bucket.name]) == true else {
                    throw S3Error.noSuchBucket(bucket.name)
                }
                if ifNoneMatch != nil || ifMatch != nil {
                    let current = try String.fetchOne(
                        db, sql: "SELECT etag FROM object WHERE bucket = ? AND key = ? AND is_latest = 1 AND is_delete_marker = 0",
                        arguments: [bucket.name, S3Store.keyData(object.key)])
                    if ifNoneMatch == "*", current != nil { throw S3Error.preconditionFailed("If-None-Match") }
                    if let ifMatch {
                        guard let current else { throw S3Error.noSuchKey(object.key) }
                        if !ETag.matches(ifMatch, current) { throw S3Error.preconditionFailed("If-Match") }
                    }
                }
                return (try S3Store.putVersion(object, versioning: bucket.versioning, db),
                        try stageCreated(event, object, bucket: bucket, request: r, db))
            }
            store.blobs.remove(freed)
            outbox.deliver(staged)
        } catch {
            store.blobs.remove(newBlobs)
            throw error
        }
    }
}

enum ETag {
    /// Does an If-Match / If-None-Match list match the (quoted) etag? `*` matches anything.
    static func matches(_ header: String, _ etag: String) -> Bool {
        let bare = etag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        for item in header.split(separator: ",") {
            var t = item.trimmingCharacters(in: .whitespaces)
            if t == "*" { return true }
            if t.hasPrefix("W/") { t.removeFirst(2) }
            if t.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) == bare { return true }
        }
        return false
    }
}
