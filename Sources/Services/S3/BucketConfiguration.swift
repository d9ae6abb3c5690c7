import Core
import GRDB

/// A bucket sub-resource kept as one document (usually the XML body as the Put operation received it, normalised by
/// the operation that owns it). Each name is owned by the file that implements its operations.
struct BucketConfiguration: RawRepresentable, Hashable, Sendable {
    let rawValue: String
    init(rawValue: String) { self.rawValue = rawValue }

    static let acl = Self(rawValue: "acl")
    static let cors = Self(rawValue: "cors")
    static let policy = Self(rawValue: "policy")
    static let tagging = Self(rawValue: "tagging")
    static let encryption = Self(rawValue: "encryption")
    static let lifecycle = Self(rawValue: "lifecycle")
    static let website = Self(rawValue: "website")
    static let logging = Self(rawValue: "logging")
    static let ownershipControls = Self(rawValue: "ownershipControls")
    static let publicAccessBlock = Self(rawValue: "publicAccessBlock")
    static let requestPayment = Self(rawValue: "requestPayment")
    static let accelerate = Self(rawValue: "accelerate")
    static let objectLock = Self(rawValue: "objectLock")
    static let replication = Self(rawValue: "replication")
}

extension S3Store {
    /// The stored document of a bucket sub-resource, or nil when it is not set (from the cache: no query).
    func configuration(_ bucket: String, _ name: BucketConfiguration) -> String? {
        cached(bucket)?.configuration[name.rawValue]
    }

    /// Set (or, with nil, remove) a bucket sub-resource durably, then in the cache.
    func setConfiguration(_ bucket: String, _ name: BucketConfiguration, _ document: String?) throws {
        try db.writeNow { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM bucket WHERE name = ?)", arguments: [bucket]) == true else {
                throw S3Error.noSuchBucket(bucket)
            }
            if let document {
                try db.execute(sql: "INSERT OR REPLACE INTO bucket_config (bucket, name, document) VALUES (?, ?, ?)",
                               arguments: [bucket, name.rawValue, document])
            } else {
                try db.execute(sql: "DELETE FROM bucket_config WHERE bucket = ? AND name = ?", arguments: [bucket, name.rawValue])
            }
        }
        modifyCached(bucket) { $0.configuration[name.rawValue] = document }
    }
}
