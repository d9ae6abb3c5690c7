// AWS Signature Version 4: canonical request, string to sign, signing key and
// signature, plus the chunk and trailer signatures of aws-chunked uploads.
//
// Everything here is a pure function of its inputs; the caller supplies the
// request parts as received (raw, still percent-encoded path; URL-decoded
// query items; header name/value pairs) and compares signatures with
// `constantTimeEquals`.

public enum SigV4 {
    public static let algorithm = "AWS4-HMAC-SHA256"
    public static let emptyPayloadHash = SHA256.emptyHex
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    public static let streamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    public static let streamingPayloadTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    public static let streamingUnsignedPayloadTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

    // MARK: Encoding

    /// AWS URI encoding: unreserved characters (A-Z a-z 0-9 - . _ ~) are kept,
    /// every other UTF-8 byte becomes %XX (uppercase hex). '/' is kept when
    /// `encodeSlash` is false.
    public static func uriEncode(_ s: String, encodeSlash: Bool = true) -> String {
        var s = s
        return s.withUTF8 { uriEncode(bytes: UnsafeRawBufferPointer($0), encodeSlash: encodeSlash) }
    }

    static func uriEncode(bytes: UnsafeRawBufferPointer, encodeSlash: Bool) -> String {
        var needed = 0
        for byte in bytes { needed += isKept(byte, encodeSlash: encodeSlash) ? 1 : 3 }
        guard needed > 0 else { return "" }
        let hex: StaticString = "0123456789ABCDEF"
        return String(unsafeUninitializedCapacity: needed) { out in
            let digits = hex.utf8Start
            var i = 0
            for byte in bytes {
                if isKept(byte, encodeSlash: encodeSlash) {
                    out[i] = byte
                    i += 1
                } else {
                    out[i] = UInt8(ascii: "%")
                    out[i + 1] = digits[Int(byte >> 4)]
                    out[i + 2] = digits[Int(byte & 0x0f)]
                    i += 3
                }
            }
            return i
        }
    }

