import Core
import Foundation

/// `AWS::S3::BucketPolicy`: PutBucketPolicy on its Bucket (create and update), DeleteBucketPolicy (delete). Its Ref is
/// the bucket's name, as AWS documents; Bucket is create-only, so the engine replaces the resource when it changes.
extension S3Resources {
    func putPolicy(_ request: ResourceRequest) async throws -> ResourceState {
        let p = request.properties
        guard let bucket = try Self.string(p["Bucket"], "Bucket"), !bucket.isEmpty else { throw Self.missing(request, "Bucket") }
        guard let document = p["PolicyDocument"], !document.isNull else { throw Self.missing(request, "PolicyDocument") }
        let text = try Self.policyText(document)
        _ = try await service.putBucketPolicy(context(request, .put, bucket, body: text))
        return ResourceState(physicalId: bucket, ref: bucket)
    }

    /// A policy already gone, or its bucket, is not an error.
    func deletePolicy(_ request: ResourceRequest, state: ResourceState) async throws {
        do {
            _ = try await service.deleteConfiguration(context(request, .delete, state.physicalId), .policy)
        } catch let e as AWSError where e.code == "NoSuchBucket" {}
    }

    /// The bucket's policy now, its document as an object (`.deleted` once the policy or its bucket is gone).
    func readPolicy(_ request: ResourceRequest, state: ResourceState) async throws -> ResourceReading {
        guard let bucket = service.store.bucket(state.physicalId), let text = service.store.configuration(bucket.name, .policy) else {
            return .deleted
        }
        let document = (try? JSON(parsing: Data(text.utf8))) ?? .string(text)
        return .properties(["Bucket": .string(bucket.name), "PolicyDocument": document])
    }

    /// The PolicyDocument as the JSON text PutBucketPolicy reads: an object is written out, a string (a template may
    /// give the policy as JSON text) is passed on as it is, so S3 judges it.
    static func policyText(_ document: JSON) throws -> String {
        switch document {
        case .string(let s): return s
        default:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(document), as: UTF8.self)
        }
    }
}
