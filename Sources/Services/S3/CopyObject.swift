import Core
import Foundation
import GRDB
import HTTPTypes

extension S3Service {
    /// `x-amz-copy-source: /bucket/key?versionId=...` (URL-encoded, leading slash optional).
    static func copySource(_ r: AWSRequest) throws -> (bucket: String, key: String, versionID: String?) {
        guard let raw = r.header("x-amz-copy-source") else { throw S3Error.invalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey") }
        var path = Substring(raw)
        var versionID: String?
        if let q = path.firstIndex(of: "?") {
            let query = Percent.parseQuery(path[path.index(after: q)...]) ?? []
            versionID = query.first(where: { $0.0 == "versionId" })?.1
            path = path[..<q]
        }
        guard let decoded = Percent.decode(path) else { throw S3Error.invalidArgument("Invalid copy source encoding", name: "x-amz-copy-source", value: raw) }
        var p = Substring(decoded)
        if p.hasPrefix("/") { p = p.dropFirst() }
        guard let slash = p.firstIndex(of: "/"), slash != p.startIndex, p.index(after: slash) != p.endIndex else {
            throw S3Error.invalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                                          name: "x-amz-copy-source", value: raw)
        }
        return (String(p[..<slash]), String(p[p.index(after: slash)...]), versionID)
    }

    /// Source object of a copy, with the x-amz-copy-source-if-* conditions checked.
    func copySourceObject(_ r: AWSRequest) async throws -> ObjectVersion {
        let src = try Self.copySource(r)
        let srcBucket = try await ownedBucket(src.bucket, r)
        let ctx = ObjectContext(request: r, bucket: src.bucket, key: src.key)
        var o: ObjectVersion
        if let v = src.versionID {
            guard let found = try await store.version(bucket: src.bucket, key: src.key, versionID: v) else {
                if v != "null" && (srcBucket.versioning == nil || !Self.isVersionID(v)) {
                    throw S3Error.invalidArgument("Invalid version id specified", name: "x-amz-copy-source", value: r.header("x-amz-copy-source"))
                }
                throw S3Error.noSuchVersion(src.key, v)
            }
            if found.isDeleteMarker {
                throw S3Error.invalidRequest("The source of a copy request may not specifically refer to a delete marker by version id.")
            }
            o = found
        } else {
            var plain = ctx
            plain.request.query = []
            o = try await readableObject(plain, bucket: srcBucket)
        }
        let modified = o.lastModified.rounded(.down)
        if let m = r.header("x-amz-copy-source-if-match"), !ETag.matches(m, o.etag) {
            throw S3Error.preconditionFailed("x-amz-copy-source-If-Match")
        }
        if r.header("x-amz-copy-source-if-match") == nil, let s = r.header("x-amz-copy-source-if-unmodified-since"),
           let d = AWSDate.parse(s), modified > d {
            throw S3Error.preconditionFailed("x-amz-copy-source-If-Unmodified-Since")
        }
        if let m = r.header("x-amz-copy-source-if-none-match"), ETag.matches(m, o.etag) {
            throw S3Error.preconditionFailed("x-amz-copy-source-If-None-Match")
        }
        if r.header("x-amz-copy-source-if-none-match") == nil, let s = r.header("x-amz-copy-source-if-modified-since"),
           let d = AWSDate.parse(s), modified <= d {
            throw S3Error.preconditionFailed("x-amz-copy-source-If-Modified-Since")
        }
        return o
    }

