import Core
import Foundation
import HTTPTypes

/// Bucket settings that are stored and read back, not acted on: ownership controls, public access block,
/// default encryption, logging, request payment, transfer acceleration and replication.
extension S3Service {
    static let objectOwnerships: Set = ["BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced"]

    /// The sub-resources a new bucket starts with: since April 2023 S3 gives every bucket ObjectOwnership
    /// BucketOwnerEnforced (or what `x-amz-object-ownership` says) and a public access block that blocks all;
    /// an ACL only when the request sets one.
    func initialConfiguration(_ r: AWSRequest) throws -> [String: String] {
        let ownership = r.header("x-amz-object-ownership") ?? "BucketOwnerEnforced"
        guard Self.objectOwnerships.contains(ownership) else {
            throw S3Error.invalidArgument("Invalid x-amz-object-ownership header: \(ownership)", name: "x-amz-object-ownership")
        }
        var out = [
            BucketConfiguration.ownershipControls.rawValue: ownership,
            BucketConfiguration.publicAccessBlock.rawValue: Self.publicAccessBlock(all: true),
        ]
        let owner = Self.canonicalUserID(r.caller.accountID)
        if let acl = try AccessControlList.fromHeaders(r, owner: owner, bucketOwner: owner), !acl.isOwnerFullControl(owner) {
            if ownership == "BucketOwnerEnforced" {
                throw AWSError("InvalidBucketAclWithObjectOwnership", "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")
            }
            out[BucketConfiguration.acl.rawValue] = acl.encoded
        }
        return out
    }

    // MARK: Ownership controls

    func getBucketOwnershipControls(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        guard let ownership = Self.objectOwnership(b) else {
            throw AWSError("OwnershipControlsNotFoundError", "The bucket ownership controls were not found", status: .notFound)
                .with("BucketName", b.name)
        }
        var xml = XMLWriter()
        xml.group("OwnershipControls", xmlns: Self.xmlns) { $0.group("Rule") { $0.element("ObjectOwnership", ownership) } }
        return AWSResponse(xml: xml)
    }

    func putBucketOwnershipControls(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        let doc = try await configurationDocument(ctx.request, root: "OwnershipControls")
        let rules = doc.children("Rule")
        guard rules.count == 1, let ownership = rules[0].value("ObjectOwnership"), Self.objectOwnerships.contains(ownership) else {
            throw S3Error.malformedXML()
        }
        try store.setConfiguration(b.name, .ownershipControls, ownership)
        return AWSResponse()
    }

    // MARK: Public access block

    static let publicAccessFlags = ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"]

    static func publicAccessBlock(all value: Bool) -> String {
        document("PublicAccessBlockConfiguration") { xml in for f in publicAccessFlags { xml.element(f, value) } }
    }

    func getPublicAccessBlock(_ ctx: BucketContext) async throws -> AWSResponse {
        try await storedConfiguration(ctx, .publicAccessBlock, notFound: "NoSuchPublicAccessBlockConfiguration",
                                      "The public access block configuration was not found")
    }

    func putPublicAccessBlock(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        let doc = try await configurationDocument(ctx.request, root: "PublicAccessBlockConfiguration")
        var flags: [String: Bool] = [:]
        for f in Self.publicAccessFlags {
            switch doc.value(f)?.trimmingCharacters(in: .whitespaces) {
            case nil: flags[f] = false
            case "true": flags[f] = true
            case "false": flags[f] = false
            default: throw S3Error.malformedXML()
            }
        }
        try store.setConfiguration(b.name, .publicAccessBlock, Self.document("PublicAccessBlockConfiguration") { xml in
            for f in Self.publicAccessFlags { xml.element(f, flags[f] ?? false) }
        })
        return AWSResponse()
    }

    // MARK: Default encryption

    static let sseAlgorithms: Set = ["AES256", "aws:kms", "aws:kms:dsse"]

    /// No bucket is without default encryption since January 2023: unset means SSE-S3.
    func getBucketEncryption(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        return Self.storedDocument(store.configuration(b.name, .encryption) ?? Self.encryption(algorithm: "AES256", keyID: nil, bucketKey: false))
    }

    func putBucketEncryption(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        let doc = try await configurationDocument(ctx.request, root: "ServerSideEncryptionConfiguration")
        let rule = try Self.encryptionRule(doc)
        try store.setConfiguration(b.name, .encryption, Self.encryption(algorithm: rule.algorithm, keyID: rule.keyID, bucketKey: rule.bucketKey))
        return AWSResponse()
    }

