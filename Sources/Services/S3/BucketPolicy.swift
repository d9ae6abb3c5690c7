import Core
import Foundation
import HTTPTypes
import NIOCore

/// Bucket policies: checked for the fields every statement needs and kept byte for byte. Not enforced.
extension S3Service {
    func getBucketPolicy(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        let policy = try storedPolicy(b)
        var h = HTTPFields()
        h[.contentType] = "application/json"
        return AWSResponse(headers: h, bytes: ByteBuffer(string: policy))
    }

    func putBucketPolicy(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        let body = try await ctx.request.collectBody(limit: 20 * 1024 + 1)
        let text = String(buffer: body)
        _ = try Self.policyStatements(text)
        try store.setConfiguration(b.name, .policy, text)
        return AWSResponse(status: .noContent)
    }

    /// IsPublic when a statement allows everyone (`"Principal": "*"` or `{"AWS": "*"}`) without conditions.
    func getBucketPolicyStatus(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        let policy = try storedPolicy(b)
        let statements = (try? Self.policyStatements(policy)) ?? []
        let isPublic = statements.contains { s in
            guard s["Effect"] as? String == "Allow", s["Condition"] == nil else { return false }
            return Self.isEveryone(s["Principal"])
        }
        var xml = XMLWriter()
        xml.group("PolicyStatus", xmlns: Self.xmlns) { $0.element("IsPublic", isPublic) }
        return AWSResponse(xml: xml)
    }

    private func storedPolicy(_ b: Bucket) throws -> String {
        guard let policy = store.configuration(b.name, .policy) else {
            throw AWSError("NoSuchBucketPolicy", "The bucket policy does not exist", status: .notFound).with("BucketName", b.name)
        }
        return policy
    }

    private static func isEveryone(_ principal: Any?) -> Bool {
        if let p = principal as? String { return p == "*" }
        guard let aws = (principal as? [String: Any])?["AWS"] else { return false }
        if let one = aws as? String { return one == "*" }
        return (aws as? [String])?.contains("*") == true
    }

    /// The statements of a policy document, or MalformedPolicy as S3 words it.
    static func policyStatements(_ text: String) throws -> [[String: Any]] {
        func malformed(_ message: String) -> AWSError { AWSError("MalformedPolicy", message) }
        guard text.utf8.first(where: { $0 != 32 && $0 != 9 && $0 != 10 && $0 != 13 }) == UInt8(ascii: "{") else {
            throw malformed("Policies must be valid JSON and the first byte must be '{'")
        }
        guard let doc = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw malformed("This policy contains invalid Json")
        }
        guard let raw = doc["Statement"] else { throw malformed("Missing required field Statement") }
        guard let statements = (raw as? [[String: Any]]) ?? (raw as? [String: Any]).map({ [$0] }), !statements.isEmpty else {
            throw malformed("Missing required field Statement")
        }
        for s in statements {
            guard let effect = s["Effect"] else { throw malformed("Missing required field Effect") }
            guard let e = effect as? String, e == "Allow" || e == "Deny" else { throw malformed("Invalid effect: \(effect)") }
            if s["Principal"] == nil && s["NotPrincipal"] == nil { throw malformed("Missing required field Principal") }
            if s["Action"] == nil && s["NotAction"] == nil { throw malformed("Missing required field Action") }
            if s["Resource"] == nil && s["NotResource"] == nil { throw malformed("Missing required field Resource") }
        }
        return statements
    }
}
