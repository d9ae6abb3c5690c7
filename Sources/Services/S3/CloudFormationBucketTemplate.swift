import Core
import Foundation

/// Everything an `AWS::S3::Bucket` declares, converted from CloudFormation's shapes to what S3's operations read and
/// checked by S3's own parsers, before anything is created or changed.
struct BucketTemplate {
    var versioning: String?
    var tags: [(String, String)] = []
    var publicAccessBlock: String?
    var encryption: String?
    var ownership: String?
    var acl: String?
    var objectLockEnabled = false
    var objectLock: String?
    var lifecycle: (document: String, minimumSize: String?)?
    var cors: String?
    var website: String?
    var notification: NotificationConfiguration?
    var accelerate: String?
    var logging: String?
}

extension S3Resources {
    /// The properties applied through S3's operations.
    static let servedProperties: Set = [
        "BucketName", "VersioningConfiguration", "Tags", "PublicAccessBlockConfiguration", "BucketEncryption", "OwnershipControls",
        "AccessControl", "ObjectLockEnabled", "ObjectLockConfiguration", "LifecycleConfiguration", "CorsConfiguration",
        "WebsiteConfiguration", "NotificationConfiguration", "AccelerateConfiguration", "LoggingConfiguration",
    ]

    /// AWS::S3::Bucket properties whose configuration Cloudless's S3 does not carry out: refused, never dropped.
    static let unservedProperties = [
        "ReplicationConfiguration": "Cloudless does not replicate objects between buckets",
        "AnalyticsConfigurations": "Cloudless does not run storage class analysis",
        "InventoryConfigurations": "Cloudless does not produce inventory reports",
        "MetricsConfigurations": "Cloudless does not publish request metrics",
        "IntelligentTieringConfigurations": "Cloudless has a single storage tier",
        "MetadataTableConfiguration": "Cloudless does not serve S3 Metadata tables",
        "MetadataConfiguration": "Cloudless does not serve S3 Metadata tables",
        "AbacStatus": "Cloudless does not serve attribute-based access control for buckets",
    ]

    func template(_ request: ResourceRequest, bucket: String) throws -> BucketTemplate {
        let p = request.properties
        let shape = PropertyShape(logicalId: request.logicalId)
        for (name, value) in p.sorted(by: { $0.key < $1.key }) where !value.isNull && !Self.servedProperties.contains(name) {
            if let why = Self.unservedProperties[name] {
                if name == "AbacStatus", value.string == "Disabled" { continue }
                throw AWSError("InvalidRequest", "Property \(name) is not supported: \(why).")
            }
            throw shape.fail("", "extraneous key [\(name)] is not permitted")
        }
        var t = BucketTemplate()
        // What S3 can judge without a bucket is judged now by its own parsers, with its own errors.
        t.versioning = try Self.versioning(p, shape)
        t.tags = try Self.tags(request, shape)
        t.publicAccessBlock = try Self.publicAccessBlock(p, shape)
        t.encryption = try Self.encryption(p, shape)
        if let encryption = t.encryption { _ = try S3Service.encryptionRule(try Self.element(encryption)) }
        t.ownership = try Self.ownership(p, shape)
        t.acl = try Self.cannedACL(p, shape)
        t.objectLockEnabled = try shape.bool(p["ObjectLockEnabled"], "ObjectLockEnabled") ?? false
        t.objectLock = try Self.objectLock(p, shape)
        if let lock = t.objectLock { _ = try S3Service.objectLockRetention(Array(lock.utf8)) }
        t.accelerate = try Self.accelerate(p, shape)
        t.logging = try Self.logging(p, bucket: bucket, shape)
        if let lifecycle = try Self.lifecycle(p, shape) {
            _ = try LifecycleConfiguration.parse(lifecycle.document, minimumSize: lifecycle.minimumSize ?? "all_storage_classes_128K")
            t.lifecycle = lifecycle
        }
        if let cors = try Self.cors(p, shape) {
            _ = try CORSConfiguration.parse(try Self.element(cors))
            t.cors = cors
        }
        if let website = try Self.website(p, shape) {
            _ = try WebsiteConfiguration.parse(try Self.element(website))
            t.website = website
        }
        if var notification = try Self.notification(p, shape) {
            try notification.validate(bucketRegion: request.region)
            try service.checkDestinations(notification)
            t.notification = notification
        }
        return t
    }

    static func element(_ document: String) throws -> XMLElement {
        guard let e = XMLElement.parse(Array(document.utf8)) else { throw S3Error.malformedXML() }
        return e
    }
}
