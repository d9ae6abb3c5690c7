import Core
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `AWS::S3::Bucket` and `AWS::S3::BucketPolicy` for CloudFormation, over the operations S3's API serves, called
/// in-process with the documents they read. The bucket is in `CloudFormationBucket.swift` (its configurations in the
/// other `CloudFormation*.swift` files, one per configuration), the policy in `CloudFormationBucketPolicy.swift`.
public struct S3Resources: ResourceProvider {
    let service: S3Service

    static let bucketType = "AWS::S3::Bucket"
    static let policyType = "AWS::S3::BucketPolicy"

    public var resourceTypes: [String] { [Self.bucketType, Self.policyType] }

    public func createOnlyProperties(of type: String) -> Set<String> {
        switch type {
        case Self.bucketType: ["BucketName", "ObjectLockEnabled"]
        case Self.policyType: ["Bucket"]
        default: []
        }
    }

    public func create(_ request: ResourceRequest) async throws -> ResourceState {
        switch request.type {
        case Self.bucketType: try await createBucket(request)
        case Self.policyType: try await putPolicy(request)
        default: throw Self.unsupported(request.type)
        }
    }

    public func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        switch request.type {
        case Self.bucketType: try await updateBucket(request, previous: previous)
        case Self.policyType: try await putPolicy(request)
        default: throw Self.unsupported(request.type)
        }
    }

    public func delete(_ request: ResourceRequest, state: ResourceState) async throws {
        switch request.type {
        case Self.bucketType: try await deleteBucket(request, state: state)
        case Self.policyType: try await deletePolicy(request, state: state)
        default: throw Self.unsupported(request.type)
        }
    }

    public func currentProperties(_ request: ResourceRequest, state: ResourceState) async throws -> ResourceReading {
        switch request.type {
        case Self.bucketType: try await readBucket(request, state: state)
        case Self.policyType: try await readPolicy(request, state: state)
        default: .notChecked
        }
    }

    // MARK: Support

    /// A request to `/bucket` as the stack's account and region would send it, with `headers` and an XML or JSON body.
    func internalRequest(_ request: ResourceRequest, _ method: HTTPRequest.Method, _ bucket: String, body: String = "",
                         headers: [(String, String)] = []) -> AWSRequest {
        var fields = HTTPFields()
        for (k, v) in headers { fields.set(k, v) }
        return AWSRequest(method: method, rawPath: "/" + bucket, rawQuery: "", query: [], headers: fields, host: "localhost",
                          body: RequestBody(buffer: ByteBuffer(string: body)),
                          caller: CallerIdentity(accountID: request.account, region: request.region, accessKeyID: nil),
                          requestID: UUID().uuidString)
    }

    func context(_ request: ResourceRequest, _ method: HTTPRequest.Method, _ bucket: String, body: String = "",
                 headers: [(String, String)] = []) -> BucketContext {
        BucketContext(request: internalRequest(request, method, bucket, body: body, headers: headers), bucket: bucket)
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

    /// A required property the template does not give, as CloudFormation's schema validation words it.
    static func missing(_ request: ResourceRequest, _ name: String) -> AWSError {
        AWSError("ValidationError", "Properties validation failed for resource \(request.logicalId) with message: #: required key [\(name)] not found")
    }

    static func unsupported(_ type: String) -> AWSError {
        AWSError("InvalidRequest", "Resource type \(type) is not served by S3.")
    }
}

extension S3Service {
    /// The CloudFormation provider of buckets and bucket policies.
    public var resourceProvider: S3Resources { S3Resources(service: self) }
}
