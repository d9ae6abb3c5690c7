import Core
import Foundation
import GRDB
import HTTPTypes

extension S3Service {
    func getObjectTagging(_ ctx: ObjectContext) async throws -> AWSResponse {
        let bucket = try await ownedBucket(ctx.bucket, ctx.request)
        let o = try await readableObject(ctx, bucket: bucket)
        var xml = XMLWriter()
        xml.open("Tagging", xmlns: Self.xmlns)
        xml.open("TagSet")
        for (k, v) in o.tags {
            xml.open("Tag")
            xml.element("Key", k)
            xml.element("Value", v)
            xml.close()
        }
        xml.close()
        xml.close()
        var h = HTTPFields()
        if bucket.versioning != nil { h.set("x-amz-version-id", o.versionID) }
        return AWSResponse(headers: h, xml: xml)
    }

    func putObjectTagging(_ ctx: ObjectContext) async throws -> AWSResponse {
        let bucket = try await ownedBucket(ctx.bucket, ctx.request)
        let body = try await ctx.request.collectBody(limit: 256 * 1024)
        let tags = try ObjectHeaders.tagging(xml: body.readableBytesView)
        return try await updateTags(ctx, bucket: bucket, tags: tags, status: .ok)
    }

    func deleteObjectTagging(_ ctx: ObjectContext) async throws -> AWSResponse {
        let bucket = try await ownedBucket(ctx.bucket, ctx.request)
        return try await updateTags(ctx, bucket: bucket, tags: [], status: .noContent)
    }

    private func updateTags(_ ctx: ObjectContext, bucket: Bucket, tags: [(String, String)], status: HTTPResponse.Status) async throws -> AWSResponse {
        let o = try await readableObject(ctx, bucket: bucket)
        try store.db.writeNow { db in
            try db.execute(sql: "UPDATE object SET tags = ? WHERE id = ?", arguments: [tags.isEmpty ? nil : TagSet.encode(tags), o.id])
            if db.changesCount == 0 { throw S3Error.noSuchKey(ctx.key) }
        }
        var h = HTTPFields()
        if bucket.versioning != nil { h.set("x-amz-version-id", o.versionID) }
        return AWSResponse(status: status, headers: h)
    }

    func getObjectAttributes(_ ctx: ObjectContext) async throws -> AWSResponse {
        let r = ctx.request
        let bucket = try await ownedBucket(ctx.bucket, r)
        let o = try await readableObject(ctx, bucket: bucket)
        let wanted = Set((r.header("x-amz-object-attributes") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        if wanted.isEmpty {
            throw S3Error.invalidArgument("Invalid attribute name specified.", name: "x-amz-object-attributes", value: "")
        }
        var xml = XMLWriter()
        xml.open("GetObjectAttributesResponse", xmlns: Self.xmlns)
        if wanted.contains("ETag") { xml.element("ETag", o.etag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))) }
        if wanted.contains("Checksum"), let alg = o.checksumAlgorithm, let v = o.checksumValue {
            xml.open("Checksum")
            // The attributes show a composite checksum without its "-N" part count.
            xml.element("Checksum" + alg.rawValue, String(v.split(separator: "-").first ?? ""))
            xml.element("ChecksumType", o.checksumType ?? "FULL_OBJECT")
            xml.close()
        }
        if wanted.contains("ObjectParts"), !o.parts.isEmpty {
            let maxParts = r.header("x-amz-max-parts").flatMap { Int($0) } ?? 1000
            let marker = r.header("x-amz-part-number-marker").flatMap { Int($0) } ?? 0
            let selected = o.parts.enumerated().filter { $0.offset + 1 > marker }.prefix(maxParts)
            xml.open("ObjectParts")
            xml.element("PartsCount", o.parts.count)
            xml.element("PartNumberMarker", marker)
            xml.element("NextPartNumberMarker", (selected.last?.offset ?? marker - 1) + 1)
            xml.element("MaxParts", maxParts)
            xml.element("IsTruncated", (selected.last?.offset ?? o.parts.count) + 1 < o.parts.count)
            for (i, p) in selected {
                xml.open("Part")
                xml.element("PartNumber", i + 1)
                xml.element("Size", p.size)
                if let alg = o.checksumAlgorithm, let c = p.checksum { xml.element("Checksum" + alg.rawValue, c) }
                xml.close()
            }
            xml.close()
        }
        if wanted.contains("StorageClass") { xml.element("StorageClass", o.storageClass) }
        if wanted.contains("ObjectSize") { xml.element("ObjectSize", o.size) }
        xml.close()
        var h = HTTPFields()
        h.set("Last-Modified", AWSDate.rfc1123(o.lastModified))
        if bucket.versioning != nil { h.set("x-amz-version-id", o.versionID) }
        return AWSResponse(headers: h, xml: xml)
    }
}
