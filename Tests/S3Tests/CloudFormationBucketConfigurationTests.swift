import Core
import Foundation
import Testing

@testable import S3

// AWS::S3::Bucket's configurations in CloudFormation's shapes: applied through S3's operations (read back with S3's
// Get operations), changed and removed on update, refused before the bucket exists, and read back for drift
// detection in the template's own shapes.

private let queueARN = "arn:aws:sqs:us-east-1:000000000000:uploads"
private let functionARN = "arn:aws:lambda:us-east-1:000000000000:function:thumbs"

/// A bucket carrying every configuration S3 serves, in CloudFormation's shapes.
private let everything = cfnJSON("""
{
  "BucketName": "full",
  "VersioningConfiguration": {"Status": "Enabled"},
  "ObjectLockEnabled": true,
  "ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 3}}},
  "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
  "AccessControl": "PublicRead",
  "PublicAccessBlockConfiguration": {"BlockPublicAcls": false, "IgnorePublicAcls": false, "BlockPublicPolicy": true, "RestrictPublicBuckets": true},
  "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/k"}, "BucketKeyEnabled": true}]},
  "Tags": [{"Key": "team", "Value": "blue"}],
  "LifecycleConfiguration": {"Rules": [
    {"Id": "logs", "Status": "Enabled", "Prefix": "logs/", "ExpirationInDays": 30,
     "NoncurrentVersionExpiration": {"NoncurrentDays": 7, "NewerNoncurrentVersions": 2},
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
    {"Id": "tmp", "Status": "Disabled", "TagFilters": [{"Key": "tmp", "Value": "yes"}], "ObjectSizeGreaterThan": "100",
     "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 60}], "ExpirationInDays": 90}
  ]},
  "CorsConfiguration": {"CorsRules": [{"Id": "web", "AllowedOrigins": ["https://example.com"], "AllowedMethods": ["GET", "PUT"],
                                        "AllowedHeaders": ["*"], "ExposedHeaders": ["ETag"], "MaxAge": 600}]},
  "WebsiteConfiguration": {"IndexDocument": "index.html", "ErrorDocument": "error.html",
                           "RoutingRules": [{"RoutingRuleCondition": {"KeyPrefixEquals": "old/"},
                                             "RedirectRule": {"ReplaceKeyPrefixWith": "new/", "HttpRedirectCode": "301"}}]},
  "NotificationConfiguration": {
    "QueueConfigurations": [{"Event": "s3:ObjectCreated:*", "Queue": "\(queueARN)",
                             "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "in/"}]}}}],
    "LambdaConfigurations": [{"Event": "s3:ObjectRemoved:*", "Function": "\(functionARN)"}]},
  "AccelerateConfiguration": {"AccelerationStatus": "Enabled"},
  "LoggingConfiguration": {"LogFilePrefix": "access/"}
}
""").object!

private func properties(_ r: ResourceReading) -> [String: JSON] {
    if case .properties(let p) = r { return p }
    Issue.record("not read: \(r)")
    return [:]
}

