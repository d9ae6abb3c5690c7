import Core
import Foundation

extension S3Service {
    /// One listed entry: an object or a CommonPrefixes group.
    enum ListEntry {
        case object(ObjectVersion)
        case prefix(String)
    }

    /// Walk the latest versions in key order, grouping keys by delimiter. Keys under a common prefix are skipped
    /// with one query (`key > prefix + 0xFF`), so a listing of 10,000 keys in 10 folders costs ~10 queries.
    func walk(bucket: String, prefix: String, delimiter: String, after: Data?, maxKeys: Int) async throws -> (entries: [ListEntry], truncated: Bool) {
        var entries: [ListEntry] = []
        var cursor = after
        if maxKeys == 0 { return ([], false) }
        while true {
            let batchSize = min(1000, maxKeys - entries.count + 1)
            let batch = try await store.listLatest(bucket: bucket, prefix: prefix, after: cursor, limit: batchSize)
            var jumped = false
            for o in batch {
                if !delimiter.isEmpty {
                    let rest = o.key.utf8.dropFirst(prefix.utf8.count)
                    if let range = String(Substring(rest)).range(of: delimiter) {
                        let group = prefix + String(Substring(rest))[..<range.upperBound]
                        if entries.count == maxKeys { return (entries, true) }
                        entries.append(.prefix(group))
                        cursor = Data(group.utf8) + Data([0xFF])
                        jumped = true
                        break
                    }
                }
                if entries.count == maxKeys { return (entries, true) }
                entries.append(.object(o))
                cursor = Data(o.key.utf8)
            }
            if !jumped && batch.count < batchSize { return (entries, false) }
        }
    }

    /// The checksum elements of a listed object (or version).
    static func writeChecksum(_ xml: inout XMLWriter, _ o: ObjectVersion) {
        guard let alg = o.checksumAlgorithm else { return }
        xml.element("ChecksumAlgorithm", alg.rawValue)
        xml.element("ChecksumType", o.checksumType ?? "FULL_OBJECT")
    }

    /// The CommonPrefixes a delimiter rolled keys up into, encoded as the listing asked.
    static func writeCommonPrefixes(_ xml: inout XMLWriter, _ prefixes: [String], _ enc: (String) -> String) {
        for p in prefixes {
            xml.open("CommonPrefixes")
            xml.element("Prefix", enc(p))
            xml.close()
        }
    }

    /// prefix, delimiter, max-keys (at most 1000) and encoding-type, as every listing takes them.
    static func listingParameters(_ r: AWSRequest) throws -> (prefix: String, delimiter: String, maxKeys: Int, encoding: String?) {
        var maxKeys = 1000
        if let m = r.queryValue("max-keys") {
            guard let v = Int(m), v >= 0 else { throw S3Error.invalidArgument("Provided max-keys not an integer or within integer range", name: "max-keys", value: m) }
            maxKeys = min(v, 1000)
        }
        let encoding = r.queryValue("encoding-type")
        if let encoding, encoding != "url" {
            throw S3Error.invalidArgument("Invalid Encoding Method specified in Request", name: "encoding-type", value: encoding)
        }
        return (r.queryValue("prefix") ?? "", r.queryValue("delimiter") ?? "", maxKeys, encoding)
    }

    func listObjects(_ ctx: BucketContext, v2: Bool) async throws -> AWSResponse {
        let r = ctx.request
        let bucket = try await ownedBucket(ctx.bucket, r)
        let (prefix, delimiter, maxKeys, encoding) = try Self.listingParameters(r)
        func enc(_ s: String) -> String { encoding == "url" ? Percent.encode(s, keepSlash: true) : s }

        var after: Data?
        let token = r.queryValue("continuation-token")
        let startAfter = r.queryValue("start-after")
        let marker = r.queryValue("marker")
        if v2 {
            if let token {
                guard let t = ContinuationToken.decode(token) else {
                    throw S3Error.invalidArgument("The continuation token provided is incorrect", name: "continuation-token", value: token)
                }
                after = t
            } else if let startAfter, !startAfter.isEmpty {
                after = Data(startAfter.utf8)
            }
        } else if let marker, !marker.isEmpty {
            after = Data(marker.utf8)
            // A NextMarker that was a CommonPrefix resumes after everything under it.
            if !delimiter.isEmpty, marker.hasPrefix(prefix), marker.hasSuffix(delimiter),
               let r = marker.dropFirst(prefix.count).range(of: delimiter), r.upperBound == marker.endIndex {
                after = Data(marker.utf8) + Data([0xFF])
            }
        }

        let (entries, truncated) = try await walk(bucket: bucket.name, prefix: prefix, delimiter: delimiter, after: after, maxKeys: maxKeys)
        let fetchOwner = !v2 || r.queryValue("fetch-owner") == "true"

        var xml = XMLWriter(capacity: 256 + entries.count * 300)
        xml.open("ListBucketResult", xmlns: Self.xmlns)
        xml.element("Name", bucket.name)
        xml.element("Prefix", enc(prefix))
        if v2 {
            if let token { xml.element("ContinuationToken", token) }
            if let startAfter { xml.element("StartAfter", enc(startAfter)) }
            xml.element("KeyCount", entries.count)
        } else {
            xml.element("Marker", enc(marker ?? ""))
        }
        xml.element("MaxKeys", maxKeys)
        if !delimiter.isEmpty { xml.element("Delimiter", enc(delimiter)) }
        if let encoding { xml.element("EncodingType", encoding) }
        xml.element("IsTruncated", truncated)
        if truncated, let last = entries.last {
            switch last {
            case .object(let o):
                if v2 { xml.element("NextContinuationToken", ContinuationToken.encode(after: Data(o.key.utf8))) }
                else if !delimiter.isEmpty { xml.element("NextMarker", enc(o.key)) }
            case .prefix(let p):
                if v2 { xml.element("NextContinuationToken", ContinuationToken.encode(after: Data(p.utf8) + Data([0xFF]))) }
                else { xml.element("NextMarker", enc(p)) }
            }
        }
        for case .object(let o) in entries {
            xml.open("Contents")
            xml.element("Key", enc(o.key))
            xml.element("LastModified", AWSDate.iso8601(o.lastModified))
            xml.element("ETag", o.etag)
            Self.writeChecksum(&xml, o)
            xml.element("Size", o.size)
            if fetchOwner { Self.writeOwner(&xml, account: o.owner) }
            xml.element("StorageClass", o.storageClass)
            xml.close()
        }
        var prefixes: [String] = []
        for case .prefix(let p) in entries { prefixes.append(p) }
        Self.writeCommonPrefixes(&xml, prefixes, enc)
        xml.close()
        return AWSResponse(xml: xml)
    }
}

/// ListObjectsV2 continuation tokens: the opaque (base64) byte position to resume after.
enum ContinuationToken {
    static func encode(after: Data) -> String { "1" + after.base64EncodedString() }

    static func decode(_ token: String) -> Data? {
        guard token.hasPrefix("1") else { return nil }
        return Data(base64Encoded: String(token.dropFirst()))
    }
}
