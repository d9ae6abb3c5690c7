import Core
import Foundation

/// The smaller configurations of `AWS::S3::Bucket` — versioning, tags, public access block, default encryption,
/// ownership controls, canned ACL, Object Lock, transfer acceleration, access logging — as the documents and
/// headers S3's operations read, and back from what S3 holds.
extension S3Resources {
    static func versioning(_ p: [String: JSON], _ shape: PropertyShape) throws -> String? {
        guard let v = try shape.object(p["VersioningConfiguration"], "VersioningConfiguration") else { return nil }
        return try shape.required(try shape.oneOf(v["Status"], "VersioningConfiguration/Status", ["Enabled", "Suspended"]),
                                  "VersioningConfiguration", "Status")
    }

    /// The stack's tags and the resource's own, the resource's checked as PutBucketTagging checks them.
    static func tags(_ request: ResourceRequest, _ shape: PropertyShape) throws -> [(String, String)] {
        var own: [(String, String)] = []
        for (path, tag) in try shape.objects(request.properties["Tags"], "Tags") {
            own.append((try shape.required(try shape.string(tag["Key"], "\(path)/Key"), path, "Key"),
                        try shape.required(try shape.string(tag["Value"], "\(path)/Value"), path, "Value")))
        }
        try ObjectHeaders.validateTags(own, tooMany: AWSError("BadRequest", "Bucket tag count cannot be greater than 50"), limit: 50)
        let stack = request.tags.filter { k, _ in !own.contains { $0.0 == k } }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return stack + own
    }

    /// PublicAccessBlockConfiguration as the document PutPublicAccessBlock reads (a flag left out is false).
    static func publicAccessBlock(_ p: [String: JSON], _ shape: PropertyShape) throws -> String? {
        guard let o = try shape.object(p["PublicAccessBlockConfiguration"], "PublicAccessBlockConfiguration") else { return nil }
        var flags: [String: Bool] = [:]
        for f in S3Service.publicAccessFlags { flags[f] = try shape.bool(o[f], "PublicAccessBlockConfiguration/\(f)") ?? false }
        return xml("PublicAccessBlockConfiguration") { xml in for f in S3Service.publicAccessFlags { xml.element(f, flags[f] ?? false) } }
    }

    /// BucketEncryption ({ServerSideEncryptionConfiguration: [{ServerSideEncryptionByDefault: {SSEAlgorithm,
    /// KMSMasterKeyID}, BucketKeyEnabled}]}) as the document PutBucketEncryption reads.
    static func encryption(_ p: [String: JSON], _ shape: PropertyShape) throws -> String? {
        let base = "BucketEncryption"
        guard let v = try shape.object(p[base], base) else { return nil }
        let rules = try shape.objects(try shape.required(v["ServerSideEncryptionConfiguration"], base, "ServerSideEncryptionConfiguration"),
                                      "\(base)/ServerSideEncryptionConfiguration")
        var parsed: [(algorithm: String?, key: String?, bucketKey: Bool?)] = []
        for (path, rule) in rules {
            let d = try shape.object(rule["ServerSideEncryptionByDefault"], "\(path)/ServerSideEncryptionByDefault")
            parsed.append((try shape.string(d?["SSEAlgorithm"], "\(path)/ServerSideEncryptionByDefault/SSEAlgorithm"),
                           try shape.string(d?["KMSMasterKeyID"], "\(path)/ServerSideEncryptionByDefault/KMSMasterKeyID"),
                           try shape.bool(rule["BucketKeyEnabled"], "\(path)/BucketKeyEnabled")))
        }
        return xml("ServerSideEncryptionConfiguration") { xml in
            for rule in parsed {
                xml.group("Rule") { xml in
                    if rule.algorithm != nil || rule.key != nil {
                        xml.group("ApplyServerSideEncryptionByDefault") { xml in
                            xml.element("SSEAlgorithm", rule.algorithm)
                            xml.element("KMSMasterKeyID", rule.key)
                        }
                    }
                    if let k = rule.bucketKey { xml.element("BucketKeyEnabled", k) }
                }
            }
        }
    }

