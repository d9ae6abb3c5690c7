import Core
import Foundation
import Testing

@testable import S3

// AWS::S3::BucketPolicy through the provider, read back with GetBucketPolicy and the drift reading.

@Suite struct S3BucketPolicyResourceTests {
    static let allowRead = cfnJSON("""
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
          "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}]}
        """)

    @Test func createUpdateReadDelete() async throws {
        try await withCFNService { s, p in
            #expect(p.resourceTypes.contains("AWS::S3::BucketPolicy"))
            #expect(p.createOnlyProperties(of: "AWS::S3::BucketPolicy") == ["Bucket"])
            _ = try await p.create(cfnRequest("Site", ["BucketName": .string("site")]))
            let policy = cfnRequest("SitePolicy", ["Bucket": .string("site"), "PolicyDocument": Self.allowRead], type: "AWS::S3::BucketPolicy")
            let state = try await p.create(policy)
            // Ref is the bucket's name.
            #expect(state.ref == "site" && state.physicalId == "site")
            let stored = try JSON(parsing: Data(try await cfnText(try await s.getBucketPolicy(cfnContext("site"))).utf8))
            #expect(stored == Self.allowRead)
            #expect(try await p.currentProperties(policy, state: state) == .properties(["Bucket": .string("site"), "PolicyDocument": Self.allowRead]))

            // Update replaces the document; a policy given as JSON text is taken as it is.
            let deny = #"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::site/*"}}"#
            var changed = policy
            changed.properties["PolicyDocument"] = .string(deny)
            let updated = try await p.update(changed, previous: state)
            #expect(updated == state)
            #expect(try await cfnText(try await s.getBucketPolicy(cfnContext("site"))) == deny)
            guard case .properties(let read) = try await p.currentProperties(changed, state: state) else { Issue.record("not read"); return }
            #expect(read["PolicyDocument"] == cfnJSON(deny))

            try await p.delete(changed, state: state)
            let gone = await #expect(throws: AWSError.self) { try await s.getBucketPolicy(cfnContext("site")) }
            #expect(gone?.code == "NoSuchBucketPolicy")
            #expect(try await p.currentProperties(changed, state: state) == .deleted)
            try await p.delete(changed, state: state)  // already gone
            // Its bucket gone too: still not an error.
            try await p.delete(cfnRequest("Site", ["BucketName": .string("site")]), state: ResourceState(physicalId: "site"))
            try await p.delete(changed, state: state)
        }
    }

    @Test func refusedPoliciesChangeNothing() async throws {
        try await withCFNService { s, p in
            _ = try await p.create(cfnRequest("Site", ["BucketName": .string("site")]))
            let good = cfnRequest("P", ["Bucket": .string("site"), "PolicyDocument": Self.allowRead], type: "AWS::S3::BucketPolicy")
            let state = try await p.create(good)
            // S3's own error for a statement without Effect; the stored policy is untouched.
            var bad = good
            bad.properties["PolicyDocument"] = cfnJSON(#"{"Statement": [{"Principal": "*", "Action": "s3:*", "Resource": "*"}]}"#)
            let e = await #expect(throws: AWSError.self) { try await p.update(bad, previous: state) }
            #expect(e?.code == "MalformedPolicy" && e?.message == "Missing required field Effect")
            bad.properties["PolicyDocument"] = .string("not json")
            let e2 = await #expect(throws: AWSError.self) { try await p.update(bad, previous: state) }
            #expect(e2?.message == "Policies must be valid JSON and the first byte must be '{'")
            let stored = try JSON(parsing: Data(try await cfnText(try await s.getBucketPolicy(cfnContext("site"))).utf8))
            #expect(stored == Self.allowRead)

            // A bucket that does not exist; required properties missing.
            let missing = await #expect(throws: AWSError.self) {
                try await p.create(cfnRequest("P2", ["Bucket": .string("nowhere"), "PolicyDocument": Self.allowRead], type: "AWS::S3::BucketPolicy"))
            }
            #expect(missing?.code == "NoSuchBucket")
            let noDoc = await #expect(throws: AWSError.self) {
                try await p.create(cfnRequest("P3", ["Bucket": .string("site")], type: "AWS::S3::BucketPolicy"))
            }
            #expect(noDoc?.message == "Properties validation failed for resource P3 with message: #: required key [PolicyDocument] not found")
        }
    }
}