@Suite struct S3BucketConfigurationResourceTests {
    @Test func everyConfigurationIsAppliedAndReadBackAsTheTemplate() async throws {
        let sinks = RecordingDestinations(queues: [queueARN], functions: [functionARN])
        try await withCFNService(sinks) { s, p in
            let request = cfnRequest("Full", everything)
            let state = try await p.create(request)
            let c = cfnContext("full")
            let lifecycle = try await cfnText(try await s.getBucketLifecycleConfiguration(c))
            #expect(lifecycle.contains("<ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>"))
            #expect(lifecycle.contains("<Expiration><Days>30</Days></Expiration>"))
            #expect(lifecycle.contains("<NoncurrentVersionExpiration><NoncurrentDays>7</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>"))
            #expect(lifecycle.contains("<Filter><And><Tag><Key>tmp</Key><Value>yes</Value></Tag><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan></And></Filter>"))
            #expect(lifecycle.contains("<Transition><Days>60</Days><StorageClass>GLACIER</StorageClass></Transition>"))
            let cors = try await cfnText(try await s.getBucketCors(c))
            #expect(cors.contains("<ID>web</ID><AllowedHeader>*</AllowedHeader><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedOrigin>https://example.com</AllowedOrigin><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds>"))
            let website = try await cfnText(try await s.getBucketWebsite(c))
            #expect(website.contains("<IndexDocument><Suffix>index.html</Suffix></IndexDocument><ErrorDocument><Key>error.html</Key></ErrorDocument>"))
            #expect(website.contains("<Condition><KeyPrefixEquals>old/</KeyPrefixEquals></Condition><Redirect><HttpRedirectCode>301</HttpRedirectCode><ReplaceKeyPrefixWith>new/</ReplaceKeyPrefixWith></Redirect>"))
            let notification = try await cfnText(try await s.getBucketNotificationConfiguration(c))
            #expect(notification.contains("<Queue>\(queueARN)</Queue>") && notification.contains("<Event>s3:ObjectCreated:*</Event>"))
            #expect(notification.contains("<FilterRule><Name>Prefix</Name><Value>in/</Value></FilterRule>"))
            #expect(notification.contains("<CloudFunction>\(functionARN)</CloudFunction><Event>s3:ObjectRemoved:*</Event>"))
            #expect(try await cfnText(try await s.getObjectLockConfiguration(c)).contains(
                "<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>3</Days></DefaultRetention></Rule>"))
            #expect(try await cfnText(try await s.getBucketOwnershipControls(c)).contains("<ObjectOwnership>BucketOwnerPreferred</ObjectOwnership>"))
            #expect(try await cfnText(try await s.getBucketAcl(c)).contains("http://acs.amazonaws.com/groups/global/AllUsers"))
            #expect(try await cfnText(try await s.getBucketAccelerateConfiguration(c)).contains("<Status>Enabled</Status>"))
            #expect(try await cfnText(try await s.getBucketLogging(c)).contains("<TargetBucket>full</TargetBucket><TargetPrefix>access/</TargetPrefix>"))
            // The queue got S3's test event when the configuration was put.
            #expect(sinks.all.count == 1 && sinks.all[0].body.contains("s3:TestEvent"))

