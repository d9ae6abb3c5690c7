import Core
import Foundation
import GRDB
import HTTPTypes

extension S3Service {
    func completeMultipartUpload(_ ctx: ObjectContext) async throws -> AWSResponse {
        let r = ctx.request
        let bucket = try await ownedBucket(ctx.bucket, r)
        let upload = try await requireUpload(ctx)
        let body = try await r.collectBody(limit: 4 << 20)
        if body.readableBytes == 0 { throw S3Error.invalidRequest("You must specify at least one part") }
        guard let doc = XMLElement.parse(Array(body.readableBytesView)), doc.name == "CompleteMultipartUpload" else {
            throw S3Error.malformedXML()
        }
        // The complete request may restate the checksum type; it must be the one the upload was created with.
        if let type = r.header("x-amz-checksum-type")?.uppercased(), let created = upload.checksumType, type != created {
            throw S3Error.invalidRequest("The upload was created using the \(created) checksum mode. The complete request must use the same checksum mode.")
        }
        var requested: [(number: Int, etag: String, checksum: String?)] = []
        for p in doc.children("Part") {
            guard let n = p.value("PartNumber").flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
                  let etag = p.value("ETag") else { throw S3Error.malformedXML() }
            let checksum = ChecksumAlgorithm.allCases.lazy.compactMap { p.value("Checksum" + $0.rawValue) }.first
            requested.append((n, etag, checksum))
        }
        if requested.isEmpty {
            throw S3Error.invalidRequest("You must specify at least one part")
        }
        for i in 1..<max(requested.count, 1) where requested[i].number <= requested[i - 1].number {
            throw AWSError("InvalidPartOrder",
                           "The list of parts was not in ascending order. Parts must be ordered by part number.")
        }
        let stored = Dictionary(uniqueKeysWithValues: try await store.parts(upload.uploadID).map { ($0.partNumber, $0) })
        var chosen: [UploadedPart] = []
        for (i, want) in requested.enumerated() {
            guard let part = stored[want.number], ETag.matches(want.etag, part.etag) || want.etag == part.etag else {
                throw AWSError("InvalidPart",
                               "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
                    .with("UploadId", upload.uploadID).with("PartNumber", String(want.number)).with("ETag", want.etag)
            }
            if i < requested.count - 1 && part.size < Self.minPartSize {
                throw AWSError("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
                    .with("ProposedSize", String(part.size)).with("MinSizeAllowed", String(Self.minPartSize))
                    .with("PartNumber", String(want.number)).with("ETag", part.etag)
            }
            if let alg = upload.checksumAlgorithm {
                if let claimed = want.checksum, let have = part.checksum, claimed != have {
                    throw AWSError("InvalidPart",
                                   "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
                        .with("UploadId", upload.uploadID).with("PartNumber", String(want.number)).with("ETag", want.etag)
                }
                if want.checksum == nil && upload.checksumType == "COMPOSITE" {
                    throw S3Error.invalidRequest(
                        "The upload was created using a \(alg.rawValue.lowercased()) checksum. The complete request must include the checksum for each part. It was missing for part \(want.number) in the request.")
                }
            }
            chosen.append(part)
        }

        // ETag: MD5 of the concatenated binary part MD5s, then -N.
        var md5 = MD5()
        for p in chosen {
            let hex = p.etag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            md5.update(Hex.decode(hex) ?? [])
        }
        let etag = "\"\(Hex.encode(md5.finalize()))-\(chosen.count)\""
        let size = chosen.reduce(0) { $0 + $1.size }

        // Checksum: composite (checksum of the part checksums, -N) or full-object (CRCs combined, no re-read).
        let alg = Self.partAlgorithm(upload)
        var checksumValue: String?
        var checksumType: String? = upload.checksumType ?? "FULL_OBJECT"
        let partChecksums = chosen.compactMap { p in p.checksum.flatMap { Data(base64Encoded: $0) }.map { Array($0) } }
        if partChecksums.count == chosen.count {
            if checksumType == "COMPOSITE" {
                checksumValue = Data(ChecksumAlgorithm.composite(algorithm: alg, partChecksums: partChecksums)).base64EncodedString() + "-\(chosen.count)"
            } else if let full = ChecksumAlgorithm.combineFullObject(
                algorithm: alg, parts: zip(partChecksums, chosen).map { (checksum: $0.0, length: $0.1.size) }) {
                checksumValue = Data(full).base64EncodedString()
            }
        }
        if checksumValue == nil { checksumType = nil }
        // A full-object checksum the client computed itself must match.
        if checksumType == "FULL_OBJECT", let claimed = r.header(alg.headerName), claimed != checksumValue {
            throw S3Error.badDigest(alg.rawValue)
        }

        let versionID = bucket.versioning == "Enabled" ? Self.newVersionID() : "null"
        let object = ObjectVersion(
            bucket: ctx.bucket, key: ctx.key, versionID: versionID, isLatest: true, isDeleteMarker: false, size: size, etag: etag,
            lastModified: wallSeconds(), headers: upload.headers, metadata: upload.metadata, tags: upload.tags,
            storageClass: upload.storageClass, checksumAlgorithm: checksumValue == nil ? nil : alg, checksumValue: checksumValue,
            checksumType: checksumType, parts: chosen.map { ObjectPart(size: $0.size, checksum: $0.checksum) },
            segments: chosen.map { BlobSegment(id: $0.blob, size: $0.size) }, owner: r.caller.accountID)
        let chosenBlobs = Set(chosen.map(\.blob))
        let ifNoneMatch = r.header("if-none-match")
        // One transaction: the object appears and the upload disappears together; the part files become the object's.
        let (freed, staged) = try store.db.writeNow { db -> ([String], EventOutbox.Staged) in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM upload WHERE upload_id = ?)", arguments: [upload.uploadID]) == true else {
                throw S3Error.noSuchUpload(upload.uploadID)
            }
            if ifNoneMatch == "*", try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM object WHERE bucket = ? AND key = ? AND is_latest = 1 AND is_delete_marker = 0)",
                arguments: [ctx.bucket, S3Store.keyData(ctx.key)]) == true {
                throw S3Error.preconditionFailed("If-None-Match")
            }
            let partBlobs = try S3Store.removeUpload(upload.uploadID, db)
            let replaced = try S3Store.putVersion(object, versioning: bucket.versioning, db)
            return (partBlobs.filter { !chosenBlobs.contains($0) } + replaced,
                    try stageCreated("ObjectCreated:CompleteMultipartUpload", object, bucket: bucket, request: r, db))
        }
        store.blobs.remove(freed)
        outbox.deliver(staged)

        var h = HTTPFields()
        Self.setEncryption(&h, from: upload.headers)
        if bucket.versioning != nil { h.set("x-amz-version-id", versionID) }
        setExpiration(&h, object, bucket: bucket)
        var xml = XMLWriter()
        xml.open("CompleteMultipartUploadResult", xmlns: Self.xmlns)
        xml.element("Location", "http://\(r.host)/\(ctx.bucket)/\(Percent.encode(ctx.key, keepSlash: true))")
        xml.element("Bucket", ctx.bucket)
        xml.element("Key", ctx.key)
        xml.element("ETag", etag)
        if let checksumValue {
            xml.element("Checksum" + alg.rawValue, checksumValue)
            xml.element("ChecksumType", checksumType)
        }
        xml.close()
        return AWSResponse(headers: h, xml: xml)
    }
}
