import Core
import Foundation
import HTTPTypes
import NIOCore

extension S3Service {
    static let minimumSizeHeader = "x-amz-transition-default-minimum-object-size"

    func putBucketLifecycleConfiguration(_ ctx: BucketContext) async throws -> AWSResponse {
        let r = ctx.request
        let bucket = try await ownedBucket(ctx.bucket, r)
        let minimumSize = r.header(Self.minimumSizeHeader) ?? "all_storage_classes_128K"
        guard LifecycleConfiguration.minimumSizes.contains(minimumSize) else {
            throw S3Error.invalidRequest("Invalid TransitionDefaultMinimumObjectSize found: \(minimumSize)")
        }
        let body = try await r.collectBody(limit: 1 << 20)
        let config = try LifecycleConfiguration.parse(String(buffer: body), minimumSize: minimumSize)
        try store.setConfiguration(bucket.name, .lifecycle, config.stored)
        var h = HTTPFields()
        h.set(Self.minimumSizeHeader, minimumSize)
        return AWSResponse(headers: h)
    }

    func getBucketLifecycleConfiguration(_ ctx: BucketContext) async throws -> AWSResponse {
        let bucket = try await ownedBucket(ctx.bucket, ctx.request)
        guard let config = LifecycleConfiguration.decode(store.configuration(bucket.name, .lifecycle)) else {
            throw AWSError("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist", status: .notFound)
                .with("BucketName", bucket.name)
        }
        var h = HTTPFields()
        h.set(Self.minimumSizeHeader, config.transitionDefaultMinimumObjectSize)
        h[.contentType] = "application/xml"
        return AWSResponse(headers: h, bytes: ByteBuffer(string: config.document))
    }

    func deleteBucketLifecycle(_ ctx: BucketContext) async throws -> AWSResponse {
        let bucket = try await ownedBucket(ctx.bucket, ctx.request)
        try store.setConfiguration(bucket.name, .lifecycle, nil)
        return AWSResponse(status: .noContent)
    }

    /// `x-amz-expiration` of a current version a lifecycle rule will expire (PutObject, GET/HEAD without versionId).
    func setExpiration(_ headers: inout HTTPFields, _ o: ObjectVersion, bucket: Bucket) {
        guard let config = LifecycleConfiguration.decode(store.configuration(bucket.name, .lifecycle)),
              let (date, rule) = config.expiration(of: o) else { return }
        headers.set("x-amz-expiration", "expiry-date=\"\(AWSDate.rfc1123(date))\", rule-id=\"\(rule)\"")
    }
}
