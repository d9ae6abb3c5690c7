// Parsing of the SigV4 request parts: the credential scope, the Authorization
// header and the presigned-URL query parameters.

/// The credential of a SigV4 request: "AKID/20150830/us-east-1/iam/aws4_request".
public struct SigV4Credential: Sendable, Hashable, CustomStringConvertible {
    public var accessKeyId: String
    /// yyyyMMdd
    public var date: String
    public var region: String
    public var service: String

    public init(accessKeyId: String, date: String, region: String, service: String) {
        self.accessKeyId = accessKeyId
        self.date = date
        self.region = region
        self.service = service
    }

    /// Parses "AKID/yyyyMMdd/region/service/aws4_request" (already URL-decoded).
    public init?(_ credential: String) {
        let parts = credential.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[4] == "aws4_request",
              !parts[0].isEmpty, !parts[2].isEmpty, !parts[3].isEmpty,
              parts[1].utf8.count == 8, parts[1].utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        self.init(accessKeyId: String(parts[0]), date: String(parts[1]),
                  region: String(parts[2]), service: String(parts[3]))
    }

    /// "yyyyMMdd/region/service/aws4_request"
    public var scope: String { SigV4.scope(date: date, region: region, service: service) }

    /// The full credential string, "AKID/" + scope.
    public var description: String { accessKeyId + "/" + scope }
}

/// A parsed `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` header.
public struct SigV4Authorization: Sendable, Hashable {
    public var credential: SigV4Credential
    /// Lowercased header names, in the order the client listed them.
    public var signedHeaders: [String]
    /// Hex signature as sent.
    public var signature: String

    public var accessKeyId: String { credential.accessKeyId }
    /// yyyyMMdd
    public var date: String { credential.date }
    public var region: String { credential.region }
    public var service: String { credential.service }
    public var scope: String { credential.scope }

    public init(credential: SigV4Credential, signedHeaders: [String], signature: String) {
        self.credential = credential
        self.signedHeaders = signedHeaders
        self.signature = signature
    }

    /// Parses the header value. Tolerates any whitespace after the algorithm
    /// and around the comma-separated components. Nil if it is not a
    /// well-formed AWS4-HMAC-SHA256 authorization.
    public init?(header: String) {
        let algorithm = SigV4.algorithm
        guard header.hasPrefix(algorithm) else { return nil }
        let rest = header.dropFirst(algorithm.count)
        guard let first = rest.first, first == " " || first == "\t" else { return nil }

        var credential: SigV4Credential?
        var signedHeaders: [String]?
        var signature: String?
        for component in rest.split(separator: ",") {
            let item = trimWhitespace(component)
            guard !item.isEmpty else { continue }
            guard let equals = item.firstIndex(of: "=") else { return nil }
            let key = item[..<equals]
            let value = String(item[item.index(after: equals)...])
            switch key {
            case "Credential":
                guard credential == nil, let parsed = SigV4Credential(value) else { return nil }
                credential = parsed
            case "SignedHeaders":
                guard signedHeaders == nil, let parsed = parseSignedHeaders(value) else { return nil }
                signedHeaders = parsed
            case "Signature":
                guard signature == nil, !value.isEmpty else { return nil }
                signature = value
            default:
                continue
            }
        }
        guard let credential, let signedHeaders, let signature else { return nil }
        self.init(credential: credential, signedHeaders: signedHeaders, signature: signature)
    }
}

/// The SigV4 query parameters of a presigned URL.
public struct SigV4Presign: Sendable, Hashable {
    public var credential: SigV4Credential
    /// X-Amz-Date, "yyyyMMddTHHmmssZ".
    public var amzDate: String
    /// X-Amz-Expires in seconds (the caller enforces AWS's 1...604800).
    public var expires: Int
    /// Lowercased header names.
    public var signedHeaders: [String]
    public var signature: String
    public var securityToken: String?

    public var accessKeyId: String { credential.accessKeyId }
    public var scope: String { credential.scope }

    public init(credential: SigV4Credential, amzDate: String, expires: Int, signedHeaders: [String],
                signature: String, securityToken: String? = nil) {
        self.credential = credential
        self.amzDate = amzDate
        self.expires = expires
        self.signedHeaders = signedHeaders
        self.signature = signature
        self.securityToken = securityToken
    }

    /// True when the query carries SigV4 presign parameters at all
    /// (X-Amz-Algorithm, X-Amz-Credential or X-Amz-Signature), valid or not.
    public static func isPresigned(query: [(String, String)]) -> Bool {
        query.contains { $0.0 == "X-Amz-Algorithm" || $0.0 == "X-Amz-Credential" || $0.0 == "X-Amz-Signature" }
    }

    /// Parses already URL-decoded query items. Nil when a parameter is
    /// missing or malformed, or the algorithm is not AWS4-HMAC-SHA256.
    public init?(query: [(String, String)]) {
        func value(_ name: String) -> String? { query.first { $0.0 == name }?.1 }
        guard value("X-Amz-Algorithm") == SigV4.algorithm,
              let credentialString = value("X-Amz-Credential"), let credential = SigV4Credential(credentialString),
              let amzDate = value("X-Amz-Date"), SigV4.parseAmzDate(amzDate) != nil,
              let expiresString = value("X-Amz-Expires"), let expires = Int(expiresString), expires >= 0,
              let signedString = value("X-Amz-SignedHeaders"), let signedHeaders = parseSignedHeaders(signedString),
              let signature = value("X-Amz-Signature"), !signature.isEmpty
        else { return nil }
        self.init(credential: credential, amzDate: amzDate, expires: expires, signedHeaders: signedHeaders,
                  signature: signature, securityToken: value("X-Amz-Security-Token"))
    }
}

// MARK: - Helpers

func parseSignedHeaders(_ value: String) -> [String]? {
    let names = value.split(separator: ";", omittingEmptySubsequences: false).map { $0.lowercased() }
    guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty }) else { return nil }
    return names
}

@inline(__always)
func isHTTPWhitespace(_ c: UInt8) -> Bool {
    c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") || c == UInt8(ascii: "\n")
}

func trimWhitespace(_ s: Substring) -> Substring {
    var start = s.startIndex
    var end = s.endIndex
    while start < end, let c = s[start].asciiValue, isHTTPWhitespace(c) { start = s.index(after: start) }
    while end > start {
        let before = s.index(before: end)
        guard let c = s[before].asciiValue, isHTTPWhitespace(c) else { break }
        end = before
    }
    return s[start..<end]
}

extension SigV4 {
    /// Parses an ISO 8601 basic timestamp "yyyyMMddTHHmmssZ" (X-Amz-Date) to
    /// seconds since the Unix epoch. Nil if malformed or out of range.
    public static func parseAmzDate(_ value: String) -> Int64? {
        let b = Array(value.utf8)
        guard b.count == 16, b[8] == UInt8(ascii: "T"), b[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var n: Int64 = 0
            for i in range {
                let c = b[i]
                guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
                n = n * 10 + Int64(c - UInt8(ascii: "0"))
            }
            return n
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
              let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return days * 86400 + hour * 3600 + minute * 60 + second
    }
}