    /// OwnershipControls ({Rules: [{ObjectOwnership}]}): the ObjectOwnership, given to CreateBucket as
    /// `x-amz-object-ownership` (so an ACL in the same template is judged against it) and to PutBucketOwnershipControls.
    static func ownership(_ p: [String: JSON], _ shape: PropertyShape) throws -> String? {
        guard let o = try shape.object(p["OwnershipControls"], "OwnershipControls") else { return nil }
        let rules = try shape.objects(try shape.required(o["Rules"], "OwnershipControls", "Rules"), "OwnershipControls/Rules")
        guard rules.count == 1 else { throw S3Error.malformedXML() }
        return try shape.required(try shape.oneOf(rules[0].value["ObjectOwnership"], "\(rules[0].path)/ObjectOwnership", S3Service.objectOwnerships),
                                  rules[0].path, "ObjectOwnership")
    }

    /// AccessControl's canned ACLs and the `x-amz-acl` value each stands for.
    static let cannedACLs = [
        "Private": "private", "PublicRead": "public-read", "PublicReadWrite": "public-read-write", "AuthenticatedRead": "authenticated-read",
        "LogDeliveryWrite": "log-delivery-write", "BucketOwnerRead": "bucket-owner-read",
        "BucketOwnerFullControl": "bucket-owner-full-control", "AwsExecRead": "aws-exec-read",
    ]

    static func cannedACL(_ p: [String: JSON], _ shape: PropertyShape) throws -> String? {
        try shape.oneOf(p["AccessControl"], "AccessControl", Set(cannedACLs.keys)).flatMap { cannedACLs[$0] }
    }

    /// ObjectLockConfiguration ({ObjectLockEnabled, Rule: {DefaultRetention: {Mode, Days, Years}}}) as the document
    /// PutObjectLockConfiguration reads; S3 judges it (both Days and Years, a bad Mode...).
    static func objectLock(_ p: [String: JSON], _ shape: PropertyShape) throws -> String? {
        let base = "ObjectLockConfiguration"
        guard let o = try shape.object(p[base], base) else { return nil }
        let enabled = try shape.oneOf(o["ObjectLockEnabled"], "\(base)/ObjectLockEnabled", ["Enabled"])
        let rule = try shape.object(o["Rule"], "\(base)/Rule")
        let retention = try shape.object(rule?["DefaultRetention"], "\(base)/Rule/DefaultRetention")
        let path = "\(base)/Rule/DefaultRetention"
        let mode = try shape.string(retention?["Mode"], "\(path)/Mode")
        let days = try shape.int(retention?["Days"], "\(path)/Days"), years = try shape.int(retention?["Years"], "\(path)/Years")
        return xml("ObjectLockConfiguration") { xml in
            xml.element("ObjectLockEnabled", enabled)
            if rule != nil {
                xml.group("Rule") { xml in
                    if retention != nil {
                        xml.group("DefaultRetention") { xml in
                            xml.element("Mode", mode)
                            if let days { xml.element("Days", days) }
                            if let years { xml.element("Years", years) }
                        }
                    }
                }
            }
        }
    }

    static func accelerate(_ p: [String: JSON], _ shape: PropertyShape) throws -> String? {
        guard let o = try shape.object(p["AccelerateConfiguration"], "AccelerateConfiguration") else { return nil }
        let status = try shape.required(try shape.oneOf(o["AccelerationStatus"], "AccelerateConfiguration/AccelerationStatus",
                                                        ["Enabled", "Suspended"]), "AccelerateConfiguration", "AccelerationStatus")
        return xml("AccelerateConfiguration") { $0.element("Status", status) }
    }

    /// LoggingConfiguration ({DestinationBucketName, LogFilePrefix, TargetObjectKeyFormat}) as the document
    /// PutBucketLogging reads. Without a destination, logs go to the bucket itself, as AWS documents.
    static func logging(_ p: [String: JSON], bucket: String, _ shape: PropertyShape) throws -> String? {
        let base = "LoggingConfiguration"
        guard let o = try shape.object(p[base], base) else { return nil }
        let target = try shape.string(o["DestinationBucketName"], "\(base)/DestinationBucketName") ?? bucket
        let prefix = try shape.string(o["LogFilePrefix"], "\(base)/LogFilePrefix") ?? ""
        let format = try shape.object(o["TargetObjectKeyFormat"], "\(base)/TargetObjectKeyFormat")
        let partitioned = try shape.object(format?["PartitionedPrefix"], "\(base)/TargetObjectKeyFormat/PartitionedPrefix")
        let dateSource = try shape.string(partitioned?["PartitionDateSource"], "\(base)/TargetObjectKeyFormat/PartitionedPrefix/PartitionDateSource")
        return xml("BucketLoggingStatus") { xml in
            xml.group("LoggingEnabled") { xml in
                xml.element("TargetBucket", target)
                xml.element("TargetPrefix", prefix)
                if let format {
                    xml.group("TargetObjectKeyFormat") { xml in
                        if partitioned != nil {
                            xml.group("PartitionedPrefix") { $0.element("PartitionDateSource", dateSource) }
                        } else if format["SimplePrefix"] != nil {
                            xml.element("SimplePrefix", "")
                        }
                    }
                }
            }
        }
    }

