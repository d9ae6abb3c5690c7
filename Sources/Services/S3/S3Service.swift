import Core
import Foundation
import HTTPTypes
import Logging

/// Amazon S3 (REST-XML). Routes each request to its operation by method, bucket, key and sub-resource.
public struct S3Service: AWSService {
    public let signingName = "s3"
    public let wireProtocol = WireProtocol.restXML
    let store: S3Store
    let clock: EmulatorClock
    let logger: Logger
    /// Secret of an access key, set only with --strict-auth: form uploads (PostObject) carry their signature
    /// inside the body, where the gateway cannot check it.
    let postSecrets: (@Sendable (String) -> String?)?
    /// SQS, as the destination of event notifications (nil when the emulator serves no SQS).
    let queueEvents: (any QueueEventSink)?
    /// Lambda, as the destination of event notifications (nil when the emulator serves no Lambda).
    let functionEvents: (any FunctionEventSink)?
    /// Event notifications not yet delivered (`NotificationOutbox.swift`).
    let outbox: EventOutbox

    static let xmlns = "http://s3.amazonaws.com/doc/2006-03-01/"

    public init(directory: String, clock: EmulatorClock, logger: Logger, postSecrets: (@Sendable (String) -> String?)? = nil,
                queueEvents: (any QueueEventSink)? = nil, functionEvents: (any FunctionEventSink)? = nil) throws {
        store = try S3Store(directory: directory)
        self.clock = clock
        self.logger = logger
        self.postSecrets = postSecrets
        self.queueEvents = queueEvents
        self.functionEvents = functionEvents
        outbox = Self.notificationOutbox(store, clock: clock, logger: logger, queueEvents: queueEvents, functionEvents: functionEvents)
    }

    /// Remove crash leftovers; call once at start (in the background: it scans the blob folder).
    /// Blob files written after `startedAt` are never swept (uploads run while the sweep does).
    public func sweepOrphans(startedAt: Double) throws -> Int { try store.sweepOrphans(olderThan: startedAt) }

