import Core
import Foundation
import GRDB
import HTTPTypes

extension S3Service {
    /// The canonical user id S3 shows as Owner: stable per account.
    /// Canonical user ids by account (a SHA-256 per object write otherwise).
    static let canonicalUserIDs = DecodedCache<String>()

    static func canonicalUserID(_ account: String) -> String {
        canonicalUserIDs.value(for: account) { Hex.encode(SHA256.hash(Array("cloudless-owner-\($0)".utf8))) }
    }

    static func writeOwner(_ xml: inout XMLWriter, account: String, element: String = "Owner") {
        xml.open(element)
        // ID alone: AWS stopped returning DisplayName in Owner elements in 2025.
        xml.element("ID", canonicalUserID(account))
        xml.close()
    }

    static func bucketARN(_ name: String) -> String { "arn:aws:s3:::" + name }

    /// The bucket, when it belongs to the caller's account (another account's bucket is AccessDenied, as in AWS).
    func ownedBucket(_ name: String, _ request: AWSRequest) async throws -> Bucket {
        let b = try await requireBucket(name)
        guard b.account == request.caller.accountID else { throw AWSError.accessDenied() }
        return b
    }

    func createBucket(_ ctx: BucketContext) async throws -> AWSResponse {
        let r = ctx.request
        guard BucketName.isValid(ctx.bucket) else { throw S3Error.invalidBucketName(ctx.bucket) }
        var region = r.caller.region
        let body = try await r.collectBody(limit: 64 * 1024)
        if body.readableBytes > 0 {
            let bytes = Array(body.readableBytesView)
            guard let doc = XMLElement.parse(bytes), doc.name == "CreateBucketConfiguration" else {
                throw S3Error.malformedXML()
            }
            if let lc = doc.value("LocationConstraint") {
                if lc == "us-east-1" || !Region.isValid(lc) {
                    throw AWSError("InvalidLocationConstraint", "The specified location-constraint is not valid").with("LocationConstraint", lc)
                }
                // The us-east-1 (global) endpoint creates buckets in any region; a regional one only in its own.
                if r.caller.region != "us-east-1" && lc != r.caller.region {
                    throw AWSError("IllegalLocationConstraintException",
                                   "The \(lc) location constraint is incompatible for the region specific endpoint this request was sent to.")
                }
                region = lc
            }
        } else if region != "us-east-1" {
            throw AWSError("IllegalLocationConstraintException",
                           "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
        }
        let objectLock = r.header("x-amz-bucket-object-lock-enabled")?.lowercased() == "true"
        let finalRegion = region
        var bucket = Bucket(name: ctx.bucket, account: r.caller.accountID, region: region, created: wallSeconds(),
                            versioning: objectLock ? "Enabled" : nil, objectLock: objectLock)
        bucket.configuration = try initialConfiguration(r)
        let documents = bucket.configuration
        try store.db.writeNow { db in
            if let existing = try Row.fetchOne(db, sql: "SELECT account, region FROM bucket WHERE name = ?", arguments: [bucket.name]) {
                if (existing["account"] as String) != bucket.account {
                    throw AWSError("BucketAlreadyExists",
                                   "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
                                   status: .conflict).with("BucketName", bucket.name)
                }
                // us-east-1 answers 200 to re-creating your own bucket there (legacy behaviour); elsewhere 409.
                if (existing["region"] as String) == "us-east-1" && finalRegion == "us-east-1" { return }
                throw AWSError("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.",
                               status: .conflict).with("BucketName", bucket.name)
            }
            try db.execute(
                sql: "INSERT INTO bucket (name, account, region, created, versioning, object_lock) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [bucket.name, bucket.account, bucket.region, bucket.created, bucket.versioning, bucket.objectLock])
            for (name, document) in documents {
                try db.execute(sql: "INSERT INTO bucket_config (bucket, name, document) VALUES (?, ?, ?)",
                               arguments: [bucket.name, name, document])
            }
        }
        if store.cached(bucket.name) == nil { store.cache(bucket) }
        var headers = HTTPFields()
        headers.set("Location", "/" + ctx.bucket)
        headers.set("x-amz-bucket-arn", Self.bucketARN(ctx.bucket))
        return AWSResponse(headers: headers)
    }

    func headBucket(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        var headers = HTTPFields()
        headers.set("x-amz-bucket-region", b.region)
        headers.set("x-amz-access-point-alias", "false")
        return AWSResponse(headers: headers)
    }

    func deleteBucket(_ ctx: BucketContext) async throws -> AWSResponse {
        let bucket = try await ownedBucket(ctx.bucket, ctx.request)
        let freed = try store.db.writeNow { db -> [String] in
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM object WHERE bucket = ?)", arguments: [ctx.bucket]) == true {
                let message = bucket.versioning == nil ? "The bucket you tried to delete is not empty"
                    : "The bucket you tried to delete is not empty. You must delete all versions in the bucket."
                throw AWSError("BucketNotEmpty", message, status: .conflict).with("BucketName", ctx.bucket)
            }
            let blobs = try String.fetchAll(
                db, sql: "SELECT blob FROM part WHERE upload_id IN (SELECT upload_id FROM upload WHERE bucket = ?)", arguments: [ctx.bucket])
            try db.execute(sql: "DELETE FROM part WHERE upload_id IN (SELECT upload_id FROM upload WHERE bucket = ?)", arguments: [ctx.bucket])
            try db.execute(sql: "DELETE FROM upload WHERE bucket = ?", arguments: [ctx.bucket])
            try db.execute(sql: "DELETE FROM bucket_config WHERE bucket = ?", arguments: [ctx.bucket])
            try db.execute(sql: "DELETE FROM bucket WHERE name = ?", arguments: [ctx.bucket])
            return blobs
        }
        store.uncache(ctx.bucket)
        store.blobs.remove(freed)
        return AWSResponse(status: .noContent)
    }