    // MARK: Reading back

    static func readPublicAccessBlock(_ stored: String?, expected: JSON?) -> JSON? {
        guard let stored, let doc = XMLElement.parse(Array(stored.utf8)) else { return nil }
        let flags = S3Service.publicAccessFlags.map { ($0, doc.value($0) == "true") }
        // Left out of the template: S3's default for a new bucket (all blocked) is no drift.
        if expected == nil && flags.allSatisfy(\.1) { return nil }
        var out: [String: JSON] = [:]
        for (f, on) in flags where on || expected?[f] != nil { out[f] = .bool(on) }
        return .object(out)
    }

    /// BucketKeyEnabled false (S3's answer when none was given) reads back only when the template gives it.
    static func readEncryption(_ stored: String?, expected: JSON?) -> JSON? {
        guard let stored, let doc = XMLElement.parse(Array(stored.utf8)) else { return nil }
        let expectedRules = expected?["ServerSideEncryptionConfiguration"]?.array ?? []
        return .object(["ServerSideEncryptionConfiguration": .array(doc.children("Rule").enumerated().map { i, rule in
            var o: [String: JSON] = [:]
            if let d = rule.child("ApplyServerSideEncryptionByDefault") {
                var byDefault: [String: JSON] = ["SSEAlgorithm": .string(d.value("SSEAlgorithm") ?? "")]
                if let k = d.value("KMSMasterKeyID") { byDefault["KMSMasterKeyID"] = .string(k) }
                o["ServerSideEncryptionByDefault"] = .object(byDefault)
            }
            if let k = rule.value("BucketKeyEnabled"), k == "true" || (i < expectedRules.count && expectedRules[i]["BucketKeyEnabled"] != nil) {
                o["BucketKeyEnabled"] = .bool(k == "true")
            }
            return .object(o)
        })])
    }

    static func readObjectLock(_ bucket: Bucket, _ stored: String?) -> JSON? {
        guard bucket.objectLock else { return nil }
        var out: [String: JSON] = ["ObjectLockEnabled": .string("Enabled")]
        if let r = DefaultRetention.of(stored) {
            var d: [String: JSON] = ["Mode": .string(r.mode)]
            if let days = r.days { d["Days"] = .number(Double(days)) }
            if let years = r.years { d["Years"] = .number(Double(years)) }
            out["Rule"] = .object(["DefaultRetention": .object(d)])
        }
        return .object(out)
    }

    static func readLogging(_ stored: String?, bucket: String, expected: JSON?) -> JSON? {
        guard let stored, let enabled = XMLElement.parse(Array(stored.utf8))?.child("LoggingEnabled") else { return nil }
        var out: [String: JSON] = [:]
        let target = enabled.value("TargetBucket") ?? ""
        if target != bucket || expected?["DestinationBucketName"] != nil { out["DestinationBucketName"] = .string(target) }
        let prefix = enabled.value("TargetPrefix") ?? ""
        if !prefix.isEmpty || expected?["LogFilePrefix"] != nil { out["LogFilePrefix"] = .string(prefix) }
        if let format = enabled.child("TargetObjectKeyFormat") {
            if let partitioned = format.child("PartitionedPrefix") {
                var o: [String: JSON] = [:]
                if let s = partitioned.value("PartitionDateSource") { o["PartitionDateSource"] = .string(s) }
                out["TargetObjectKeyFormat"] = .object(["PartitionedPrefix": .object(o)])
            } else if format.child("SimplePrefix") != nil {
                out["TargetObjectKeyFormat"] = .object(["SimplePrefix": .object([:])])
            }
        }
        return .object(out)
    }
}
