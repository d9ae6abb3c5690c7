import Core
import Foundation
import GRDB

extension S3Service {
    /// PutBucketVersioning: `Enabled` or `Suspended` (a bucket never returns to unversioned). MFADelete is accepted
    /// and not enforced. A bucket with Object Lock stays Enabled.
    func putBucketVersioning(_ ctx: BucketContext) async throws -> AWSResponse {
        let bucket = try await ownedBucket(ctx.bucket, ctx.request)
        let body = try await ctx.request.collectBody(limit: 64 * 1024)
        guard let doc = XMLElement.parse(Array(body.readableBytesView)), doc.name == "VersioningConfiguration" else {
            throw S3Error.malformedXML()
        }
        if let mfa = doc.value("MfaDelete"), mfa != "Enabled", mfa != "Disabled" { throw S3Error.malformedXML() }
        guard let status = doc.value("Status") else {
            throw AWSError("IllegalVersioningConfigurationException", "The Versioning element must be specified")
        }
        guard status == "Enabled" || status == "Suspended" else { throw S3Error.malformedXML() }
        if bucket.objectLock && status != "Enabled" {
            throw AWSError("InvalidBucketState", "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.",
                           status: .conflict)
        }
        try store.setBucketState(ctx.bucket, versioning: status, objectLock: bucket.objectLock)
        return AWSResponse()
    }
}

extension S3Store {
    /// Change a bucket's versioning state and Object Lock flag, durably, then in the cache.
    func setBucketState(_ name: String, versioning: String?, objectLock: Bool) throws {
        try db.writeNow { db in
            try db.execute(sql: "UPDATE bucket SET versioning = ?, object_lock = ? WHERE name = ?", arguments: [versioning, objectLock, name])
            if db.changesCount == 0 { throw S3Error.noSuchBucket(name) }
        }
        modifyCached(name) {
            $0.versioning = versioning
            $0.objectLock = objectLock
        }
    }
}
