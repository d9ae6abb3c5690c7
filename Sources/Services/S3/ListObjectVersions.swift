import Core
import Foundation
import GRDB

extension S3Service {
    /// Where a version listing resumes: after every version of a key, or after one version inside a key.
    enum VersionCursor {
        case afterKey(Data)
        case insideKey(Data, belowRowID: Int64)
    }

    /// One entry of a version listing: a version or delete marker, or a CommonPrefixes group.
    enum VersionEntry {
        case version(ObjectVersion)
        case prefix(String)
    }

    /// Walk versions in key order, each key's versions newest first, grouping keys by delimiter; as `walk` does for
    /// latest versions. A key with 10,000 versions is read through the (bucket, key, id DESC) index a page at a time.
    func walkVersions(bucket: String, prefix: String, delimiter: String, from start: VersionCursor?, maxKeys: Int) async throws
        -> (entries: [VersionEntry], truncated: Bool) {
        var entries: [VersionEntry] = []
        if maxKeys == 0 { return ([], false) }
        var cursor = start
        while true {
            let batchSize = min(1000, maxKeys - entries.count + 1)
            let queried = cursor
            let batch = try await store.listVersions(bucket: bucket, prefix: prefix, from: queried, limit: batchSize)
            var jumped = false
            for o in batch {
                if !delimiter.isEmpty {
                    let rest = String(Substring(o.key.utf8.dropFirst(prefix.utf8.count)))
                    if let range = rest.range(of: delimiter) {
                        let group = prefix + rest[..<range.upperBound]
                        if entries.count == maxKeys { return (entries, true) }
                        entries.append(.prefix(group))
                        cursor = .afterKey(Data(group.utf8) + Data([0xFF]))
                        jumped = true
                        break
                    }
                }
                if entries.count == maxKeys { return (entries, true) }
                entries.append(.version(o))
                cursor = .insideKey(Data(o.key.utf8), belowRowID: o.id)
            }
            if jumped || batch.count == batchSize { continue }
            // A short batch inside a key ends that key only: go on with the keys after it.
            guard case .insideKey(let key, _) = queried else { return (entries, false) }
            cursor = .afterKey(key)
        }
    }

    func listObjectVersions(_ ctx: BucketContext) async throws -> AWSResponse {
        let r = ctx.request
        let bucket = try await ownedBucket(ctx.bucket, r)
        let (prefix, delimiter, maxKeys, encoding) = try Self.listingParameters(r)
        func enc(_ s: String) -> String { encoding == "url" ? Percent.encode(s, keepSlash: true) : s }
        let keyMarker = r.queryValue("key-marker") ?? ""
        let versionIDMarker = r.queryValue("version-id-marker") ?? ""
        if !versionIDMarker.isEmpty && keyMarker.isEmpty {
            throw S3Error.invalidArgument("A version-id marker cannot be specified without a key marker.",
                                          name: "version-id-marker", value: versionIDMarker)
        }
        var start: VersionCursor?
        if !keyMarker.isEmpty {
            let k = Data(keyMarker.utf8)
            if !versionIDMarker.isEmpty {
                guard let id = try store.rowID(bucket: bucket.name, key: keyMarker, versionID: versionIDMarker) else {
                    throw S3Error.invalidArgument("Invalid version id specified", name: "version-id-marker", value: versionIDMarker)
                }
                start = .insideKey(k, belowRowID: id)
            } else if !delimiter.isEmpty, keyMarker.hasPrefix(prefix), keyMarker.hasSuffix(delimiter),
                      let d = keyMarker.dropFirst(prefix.count).range(of: delimiter), d.upperBound == keyMarker.endIndex {
                // A NextKeyMarker that was a CommonPrefix resumes after everything under it.
                start = .afterKey(k + Data([0xFF]))
            } else {
                start = .afterKey(k)
            }
        }
        let (entries, truncated) = try await walkVersions(bucket: bucket.name, prefix: prefix, delimiter: delimiter, from: start, maxKeys: maxKeys)

        var xml = XMLWriter(capacity: 256 + entries.count * 400)
        xml.open("ListVersionsResult", xmlns: Self.xmlns)
        xml.element("Name", bucket.name)
        xml.element("Prefix", enc(prefix))
        xml.element("KeyMarker", enc(keyMarker))
        xml.element("VersionIdMarker", versionIDMarker)
        if truncated, let last = entries.last {
            switch last {
            case .version(let o):
                xml.element("NextKeyMarker", enc(o.key))
                xml.element("NextVersionIdMarker", o.versionID)
            case .prefix(let p):
                xml.element("NextKeyMarker", enc(p))
            }
        }
        xml.element("MaxKeys", maxKeys)
        if !delimiter.isEmpty { xml.element("Delimiter", enc(delimiter)) }
        if let encoding { xml.element("EncodingType", encoding) }
        xml.element("IsTruncated", truncated)
        for case .version(let o) in entries {
            xml.open(o.isDeleteMarker ? "DeleteMarker" : "Version")
            xml.element("Key", enc(o.key))
            xml.element("VersionId", o.versionID)
            xml.element("IsLatest", o.isLatest)
            xml.element("LastModified", AWSDate.iso8601(o.lastModified))
            if !o.isDeleteMarker {
                xml.element("ETag", o.etag)
                xml.element("Size", o.size)
                xml.element("StorageClass", o.storageClass)
                Self.writeChecksum(&xml, o)
            }
            Self.writeOwner(&xml, account: o.owner)
            xml.close()
        }
        var prefixes: [String] = []
        for case .prefix(let p) in entries { prefixes.append(p) }
        Self.writeCommonPrefixes(&xml, prefixes, enc)
        xml.close()
        return AWSResponse(xml: xml)
    }
}

extension S3Store {
    /// The row id of a version (the position of a version-id-marker), or nil.
    func rowID(bucket: String, key: String, versionID: String) throws -> Int64? {
        try db.readNow { db in
            try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM object WHERE bucket = ? AND key = ? AND version_id = ?"),
                               arguments: [bucket, Self.keyData(key), versionID])
        }
    }

    /// Versions and delete markers under `prefix` from a cursor: the older versions of the cursor's key, or the keys
    /// after it (in key order, newest version first).
    func listVersions(bucket: String, prefix: String, from cursor: S3Service.VersionCursor?, limit: Int) async throws -> [ObjectVersion] {
        try db.readNow { db in
            if case .insideKey(let key, let below) = cursor {
                guard key.starts(with: Self.keyData(prefix)) else { return [] }
                return try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT \(Self.objectColumns) FROM object WHERE bucket = ? AND key = ? AND id < ? ORDER BY id DESC LIMIT ?"),
                    arguments: [bucket, key, below, limit]).map(Self.object)
            }
            var sql = "SELECT \(Self.objectColumns) FROM object WHERE bucket = ?"
            var args: StatementArguments = [bucket]
            var after: Data?
            if case .afterKey(let key) = cursor { after = key }
            Self.keyRange(prefix: prefix, after: after, &sql, &args)
            sql += " ORDER BY key, id DESC LIMIT ?"
            _ = args.append(contentsOf: [limit])
            return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: args).map(Self.object)
        }
    }
}
