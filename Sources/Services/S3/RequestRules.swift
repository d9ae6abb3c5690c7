import Core
import HTTPTypes

/// Rules S3 applies to every request before its operation runs.
extension S3Service {
    /// Query names that select an S3 sub-resource: a method no operation serves on one is MethodNotAllowed, never the
    /// bucket operation the bare method would be (DELETE /bucket?uploads does not delete the bucket).
    static let subresourceNames: Set<String> = [
        "abac", "accelerate", "acl", "analytics", "attributes", "cors", "delete", "encryption", "intelligent-tiering", "inventory",
        "legal-hold", "lifecycle", "location", "logging", "metadataConfiguration", "metadataInventoryTable",
        "metadataJournalTable", "metadataTable", "metrics", "notification", "object-lock", "ownershipControls", "partNumber",
        "policy", "policyStatus", "publicAccessBlock", "renameObject", "replication", "requestPayment", "restore", "retention",
        "select", "session", "tagging", "torrent", "uploadId", "uploads",
        "versionId", "versioning", "versions", "website",
    ]

    static func namesSubresource(_ r: AWSRequest) -> Bool {
        r.query.contains { subresourceNames.contains($0.0) }
    }

    /// S3 operations Cloudless does not serve, by method, level (object or bucket) and sub-resource, from botocore's
    /// model: they answer NotImplemented (and never fall through to PutObject, CreateBucket or a form upload). Any other
    /// unserved method and sub-resource pair is one no S3 operation accepts.
    static let unservedRoutes: [(method: HTTPRequest.Method, object: Bool, query: String, op: String)] = [
        (.post, true, "restore", "RestoreObject"),
        (.post, true, "select", "SelectObjectContent"),
        (.get, true, "torrent", "GetObjectTorrent"),
        (.put, true, "encryption", "UpdateObjectEncryption"),
        (.put, true, "renameObject", "RenameObject"),
        (.get, false, "abac", "GetBucketAbac"),
        (.put, false, "abac", "PutBucketAbac"),
        (.get, false, "session", "CreateSession"),
        (.post, false, "metadataConfiguration", "CreateBucketMetadataConfiguration"),
        (.get, false, "metadataConfiguration", "GetBucketMetadataConfiguration"),
        (.delete, false, "metadataConfiguration", "DeleteBucketMetadataConfiguration"),
        (.put, false, "metadataInventoryTable", "UpdateBucketMetadataInventoryTableConfiguration"),
        (.put, false, "metadataJournalTable", "UpdateBucketMetadataJournalTableConfiguration"),
        (.post, false, "metadataTable", "CreateBucketMetadataTableConfiguration"),
        (.get, false, "metadataTable", "GetBucketMetadataTableConfiguration"),
        (.delete, false, "metadataTable", "DeleteBucketMetadataTableConfiguration"),
    ]

    static let unservedOperations = Set(unservedRoutes.map(\.op))

    /// The unserved operation a request names, if any.
    static func unservedOperation(_ r: AWSRequest, object: Bool) -> String? {
        unservedRoutes.first { $0.method == r.method && $0.object == object && r.hasQuery($0.query) }?.op
    }

    static func unserved(_ op: String, _ r: AWSRequest, resource: String) -> AWSError {
        unservedOperations.contains(op) ? AWSError.notImplemented(op) : S3Error.methodNotAllowed(r.method.rawValue, resource: resource)
    }

    /// `x-amz-expected-bucket-owner`: not an account id is InvalidBucketOwnerAWSAccountID; a bucket of another account
    /// is AccessDenied. Checked before the operation, so a refused request changes nothing.
    /// `x-amz-source-expected-bucket-owner` is the same rule for the bucket a copy reads from.
    func checkExpectedBucketOwner(_ r: AWSRequest, bucket: String?) throws {
        if let expected = r.header("x-amz-expected-bucket-owner") {
            try Self.checkOwner(expected, of: bucket.flatMap(store.bucket))
        }
        if let expected = r.header("x-amz-source-expected-bucket-owner") {
            // A copy source that does not parse is left to the operation, which names what is wrong with it.
            try Self.checkOwner(expected, of: (try? Self.copySource(r)).flatMap { store.bucket($0.bucket) })
        }
    }

    static func checkOwner(_ expected: String, of bucket: Bucket?) throws {
        guard isAccountID(expected) else {
            throw AWSError("InvalidBucketOwnerAWSAccountID",
                           "The value of the expected bucket owner parameter must be an AWS Account ID... [\(expected)]")
        }
        if let bucket, bucket.account != expected { throw AWSError.accessDenied() }
    }

    static func isAccountID(_ s: String) -> Bool {
        s.utf8.count == 12 && s.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }
}