    func listBuckets(_ r: AWSRequest) async throws -> AWSResponse {
        let prefix = r.queryValue("prefix") ?? ""
        let regionFilter = r.queryValue("bucket-region")
        if let regionFilter, !Region.known.contains(regionFilter) {
            throw S3Error.invalidArgument("Argument value \(regionFilter) is not a valid AWS Region", name: "bucket-region", value: regionFilter)
        }
        var limit = 10000
        if let m = r.queryValue("max-buckets") {
            guard let v = Int(m), v >= 1, v <= 10000 else {
                throw S3Error.invalidArgument("Argument max-buckets must be an integer between 1 and 10000", name: "max-buckets", value: m)
            }
            limit = v
        }
        let pageSize = limit
        let after = r.queryValue("continuation-token").flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
        let rows = try store.db.readNow { db in
            var sql = "SELECT * FROM bucket WHERE account = ? AND name > ?"
            var args: StatementArguments = [r.caller.accountID, after]
            if !prefix.isEmpty {
                sql += " AND substr(name, 1, ?) = ?"
                _ = args.append(contentsOf: [prefix.count, prefix])
            }
            if let regionFilter {
                sql += " AND region = ?"
                _ = args.append(contentsOf: [regionFilter])
            }
            sql += " ORDER BY name LIMIT ?"
            _ = args.append(contentsOf: [pageSize + 1])
            return try Row.fetchAll(db, sql: sql, arguments: args).map(S3Store.bucket)
        }
        let page = rows.prefix(limit)
        var xml = XMLWriter()
        xml.open("ListAllMyBucketsResult", xmlns: Self.xmlns)
        Self.writeOwner(&xml, account: r.caller.accountID)
        xml.open("Buckets")
        for b in page {
            xml.open("Bucket")
            xml.element("Name", b.name)
            xml.element("CreationDate", AWSDate.iso8601(b.created))
            xml.element("BucketRegion", b.region)
            xml.element("BucketArn", Self.bucketARN(b.name))
            xml.close()
        }
        xml.close()
        if rows.count > limit, let last = page.last {
            xml.element("ContinuationToken", Data(last.name.utf8).base64EncodedString())
        }
        if !prefix.isEmpty { xml.element("Prefix", prefix) }
        xml.close()
        return AWSResponse(xml: xml)
    }

    func getBucketLocation(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        var xml = XMLWriter()
        // us-east-1 is the empty constraint, for historical reasons.
        xml.element("LocationConstraint", b.region == "us-east-1" ? "" : b.region, xmlns: Self.xmlns)
        return AWSResponse(xml: xml)
    }

    func getBucketVersioning(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        var xml = XMLWriter()
        xml.open("VersioningConfiguration", xmlns: Self.xmlns)
        xml.element("Status", b.versioning)
        xml.close()
        return AWSResponse(xml: xml)
    }
}
