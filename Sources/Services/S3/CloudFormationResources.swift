import Core
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `AWS::S3::Bucket` for CloudFormation: CreateBucket, PutPublicAccessBlock and DeleteBucket called in-process with
/// the XML documents they read, versioning and tags through the store functions those operations use.
public struct S3Resources: ResourceProvider {
    let service: S3Service

    public var resourceTypes: [String] { ["AWS::S3::Bucket"] }

    public func createOnlyProperties(of type: String) -> Set<String> {
        type == "AWS::S3::Bucket" ? ["BucketName"] : []
    }

    public func create(_ request: ResourceRequest) async throws -> ResourceState {
        guard request.type == "AWS::S3::Bucket" else { throw Self.unsupported(request.type) }
        let p = request.properties
        let name = try Self.string(p["BucketName"], "BucketName") ?? Self.generatedName(request)
        // Validate everything before the bucket exists.
        let versioning = try Self.versioning(p)
        let tags = try Self.tags(request)
        let publicAccess = try Self.publicAccessBlock(p)
        let encryption = try Self.encryption(p)
        if service.store.bucket(name) != nil {
            throw AWSError("BucketAlreadyExists", "\(name) already exists", status: .conflict).with("BucketName", name)
        }
        let body = request.region == "us-east-1" ? "" : Self.xml("CreateBucketConfiguration") { $0.element("LocationConstraint", request.region) }
        _ = try await service.createBucket(BucketContext(request: internalRequest(request, .put, name, body: body), bucket: name))
        do {
            try await apply(request, name, versioning: versioning, tags: tags, publicAccess: publicAccess, encryption: encryption,
                            creating: true)
        } catch {
            _ = try? await service.deleteBucket(BucketContext(request: internalRequest(request, .delete, name), bucket: name))
            throw error
        }
        return Self.state(request, name)
    }

