import Core
import Foundation
import Testing

@testable import S3

// AWS::S3::Bucket through the provider, read back through S3's own Get operations.

@Suite struct S3CloudFormationTests {
    @Test func bucketCreateUpdateDelete() async throws {
        try await withCFNService { s, p in
            #expect(p.createOnlyProperties(of: "AWS::S3::Bucket") == ["BucketName", "ObjectLockEnabled"])
            var props: [String: JSON] = [
                "BucketName": .string("my-data"), "VersioningConfiguration": .object(["Status": .string("Enabled")]),
                "Tags": .array([.object(["Key": .string("team"), "Value": .string("a")])]),
                "PublicAccessBlockConfiguration": .object(["BlockPublicAcls": .bool(true), "BlockPublicPolicy": .bool(false)]),
                "BucketEncryption": .object(["ServerSideEncryptionConfiguration": .array([.object([
                    "ServerSideEncryptionByDefault": .object(["SSEAlgorithm": .string("aws:kms"), "KMSMasterKeyID": .string("alias/data")]),
                    "BucketKeyEnabled": .bool(true)])])]),
            ]
            let b = try await p.create(cfnRequest("Data", props))
            #expect(b.ref == "my-data")
            #expect(b.attributes["Arn"] == .string("arn:aws:s3:::my-data"))
            #expect(b.attributes["DomainName"] == .string("my-data.s3.amazonaws.com"))
            #expect(b.attributes["RegionalDomainName"] == .string("my-data.s3.us-east-1.amazonaws.com"))
            #expect(b.attributes["DualStackDomainName"] == .string("my-data.s3.dualstack.us-east-1.amazonaws.com"))
            #expect(b.attributes["WebsiteURL"] == .string("http://my-data.s3-website-us-east-1.amazonaws.com"))
            #expect(try await cfnText(try await s.getBucketVersioning(cfnContext("my-data"))).contains("<Status>Enabled</Status>"))
            let tagging = try await cfnText(try await s.getBucketTagging(cfnContext("my-data")))
            #expect(tagging.contains("<Key>team</Key><Value>a</Value>"))
            #expect(tagging.contains("<Key>aws:cloudformation:stack-name</Key><Value>App-Stack</Value>"))
            let block = try await cfnText(try await s.getPublicAccessBlock(cfnContext("my-data")))
            #expect(block.contains("<BlockPublicAcls>true</BlockPublicAcls>") && block.contains("<BlockPublicPolicy>false</BlockPublicPolicy>"))

            let sse = try await cfnText(try await s.getBucketEncryption(cfnContext("my-data")))
            #expect(sse.contains("<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>alias/data</KMSMasterKeyID>"))
            #expect(sse.contains("<BucketKeyEnabled>true</BucketKeyEnabled>"))

            // Dropping versioning suspends it; dropping tags leaves the stack's; dropping the block restores S3's default.
            props["VersioningConfiguration"] = nil
            props["Tags"] = nil
            props["PublicAccessBlockConfiguration"] = nil
            props["BucketEncryption"] = nil
            let updated = try await p.update(cfnRequest("Data", props), previous: b)
            #expect(updated == b)
            #expect(try await cfnText(try await s.getBucketVersioning(cfnContext("my-data"))).contains("<Status>Suspended</Status>"))
            #expect(!(try await cfnText(try await s.getBucketTagging(cfnContext("my-data"))).contains("team")))
            #expect(try await cfnText(try await s.getPublicAccessBlock(cfnContext("my-data"))).contains("<BlockPublicPolicy>true</BlockPublicPolicy>"))
            #expect(try await cfnText(try await s.getBucketEncryption(cfnContext("my-data"))).contains("<SSEAlgorithm>AES256</SSEAlgorithm>"))

            try await p.delete(cfnRequest("Data", props), state: b)
            await #expect(throws: AWSError.self) { try await s.getBucketVersioning(cfnContext("my-data")) }
            try await p.delete(cfnRequest("Data", props), state: b)  // already gone
        }
    }

    @Test func generatedNamesRegionsAndErrors() async throws {
        try await withCFNService { s, p in
            let b = try await p.create(cfnRequest("Logs", [:], region: "eu-central-1"))
            #expect(b.ref.hasPrefix("app-stack-logs-"))
            #expect(b.ref.count <= 63 && b.ref == b.ref.lowercased())
            #expect(b.attributes["WebsiteURL"] == .string("http://\(b.ref).s3-website.eu-central-1.amazonaws.com"))
            let location = try await cfnText(try await s.getBucketLocation(cfnContext(b.ref, region: "eu-central-1")))
            #expect(location.contains("eu-central-1"))
            #expect(try await cfnText(try await s.getBucketVersioning(cfnContext(b.ref))).contains("<Status>") == false)

            let dup = await #expect(throws: AWSError.self) { try await p.create(cfnRequest("Again", ["BucketName": .string(b.ref)])) }
            #expect(dup?.message.contains("already exists") == true)
            await #expect(throws: AWSError.self) { try await p.create(cfnRequest("Bad", ["BucketName": .string("Bad_Name")])) }
            // A bad tag fails before any bucket is made.
            await #expect(throws: AWSError.self) {
                try await p.create(cfnRequest("T", ["BucketName": .string("tagged"),
                                                 "Tags": .array([.object(["Key": .string("aws:x"), "Value": .string("v")])])]))
            }
            await #expect(throws: AWSError.self) { try await s.getBucketVersioning(cfnContext("tagged")) }
            // An encryption S3 refuses: its error, and no bucket.
            let sse = await #expect(throws: AWSError.self) {
                try await p.create(cfnRequest("E", ["BucketName": .string("encrypted"), "BucketEncryption": .object([
                    "ServerSideEncryptionConfiguration": .array([.object(["ServerSideEncryptionByDefault": .object([
                        "SSEAlgorithm": .string("AES256"), "KMSMasterKeyID": .string("k")])])])])]))
            }
            #expect(sse?.code == "InvalidArgument")
            await #expect(throws: AWSError.self) { try await s.getBucketVersioning(cfnContext("encrypted")) }
        }
    }
}