    public func reset() async throws { try await store.reset() }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        if let site = WebsiteAddress.parse(hostName: request.hostName, rawPath: request.rawPath) {
            return try await serveWebsite(request, site)
        }
        let address = try S3Address.parse(hostName: request.hostName, rawPath: request.rawPath)
        try store.loadBucketsIfNeeded()  // the first request opens s3.sqlite; a failure answers 500 saying why
        if request.method == .options { return try await preflight(request, bucket: address.bucket, isObject: address.key != nil) }
        guard let origin = request.header("origin"), let bucket = address.bucket.flatMap(store.bucket) else {
            return try await route(request, address)
        }
        // A cross-origin request: the bucket's matching CORS rule (if any) answers with Access-Control-* headers, errors too.
        let cors = corsHeaders(bucket, origin: origin, method: request.method.rawValue)
        do {
            var response = try await route(request, address)
            for (k, v) in cors { response.headers.set(k, v) }
            return response
        } catch var e as AWSError {
            e.headers += cors
            throw e
        }
    }

    public func acceptsUnsigned(method: HTTPRequest.Method, hostName: String, rawPath: String) -> Bool {
        method == .options || WebsiteAddress.parse(hostName: hostName, rawPath: rawPath) != nil
    }

    func route(_ request: AWSRequest, _ address: S3Address) async throws -> AWSResponse {
        let op = Self.operation(request, address)
        try checkExpectedBucketOwner(request, bucket: address.bucket)
        guard let bucket = address.bucket else {
            if op == "ListBuckets" { return try await listBuckets(request) }
            throw S3Error.methodNotAllowed(request.method.rawValue, resource: "SERVICE")
        }
        if let key = address.key {
            if key.utf8.count > 1024 { throw S3Error.keyTooLong(key.utf8.count) }
            let ctx = ObjectContext(request: request, bucket: bucket, key: key)
            switch op {
            case "PutObject": return try await putObject(ctx)
            case "CopyObject": return try await copyObject(ctx)
            case "GetObject": return try await getObject(ctx, head: false)
            case "HeadObject": return try await getObject(ctx, head: true)
            case "DeleteObject": return try await deleteObject(ctx)
            case "GetObjectTagging": return try await getObjectTagging(ctx)
            case "PutObjectTagging": return try await putObjectTagging(ctx)
            case "DeleteObjectTagging": return try await deleteObjectTagging(ctx)
            case "GetObjectAttributes": return try await getObjectAttributes(ctx)
            case "PutObjectRetention": return try await putObjectRetention(ctx)
            case "GetObjectRetention": return try await getObjectRetention(ctx)
            case "PutObjectLegalHold": return try await putObjectLegalHold(ctx)
            case "GetObjectLegalHold": return try await getObjectLegalHold(ctx)
            case "CreateMultipartUpload": return try await createMultipartUpload(ctx)
            case "UploadPart": return try await uploadPart(ctx)
            case "UploadPartCopy": return try await uploadPartCopy(ctx)
            case "CompleteMultipartUpload": return try await completeMultipartUpload(ctx)
            case "AbortMultipartUpload": return try await abortMultipartUpload(ctx)
            case "ListParts": return try await listParts(ctx)
            case "GetObjectAcl": return try await getObjectAcl(ctx)
            case "PutObjectAcl": return try await putObjectAcl(ctx)
            default: throw Self.unserved(op, request, resource: "OBJECT")
            }
        }
        let ctx = BucketContext(request: request, bucket: bucket)
        switch op {
        case "CreateBucket": return try await createBucket(ctx)
        case "HeadBucket": return try await headBucket(ctx)
        case "DeleteBucket": return try await deleteBucket(ctx)
        case "GetBucketLocation": return try await getBucketLocation(ctx)
        case "GetBucketVersioning": return try await getBucketVersioning(ctx)
        case "PutBucketVersioning": return try await putBucketVersioning(ctx)
        case "ListObjectVersions": return try await listObjectVersions(ctx)
        case "PutBucketLifecycleConfiguration": return try await putBucketLifecycleConfiguration(ctx)
        case "GetBucketLifecycleConfiguration": return try await getBucketLifecycleConfiguration(ctx)
        case "DeleteBucketLifecycle": return try await deleteBucketLifecycle(ctx)
        case "PutObjectLockConfiguration": return try await putObjectLockConfiguration(ctx)
        case "GetObjectLockConfiguration": return try await getObjectLockConfiguration(ctx)
        case "PutBucketNotificationConfiguration": return try await putBucketNotificationConfiguration(ctx)
        case "GetBucketNotificationConfiguration": return try await getBucketNotificationConfiguration(ctx)
        case "ListObjects": return try await listObjects(ctx, v2: false)
        case "ListObjectsV2": return try await listObjects(ctx, v2: true)
        case "ListMultipartUploads": return try await listMultipartUploads(ctx)
        case "DeleteObjects": return try await deleteObjects(ctx)
        case "PostObject": return try await postObject(ctx)
        default:
            if let response = try await bucketSubresource(op, ctx) { return response }
            throw Self.unserved(op, request, resource: "BUCKET")
        }
    }

    public func operationName(for request: AWSRequest) -> String {
        guard let address = try? S3Address.parse(hostName: request.hostName, rawPath: request.rawPath) else { return "-" }
        return Self.operation(request, address)
    }

    /// The S3 operation a request names (the botocore operation name).
    static func operation(_ r: AWSRequest, _ a: S3Address) -> String {
        let m = r.method
        guard a.bucket != nil else { return m == .get ? "ListBuckets" : "Unknown" }
        if let op = unservedOperation(r, object: a.key != nil) { return op }
        if a.key != nil {
            switch m {
            case .put:
                if r.hasQuery("uploadId") { return r.headers.value("x-amz-copy-source") != nil ? "UploadPartCopy" : "UploadPart" }
                if r.hasQuery("tagging") { return "PutObjectTagging" }
                if r.hasQuery("acl") { return "PutObjectAcl" }
                if r.hasQuery("retention") { return "PutObjectRetention" }
                if r.hasQuery("legal-hold") { return "PutObjectLegalHold" }
                if r.headers.value("x-amz-copy-source") != nil { return "CopyObject" }
                return "PutObject"
            case .get:
                if r.hasQuery("uploadId") { return "ListParts" }
                if r.hasQuery("tagging") { return "GetObjectTagging" }
                if r.hasQuery("attributes") { return "GetObjectAttributes" }
                if r.hasQuery("acl") { return "GetObjectAcl" }
                if r.hasQuery("retention") { return "GetObjectRetention" }
                if r.hasQuery("legal-hold") { return "GetObjectLegalHold" }
                return "GetObject"
            case .head: return "HeadObject"
            case .delete:
                if r.hasQuery("uploadId") { return "AbortMultipartUpload" }
                if r.hasQuery("tagging") { return "DeleteObjectTagging" }
                return "DeleteObject"
            case .post:
                if r.hasQuery("uploads") { return "CreateMultipartUpload" }
                if r.hasQuery("uploadId") { return "CompleteMultipartUpload" }
                return "Unknown"
            default: return "Unknown"
            }
        }
        if let op = subresourceOperation(r) { return op }
        switch m {
        case .put:
            if r.hasQuery("notification") { return "PutBucketNotificationConfiguration" }
            if namesSubresource(r) { return "Unknown" }
            return "CreateBucket"
        case .get:
            if r.hasQuery("location") { return "GetBucketLocation" }
            if r.hasQuery("notification") { return "GetBucketNotificationConfiguration" }
            if r.hasQuery("uploads") { return "ListMultipartUploads" }
            if r.hasQuery("versions") { return "ListObjectVersions" }
            if r.queryValue("list-type") == "2" { return "ListObjectsV2" }
            return "ListObjects"
        case .head: return "HeadBucket"
        case .delete: return namesSubresource(r) ? "Unknown" : "DeleteBucket"
        case .post:
            if r.hasQuery("delete") { return "DeleteObjects" }
            return "PostObject"
        default: return "Unknown"
        }
    }

    /// The emulator's clock in whole seconds: S3 keeps Last-Modified to the second (listings show `.000Z`).
    /// Rounded up, so a file written and uploaded within one second never looks newer than its upload
    /// (`aws s3 sync` compares local mtimes with Last-Modified).
    func wallSeconds() -> Double { clock.now().rounded(.up) }

    /// The bucket, or NoSuchBucket.
    func requireBucket(_ name: String) async throws -> Bucket {
        guard let b = store.bucket(name) else { throw S3Error.noSuchBucket(name) }
        return b
    }
}

struct BucketContext {
    var request: AWSRequest
    var bucket: String
}

struct ObjectContext {
    var request: AWSRequest
    var bucket: String
    var key: String
}
