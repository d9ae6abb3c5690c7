// AWS Signature Version 2 for S3 (legacy `Authorization: AWS AKID:sig` headers
// and `?AWSAccessKeyId=&Expires=&Signature=` presigned URLs).
//
//     StringToSign = Method + "\n" + Content-MD5 + "\n" + Content-Type + "\n"
//                  + (Date | Expires) + "\n" + CanonicalizedAmzHeaders + CanonicalizedResource
//     Signature    = base64(HMAC-SHA1(secret, StringToSign))

public enum SigV2 {
    /// Query parameters that are part of the canonicalized resource (S3's
    /// sub-resources and response overrides; botocore's list).
    public static let subresources: Set<String> = [
        "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber", "policy",
        "requestPayment", "torrent", "versioning", "versionId", "versions", "website", "uploads", "uploadId",
        "response-content-type", "response-content-language", "response-expires", "response-cache-control",
        "response-content-disposition", "response-content-encoding", "delete", "lifecycle", "tagging",
        "restore", "storageClass", "notification", "replication", "analytics", "metrics", "inventory",
        "select", "select-type", "object-lock",
    ]

    /// base64(HMAC-SHA1(secret, stringToSign)).
    public static func signature(secret: String, stringToSign: String) -> String {
        ChecksumAlgorithm.base64(HMAC.sha1(key: Array(secret.utf8), data: stringToSign))
    }

    /// String to sign of a presigned (query string) request: the Date slot holds Expires.
    public static func presignedStringToSign(
        method: String, contentMD5: String, contentType: String, expires: String,
        canonicalizedAmzHeaders: String, canonicalizedResource: String
    ) -> String {
        method + "\n" + contentMD5 + "\n" + contentType + "\n" + expires + "\n"
            + canonicalizedAmzHeaders + canonicalizedResource
    }

    /// String to sign of a header-authenticated request. `date` is the Date
    /// header, or "" when the request carries x-amz-date (which then appears
    /// among the canonicalized amz headers).
    public static func stringToSign(
        method: String, contentMD5: String, contentType: String, date: String,
        canonicalizedAmzHeaders: String, canonicalizedResource: String
    ) -> String {
        method + "\n" + contentMD5 + "\n" + contentType + "\n" + date + "\n"
            + canonicalizedAmzHeaders + canonicalizedResource
    }

    /// "name:value\n" for every x-amz-* header: names lowercased and sorted,
    /// values trimmed (whitespace runs collapsed), repeated headers joined with ','.
    public static func canonicalizedAmzHeaders(_ headers: [(String, String)]) -> String {
        var names: [String] = []
        var values: [String: [String]] = [:]
        for (name, value) in headers {
            let lower = name.lowercased()
            guard lower.hasPrefix("x-amz-") else { continue }
            if values[lower] == nil { names.append(lower) }
            values[lower, default: []].append(SigV4.normalizeHeaderValue(value))
        }
        names.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var result = ""
        for name in names {
            result += name + ":" + values[name]!.joined(separator: ",") + "\n"
        }
        return result
    }

    /// The canonicalized resource: `rawPath` is "/bucket/key" as sent on the wire
    /// (still percent-encoded, no query; for virtual-hosted-style requests the
    /// caller must prefix "/bucket", and a bucket root is "/bucket/"); then the
    /// sub-resources among the URL-decoded `query` items, sorted by name, as
    /// "?name" (empty value) or "?name=value", joined with '&'.
    public static func canonicalizedResource(rawPath: String, query: [(String, String)]) -> String {
        let selected = query.filter { subresources.contains($0.0) }
            .sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
        guard !selected.isEmpty else { return rawPath }
        return rawPath + "?" + selected.map { $0.1.isEmpty ? $0.0 : $0.0 + "=" + $0.1 }.joined(separator: "&")
    }

    /// A parsed `Authorization: AWS AKID:signature` header.
    public struct Authorization: Sendable, Hashable {
        public var accessKeyId: String
        public var signature: String

        public init?(header: String) {
            guard header.hasPrefix("AWS ") else { return nil }
            let rest = trimWhitespace(header.dropFirst(4))
            guard let colon = rest.lastIndex(of: ":") else { return nil }
            let key = rest[..<colon]
            let signature = rest[rest.index(after: colon)...]
            guard !key.isEmpty, !signature.isEmpty else { return nil }
            accessKeyId = String(key)
            self.signature = String(signature)
        }
    }

    /// The query parameters of a SigV2 presigned URL (URL-decoded).
    public struct Presign: Sendable, Hashable {
        public var accessKeyId: String
        /// Unix time after which the URL is invalid; kept as sent, since it is signed verbatim.
        public var expires: String
        public var signature: String
        public var securityToken: String?

        public var expiresEpoch: Int64? { Int64(expires) }

        public init?(query: [(String, String)]) {
            func value(_ name: String) -> String? { query.first { $0.0 == name }?.1 }
            guard let key = value("AWSAccessKeyId"), !key.isEmpty,
                  let expires = value("Expires"), Int64(expires) != nil,
                  let signature = value("Signature"), !signature.isEmpty
            else { return nil }
            accessKeyId = key
            self.expires = expires
            self.signature = signature
            securityToken = value("x-amz-security-token")
        }
    }
}
