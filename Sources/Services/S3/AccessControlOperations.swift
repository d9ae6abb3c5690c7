import Core
import Foundation
import GRDB
import HTTPTypes

extension S3Service {
    /// The bucket's ObjectOwnership; nil when its ownership controls were deleted.
    static func objectOwnership(_ bucket: Bucket) -> String? {
        bucket.configuration[BucketConfiguration.ownershipControls.rawValue]
    }

    /// With ObjectOwnership BucketOwnerEnforced, ACLs are disabled: only the owner-has-full-control ACL is accepted.
    static func checkACLsAllowed(_ acl: AccessControlList, owner: String, bucket: Bucket) throws {
        if objectOwnership(bucket) == "BucketOwnerEnforced", !acl.isOwnerFullControl(owner) {
            throw AWSError("AccessControlListNotSupported", "The bucket does not allow ACLs")
        }
    }

    /// The object ACL a write (PutObject, CopyObject, CreateMultipartUpload) asks for in its headers, checked
    /// against the bucket's ownership; nil for none.
    func requestedObjectACL(_ r: AWSRequest, bucket: Bucket) throws -> AccessControlList? {
        let owner = Self.canonicalUserID(r.caller.accountID)
        guard let acl = try AccessControlList.fromHeaders(r, owner: owner, bucketOwner: Self.canonicalUserID(bucket.account)) else {
            return nil
        }
        try Self.checkACLsAllowed(acl, owner: owner, bucket: bucket)
        return acl
    }

    /// The ACL a Put…Acl request sets: from its headers or its AccessControlPolicy body, never both.
    private func aclToSet(_ r: AWSRequest, owner: String, bucket: Bucket) async throws -> AccessControlList {
        let fromHeaders = try AccessControlList.fromHeaders(r, owner: owner, bucketOwner: Self.canonicalUserID(bucket.account))
        let body = Array(try await r.collectBody(limit: 1 << 20).readableBytesView)
        let acl: AccessControlList
        switch (fromHeaders, body.isEmpty) {
        case (.some, false): throw AWSError("UnexpectedContent", "This request does not support content")
        case (.some(let a), true): acl = a
        case (nil, false): acl = try AccessControlList.parse(policy: body)
        case (nil, true):
            throw AWSError("MissingSecurityHeader", "Your request was missing a required header").with("MissingHeaderName", "x-amz-acl")
        }
        try Self.checkACLsAllowed(acl, owner: owner, bucket: bucket)
        return acl
    }

    func getBucketAcl(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        let acl = store.configuration(b.name, .acl).map(AccessControlList.decode) ?? .ownerOnly(Self.canonicalUserID(b.account))
        var xml = XMLWriter()
        acl.write(&xml, ownerAccount: b.account)
        return AWSResponse(xml: xml)
    }

    func putBucketAcl(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        let owner = Self.canonicalUserID(b.account)
        let acl = try await aclToSet(ctx.request, owner: owner, bucket: b)
        try store.setConfiguration(b.name, .acl, acl.isOwnerFullControl(owner) ? nil : acl.encoded)
        return AWSResponse()
    }

    func getObjectAcl(_ ctx: ObjectContext) async throws -> AWSResponse {
        let bucket = try await ownedBucket(ctx.bucket, ctx.request)
        let o = try await readableObject(ctx, bucket: bucket)
        let acl = o.header(ObjectHeaders.acl).map(AccessControlList.decode) ?? .ownerOnly(Self.canonicalUserID(o.owner))
        var xml = XMLWriter()
        acl.write(&xml, ownerAccount: o.owner)
        var h = HTTPFields()
        if bucket.versioning != nil { h.set("x-amz-version-id", o.versionID) }
        return AWSResponse(headers: h, xml: xml)
    }

    func putObjectAcl(_ ctx: ObjectContext) async throws -> AWSResponse {
        let bucket = try await ownedBucket(ctx.bucket, ctx.request)
        let o = try await readableObject(ctx, bucket: bucket)
        let acl = try await aclToSet(ctx.request, owner: Self.canonicalUserID(o.owner), bucket: bucket)
        let headers = ObjectHeaders.with(acl, owner: Self.canonicalUserID(o.owner), o.headers)
        try store.db.writeNow { db in
            try db.execute(sql: "UPDATE object SET headers = ? WHERE id = ?", arguments: [HeaderPairs.encode(headers), o.id])
            if db.changesCount == 0 { throw S3Error.noSuchKey(ctx.key) }
        }
        var h = HTTPFields()
        if bucket.versioning != nil { h.set("x-amz-version-id", o.versionID) }
        return AWSResponse(headers: h)
    }
}

extension ObjectHeaders {
    /// The stored pair that holds an object's ACL (`AccessControlList.encoded`); absent for the default ACL.
    /// Never played back as a header.
    static let acl = "acl"

    /// `headers` with their ACL replaced by `acl` (nil or owner-only: the default, not stored).
    static func with(_ acl: AccessControlList?, owner: String, _ headers: [(String, String)]) -> [(String, String)] {
        var out = headers.filter { $0.0 != Self.acl }
        if let acl, !acl.isOwnerFullControl(owner) { out.append((Self.acl, acl.encoded)) }
        return out
    }
}