    /// The one rule of a PutBucketEncryption body, checked as S3 checks it.
    static func encryptionRule(_ doc: XMLElement) throws -> (algorithm: String, keyID: String?, bucketKey: Bool) {
        let rules = doc.children("Rule")
        guard rules.count == 1, let byDefault = rules[0].child("ApplyServerSideEncryptionByDefault"),
              let algorithm = byDefault.value("SSEAlgorithm"), sseAlgorithms.contains(algorithm) else {
            throw S3Error.malformedXML()
        }
        let keyID = byDefault.value("KMSMasterKeyID")
        if keyID != nil && algorithm == "AES256" {
            throw S3Error.invalidArgument("a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
                                          name: "ApplyServerSideEncryptionByDefault")
        }
        switch rules[0].value("BucketKeyEnabled") {
        case nil, "false": return (algorithm, keyID, false)
        case "true": return (algorithm, keyID, true)
        default: throw S3Error.malformedXML()
        }
    }

    static let encryptionHeaders = ["x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
                                    "x-amz-server-side-encryption-bucket-key-enabled"]

    /// A new object's headers with the bucket's default encryption, when its request names no encryption of its own
    /// (SSE-S3, the default of every bucket, needs no header: answers show AES256 for objects without one).
    /// SSE-KMS named without a key uses the account's AWS managed key (aws/s3), whose ARN answers then carry.
    func withDefaultEncryption(_ headers: [(String, String)], bucket: String) -> [(String, String)] {
        var out = withBucketDefaultEncryption(headers, bucket: bucket)
        if let sse = out.first(where: { $0.0 == "x-amz-server-side-encryption" })?.1, sse.hasPrefix("aws:kms"),
           !out.contains(where: { $0.0 == "x-amz-server-side-encryption-aws-kms-key-id" }), let b = store.bucket(bucket) {
            out.append(("x-amz-server-side-encryption-aws-kms-key-id", Self.managedKeyARN(account: b.account, region: b.region)))
        }
        return out
    }

    /// The ARN of the aws/s3 managed key of an account in a region: a key id in KMS's UUID form, stable for both.
    static func managedKeyARN(account: String, region: String) -> String {
        let h = Hex.encode(SHA256.hash(Array("cloudless-aws/s3-\(account)-\(region)".utf8)))
        let id = [h.prefix(8), h.dropFirst(8).prefix(4), h.dropFirst(12).prefix(4), h.dropFirst(16).prefix(4), h.dropFirst(20).prefix(12)]
            .joined(separator: "-")
        return "arn:aws:kms:\(region):\(account):key/\(id)"
    }

    private func withBucketDefaultEncryption(_ headers: [(String, String)], bucket: String) -> [(String, String)] {
        guard !headers.contains(where: { $0.0 == "x-amz-server-side-encryption" }),
              let doc = store.configuration(bucket, .encryption).flatMap({ XMLElement.parse(Array($0.utf8)) }),
              let rule = doc.children("Rule").first, let byDefault = rule.child("ApplyServerSideEncryptionByDefault"),
              let algorithm = byDefault.value("SSEAlgorithm"), algorithm != "AES256" else { return headers }
        var out = headers + [("x-amz-server-side-encryption", algorithm)]
        if let key = byDefault.value("KMSMasterKeyID") { out.append(("x-amz-server-side-encryption-aws-kms-key-id", key)) }
        if rule.value("BucketKeyEnabled") == "true" { out.append(("x-amz-server-side-encryption-bucket-key-enabled", "true")) }
        return out
    }

    /// The encryption headers of a write's answer, from the stored headers of what it wrote (AES256 when none).
    static func setEncryption(_ h: inout HTTPFields, from headers: [(String, String)]) {
        let stored = encryptionHeaders.compactMap { name in headers.first { $0.0 == name } }
        for (name, value) in stored { h.set(name, value) }
        if stored.isEmpty { h.set("x-amz-server-side-encryption", "AES256") }
    }

    static func encryption(algorithm: String, keyID: String?, bucketKey: Bool) -> String {
        document("ServerSideEncryptionConfiguration") { xml in
            xml.group("Rule") { xml in
                xml.group("ApplyServerSideEncryptionByDefault") { xml in
                    xml.element("SSEAlgorithm", algorithm)
                    xml.element("KMSMasterKeyID", keyID)
                }
                xml.element("BucketKeyEnabled", bucketKey)
            }
        }
    }

    // MARK: Logging

    /// Without logging: an empty BucketLoggingStatus.
    func getBucketLogging(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        return Self.storedDocument(store.configuration(b.name, .logging) ?? Self.document("BucketLoggingStatus") { _ in })
    }

