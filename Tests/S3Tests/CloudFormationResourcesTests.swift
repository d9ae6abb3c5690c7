import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Testing

@testable import S3

// AWS::S3::Bucket through the provider, read back through S3's own Get operations.

private final class Sink: @unchecked Sendable {
    var bytes: [UInt8] = []
}

private struct Writer: ResponseBodyWriter {
    let sink: Sink
    mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes += Array(buffer.readableBytesView) }
    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for b in buffers { sink.bytes += Array(b.readableBytesView) }
    }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

private func text(_ response: AWSResponse) async throws -> String {
    let sink = Sink()
    try await response.body.write(Writer(sink: sink))
    return String(decoding: sink.bytes, as: UTF8.self)
}

private func context(_ bucket: String, region: String = "us-east-1", body: String = "") -> BucketContext {
    BucketContext(request: AWSRequest(method: .get, rawPath: "/" + bucket, rawQuery: "", query: [], headers: HTTPFields(), host: "localhost",
                                      body: RequestBody(buffer: ByteBuffer(string: body)),
                                      caller: CallerIdentity(accountID: "000000000000", region: region, accessKeyID: nil), requestID: "r"),
                  bucket: bucket)
}

private func withService(_ body: (S3Service, S3Resources) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-s3-cfn-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let service = try S3Service(directory: dir, clock: EmulatorClock(), logger: Logger(label: "t"))
    try await body(service, service.resourceProvider)
    try service.store.db.close()
}

private func request(_ logicalId: String, _ properties: [String: JSON], region: String = "us-east-1") -> ResourceRequest {
    ResourceRequest(account: "000000000000", region: region, stackName: "App-Stack", stackId: "arn:aws:cloudformation:\(region):000000000000:stack/App-Stack/1",
                    logicalId: logicalId, type: "AWS::S3::Bucket", properties: properties, tags: ["aws:cloudformation:stack-name": "App-Stack"])
}

@Suite struct S3CloudFormationTests {
    @Test func bucketCreateUpdateDelete() async throws {
        try await withService { s, p in
            #expect(p.createOnlyProperties(of: "AWS::S3::Bucket") == ["BucketName"])
            var props: [String: JSON] = [
                "BucketName": .string("my-data"), "VersioningConfiguration": .object(["Status": .string("Enabled")]),
                "Tags": .array([.object(["Key": .string("team"), "Value": .string("a")])]),
                "PublicAccessBlockConfiguration": .object(["BlockPublicAcls": .bool(true), "BlockPublicPolicy": .bool(false)]),
                "BucketEncryption": .object(["ServerSideEncryptionConfiguration": .array([.object([
                    "ServerSideEncryptionByDefault": .object(["SSEAlgorithm": .string("aws:kms"), "KMSMasterKeyID": .string("alias/data")]),
                    "BucketKeyEnabled": .bool(true)])])]),
            ]
            let b = try await p.create(request("Data", props))
            #expect(b.ref == "my-data")
            #expect(b.attributes["Arn"] == .string("arn:aws:s3:::my-data"))
            #expect(b.attributes["DomainName"] == .string("my-data.s3.amazonaws.com"))
            #expect(b.attributes["RegionalDomainName"] == .string("my-data.s3.us-east-1.amazonaws.com"))
            #expect(b.attributes["DualStackDomainName"] == .string("my-data.s3.dualstack.us-east-1.amazonaws.com"))
            #expect(b.attributes["WebsiteURL"] == .string("http://my-data.s3-website-us-east-1.amazonaws.com"))
            #expect(try await text(try await s.getBucketVersioning(context("my-data"))).contains("<Status>Enabled</Status>"))
            let tagging = try await text(try await s.getBucketTagging(context("my-data")))
            #expect(tagging.contains("<Key>team</Key><Value>a</Value>"))
            #expect(tagging.contains("<Key>aws:cloudformation:stack-name</Key><Value>App-Stack</Value>"))
            let block = try await text(try await s.getPublicAccessBlock(context("my-data")))
            #expect(block.contains("<BlockPublicAcls>true</BlockPublicAcls>") && block.contains("<BlockPublicPolicy>false</BlockPublicPolicy>"))

            let sse = try await text(try await s.getBucketEncryption(context("my-data")))
            #expect(sse.contains("<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>alias/data</KMSMasterKeyID>"))
            #expect(sse.contains("<BucketKeyEnabled>true</BucketKeyEnabled>"))

            // Dropping versioning suspends it; dropping tags leaves the stack's; dropping the block restores S3's default.
            props["VersioningConfiguration"] = nil
            props["Tags"] = nil
            props["PublicAccessBlockConfiguration"] = nil
            props["BucketEncryption"] = nil
            let updated = try await p.update(request("Data", props), previous: b)
            #expect(updated == b)
            #expect(try await text(try await s.getBucketVersioning(context("my-data"))).contains("<Status>Suspended</Status>"))
            #expect(!(try await text(try await s.getBucketTagging(context("my-data"))).contains("team")))
            #expect(try await text(try await s.getPublicAccessBlock(context("my-data"))).contains("<BlockPublicPolicy>true</BlockPublicPolicy>"))
            #expect(try await text(try await s.getBucketEncryption(context("my-data"))).contains("<SSEAlgorithm>AES256</SSEAlgorithm>"))

            try await p.delete(request("Data", props), state: b)
            await #expect(throws: AWSError.self) { try await s.getBucketVersioning(context("my-data")) }
            try await p.delete(request("Data", props), state: b)  // already gone
        }
    }

    @Test func generatedNamesRegionsAndErrors() async throws {
        try await withService { s, p in
            let b = try await p.create(request("Logs", [:], region: "eu-central-1"))
            #expect(b.ref.hasPrefix("app-stack-logs-"))
            #expect(b.ref.count <= 63 && b.ref == b.ref.lowercased())
            #expect(b.attributes["WebsiteURL"] == .string("http://\(b.ref).s3-website.eu-central-1.amazonaws.com"))
            let location = try await text(try await s.getBucketLocation(context(b.ref, region: "eu-central-1")))
            #expect(location.contains("eu-central-1"))
            #expect(try await text(try await s.getBucketVersioning(context(b.ref))).contains("<Status>") == false)

            let dup = await #expect(throws: AWSError.self) { try await p.create(request("Again", ["BucketName": .string(b.ref)])) }
            #expect(dup?.message.contains("already exists") == true)
            await #expect(throws: AWSError.self) { try await p.create(request("Bad", ["BucketName": .string("Bad_Name")])) }
            // A bad tag fails before any bucket is made.
            await #expect(throws: AWSError.self) {
                try await p.create(request("T", ["BucketName": .string("tagged"),
                                                 "Tags": .array([.object(["Key": .string("aws:x"), "Value": .string("v")])])]))
            }
            await #expect(throws: AWSError.self) { try await s.getBucketVersioning(context("tagged")) }
            // An encryption S3 refuses: its error, and the bucket made for it is removed again.
            let sse = await #expect(throws: AWSError.self) {
                try await p.create(request("E", ["BucketName": .string("encrypted"), "BucketEncryption": .object([
                    "ServerSideEncryptionConfiguration": .array([.object(["ServerSideEncryptionByDefault": .object([
                        "SSEAlgorithm": .string("AES256"), "KMSMasterKeyID": .string("k")])])])])]))
            }
            #expect(sse?.code == "InvalidArgument")
            await #expect(throws: AWSError.self) { try await s.getBucketVersioning(context("encrypted")) }
        }
    }
}
