import Core
import Foundation

/// What S3 holds now for an `AWS::S3::Bucket`, in the template's property shapes, for drift detection: a bucket
/// untouched since it was deployed reads back as its template. A configuration the template leaves out and that
/// still has S3's value for a new bucket (all public access blocked, BucketOwnerEnforced, SSE-S3 unset) is left out too.
extension S3Resources {
    func readBucket(_ request: ResourceRequest, state: ResourceState) async throws -> ResourceReading {
        guard let bucket = service.store.bucket(state.physicalId) else { return .deleted }
        let expected = request.properties
        let name = bucket.name
        let store = service.store
        var out: [String: JSON] = [:]
        if expected["BucketName"] != nil { out["BucketName"] = .string(name) }
        if let v = bucket.versioning, !(bucket.objectLock && expected["VersioningConfiguration"] == nil) {
            out["VersioningConfiguration"] = .object(["Status": .string(v)])
        }
        let own = store.configuration(name, .tagging).map(TagSet.decode)?.filter { !$0.0.hasPrefix("aws:") } ?? []
        if !own.isEmpty { out["Tags"] = .array(own.map { .object(["Key": .string($0.0), "Value": .string($0.1)]) }) }
        out["PublicAccessBlockConfiguration"] = Self.readPublicAccessBlock(store.configuration(name, .publicAccessBlock),
                                                                           expected: expected["PublicAccessBlockConfiguration"])
        out["BucketEncryption"] = Self.readEncryption(store.configuration(name, .encryption), expected: expected["BucketEncryption"])
        if let ownership = S3Service.objectOwnership(bucket), ownership != "BucketOwnerEnforced" || expected["OwnershipControls"] != nil {
            out["OwnershipControls"] = .object(["Rules": .array([.object(["ObjectOwnership": .string(ownership)])])])
        }
        if let acl = cannedACL(of: bucket, preferring: expected["AccessControl"]?.string), acl != "Private" || expected["AccessControl"] != nil {
            out["AccessControl"] = .string(acl)
        }
        if bucket.objectLock { out["ObjectLockEnabled"] = .bool(true) }
        let lock = store.configuration(name, .objectLock)
        if lock != nil || expected["ObjectLockConfiguration"] != nil { out["ObjectLockConfiguration"] = Self.readObjectLock(bucket, lock) }
        out["LifecycleConfiguration"] = Self.readLifecycle(store.configuration(name, .lifecycle), expected: expected["LifecycleConfiguration"])
        out["CorsConfiguration"] = Self.readCors(store.configuration(name, .cors))
        out["WebsiteConfiguration"] = Self.readWebsite(store.configuration(name, .website))
        out["NotificationConfiguration"] = Self.readNotification(bucket.notification, expected: expected["NotificationConfiguration"])
        if let status = store.configuration(name, .accelerate) { out["AccelerateConfiguration"] = .object(["AccelerationStatus": .string(status)]) }
        out["LoggingConfiguration"] = Self.readLogging(store.configuration(name, .logging), bucket: name, expected: expected["LoggingConfiguration"])
        return .properties(out)
    }

    /// The canned ACL whose grants the bucket's ACL has, the template's own first (several grant the owner alone),
    /// or nil for an ACL no canned one gives.
    func cannedACL(of bucket: Bucket, preferring expected: String?) -> String? {
        let stored = service.store.configuration(bucket.name, .acl)
        let owner = S3Service.canonicalUserID(bucket.account)
        let names = (expected.map { [$0] } ?? []) + ["Private"] + Self.cannedACLs.keys.sorted()
        return names.first { name in
            guard let header = Self.cannedACLs[name], let acl = AccessControlList.canned(header, owner: owner, bucketOwner: owner) else { return false }
            return stored.map { acl.encoded == $0 } ?? acl.isOwnerFullControl(owner)
        }
    }
}