    /// An empty BucketLoggingStatus turns logging off; a target must exist in the source bucket's region.
    func putBucketLogging(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        let doc = try await configurationDocument(ctx.request, root: "BucketLoggingStatus")
        guard let enabled = doc.child("LoggingEnabled") else {
            try store.setConfiguration(b.name, .logging, nil)
            return AWSResponse()
        }
        guard let target = enabled.value("TargetBucket"), enabled.value("TargetPrefix") != nil else { throw S3Error.malformedXML() }
        guard let t = store.bucket(target) else {
            throw AWSError("InvalidTargetBucketForLogging", "The target bucket for logging does not exist").with("TargetBucket", target)
        }
        if t.region != b.region {
            var e = AWSError("CrossLocationLoggingProhibitted", "Cross S3 location logging not allowed. ", status: .forbidden)
            if b.region != "us-east-1" { e = e.with("SourceBucketLocation", b.region) }
            throw e.with("TargetBucketLocation", t.region)
        }
        try store.setConfiguration(b.name, .logging, Self.canonical(doc))
        return AWSResponse()
    }

    // MARK: Request payment

    func getBucketRequestPayment(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        let payer = store.configuration(b.name, .requestPayment) ?? "BucketOwner"
        var xml = XMLWriter()
        xml.group("RequestPaymentConfiguration", xmlns: Self.xmlns) { $0.element("Payer", payer) }
        return AWSResponse(xml: xml)
    }

    func putBucketRequestPayment(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        let doc = try await configurationDocument(ctx.request, root: "RequestPaymentConfiguration")
        guard let payer = doc.value("Payer"), payer == "Requester" || payer == "BucketOwner" else { throw S3Error.malformedXML() }
        try store.setConfiguration(b.name, .requestPayment, payer == "BucketOwner" ? nil : payer)
        return AWSResponse()
    }

    // MARK: Transfer acceleration

    /// Never set: an AccelerateConfiguration without Status.
    func getBucketAccelerateConfiguration(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        var xml = XMLWriter()
        xml.group("AccelerateConfiguration", xmlns: Self.xmlns) { $0.element("Status", store.configuration(b.name, .accelerate)) }
        return AWSResponse(xml: xml)
    }

    /// Buckets whose name has a dot cannot be accelerated (the endpoint's TLS certificate would not match).
    func putBucketAccelerateConfiguration(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        let doc = try await configurationDocument(ctx.request, root: "AccelerateConfiguration")
        guard let status = doc.value("Status"), status == "Enabled" || status == "Suspended" else { throw S3Error.malformedXML() }
        if b.name.contains(".") {
            throw S3Error.invalidRequest("S3 Transfer Acceleration is not supported for buckets with periods (.) in their names")
        }
        try store.setConfiguration(b.name, .accelerate, status)
        return AWSResponse()
    }

    // MARK: Replication

    func getBucketReplication(_ ctx: BucketContext) async throws -> AWSResponse {
        try await storedConfiguration(ctx, .replication, notFound: "ReplicationConfigurationNotFoundError",
                                      "The replication configuration was not found")
    }

    /// Both buckets must have versioning enabled; the rules are stored as sent.
    func putBucketReplication(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        let doc = try await configurationDocument(ctx.request, root: "ReplicationConfiguration")
        let rules = doc.children("Rule")
        guard doc.value("Role") != nil, !rules.isEmpty else { throw S3Error.malformedXML() }
        if b.versioning != "Enabled" {
            throw S3Error.invalidRequest("Versioning must be 'Enabled' on the bucket to apply a replication configuration")
        }
        for rule in rules {
            guard let status = rule.value("Status"), status == "Enabled" || status == "Disabled",
                  let arn = rule.child("Destination")?.value("Bucket") else { throw S3Error.malformedXML() }
            let destination = arn.hasPrefix("arn:aws:s3:::") ? String(arn.dropFirst("arn:aws:s3:::".count)) : arn
            if store.bucket(destination)?.versioning != "Enabled" {
                throw S3Error.invalidRequest("Destination bucket must have versioning enabled.")
            }
        }
        try store.setConfiguration(b.name, .replication, Self.canonical(doc))
        return AWSResponse()
    }

    /// A received document as it is stored and answered: its elements and text in order, in S3's namespace.
    static func canonical(_ root: XMLElement) -> String {
        func write(_ e: XMLElement, _ xml: inout XMLWriter) {
            if e.children.isEmpty {
                xml.element(e.name, e.text)
            } else {
                xml.group(e.name) { xml in for c in e.children { write(c, &xml) } }
            }
        }
        return document(root.name) { xml in for c in root.children { write(c, &xml) } }
    }
}
