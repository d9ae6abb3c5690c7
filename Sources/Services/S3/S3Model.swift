import Core

/// A bucket row.
struct Bucket: Sendable {
    var name: String
    var account: String
    var region: String
    var created: Double
    var versioning: String?
    var objectLock: Bool
    /// Where object events are published; kept with the cached bucket so that writes to buckets without one pay nothing.
    var notification: NotificationConfiguration? = nil
    /// The bucket's sub-resource documents by name (see `BucketConfiguration`), cached like `notification`.
    var configuration: [String: String] = [:]
}

/// The pieces of an object's bytes: one blob for a PUT, one per part for a completed multipart upload,
/// so completing a 5 GiB upload links the parts instead of copying them.
struct BlobSegment: Sendable, Equatable {
    var id: String
    var size: Int

    static func encode(_ segments: [BlobSegment]) -> String {
        segments.map { "\($0.id):\($0.size)" }.joined(separator: ",")
    }

    static func decode(_ s: String) -> [BlobSegment] {
        s.split(separator: ",").compactMap { item in
            guard let colon = item.firstIndex(of: ":"), let size = Int(item[item.index(after: colon)...]) else { return nil }
            return BlobSegment(id: String(item[..<colon]), size: size)
        }
    }
}

/// A part of a multipart object as it is remembered after completion (partNumber reads, GetObjectAttributes).
struct ObjectPart: Sendable, Equatable {
    var size: Int
    var checksum: String?

    static func encode(_ parts: [ObjectPart]) -> String {
        parts.map { p in p.checksum.map { "\(p.size):\($0)" } ?? "\(p.size)" }.joined(separator: ",")
    }

    static func decode(_ s: String?) -> [ObjectPart] {
        guard let s, !s.isEmpty else { return [] }
        return s.split(separator: ",").compactMap { item in
            if let colon = item.firstIndex(of: ":") {
                guard let size = Int(item[..<colon]) else { return nil }
                return ObjectPart(size: size, checksum: String(item[item.index(after: colon)...]))
            }
            return Int(item).map { ObjectPart(size: $0, checksum: nil) }
        }
    }
}

/// An object row: one version of a key. Versioning arrives with the next issue; the row is a version already.
struct ObjectVersion: Sendable {
    var id: Int64 = 0
    var bucket: String
    var key: String
    var versionID: String
    var isLatest: Bool
    var isDeleteMarker: Bool
    var size: Int
    var etag: String  // quoted
    var lastModified: Double
    /// Content-Type, Content-Encoding, ... and SSE headers, as sent.
    var headers: [(String, String)]
    /// x-amz-meta-* without the prefix, lowercased names.
    var metadata: [(String, String)]
    var tags: [(String, String)]
    var storageClass: String
    var checksumAlgorithm: ChecksumAlgorithm?
    var checksumValue: String?  // base64 (composite: "...-N")
    var checksumType: String?  // FULL_OBJECT or COMPOSITE
    var parts: [ObjectPart]
    var segments: [BlobSegment]
    var owner: String

    func header(_ name: String) -> String? {
        headers.first { $0.0 == name }?.1
    }
}

struct MultipartUpload: Sendable {
    var uploadID: String
    var bucket: String
    var key: String
    var initiated: Double
    var headers: [(String, String)]
    var metadata: [(String, String)]
    var tags: [(String, String)]
    var storageClass: String
    var checksumAlgorithm: ChecksumAlgorithm?
    var checksumType: String?
    var owner: String
}

struct UploadedPart: Sendable {
    var partNumber: Int
    var size: Int
    var etag: String
    var lastModified: Double
    var blob: String
    var checksum: String?  // base64, in the upload's algorithm (CRC64NVME when it has none)
}

/// Header pairs stored as `name:value\n` lines: header names never hold ':' and values never hold '\n'.
enum HeaderPairs {
    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\($0.0):\($0.1)" }.joined(separator: "\n")
    }

    static func decode(_ s: String) -> [(String, String)] {
        guard !s.isEmpty else { return [] }
        return s.split(separator: "\n").compactMap { (line: Substring) -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), String(line[line.index(after: colon)...]))
        }
    }
}

/// Tags may hold any character, so they are stored percent-encoded as a query string.
enum TagSet {
    static func encode(_ tags: [(String, String)]) -> String {
        tags.map { Percent.encode($0.0) + "=" + Percent.encode($0.1) }.joined(separator: "&")
    }

    static func decode(_ s: String?) -> [(String, String)] {
        guard let s, !s.isEmpty else { return [] }
        return Percent.parseQuery(s, plusIsSpace: false) ?? []
    }
}
