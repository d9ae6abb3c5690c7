import Core
import Foundation
import HTTPTypes

/// A bucket's CORS rules, in the order S3 evaluates them (the first that matches answers).
struct CORSConfiguration: Sendable {
    struct Rule: Sendable {
        var id: String?
        var allowedHeaders: [String]
        var allowedMethods: [String]
        var allowedOrigins: [String]
        var exposeHeaders: [String]
        var maxAgeSeconds: Int?

        /// Does the rule allow this origin, method and these (lowercased) request headers?
        func matches(origin: String, method: String, headers: [String]) -> Bool {
            allowedMethods.contains(method) && allowedOrigins.contains { Wildcard.matches($0, origin) }
                && headers.allSatisfy { h in allowedHeaders.contains { Wildcard.matches($0.lowercased(), h) } }
        }
    }

    var rules: [Rule]

    static let methods: Set = ["GET", "PUT", "HEAD", "POST", "DELETE"]

    /// A PutBucketCors body: 1 to 100 rules, each with methods S3 knows and at least one origin.
    static func parse(_ doc: XMLElement) throws -> CORSConfiguration {
        let rules = doc.children("CORSRule")
        guard doc.name == "CORSConfiguration", !rules.isEmpty, rules.count <= 100 else { throw S3Error.malformedXML() }
        return CORSConfiguration(rules: try rules.map { r in
            let methods = r.children("AllowedMethod").map(\.text)
            let origins = r.children("AllowedOrigin").map(\.text)
            guard !methods.isEmpty, !origins.isEmpty else { throw S3Error.malformedXML() }
            if let bad = methods.first(where: { !Self.methods.contains($0) }) {
                throw S3Error.invalidRequest("Found unsupported HTTP method in CORS config. Unsupported method is \(bad)")
            }
            var maxAge: Int?
            if let m = r.value("MaxAgeSeconds") {
                guard let v = Int(m) else { throw S3Error.malformedXML() }
                maxAge = v
            }
            return Rule(id: r.value("ID"), allowedHeaders: r.children("AllowedHeader").map(\.text), allowedMethods: methods,
                        allowedOrigins: origins, exposeHeaders: r.children("ExposeHeader").map(\.text), maxAgeSeconds: maxAge)
        })
    }

    /// The stored document, which is also GetBucketCors's answer.
    var document: String {
        S3Service.document("CORSConfiguration") { xml in
            for r in rules {
                xml.group("CORSRule") { xml in
                    xml.element("ID", r.id)
                    for h in r.allowedHeaders { xml.element("AllowedHeader", h) }
                    for m in r.allowedMethods { xml.element("AllowedMethod", m) }
                    for o in r.allowedOrigins { xml.element("AllowedOrigin", o) }
                    for h in r.exposeHeaders { xml.element("ExposeHeader", h) }
                    if let m = r.maxAgeSeconds { xml.element("MaxAgeSeconds", m) }
                }
            }
        }
    }

    static func decode(_ document: String) -> CORSConfiguration? {
        XMLElement.parse(Array(document.utf8)).flatMap { try? parse($0) }
    }

    /// The Access-Control-* headers S3 answers when `rule` matched; a preflight also echoes the headers it asked for.
    static func headers(_ rule: Rule, origin: String, requestedHeaders: [String]?) -> [(String, String)] {
        var out: [(String, String)] = []
        if rule.allowedOrigins.contains("*") {
            out.append(("Access-Control-Allow-Origin", "*"))
        } else {
            out.append(("Access-Control-Allow-Origin", origin))
            out.append(("Access-Control-Allow-Credentials", "true"))
        }
        out.append(("Access-Control-Allow-Methods", rule.allowedMethods.joined(separator: ", ")))
        if let requestedHeaders, !requestedHeaders.isEmpty {
            out.append(("Access-Control-Allow-Headers", requestedHeaders.joined(separator: ", ")))
        }
        if !rule.exposeHeaders.isEmpty { out.append(("Access-Control-Expose-Headers", rule.exposeHeaders.joined(separator: ", "))) }
        if let m = rule.maxAgeSeconds { out.append(("Access-Control-Max-Age", String(m))) }
        out.append(("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"))
        return out
    }
}

/// `*` in a CORS origin or header pattern stands for any run of characters.
enum Wildcard {
    static func matches(_ pattern: String, _ value: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false)
        guard parts.count > 1 else { return pattern == value }
        var rest = Substring(value)
        guard rest.hasPrefix(parts[0]) else { return false }
        rest = rest.dropFirst(parts[0].count)
        for part in parts.dropFirst().dropLast() {
            guard let r = rest.range(of: part) else { return false }
            rest = rest[r.upperBound...]
        }
        let last = parts[parts.count - 1]
        return rest.count >= last.count && rest.hasSuffix(last)
    }
}

extension S3Service {
    func getBucketCors(_ ctx: BucketContext) async throws -> AWSResponse {
        try await storedConfiguration(ctx, .cors, notFound: "NoSuchCORSConfiguration", "The CORS configuration does not exist")
    }

    func putBucketCors(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        let config = try CORSConfiguration.parse(try await configurationDocument(ctx.request, root: "CORSConfiguration"))
        try store.setConfiguration(b.name, .cors, config.document)
        return AWSResponse()
    }

    /// The headers for an actual (not preflight) cross-origin request: those of the first rule allowing its origin
    /// and method, or none.
    func corsHeaders(_ bucket: Bucket, origin: String, method: String) -> [(String, String)] {
        guard let doc = store.configuration(bucket.name, .cors), let config = CORSConfiguration.decode(doc),
              let rule = config.rules.first(where: { $0.matches(origin: origin, method: method, headers: []) }) else { return [] }
        return CORSConfiguration.headers(rule, origin: origin, requestedHeaders: nil)
    }

    /// OPTIONS: a browser's preflight, unsigned. Answered from the bucket's rules; 403 when none allows the request.
    func preflight(_ r: AWSRequest, bucket name: String?, isObject: Bool) async throws -> AWSResponse {
        guard let origin = r.header("origin") else {
            throw AWSError("BadRequest", "Insufficient information. Origin request header needed.")
        }
        let method = r.header("access-control-request-method")
        func forbidden(_ message: String, method: String) -> AWSError {
            AWSError("AccessForbidden", "CORSResponse: " + message, status: .forbidden)
                .with("Method", method).with("ResourceType", isObject ? "OBJECT" : "BUCKET")
        }
        guard let name, let bucket = store.bucket(name) else { throw forbidden("Bucket not found", method: "OPTIONS") }
        guard let doc = store.configuration(bucket.name, .cors), let config = CORSConfiguration.decode(doc) else {
            throw forbidden("CORS is not enabled for this bucket.", method: method ?? "OPTIONS")
        }
        let requested = (r.header("access-control-request-headers") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        guard let method, let rule = config.rules.first(where: { $0.matches(origin: origin, method: method, headers: requested) }) else {
            throw forbidden(
                "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
                method: method ?? "OPTIONS")
        }
        var h = HTTPFields()
        for (k, v) in CORSConfiguration.headers(rule, origin: origin, requestedHeaders: requested) { h.set(k, v) }
        return AWSResponse(headers: h)
    }
}