    public func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        guard request.type == "AWS::S3::Bucket" else { throw Self.unsupported(request.type) }
        let p = request.properties
        try await apply(request, previous.physicalId, versioning: try Self.versioning(p), tags: try Self.tags(request),
                        publicAccess: try Self.publicAccessBlock(p), encryption: try Self.encryption(p), creating: false)
        return Self.state(request, previous.physicalId)
    }

    /// A bucket with objects is not deleted (BucketNotEmpty), as in AWS.
    public func delete(_ request: ResourceRequest, state: ResourceState) async throws {
        guard request.type == "AWS::S3::Bucket" else { throw Self.unsupported(request.type) }
        do {
            _ = try await service.deleteBucket(BucketContext(request: internalRequest(request, .delete, state.physicalId), bucket: state.physicalId))
        } catch let e as AWSError where e.code == "NoSuchBucket" {}
    }

    func apply(_ request: ResourceRequest, _ name: String, versioning: String?, tags: [(String, String)], publicAccess: String?,
               encryption: String?, creating: Bool) async throws {
        let bucket = try await service.ownedBucket(name, internalRequest(request, .get, name))
        // A versioned bucket never returns to unversioned: dropping the configuration suspends it.
        let status = versioning ?? (bucket.versioning == "Enabled" ? "Suspended" : nil)
        if let status, status != bucket.versioning {
            if bucket.objectLock && status != "Enabled" {
                throw AWSError("InvalidBucketState", "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.",
                               status: .conflict)
            }
            try service.store.setBucketState(name, versioning: status, objectLock: bucket.objectLock)
        }
        let encoded = tags.isEmpty ? nil : TagSet.encode(tags)
        if encoded != service.store.configuration(name, .tagging) { try service.store.setConfiguration(name, .tagging, encoded) }
        if let publicAccess {
            _ = try await service.putPublicAccessBlock(BucketContext(request: internalRequest(request, .put, name, body: publicAccess), bucket: name))
        } else if !creating {
            // Left out of the template: S3's default for new buckets, every public access blocked.
            try service.store.setConfiguration(name, .publicAccessBlock, S3Service.publicAccessBlock(all: true))
        }
        if let encryption {
            _ = try await service.putBucketEncryption(BucketContext(request: internalRequest(request, .put, name, body: encryption), bucket: name))
        } else if service.store.configuration(name, .encryption) != nil {
            // Left out: the default every bucket has, SSE-S3.
            try service.store.setConfiguration(name, .encryption, nil)
        }
    }

    static func state(_ request: ResourceRequest, _ name: String) -> ResourceState {
        let region = request.region
        // Older regions name their website endpoint with a dash, newer ones with a dot.
        let dashRegions: Set = ["us-east-1", "us-west-1", "us-west-2", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1",
                                "eu-west-1", "sa-east-1", "us-gov-west-1"]
        let website = dashRegions.contains(region) ? "s3-website-\(region)" : "s3-website.\(region)"
        return ResourceState(physicalId: name, ref: name, attributes: [
            "Arn": .string("arn:aws:s3:::\(name)"),
            "DomainName": .string("\(name).s3.amazonaws.com"),
            "RegionalDomainName": .string("\(name).s3.\(region).amazonaws.com"),
            "DualStackDomainName": .string("\(name).s3.dualstack.\(region).amazonaws.com"),
            "WebsiteURL": .string("http://\(name).\(website).amazonaws.com"),
        ])
    }

    /// Bucket names AWS generates: lowercase, at most 63 characters, only letters, digits and hyphens.
    static func generatedName(_ request: ResourceRequest) -> String {
        var name = request.generatedName(limit: 63, lowercase: true)
        name = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" })
        while name.hasPrefix("-") { name.removeFirst() }
        return name
    }

    static func versioning(_ p: [String: JSON]) throws -> String? {
        guard let v = p["VersioningConfiguration"], !v.isNull else { return nil }
        guard let status = v["Status"]?.string, status == "Enabled" || status == "Suspended" else {
            throw S3Error.malformedXML()
        }
        return status
    }

    /// The stack's tags and the resource's own, the resource's checked as PutBucketTagging checks them.
    static func tags(_ request: ResourceRequest) throws -> [(String, String)] {
        var own: [(String, String)] = []
        for tag in request.properties["Tags"]?.array ?? [] {
            guard let key = tag["Key"]?.string, let value = tag["Value"]?.string else { throw S3Error.malformedXML() }
            own.append((key, value))
        }
        try ObjectHeaders.validateTags(own, tooMany: AWSError("BadRequest", "Bucket tag count cannot be greater than 50"), limit: 50)
        let stack = request.tags.filter { k, _ in !own.contains { $0.0 == k } }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return stack + own
    }

    /// PublicAccessBlockConfiguration as the document PutPublicAccessBlock reads.
    static func publicAccessBlock(_ p: [String: JSON]) throws -> String? {
        guard let v = p["PublicAccessBlockConfiguration"], !v.isNull else { return nil }
        guard let o = v.object else { throw S3Error.malformedXML() }
        return xml("PublicAccessBlockConfiguration") { xml in
            for f in S3Service.publicAccessFlags {
                let on = o[f]?.bool ?? (o[f]?.string?.lowercased() == "true")
                xml.element(f, on ? "true" : "false")
            }
        }
    }

    /// BucketEncryption ({ServerSideEncryptionConfiguration: [{ServerSideEncryptionByDefault: {SSEAlgorithm,
    /// KMSMasterKeyID}, BucketKeyEnabled}]}) as the document PutBucketEncryption reads.
    static func encryption(_ p: [String: JSON]) throws -> String? {
        guard let v = p["BucketEncryption"], !v.isNull else { return nil }
        guard let rules = v["ServerSideEncryptionConfiguration"]?.array else { throw S3Error.malformedXML() }
        return xml("ServerSideEncryptionConfiguration") { xml in
            for rule in rules {
                xml.group("Rule") { xml in
                    if let d = rule["ServerSideEncryptionByDefault"] {
                        xml.group("ApplyServerSideEncryptionByDefault") { xml in
                            xml.element("SSEAlgorithm", d["SSEAlgorithm"]?.string)
                            xml.element("KMSMasterKeyID", d["KMSMasterKeyID"]?.string)
                        }
                    }
                    if let k = rule["BucketKeyEnabled"], !k.isNull {
                        xml.element("BucketKeyEnabled", (k.bool ?? (k.string?.lowercased() == "true")) ? "true" : "false")
                    }
                }
            }
        }
    }

    static func xml(_ root: String, _ body: (inout XMLWriter) -> Void) -> String {
        var xml = XMLWriter(declaration: false)
        xml.group(root, xmlns: S3Service.xmlns, body)
        return String(buffer: xml.buffer)
    }

    static func string(_ v: JSON?, _ name: String) throws -> String? {
        guard let v, !v.isNull else { return nil }
        guard let s = v.string else { throw S3Error.invalidArgument("\(name) must be a string.", name: name) }
        return s
    }

    func internalRequest(_ request: ResourceRequest, _ method: HTTPRequest.Method, _ bucket: String, body: String = "") -> AWSRequest {
        AWSRequest(method: method, rawPath: "/" + bucket, rawQuery: "", query: [], headers: HTTPFields(), host: "localhost",
                   body: RequestBody(buffer: ByteBuffer(string: body)),
                   caller: CallerIdentity(accountID: request.account, region: request.region, accessKeyID: nil),
                   requestID: UUID().uuidString)
    }

    static func unsupported(_ type: String) -> AWSError {
        AWSError("InvalidRequest", "Resource type \(type) is not served by S3.")
    }
}

extension S3Service {
    /// The CloudFormation provider of buckets.
    public var resourceProvider: S3Resources { S3Resources(service: self) }
}
