import Core
import HTTPTypes

extension S3Service {
    /// Bucket sub-resources by query name, with the operations PUT, GET and DELETE name on them.
    static let subresources: [(query: String, put: String?, get: String?, delete: String?)] = [
        ("acl", "PutBucketAcl", "GetBucketAcl", nil),
        ("tagging", "PutBucketTagging", "GetBucketTagging", "DeleteBucketTagging"),
        ("policyStatus", nil, "GetBucketPolicyStatus", nil),
        ("policy", "PutBucketPolicy", "GetBucketPolicy", "DeleteBucketPolicy"),
        ("cors", "PutBucketCors", "GetBucketCors", "DeleteBucketCors"),
        ("encryption", "PutBucketEncryption", "GetBucketEncryption", "DeleteBucketEncryption"),
        ("website", "PutBucketWebsite", "GetBucketWebsite", "DeleteBucketWebsite"),
        ("logging", "PutBucketLogging", "GetBucketLogging", nil),
        ("ownershipControls", "PutBucketOwnershipControls", "GetBucketOwnershipControls", "DeleteBucketOwnershipControls"),
        ("publicAccessBlock", "PutPublicAccessBlock", "GetPublicAccessBlock", "DeletePublicAccessBlock"),
        ("requestPayment", "PutBucketRequestPayment", "GetBucketRequestPayment", nil),
        ("accelerate", "PutBucketAccelerateConfiguration", "GetBucketAccelerateConfiguration", nil),
        ("replication", "PutBucketReplication", "GetBucketReplication", "DeleteBucketReplication"),
        ("versioning", "PutBucketVersioning", "GetBucketVersioning", nil),
        ("lifecycle", "PutBucketLifecycleConfiguration", "GetBucketLifecycleConfiguration", "DeleteBucketLifecycle"),
        ("object-lock", "PutObjectLockConfiguration", "GetObjectLockConfiguration", nil),
    ]

    /// The operation a bucket sub-resource request names ("Unknown" for a method the sub-resource has not), or nil
    /// when it names none of those above.
    static func subresourceOperation(_ r: AWSRequest) -> String? {
        for s in subresources where r.hasQuery(s.query) {
            switch r.method {
            case .put: return s.put ?? "Unknown"
            case .get: return s.get ?? "Unknown"
            case .delete: return s.delete ?? "Unknown"
            default: return "Unknown"
            }
        }
        if let list = configurationKinds.first(where: { r.hasQuery($0.query) }) {
            switch r.method {
            case .get: return r.hasQuery("id") ? "GetBucket\(list.name)Configuration" : "ListBucket\(list.name)Configurations"
            case .put: return "PutBucket\(list.name)Configuration"
            case .delete: return "DeleteBucket\(list.name)Configuration"
            default: return "Unknown"
            }
        }
        return nil
    }

    /// Run a sub-resource operation; nil when `op` is not one.
    func bucketSubresource(_ op: String, _ ctx: BucketContext) async throws -> AWSResponse? {
        switch op {
        case "GetBucketAcl": return try await getBucketAcl(ctx)
        case "PutBucketAcl": return try await putBucketAcl(ctx)
        case "GetBucketTagging": return try await getBucketTagging(ctx)
        case "PutBucketTagging": return try await putBucketTagging(ctx)
        case "DeleteBucketTagging": return try await deleteConfiguration(ctx, .tagging)
        case "GetBucketPolicy": return try await getBucketPolicy(ctx)
        case "PutBucketPolicy": return try await putBucketPolicy(ctx)
        case "DeleteBucketPolicy": return try await deleteConfiguration(ctx, .policy)
        case "GetBucketPolicyStatus": return try await getBucketPolicyStatus(ctx)
        case "GetBucketCors": return try await getBucketCors(ctx)
        case "PutBucketCors": return try await putBucketCors(ctx)
        case "DeleteBucketCors": return try await deleteConfiguration(ctx, .cors)
        case "GetBucketEncryption": return try await getBucketEncryption(ctx)
        case "PutBucketEncryption": return try await putBucketEncryption(ctx)
        case "DeleteBucketEncryption": return try await deleteConfiguration(ctx, .encryption)
        case "GetBucketWebsite": return try await getBucketWebsite(ctx)
        case "PutBucketWebsite": return try await putBucketWebsite(ctx)
        case "DeleteBucketWebsite": return try await deleteConfiguration(ctx, .website)
        case "GetBucketLogging": return try await getBucketLogging(ctx)
        case "PutBucketLogging": return try await putBucketLogging(ctx)
        case "GetBucketOwnershipControls": return try await getBucketOwnershipControls(ctx)
        case "PutBucketOwnershipControls": return try await putBucketOwnershipControls(ctx)
        case "DeleteBucketOwnershipControls": return try await deleteConfiguration(ctx, .ownershipControls)
        case "GetPublicAccessBlock": return try await getPublicAccessBlock(ctx)
        case "PutPublicAccessBlock": return try await putPublicAccessBlock(ctx)
        case "DeletePublicAccessBlock": return try await deleteConfiguration(ctx, .publicAccessBlock)
        case "GetBucketRequestPayment": return try await getBucketRequestPayment(ctx)
        case "PutBucketRequestPayment": return try await putBucketRequestPayment(ctx)
        case "GetBucketAccelerateConfiguration": return try await getBucketAccelerateConfiguration(ctx)
        case "PutBucketAccelerateConfiguration": return try await putBucketAccelerateConfiguration(ctx)
        case "GetBucketReplication": return try await getBucketReplication(ctx)
        case "PutBucketReplication": return try await putBucketReplication(ctx)
        case "DeleteBucketReplication": return try await deleteConfiguration(ctx, .replication)
        case "Unknown": throw S3Error.methodNotAllowed(ctx.request.method.rawValue, resource: "BUCKET")
        default: return try await configurationByID(op, ctx)
        }
    }

    /// The body of a configuration Put, parsed (MalformedXML when it is not the `root` document).
    func configurationDocument(_ r: AWSRequest, root: String) async throws -> XMLElement {
        let body = try await r.collectBody(limit: 1 << 20)
        guard let doc = XMLElement.parse(Array(body.readableBytesView)), doc.name == root else { throw S3Error.malformedXML() }
        return doc
    }

    /// A stored XML document as the Get operation answers it.
    /// GET of a sub-resource kept as a document: the document as stored, or S3's "not found" error for it.
    func storedConfiguration(_ ctx: BucketContext, _ name: BucketConfiguration, notFound code: String, _ message: String) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        guard let doc = store.configuration(b.name, name) else {
            throw AWSError(code, message, status: .notFound).with("BucketName", b.name)
        }
        return Self.storedDocument(doc)
    }

    static func storedDocument(_ document: String) -> AWSResponse {
        var headers = HTTPFields()
        headers[.contentType] = "application/xml"
        return AWSResponse(headers: headers, bytes: .init(string: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + document))
    }

    /// Write a normalised configuration document without the XML declaration, as it is stored.
    static func document(_ root: String, _ body: (inout XMLWriter) -> Void) -> String {
        var xml = XMLWriter(declaration: false)
        xml.group(root, xmlns: xmlns, body)
        return String(buffer: xml.buffer)
    }

    /// The Delete operations: remove the document (204 whether or not one was set).
    func deleteConfiguration(_ ctx: BucketContext, _ name: BucketConfiguration) async throws -> AWSResponse {
        _ = try await ownedBucket(ctx.bucket, ctx.request)
        try store.setConfiguration(ctx.bucket, name, nil)
        return AWSResponse(status: .noContent)
    }
}
