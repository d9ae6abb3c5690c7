import Core

/// Other services read objects through Core's `ObjectSource` (Lambda code from `S3Bucket`/`S3Key`).
extension S3Service: ObjectSource {
    public func objectBytes(bucket: String, key: String, limit: Int) async throws -> [UInt8] {
        guard store.bucket(bucket) != nil else {
            throw AWSError("NoSuchBucket", "The specified bucket does not exist", status: .notFound)
        }
        guard let o = try await store.latest(bucket: bucket, key: key), !o.isDeleteMarker else {
            throw AWSError("NoSuchKey", "The specified key does not exist.", status: .notFound)
        }
        guard o.size <= limit else { throw AWSError("EntityTooLarge", "The object is larger than \(limit) bytes.") }
        var out: [UInt8] = []
        out.reserveCapacity(o.size)
        for segment in o.segments {
            try store.blobs.readRange(of: segment.id, offset: 0, length: segment.size) { out += $0 }
        }
        return out
    }
}
