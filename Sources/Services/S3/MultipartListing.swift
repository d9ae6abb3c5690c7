import Core
import Foundation
import HTTPTypes

extension S3Service {
    func listParts(_ ctx: ObjectContext) async throws -> AWSResponse {
        let r = ctx.request
        _ = try await ownedBucket(ctx.bucket, r)
        let upload = try await requireUpload(ctx)
        var maxParts = 1000
        if let m = r.queryValue("max-parts") {
            guard let v = Int(m), v >= 0 else { throw S3Error.invalidArgument("Argument max-parts must be an integer between 0 and 2147483647", name: "max-parts", value: m) }
            maxParts = min(v, 1000)
        }
        let marker = Int(r.queryValue("part-number-marker") ?? "0") ?? 0
        let all = try await store.parts(upload.uploadID).filter { $0.partNumber > marker }
        let page = Array(all.prefix(maxParts))
        let truncated = all.count > page.count
        var xml = XMLWriter()
        xml.open("ListPartsResult", xmlns: Self.xmlns)
        xml.element("Bucket", ctx.bucket)
        xml.element("Key", ctx.key)
        xml.element("UploadId", upload.uploadID)
        xml.element("PartNumberMarker", marker)
        xml.element("NextPartNumberMarker", page.last?.partNumber ?? 0)
        xml.element("MaxParts", maxParts)
        xml.element("IsTruncated", truncated)
        for p in page {
            xml.open("Part")
            xml.element("PartNumber", p.partNumber)
            xml.element("LastModified", AWSDate.iso8601(p.lastModified))
            xml.element("ETag", p.etag)
            xml.element("Size", p.size)
            if let alg = upload.checksumAlgorithm, let c = p.checksum { xml.element("Checksum" + alg.rawValue, c) }
            xml.close()
        }
        Self.writeOwner(&xml, account: upload.owner, element: "Initiator")
        Self.writeOwner(&xml, account: upload.owner)
        xml.element("StorageClass", upload.storageClass)
        if let alg = upload.checksumAlgorithm {
            xml.element("ChecksumAlgorithm", alg.rawValue)
            xml.element("ChecksumType", upload.checksumType)
        }
        xml.close()
        return AWSResponse(xml: xml)
    }

    func listMultipartUploads(_ ctx: BucketContext) async throws -> AWSResponse {
        let r = ctx.request
        _ = try await ownedBucket(ctx.bucket, r)
        let prefix = r.queryValue("prefix") ?? ""
        let delimiter = r.queryValue("delimiter") ?? ""
        let keyMarker = r.queryValue("key-marker") ?? ""
        let uploadIDMarker = r.queryValue("upload-id-marker") ?? ""
        var maxUploads = 1000
        if let m = r.queryValue("max-uploads") {
            guard let v = Int(m), v >= 0 else { throw S3Error.invalidArgument("Argument max-uploads must be an integer between 0 and 2147483647", name: "max-uploads", value: m) }
            maxUploads = min(v, 1000)
        }
        let encoding = r.queryValue("encoding-type")
        func enc(_ s: String) -> String { encoding == "url" ? Percent.encode(s, keepSlash: true) : s }

        var uploads: [MultipartUpload] = []
        var prefixes: [String] = []
        var truncated = false
        var lastKey: String?, lastID: String?
        for u in try await store.uploads(bucket: ctx.bucket, prefix: prefix) {
            if !keyMarker.isEmpty {
                let k = Array(u.key.utf8), m = Array(keyMarker.utf8)
                if k.lexicographicallyPrecedes(m) { continue }
                if k == m && (uploadIDMarker.isEmpty || u.uploadID <= uploadIDMarker) { continue }
            }
            if !delimiter.isEmpty, let range = u.key.dropFirst(prefix.count).range(of: delimiter) {
                let group = prefix + u.key.dropFirst(prefix.count)[..<range.upperBound]
                if prefixes.last == group { continue }
                if uploads.count + prefixes.count == maxUploads { truncated = true; break }
                prefixes.append(group)
                lastKey = group
                lastID = nil
                continue
            }
            if uploads.count + prefixes.count == maxUploads { truncated = true; break }
            uploads.append(u)
            lastKey = u.key
            lastID = u.uploadID
        }
        var xml = XMLWriter()
        xml.open("ListMultipartUploadsResult", xmlns: Self.xmlns)
        xml.element("Bucket", ctx.bucket)
        xml.element("KeyMarker", enc(keyMarker))
        xml.element("UploadIdMarker", uploadIDMarker)
        // AWS answers both next markers on every page: where the page ended (empty when it listed nothing).
        xml.element("NextKeyMarker", enc(lastKey ?? ""))
        xml.element("NextUploadIdMarker", lastID ?? "")
        if !prefix.isEmpty { xml.element("Prefix", enc(prefix)) }
        if !delimiter.isEmpty { xml.element("Delimiter", enc(delimiter)) }
        if let encoding { xml.element("EncodingType", encoding) }
        xml.element("MaxUploads", maxUploads)
        xml.element("IsTruncated", truncated)
        for u in uploads {
            xml.open("Upload")
            xml.element("Key", enc(u.key))
            xml.element("UploadId", u.uploadID)
            Self.writeOwner(&xml, account: u.owner, element: "Initiator")
            Self.writeOwner(&xml, account: u.owner)
            xml.element("StorageClass", u.storageClass)
            xml.element("Initiated", AWSDate.iso8601(u.initiated))
            if let alg = u.checksumAlgorithm {
                xml.element("ChecksumAlgorithm", alg.rawValue)
                xml.element("ChecksumType", u.checksumType)
            }
            xml.close()
        }
        for p in prefixes {
            xml.open("CommonPrefixes")
            xml.element("Prefix", enc(p))
            xml.close()
        }
        xml.close()
        return AWSResponse(xml: xml)
    }
}
