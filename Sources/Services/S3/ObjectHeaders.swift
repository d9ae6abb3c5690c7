import Core
import Foundation
import HTTPTypes

/// The headers S3 stores with an object and plays back on GET/HEAD, and the x-amz-meta-* user metadata.
enum ObjectHeaders {
    /// Headers kept as sent (names lowercased). Object Lock headers are validated apart (`lockHeaders`).
    static let stored = [
        "content-type", "content-encoding", "content-disposition", "content-language", "cache-control", "expires",
        "x-amz-website-redirect-location", "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
        "x-amz-server-side-encryption-bucket-key-enabled", "x-amz-server-side-encryption-customer-algorithm",
        "x-amz-server-side-encryption-customer-key-md5",
    ]

    static let storageClasses: Set<String> = [
        "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE",
        "OUTPOSTS", "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE", "FSX_OPENZFS",
    ]

    static let metadataLimit = 2048

    /// System headers of a PUT / CreateMultipartUpload / CopyObject(REPLACE).
    static func systemHeaders(_ r: AWSRequest) throws -> [(String, String)] {
        var out: [(String, String)] = []
        for name in stored {
            guard var v = r.header(name) else { continue }
            if name == "content-encoding" {
                // aws-chunked is how the body travelled, not how it is stored.
                v = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.lowercased() != "aws-chunked" }
                    .joined(separator: ",")
                if v.isEmpty { continue }
            }
            if name == "x-amz-server-side-encryption", v != "AES256", v != "aws:kms", v != "aws:kms:dsse" {
                throw S3Error.invalidArgument("The encryption method specified is not supported", name: "x-amz-server-side-encryption", value: v)
            }
            out.append((name, v))
        }
        return out
    }

    static func storageClass(_ r: AWSRequest) throws -> String {
        guard let sc = r.header("x-amz-storage-class") else { return "STANDARD" }
        guard storageClasses.contains(sc) else {
            throw AWSError("InvalidStorageClass", "The storage class you specified is not valid").with("StorageClassRequested", sc)
        }
        return sc
    }

    /// x-amz-meta-* headers, names lowercased without the prefix; at most 2 KB as AWS allows.
    static func userMetadata(_ r: AWSRequest) throws -> [(String, String)] {
        var out: [(String, String)] = []
        var size = 0
        for field in r.headers {
            let name = field.name.canonicalName
            guard name.hasPrefix("x-amz-meta-") else { continue }
            let short = String(name.dropFirst("x-amz-meta-".count))
            size += short.utf8.count + field.value.utf8.count
            if let i = out.firstIndex(where: { $0.0 == short }) {
                out[i].1 += "," + field.value
            } else {
                out.append((short, field.value))
            }
        }
        if size > metadataLimit {
            throw AWSError("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size")
                .with("Size", String(size)).with("MaxSizeAllowed", String(metadataLimit))
        }
        return out
    }

    /// The x-amz-tagging header (`k=v&k2=v2`), validated as PutObjectTagging would.
    static func taggingHeader(_ r: AWSRequest) throws -> [(String, String)] {
        guard let raw = r.header("x-amz-tagging"), !raw.isEmpty else { return [] }
        guard let tags = Percent.parseQuery(raw, plusIsSpace: true) else {
            throw S3Error.invalidArgument("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
        }
        try validateTags(tags)
        return tags
    }

    /// A Tagging XML document (PutObjectTagging's body, PostObject's `tagging` field), validated.
    static func tagging(xml: some Collection<UInt8>) throws -> [(String, String)] {
        guard let doc = XMLElement.parse(Array(xml)), doc.name == "Tagging", let set = doc.child("TagSet") else {
            throw S3Error.malformedXML()
        }
        var tags: [(String, String)] = []
        for tag in set.children("Tag") {
            guard let k = tag.value("Key"), let v = tag.value("Value") else { throw S3Error.malformedXML() }
            tags.append((k, v))
        }
        try validateTags(tags)
        return tags
    }

    static func validateTags(_ tags: [(String, String)], tooMany: AWSError? = nil, limit: Int = 10) throws {
        if tags.count > limit { throw tooMany ?? AWSError("BadRequest", "Object tags cannot be greater than 10") }
        var seen = Set<String>()
        for (k, v) in tags {
            if k.isEmpty || k.count > 128 { throw AWSError("InvalidTag", "The TagKey you have provided is invalid").with("TagKey", k) }
            if v.count > 256 { throw AWSError("InvalidTag", "The TagValue you have provided is invalid").with("TagValue", v) }
            if k.hasPrefix("aws:") { throw AWSError("InvalidTag", "Your TagKey cannot be prefixed with aws:").with("TagKey", k) }
            if !seen.insert(k).inserted { throw AWSError("InvalidTag", "Cannot provide multiple Tags with the same key").with("TagKey", k) }
        }
    }

    /// Headers of a GET/HEAD answer for `o`.
    static func response(for o: ObjectVersion, versioned: Bool) -> HTTPFields {
        var h = HTTPFields()
        h.set("ETag", o.etag)
        h.set("Last-Modified", AWSDate.rfc1123(o.lastModified))
        h.set("Accept-Ranges", "bytes")
        var hasType = false, hasSSE = false
        for (k, v) in o.headers where k != acl {
            if k == "content-type" { hasType = true }
            if k == "x-amz-server-side-encryption" { hasSSE = true }
            h.set(k, v)
        }
        if !hasType { h.set("Content-Type", "binary/octet-stream") }
        if !hasSSE { h.set("x-amz-server-side-encryption", "AES256") }
        for (k, v) in o.metadata { h.set("x-amz-meta-" + k, v) }
        if o.storageClass != "STANDARD" { h.set("x-amz-storage-class", o.storageClass) }
        if !o.tags.isEmpty { h.set("x-amz-tagging-count", String(o.tags.count)) }
        if versioned { h.set("x-amz-version-id", o.versionID) }
        return h
    }
}
