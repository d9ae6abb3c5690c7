import Core
import Foundation
import GRDB
import HTTPTypes

extension S3Service {
    static let minPartSize = 5 * 1024 * 1024

    static func newUploadID() -> String {
        let bytes = (0..<48).map { _ in UInt8.random(in: 0...255) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }

    func requireUpload(_ ctx: ObjectContext) async throws -> MultipartUpload {
        let id = ctx.request.queryValue("uploadId") ?? ""
        guard let u = try await store.upload(id, bucket: ctx.bucket, key: ctx.key) else { throw S3Error.noSuchUpload(id) }
        return u
    }

    func createMultipartUpload(_ ctx: ObjectContext) async throws -> AWSResponse {
        let r = ctx.request
        let bucket = try await ownedBucket(ctx.bucket, r)
        var algorithm: ChecksumAlgorithm?
        if let a = r.header("x-amz-checksum-algorithm") {
            guard let alg = ChecksumAlgorithm(rawValue: a.uppercased()) else {
                throw S3Error.invalidRequest("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
            }
            algorithm = alg
        }
        var type = r.header("x-amz-checksum-type")?.uppercased()
        if let t = type, t != "COMPOSITE", t != "FULL_OBJECT" {
            throw S3Error.invalidRequest("Value for x-amz-checksum-type header is invalid.")
        }
        if type != nil && algorithm == nil {
            throw S3Error.invalidRequest("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
        }
        if let alg = algorithm {
            let crc = alg == .crc32 || alg == .crc32c || alg == .crc64nvme
            if type == nil { type = alg == .crc64nvme ? "FULL_OBJECT" : "COMPOSITE" }
            if (type == "FULL_OBJECT" && !crc) || (type == "COMPOSITE" && alg == .crc64nvme) {
                throw S3Error.invalidRequest("The \(type ?? "") checksum type cannot be used with the \(alg.rawValue.lowercased()) checksum algorithm.")
            }
        }
        let upload = MultipartUpload(
            uploadID: Self.newUploadID(), bucket: ctx.bucket, key: ctx.key, initiated: wallSeconds(),
            headers: ObjectHeaders.with(try requestedObjectACL(r, bucket: bucket), owner: Self.canonicalUserID(r.caller.accountID),
                                        withDefaultEncryption(try ObjectHeaders.systemHeaders(r), bucket: bucket.name)
                                            + (try lockHeaders(r, bucket: bucket, requireIntegrity: false))),
            metadata: try ObjectHeaders.userMetadata(r),
            tags: try ObjectHeaders.taggingHeader(r), storageClass: try ObjectHeaders.storageClass(r),
            checksumAlgorithm: algorithm, checksumType: type, owner: r.caller.accountID)
        try await store.insertUpload(upload)
        var h = HTTPFields()
        Self.setEncryption(&h, from: upload.headers)
        if let algorithm {
            h.set("x-amz-checksum-algorithm", algorithm.rawValue)
            h.set("x-amz-checksum-type", type ?? "COMPOSITE")
        }
        var xml = XMLWriter()
        xml.open("InitiateMultipartUploadResult", xmlns: Self.xmlns)
        xml.element("Bucket", ctx.bucket)
        xml.element("Key", ctx.key)
        xml.element("UploadId", upload.uploadID)
        xml.close()
        return AWSResponse(headers: h, xml: xml)
    }

    static func partNumber(_ r: AWSRequest) throws -> Int {
        let raw = r.queryValue("partNumber") ?? ""
        guard let n = Int(raw), n >= 1, n <= 10000 else {
            throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, inclusive", name: "partNumber", value: raw)
        }
        return n
    }

    /// The checksum a part is stored with: the upload's algorithm, or CRC64NVME (S3's default full-object checksum).
    static func partAlgorithm(_ u: MultipartUpload) -> ChecksumAlgorithm { u.checksumAlgorithm ?? .crc64nvme }

    func uploadPart(_ ctx: ObjectContext) async throws -> AWSResponse {
        let r = ctx.request
        _ = try await ownedBucket(ctx.bucket, r)
        let number = try Self.partNumber(r)
        let upload = try await requireUpload(ctx)
        let requested = try UploadBody.requestedAlgorithm(r)
        if let requested, let alg = upload.checksumAlgorithm, requested != alg {
            throw S3Error.invalidRequest("Checksum Type mismatch occurred, expected checksum Type: \(alg.rawValue.lowercased()), actual checksum Type: \(requested.rawValue.lowercased())")
        }
        let stored = Self.partAlgorithm(upload)
        // Keep the upload's algorithm (CRC64NVME when it named none) and verify what the client sent, if another.
        let body = try await UploadBody.ingest(r, store: store.blobs, algorithm: stored, verify: requested)
        try body.blob.commit()
        let part = UploadedPart(partNumber: number, size: body.size, etag: body.etag, lastModified: wallSeconds(), blob: body.blob.id,
                                checksum: body.checksumBase64)
        do {
            if let old = try await store.putPart(upload.uploadID, part) { store.blobs.remove([old]) }
        } catch {
            store.blobs.remove([body.blob.id])
            throw error
        }
        var h = HTTPFields()
        h.set("ETag", body.etag)
        Self.setEncryption(&h, from: upload.headers)
        if let (alg, value) = body.verified {
            h.set(alg.headerName, Data(value).base64EncodedString())
        } else if requested != nil {
            h.set(stored.headerName, body.checksumBase64)
        }
        return AWSResponse(headers: h)
    }

    func uploadPartCopy(_ ctx: ObjectContext) async throws -> AWSResponse {
        let r = ctx.request
        _ = try await ownedBucket(ctx.bucket, r)
        let number = try Self.partNumber(r)
        let upload = try await requireUpload(ctx)
        let source = try await copySourceObject(r)
        var start = 0, length = source.size
        if let range = r.header("x-amz-copy-source-range") {
            guard case .some(let s, let l) = ByteRange.parse(range, size: source.size), range.hasPrefix("bytes="),
                  !range.dropFirst(6).hasPrefix("-"), !range.hasSuffix("-") else {
                throw S3Error.invalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
                                              name: "x-amz-copy-source-range", value: range)
            }
            // A range past the end is an error for copies (unlike GET, which clips it).
            if let last = Int(range.split(separator: "-").last ?? ""), last >= source.size {
                throw S3Error.invalidArgument("Range specified is not valid for source object of size: \(source.size)",
                                              name: "x-amz-copy-source-range", value: range)
            }
            start = s
            length = l
        }
        let alg = Self.partAlgorithm(upload)
        let writer = try store.blobs.create()
        var md5 = MD5()
        var hasher = ChecksumHasher(algorithm: alg)
        do {
            var offset = 0
            for seg in source.segments {
                let segStart = offset
                offset += seg.size
                let from = max(start, segStart), to = min(start + length, offset)
                guard from < to else { continue }
                try store.blobs.readRange(of: seg.id, offset: from - segStart, length: to - from) { slice in
                    md5.update(slice)
                    hasher.update(slice)
                    try writer.write(slice)
                }
            }
            try writer.commit()
        } catch {
            writer.discard()
            throw error
        }
        let etag = "\"" + Hex.encode(md5.finalize()) + "\""
        let checksum = Data(hasher.finalize()).base64EncodedString()
        let now = wallSeconds()
        let part = UploadedPart(partNumber: number, size: length, etag: etag, lastModified: now, blob: writer.id, checksum: checksum)
        do {
            if let old = try await store.putPart(upload.uploadID, part) { store.blobs.remove([old]) }
        } catch {
            store.blobs.remove([writer.id])
            throw error
        }
        var h = HTTPFields()
        Self.setEncryption(&h, from: upload.headers)
        if source.versionID != "null" { h.set("x-amz-copy-source-version-id", source.versionID) }
        var xml = XMLWriter()
        xml.open("CopyPartResult", xmlns: Self.xmlns)
        xml.element("ETag", etag)
        xml.element("LastModified", AWSDate.iso8601(now))
        if upload.checksumAlgorithm != nil { xml.element("Checksum" + alg.rawValue, checksum) }
        xml.close()
        return AWSResponse(headers: h, xml: xml)
    }

    func abortMultipartUpload(_ ctx: ObjectContext) async throws -> AWSResponse {
        _ = try await ownedBucket(ctx.bucket, ctx.request)
        let upload = try await requireUpload(ctx)
        let blobs = try store.db.writeNow { db in try S3Store.removeUpload(upload.uploadID, db) }
        store.blobs.remove(blobs)
        return AWSResponse(status: .noContent)
    }
}