    @inline(__always)
    static func isKept(_ c: UInt8, encodeSlash: Bool) -> Bool {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        case UInt8(ascii: "/"):
            return !encodeSlash
        default:
            return false
        }
    }

    /// Percent-decodes %XX sequences (either hex case) to raw bytes. A '%'
    /// not followed by two hex digits is kept literally. '+' is not a space.
    public static func percentDecode(_ s: String) -> [UInt8] {
        let bytes = Array(s.utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count,
               let high = Hex.nibble(bytes[i + 1]), let low = Hex.nibble(bytes[i + 2]) {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    // MARK: Canonical request

    /// Services whose canonical URI is the path encoded once, without dot-segment normalization.
    static func isS3(_ service: String) -> Bool {
        service == "s3" || service == "s3express" || service == "s3-object-lambda"
    }

    /// The canonical URI of a request path as received (still percent-encoded, no query).
    ///
    /// - S3: the path is decoded, then every segment re-encoded once ('/' kept),
    ///   with no normalization (keys may contain "//", "." and "..").
    /// - Other services: empty and dot segments are removed (a trailing '/'
    ///   is kept), then the path as received is encoded again, i.e. the
    ///   client's path is encoded twice, as the aws-sig-v4-test-suite
    ///   (`get-space`, `get-utf8`, `normalize-path/*`) and botocore do.
    public static func canonicalURI(rawPath: String, service: String) -> String {
        var path = Substring(rawPath)
        if let question = path.firstIndex(of: "?") { path = path[..<question] }
        if path.isEmpty { return "/" }
        if isS3(service) {
            let decoded = percentDecode(String(path))
            return decoded.withUnsafeBytes { uriEncode(bytes: $0, encodeSlash: false) }
        }
        return uriEncode(normalizePath(String(path)), encodeSlash: false)
    }

    /// RFC 3986-style dot-segment removal that also drops empty segments, as botocore does.
    static func normalizePath(_ path: String) -> String {
        var output: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." {
                if !output.isEmpty { output.removeLast() }
                continue
            }
            output.append(segment)
        }
        let leading = path.hasPrefix("/") ? "/" : ""
        let trailing = path.hasSuffix("/") && !output.isEmpty ? "/" : ""
        let joined = leading + output.joined(separator: "/") + trailing
        return joined.isEmpty ? "/" : joined
    }

    /// The canonical query string from URL-decoded items: names and values
    /// URI-encoded, sorted by name then value (byte order), joined with '&'.
    /// An `X-Amz-Signature` item (present on presigned URLs) is left out.
    public static func canonicalQuery(_ items: [(String, String)]) -> String {
        var pairs: [(name: String, value: String)] = []
        pairs.reserveCapacity(items.count)
        for (name, value) in items where name != "X-Amz-Signature" {
            pairs.append((uriEncode(name), uriEncode(value)))
        }
        pairs.sort { a, b in
            if a.name != b.name { return a.name.utf8.lexicographicallyPrecedes(b.name.utf8) }
            return a.value.utf8.lexicographicallyPrecedes(b.value.utf8)
        }
        var result = ""
        for (index, pair) in pairs.enumerated() {
            if index > 0 { result += "&" }
            result += pair.name
            result += "="
            result += pair.value
        }
        return result
    }

    /// The canonical headers block: one "name:value\n" line per signed header,
    /// in the order of `signed`. Names are lowercased; each value is trimmed
    /// and its internal runs of whitespace collapsed to one space; several
    /// headers of the same name are joined with ','. A signed header that is
    /// absent yields "name:" (the signature will then not match).
    public static func canonicalHeaders(headers: [(String, String)], signed: [String]) -> String {
        let lowered: [(name: String, value: String)] = headers.map { ($0.0.lowercased(), $0.1) }
        var result = ""
        for name in signed {
            let name = name.lowercased()
            result += name
            result += ":"
            var first = true
            for header in lowered where header.name == name {
                if !first { result += "," }
                first = false
                result += normalizeHeaderValue(header.value)
            }
            result += "\n"
        }
        return result
    }

    /// Trims and collapses runs of whitespace (space, tab, CR, LF) to a single space.
    public static func normalizeHeaderValue(_ value: String) -> String {
        var needsWork = false
        var previousSpace = true
        for c in value.utf8 {
            let space = isHTTPWhitespace(c)
            if space && (previousSpace || c != UInt8(ascii: " ")) { needsWork = true; break }
            previousSpace = space
        }
        if !needsWork && !previousSpace { return value }
        var out = [UInt8]()
        out.reserveCapacity(value.utf8.count)
        var pendingSpace = false
        for c in value.utf8 {
            if isHTTPWhitespace(c) {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(UInt8(ascii: " ")); pendingSpace = false }
                out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The full canonical request.
    public static func canonicalRequest(
        method: String, rawPath: String, query: [(String, String)], headers: [(String, String)],
        signedHeaders: [String], payloadHash: String, service: String
    ) -> String {
        var result = method
        result += "\n"
        result += canonicalURI(rawPath: rawPath, service: service)
        result += "\n"
        result += canonicalQuery(query)
        result += "\n"
        result += canonicalHeaders(headers: headers, signed: signedHeaders)
        result += "\n"
        result += signedHeaders.map { $0.lowercased() }.joined(separator: ";")
        result += "\n"
        result += payloadHash
        return result
    }

    // MARK: Signing

    /// "yyyyMMdd/region/service/aws4_request"
    public static func scope(date: String, region: String, service: String) -> String {
        date + "/" + region + "/" + service + "/aws4_request"
    }

    /// "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex(sha256(canonicalRequest)).
    public static func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
        algorithm + "\n" + amzDate + "\n" + scope + "\n" + Hex.encode(SHA256.hash(canonicalRequest.utf8))
    }

    /// HMAC chain "AWS4" + secret → date → region → service → "aws4_request".
    public static func signingKey(secret: String, date: String, region: String, service: String) -> [UInt8] {
        let kDate = HMAC.sha256(key: Array(("AWS4" + secret).utf8), data: date)
        let kRegion = HMAC.sha256(key: kDate, data: region)
        let kService = HMAC.sha256(key: kRegion, data: service)
        return HMAC.sha256(key: kService, data: "aws4_request")
    }

    /// Lowercase hex HMAC-SHA256 of the string to sign.
    public static func signature(signingKey: [UInt8], stringToSign: String) -> String {
        Hex.encode(HMAC.sha256(key: signingKey, data: stringToSign))
    }

    // MARK: Streaming (aws-chunked)

    /// String to sign of one chunk of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER) body.
    public static func chunkStringToSign(amzDate: String, scope: String, previousSignature: String,
                                         chunkSHA256Hex: String) -> String {
        "AWS4-HMAC-SHA256-PAYLOAD\n" + amzDate + "\n" + scope + "\n" + previousSignature + "\n"
            + emptyPayloadHash + "\n" + chunkSHA256Hex
    }

    /// The canonical trailer block that the trailer signature covers: one
    /// "name:value\n" line per trailer (name lowercased, value trimmed), in
    /// the given order, without `x-amz-trailer-signature`.
    public static func canonicalTrailers(_ trailers: [(String, String)]) -> String {
        var result = ""
        for (name, value) in trailers {
            let name = name.lowercased()
            if name == "x-amz-trailer-signature" { continue }
            result += name + ":" + String(trimWhitespace(Substring(value))) + "\n"
        }
        return result
    }

    /// String to sign of the trailer of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER body;
    /// `previousSignature` is the final (zero-length) chunk's signature.
    public static func trailerStringToSign(amzDate: String, scope: String, previousSignature: String,
                                           canonicalTrailers: String) -> String {
        "AWS4-HMAC-SHA256-TRAILER\n" + amzDate + "\n" + scope + "\n" + previousSignature + "\n"
            + Hex.encode(SHA256.hash(canonicalTrailers.utf8))
    }

    // MARK: Comparison

    /// Compares two signatures in time independent of where they differ.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let a = Array(a.utf8)
        let b = Array(b.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