    func copyObject(_ ctx: ObjectContext) async throws -> AWSResponse {
        let r = ctx.request
        let bucket = try await ownedBucket(ctx.bucket, r)
        let source = try await copySourceObject(r)
        let directive = r.header("x-amz-metadata-directive")?.uppercased() ?? "COPY"
        let taggingDirective = r.header("x-amz-tagging-directive")?.uppercased() ?? "COPY"
        guard directive == "COPY" || directive == "REPLACE" else {
            throw S3Error.invalidArgument("Unknown metadata directive.", name: "x-amz-metadata-directive", value: directive)
        }
        let sameObject = source.bucket == ctx.bucket && source.key == ctx.key && r.header("x-amz-copy-source")?.contains("versionId=") != true
        let changesSomething = directive == "REPLACE" || r.header("x-amz-storage-class") != nil
            || r.header("x-amz-server-side-encryption") != nil || r.header("x-amz-website-redirect-location") != nil
            || r.header("x-amz-checksum-algorithm") != nil
        if sameObject && !changesSomething {
            throw S3Error.invalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
        }
        // Object Lock settings are never copied: the copy gets those of the request or the bucket's default.
        var headers = source.headers.filter { !ObjectLockState.names.contains($0.0) }, metadata = source.metadata
        if directive == "REPLACE" {
            headers = try ObjectHeaders.systemHeaders(r)
            metadata = try ObjectHeaders.userMetadata(r)
        } else {
            // Encryption is the request's, else the destination bucket's default: never the source's.
            headers.removeAll { Self.encryptionHeaders.contains($0.0) }
            for name in Self.encryptionHeaders { if let v = r.header(name) { headers.append((name, v)) } }
        }
        headers = withDefaultEncryption(headers, bucket: bucket.name)
        // A copy gets the ACL its request asks for (default: owner only), not the source's.
        headers = ObjectHeaders.with(try requestedObjectACL(r, bucket: bucket), owner: Self.canonicalUserID(r.caller.accountID), headers)
        headers += try lockHeaders(r, bucket: bucket, requireIntegrity: false)
        let tags = taggingDirective == "REPLACE" ? try ObjectHeaders.taggingHeader(r) : source.tags
        let storageClass = r.header("x-amz-storage-class") != nil ? try ObjectHeaders.storageClass(r) : "STANDARD"
        // Bytes are shared through hard links: a copy costs no I/O, and deleting either side leaves the other intact.
        var segments: [BlobSegment] = []
        do {
            for seg in source.segments { segments.append(BlobSegment(id: try store.blobs.link(seg.id), size: seg.size)) }
        } catch {
            store.blobs.remove(segments.map(\.id))
            throw S3Error.noSuchKey(source.key)
        }
        var checksumAlgorithm = source.checksumAlgorithm, checksumValue = source.checksumValue, checksumType = source.checksumType
        var etag = source.etag
        let wanted = r.header("x-amz-checksum-algorithm").flatMap { ChecksumAlgorithm(rawValue: $0.uppercased()) }
        let isMultipart = !source.parts.isEmpty
        // A copy is a single-part object: a multipart source gets the MD5 ETag of its bytes and a full-object checksum.
        if isMultipart || (wanted != nil && wanted != source.checksumAlgorithm) {
            let alg = wanted ?? source.checksumAlgorithm ?? .crc64nvme
            let (md5, checksum) = try digest(alg, segments: segments)
            if isMultipart { etag = "\"" + Hex.encode(md5) + "\"" }
            checksumAlgorithm = alg
            checksumValue = Data(checksum).base64EncodedString()
            checksumType = "FULL_OBJECT"
        }
        let versionID = bucket.versioning == "Enabled" ? Self.newVersionID() : "null"
        let now = wallSeconds()
        let object = ObjectVersion(
            bucket: ctx.bucket, key: ctx.key, versionID: versionID, isLatest: true, isDeleteMarker: false, size: source.size,
            etag: etag, lastModified: now, headers: headers, metadata: metadata, tags: tags, storageClass: storageClass,
            checksumAlgorithm: checksumAlgorithm, checksumValue: checksumValue, checksumType: checksumType, parts: [],
            segments: segments, owner: r.caller.accountID)
        try await commit(object, bucket: bucket, request: r, newBlobs: segments.map(\.id), event: "ObjectCreated:Copy")

        var h = HTTPFields()
        if source.versionID != "null" { h.set("x-amz-copy-source-version-id", source.versionID) }
        if bucket.versioning != nil { h.set("x-amz-version-id", versionID) }
        setExpiration(&h, object, bucket: bucket)
        Self.setEncryption(&h, from: object.headers)
        var xml = XMLWriter()
        xml.open("CopyObjectResult", xmlns: Self.xmlns)
        xml.element("ETag", etag)
        xml.element("LastModified", AWSDate.iso8601(now))
        if let checksumAlgorithm, let checksumValue {
            xml.element("ChecksumType", checksumType)
            xml.element("Checksum" + checksumAlgorithm.rawValue, checksumValue)
        }
        xml.close()
        return AWSResponse(headers: h, xml: xml)
    }

    /// MD5 and a full-object checksum by reading the bytes again (copies of multipart objects, new algorithms).
    func digest(_ alg: ChecksumAlgorithm, segments: [BlobSegment]) throws -> ([UInt8], [UInt8]) {
        var hasher = ChecksumHasher(algorithm: alg)
        var md5 = MD5()
        for seg in segments {
            try store.blobs.readRange(of: seg.id, offset: 0, length: seg.size) { slice in
                hasher.update(slice)
                md5.update(slice)
            }
        }
        return (md5.finalize(), hasher.finalize())
    }
}