            // Read back: exactly the template (BucketName included, the stack's aws: tags left out).
            let read = properties(try await p.currentProperties(request, state: state))
            for (name, value) in everything {
                #expect(read[name] == value, "\(name): \(String(describing: read[name])) != \(value)")
            }
            #expect(Set(read.keys) == Set(everything.keys))
        }
    }

    @Test func updateChangesSomeAndRemovesOthers() async throws {
        let sinks = RecordingDestinations(queues: [queueARN], functions: [functionARN])
        try await withCFNService(sinks) { s, p in
            var props = everything
            props["ObjectLockEnabled"] = nil
            props["ObjectLockConfiguration"] = nil
            let state = try await p.create(cfnRequest("Full", props))
            // Unchanged notification: no second test event.
            var changed = props
            changed["CorsConfiguration"] = nil
            changed["WebsiteConfiguration"] = nil
            changed["AccessControl"] = nil
            changed["OwnershipControls"] = nil
            changed["AccelerateConfiguration"] = nil
            changed["LoggingConfiguration"] = nil
            changed["LifecycleConfiguration"] = cfnJSON(#"{"Rules": [{"Status": "Enabled", "ExpirationInDays": 5}]}"#)
            _ = try await p.update(cfnRequest("Full", changed), previous: state)
            #expect(sinks.all.count == 1)
            let c = cfnContext("full")
            let lifecycle = try await cfnText(try await s.getBucketLifecycleConfiguration(c))
            #expect(lifecycle.contains("<Filter><Prefix></Prefix></Filter><Status>Enabled</Status><Expiration><Days>5</Days></Expiration>"))
            #expect(!lifecycle.contains("logs/"))
            let noCors = await #expect(throws: AWSError.self) { try await s.getBucketCors(c) }
            #expect(noCors?.code == "NoSuchCORSConfiguration")
            let noSite = await #expect(throws: AWSError.self) { try await s.getBucketWebsite(c) }
            #expect(noSite?.code == "NoSuchWebsiteConfiguration")
            // Ownership and ACL back to a new bucket's: BucketOwnerEnforced, private.
            #expect(try await cfnText(try await s.getBucketOwnershipControls(c)).contains("BucketOwnerEnforced"))
            #expect(!(try await cfnText(try await s.getBucketAcl(c)).contains("AllUsers")))
            #expect(!(try await cfnText(try await s.getBucketAccelerateConfiguration(c)).contains("<Status>")))
            #expect(!(try await cfnText(try await s.getBucketLogging(c)).contains("LoggingEnabled")))
            let read = properties(try await p.currentProperties(cfnRequest("Full", changed), state: state))
            #expect(read["CorsConfiguration"] == nil && read["WebsiteConfiguration"] == nil && read["AccessControl"] == nil)
            #expect(read["LifecycleConfiguration"] == changed["LifecycleConfiguration"])

            // Notification removed: S3 holds none; the Lambda one alone: no test event (only queues get one).
            changed["NotificationConfiguration"] = cfnJSON(#"{"LambdaConfigurations": [{"Event": "s3:ObjectCreated:Put", "Function": "\#(functionARN)"}]}"#)
            _ = try await p.update(cfnRequest("Full", changed), previous: state)
            let n = try await cfnText(try await s.getBucketNotificationConfiguration(c))
            #expect(!n.contains("<Queue>") && n.contains("<Event>s3:ObjectCreated:Put</Event>"))
            changed["NotificationConfiguration"] = nil
            _ = try await p.update(cfnRequest("Full", changed), previous: state)
            #expect(s.store.bucket("full")?.notification == nil)
            #expect(sinks.all.count == 1)
        }
    }

    @Test func badPropertiesFailBeforeTheBucketExists() async throws {
        try await withCFNService(RecordingDestinations(queues: [queueARN])) { s, p in
            func refusal(_ extra: [String: JSON]) async -> AWSError? {
                var props: [String: JSON] = ["BucketName": .string("bad")]
                props.merge(extra) { $1 }
                let e = await #expect(throws: AWSError.self) { try await p.create(cfnRequest("Bad", props)) }
                #expect(s.store.bucket("bad") == nil, "left a bucket behind for \(extra.keys)")
                return e
            }
            // S3's own errors, from the parsers its operations use.
            let days = await refusal(["LifecycleConfiguration": cfnJSON(#"{"Rules": [{"Status": "Enabled", "ExpirationInDays": 0}]}"#)])
            #expect(days?.code == "InvalidArgument" && days?.message == "'Days' for Expiration action must be a positive integer")
            let method = await refusal(["CorsConfiguration": cfnJSON(#"{"CorsRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]}"#)])
            #expect(method?.message == "Found unsupported HTTP method in CORS config. Unsupported method is PATCH")
            let site = await refusal(["WebsiteConfiguration": cfnJSON(#"{"ErrorDocument": "e.html"}"#)])
            #expect(site?.message == "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty")
            let queue = await refusal(["NotificationConfiguration": cfnJSON(
                #"{"QueueConfigurations": [{"Event": "s3:ObjectCreated:*", "Queue": "arn:aws:sqs:us-east-1:000000000000:missing"}]}"#)])
            #expect(queue?.message == "Unable to validate the following destination configurations")
            let event = await refusal(["NotificationConfiguration": cfnJSON(
                #"{"QueueConfigurations": [{"Event": "s3:Nothing", "Queue": "\#(queueARN)"}]}"#)])
            #expect(event?.message == "The event is not supported for notifications")
            let acl = await refusal(["AccessControl": .string("PublicRead")])
            #expect(acl?.code == "InvalidBucketAclWithObjectOwnership")
            let lock = await refusal(["ObjectLockEnabled": .bool(true), "ObjectLockConfiguration": cfnJSON(
                #"{"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}}}"#)])
            #expect(lock?.code == "MalformedXML")
            // CloudFormation's schema checks.
            let status = await refusal(["LifecycleConfiguration": cfnJSON(#"{"Rules": [{"ExpirationInDays": 3}]}"#)])
            #expect(status?.message == "Properties validation failed for resource Bad with message: #/LifecycleConfiguration/Rules/0: required key [Status] not found")
            let type = await refusal(["CorsConfiguration": cfnJSON(#"{"CorsRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "MaxAge": "long"}]}"#)])
            #expect(type?.message == "Properties validation failed for resource Bad with message: #/CorsConfiguration/CorsRules/0/MaxAge: expected type: Integer, found: String")
            let extra = await refusal(["Colour": .string("red")])
            #expect(extra?.message == "Properties validation failed for resource Bad with message: #: extraneous key [Colour] is not permitted")
            // Configurations S3 does not carry out are refused by name.
            let topic = await refusal(["NotificationConfiguration": cfnJSON(
                #"{"TopicConfigurations": [{"Event": "s3:ObjectCreated:*", "Topic": "arn:aws:sns:us-east-1:000000000000:t"}]}"#)])
            #expect(topic?.message.hasPrefix("NotificationConfiguration.TopicConfigurations is not supported") == true)
            let bridge = await refusal(["NotificationConfiguration": cfnJSON(#"{"EventBridgeConfiguration": {"EventBridgeEnabled": true}}"#)])
            #expect(bridge?.message.hasPrefix("NotificationConfiguration.EventBridgeConfiguration is not supported") == true)
            let replication = await refusal(["ReplicationConfiguration": cfnJSON(#"{"Role": "r", "Rules": []}"#)])
            #expect(replication?.message == "Property ReplicationConfiguration is not supported: Cloudless does not replicate objects between buckets.")
        }
    }

    @Test func aRefusedUpdateLeavesTheBucketAsItWas() async throws {
        try await withCFNService { s, p in
            let props: [String: JSON] = ["BucketName": .string("kept"), "CorsConfiguration": cfnJSON(
                #"{"CorsRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}"#)]
            let state = try await p.create(cfnRequest("B", props))
            var bad = props
            bad["CorsConfiguration"] = nil
            bad["LifecycleConfiguration"] = cfnJSON(#"{"Rules": [{"Status": "Maybe", "ExpirationInDays": 1}]}"#)
            let e = await #expect(throws: AWSError.self) { try await p.update(cfnRequest("B", bad), previous: state) }
            #expect(e?.message == "Properties validation failed for resource B with message: #/LifecycleConfiguration/Rules/0/Status: failed validation constraint for keyword [enum]")
            #expect(try await cfnText(try await s.getBucketCors(cfnContext("kept"))).contains("<AllowedMethod>GET</AllowedMethod>"))
        }
    }

    @Test func notificationsDeliverToQueuesAndFunctions() async throws {
        let sinks = RecordingDestinations(queues: [queueARN], functions: [functionARN])
        try await withCFNService(sinks) { s, p in
            let props = cfnJSON("""
                {"BucketName": "events", "NotificationConfiguration": {
                  "QueueConfigurations": [{"Event": "s3:ObjectCreated:*", "Queue": "\(queueARN)", "Filter": {"S3Key": {"Rules": [{"Name": "suffix", "Value": ".csv"}]}}}],
                  "LambdaConfigurations": [{"Event": "s3:ObjectCreated:*", "Function": "\(functionARN)", "Filter": {"S3Key": {"Rules": [{"Name": "suffix", "Value": ".jpg"}]}}}]}}
                """).object!
            _ = try await p.create(cfnRequest("E", props))
            for key in ["a.csv", "b.jpg", "c.txt"] {
                _ = try await s.handle(AWSRequest(method: .put, rawPath: "/events/\(key)", rawQuery: "", query: [], headers: .init(), host: "localhost",
                                                  body: .init(buffer: .init(string: "x")),
                                                  caller: CallerIdentity(accountID: "000000000000", region: "us-east-1", accessKeyID: nil), requestID: "r"))
            }
            let sent = sinks.all.filter { !$0.body.contains("s3:TestEvent") }
            #expect(sent.map(\.arn) == [queueARN, functionARN])
            #expect(sent[0].body.contains("\"key\":\"a.csv\"") && sent[1].body.contains("\"key\":\"b.jpg\""))
        }
    }

    @Test func legacyLifecycleFormsReadBackAsWritten() async throws {
        try await withCFNService { _, p in
            let lifecycle = cfnJSON("""
                {"Rules": [{"Status": "Enabled", "NoncurrentVersionExpirationInDays": 4,
                            "Transition": {"StorageClass": "STANDARD_IA", "TransitionDate": "2031-01-01T00:00:00.000Z"},
                            "NoncurrentVersionTransition": {"StorageClass": "GLACIER", "TransitionInDays": 30}}],
                 "TransitionDefaultMinimumObjectSize": "varies_by_storage_class"}
                """)
            let request = cfnRequest("L", ["LifecycleConfiguration": lifecycle, "PublicAccessBlockConfiguration": cfnJSON(#"{"BlockPublicAcls": true}"#)])
            let state = try await p.create(request)
            let read = properties(try await p.currentProperties(request, state: state))
            #expect(read["LifecycleConfiguration"] == lifecycle)
            // Flags the template leaves out read back only when they differ from false.
            #expect(read["PublicAccessBlockConfiguration"] == cfnJSON(#"{"BlockPublicAcls": true}"#))
            #expect(read["BucketName"] == nil && read["OwnershipControls"] == nil && read["BucketEncryption"] == nil)
            try await p.delete(request, state: state)
            #expect(try await p.currentProperties(request, state: state) == .deleted)
        }
    }

    @Test func otherShapesReadBackAsWritten() async throws {
        try await withCFNService { s, p in
            _ = try await p.create(cfnRequest("Logs", ["BucketName": .string("log-target")]))
            let props = cfnJSON("""
                {"BucketName": "redirecting",
                 "WebsiteConfiguration": {"RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}},
                 "LoggingConfiguration": {"DestinationBucketName": "log-target", "LogFilePrefix": "r/",
                                          "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}}},
                 "AccelerateConfiguration": {"AccelerationStatus": "Suspended"},
                 "OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}, "AccessControl": "LogDeliveryWrite",
                 "CorsConfiguration": {"CorsRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]}]}}
                """).object!
            let request = cfnRequest("R", props)
            let state = try await p.create(request)
            #expect(try await cfnText(try await s.getBucketWebsite(cfnContext("redirecting"))).contains(
                "<RedirectAllRequestsTo><HostName>example.com</HostName><Protocol>https</Protocol></RedirectAllRequestsTo>"))
            #expect(try await cfnText(try await s.getBucketAcl(cfnContext("redirecting"))).contains("http://acs.amazonaws.com/groups/s3/LogDelivery"))
            let read = properties(try await p.currentProperties(request, state: state))
            for (name, value) in props { #expect(read[name] == value, "\(name): \(String(describing: read[name]))") }
        }
    }

    @Test func samManagedBucketReadsBackAsItsTemplateWithScalarsAsText() async throws {
        try await withCFNService { _, p in
            let props = cfnJSON("""
                {"PublicAccessBlockConfiguration": {"BlockPublicPolicy": "true", "BlockPublicAcls": "true", "IgnorePublicAcls": "true", "RestrictPublicBuckets": "true"},
                 "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]},
                 "VersioningConfiguration": {"Status": "Enabled"}, "Tags": [{"Key": "ManagedStackSource", "Value": "AwsSamCli"}]}
                """).object!
            let request = cfnRequest("SamCliSourceBucket", props)
            let state = try await p.create(request)
            #expect(state.ref.hasPrefix("app-stack-samclisourcebucket-"))
            let read = properties(try await p.currentProperties(request, state: state))
            #expect(textScalars(.object(read)) == textScalars(.object(props)))
        }
    }
}

/// Scalars as text, as drift detection compares them (`true` and `"true"` are equal).
private func textScalars(_ v: JSON) -> JSON {
    switch v {
    case .bool, .number: .string(S3Resources.scalarText(v))
    case .array(let a): .array(a.map(textScalars))
    case .object(let o): .object(o.mapValues(textScalars))
    default: v
    }
}
