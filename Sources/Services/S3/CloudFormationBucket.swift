import Core
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `AWS::S3::Bucket`: CreateBucket, then each configuration the template gives through the operation S3's API uses
/// for it. Properties are checked before the bucket exists (`BucketTemplate`); a bucket whose configuration S3 still
/// refuses once it exists (a logging target that does not exist...) is removed again. A configuration the template
/// stops giving is removed on update, as CloudFormation does.
extension S3Resources {
    func createBucket(_ request: ResourceRequest) async throws -> ResourceState {
        let name = try Self.string(request.properties["BucketName"], "BucketName") ?? Self.generatedName(request)
        let t = try template(request, bucket: name)
        if service.store.bucket(name) != nil {
            throw AWSError("BucketAlreadyExists", "\(name) already exists", status: .conflict).with("BucketName", name)
        }
        let body = request.region == "us-east-1" ? "" : Self.xml("CreateBucketConfiguration") { $0.element("LocationConstraint", request.region) }
        // Object Lock, ownership and a canned ACL are CreateBucket's own headers: S3 judges the ACL against the ownership.
        var headers: [(String, String)] = []
        if t.objectLockEnabled { headers.append(("x-amz-bucket-object-lock-enabled", "true")) }
        if let o = t.ownership { headers.append(("x-amz-object-ownership", o)) }
        if let acl = t.acl { headers.append(("x-amz-acl", acl)) }
        _ = try await service.createBucket(context(request, .put, name, body: body, headers: headers))
        do {
            try await apply(request, name, t, creating: true)
        } catch {
            _ = try? await service.deleteBucket(context(request, .delete, name))
            throw error
        }
        return Self.state(request, name)
    }

    func updateBucket(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        let t = try template(request, bucket: previous.physicalId)
        try await apply(request, previous.physicalId, t, creating: false)
        return Self.state(request, previous.physicalId)
    }

    /// A bucket with objects is not deleted (BucketNotEmpty), as in AWS.
    func deleteBucket(_ request: ResourceRequest, state: ResourceState) async throws {
        do {
            _ = try await service.deleteBucket(context(request, .delete, state.physicalId))
        } catch let e as AWSError where e.code == "NoSuchBucket" {}
    }

    /// Bring the bucket to what the template declares. What it leaves out returns to S3's state for a new bucket:
    /// versioning suspended (a versioned bucket never returns to unversioned), stack tags only, every public access
    /// blocked, SSE-S3, BucketOwnerEnforced with a private ACL, no default retention, and no lifecycle, CORS,
    /// website, acceleration, logging or notification configuration.
    func apply(_ request: ResourceRequest, _ name: String, _ t: BucketTemplate, creating: Bool) async throws {
        let bucket = try await service.ownedBucket(name, internalRequest(request, .get, name))
        let store = service.store
        func put(_ op: (BucketContext) async throws -> AWSResponse, _ body: String, headers: [(String, String)] = []) async throws {
            _ = try await op(context(request, .put, name, body: body, headers: headers))
        }
        // Object Lock keeps versioning Enabled; otherwise dropping the configuration suspends it.
        let status = t.versioning ?? (bucket.versioning == "Enabled" && !bucket.objectLock ? "Suspended" : nil)
        if let status, status != bucket.versioning {
            try await put(service.putBucketVersioning, Self.xml("VersioningConfiguration") { $0.element("Status", status) })
        }
        if let lock = t.objectLock {
            try await put(service.putObjectLockConfiguration, lock)
        } else if bucket.objectLock, DefaultRetention.of(store.configuration(name, .objectLock)) != nil {
            try store.setConfiguration(name, .objectLock, String(buffer: S3Service.objectLockDocument(nil).buffer))
        }
        // The public access block before the ACL it may allow.
        if let block = t.publicAccessBlock {
            try await put(service.putPublicAccessBlock, block)
        } else if !creating {
            try store.setConfiguration(name, .publicAccessBlock, S3Service.publicAccessBlock(all: true))
        }
        if !creating {
            // A public ACL needs ownership that allows ACLs first; a private one goes first when ACLs are switched off.
            let ownership = t.ownership ?? "BucketOwnerEnforced", acl = t.acl ?? "private"
            let putOwnership: () async throws -> Void = {
                if S3Service.objectOwnership(store.bucket(name) ?? bucket) != ownership {
                    try await put(self.service.putBucketOwnershipControls,
                                  Self.xml("OwnershipControls") { $0.group("Rule") { $0.element("ObjectOwnership", ownership) } })
                }
            }
            if acl == "private" {
                try await put(service.putBucketAcl, "", headers: [("x-amz-acl", acl)])
                try await putOwnership()
            } else {
                try await putOwnership()
                try await put(service.putBucketAcl, "", headers: [("x-amz-acl", acl)])
            }
        }
        let tags = t.tags.isEmpty ? nil : TagSet.encode(t.tags)
        if tags != store.configuration(name, .tagging) { try store.setConfiguration(name, .tagging, tags) }
        if let encryption = t.encryption {
            try await put(service.putBucketEncryption, encryption)
        } else if store.configuration(name, .encryption) != nil {
            try store.setConfiguration(name, .encryption, nil)
        }
        if let lifecycle = t.lifecycle {
            try await put(service.putBucketLifecycleConfiguration, lifecycle.document,
                          headers: lifecycle.minimumSize.map { [(S3Service.minimumSizeHeader, $0)] } ?? [])
        } else if store.configuration(name, .lifecycle) != nil {
            try store.setConfiguration(name, .lifecycle, nil)
        }
        try await putOrRemove(request, name, .cors, t.cors, service.putBucketCors)
        try await putOrRemove(request, name, .website, t.website, service.putBucketWebsite)
        try await putOrRemove(request, name, .accelerate, t.accelerate, service.putBucketAccelerateConfiguration)
        try await putOrRemove(request, name, .logging, t.logging, service.putBucketLogging)
        // Last, once the bucket is otherwise complete: S3 sends each queue its s3:TestEvent when the configuration changes.
        if !Self.sameDeliveries(t.notification, store.bucket(name)?.notification) {
            var xml = XMLWriter(declaration: false)
            (t.notification ?? NotificationConfiguration()).write(&xml)
            try await put(service.putBucketNotificationConfiguration, String(buffer: xml.buffer))
        }
    }

    private func putOrRemove(_ request: ResourceRequest, _ name: String, _ configuration: BucketConfiguration, _ document: String?,
                             _ op: (BucketContext) async throws -> AWSResponse) async throws {
        if let document {
            _ = try await op(context(request, .put, name, body: document))
        } else if service.store.configuration(name, configuration) != nil {
            try service.store.setConfiguration(name, configuration, nil)
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
}
