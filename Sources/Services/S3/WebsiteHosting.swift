import Core
import HTTPTypes
import NIOCore

/// A request to a bucket's website endpoint: the host `<bucket>.s3-website.localhost` (also `s3-website-<region>`
/// and `s3-website.<region>` forms), or the path `/_cloudless/website/<bucket>/<key>` on any host.
struct WebsiteAddress: Sendable {
    var bucket: String
    var key: String
    /// What precedes `/<key>` in this endpoint's URLs (empty for the host form), for redirects to the same site.
    var base: String

    static let pathPrefix = "/_cloudless/website/"

    static func parse(hostName: String, rawPath: String) -> WebsiteAddress? {
        if rawPath.hasPrefix(pathPrefix) {
            let rest = rawPath.dropFirst(pathPrefix.count)
            let bucket = rest.prefix { $0 != "/" }
            let path = rest.dropFirst(bucket.count)
            guard !bucket.isEmpty, let key = Percent.decode(path.hasPrefix("/") ? path.dropFirst() : path) else { return nil }
            return WebsiteAddress(bucket: String(bucket), key: key, base: pathPrefix + bucket)
        }
        let labels = hostName.lowercased().split(separator: ".")
        guard let i = labels.firstIndex(where: { $0 == "s3-website" || $0.hasPrefix("s3-website-") }), i > 0,
              let key = Percent.decode(rawPath.hasPrefix("/") ? rawPath.dropFirst() : rawPath[...]) else { return nil }
        return WebsiteAddress(bucket: labels[..<i].joined(separator: "."), key: key, base: "")
    }
}

extension S3Service {
    /// Serve a website request as S3's website endpoint does: unauthenticated GET/HEAD, index documents for
    /// folders, routing rules, redirects, and HTML error pages (or the bucket's error document).
    func serveWebsite(_ r: AWSRequest, _ site: WebsiteAddress) async throws -> AWSResponse {
        if r.method == .options { return try await preflight(r, bucket: site.bucket, isObject: !site.key.isEmpty) }
        guard let bucket = store.bucket(site.bucket) else {
            return websiteError(r, S3Error.noSuchBucket(site.bucket))
        }
        var response = try await websiteResponse(r, site, bucket)
        if let origin = r.header("origin") {
            for (k, v) in corsHeaders(bucket, origin: origin, method: r.method.rawValue) { response.headers.set(k, v) }
        }
        return response
    }

    private func websiteResponse(_ r: AWSRequest, _ site: WebsiteAddress, _ bucket: Bucket) async throws -> AWSResponse {
        guard r.method == .get || r.method == .head else {
            return websiteError(r, S3Error.methodNotAllowed(r.method.rawValue, resource: "OBJECT"))
        }
        guard let config = store.configuration(bucket.name, .website).flatMap(WebsiteConfiguration.decode) else {
            return websiteError(r, Self.noSuchWebsiteConfiguration(bucket.name))
        }
        if let all = config.redirectAll {
            return redirect(to: "\(all.protocol ?? "http")://\(all.hostName ?? r.host)/\(site.key)", status: .movedPermanently)
        }
        if let rule = config.rule(for: site.key, errorCode: nil) { return routed(r, site, rule) }
        let suffix = config.indexSuffix ?? "index.html"
        let key = site.key.isEmpty || site.key.hasSuffix("/") ? site.key + suffix : site.key
        if let object = try await store.latest(bucket: bucket.name, key: key), !object.isDeleteMarker {
            if let location = object.header("x-amz-website-redirect-location") { return redirect(to: location, status: .movedPermanently) }
            return try await serveObject(r, bucket, key)
        }
        // A folder asked for without its slash: S3 redirects to the folder when it has an index document.
        if !site.key.isEmpty, !site.key.hasSuffix("/"),
           let index = try await store.latest(bucket: bucket.name, key: site.key + "/" + suffix), !index.isDeleteMarker {
            return redirect(to: "\(site.base)/\(site.key)/", status: .found)
        }
        if let rule = config.rule(for: site.key, errorCode: 404) { return routed(r, site, rule) }
        let missing = S3Error.noSuchKey(key)
        guard let errorKey = config.errorKey else { return websiteError(r, missing) }
        guard try await store.latest(bucket: bucket.name, key: errorKey)?.isDeleteMarker == false else {
            return websiteError(r, missing, errorDocumentError: S3Error.noSuchKey(errorKey))
        }
        var response = try await serveObject(r, bucket, errorKey)
        response.status = .notFound
        return response
    }

    /// GET/HEAD of one object through GetObject (conditional requests and ranges included), as its owner.
    private func serveObject(_ r: AWSRequest, _ bucket: Bucket, _ key: String) async throws -> AWSResponse {
        var request = r
        request.query = []
        request.caller.accountID = bucket.account
        return try await getObject(ObjectContext(request: request, bucket: bucket.name, key: key), head: r.method == .head)
    }

    private func routed(_ r: AWSRequest, _ site: WebsiteAddress, _ rule: WebsiteConfiguration.RoutingRule) -> AWSResponse {
        let to = rule.redirect
        var key = site.key
        if let replacement = to.replaceKeyWith {
            key = replacement
        } else if let replacement = to.replaceKeyPrefixWith {
            key = replacement + key.dropFirst(rule.keyPrefixEquals?.count ?? 0)
        }
        let target = to.hostName.map { "\(to.protocol ?? "http")://\($0)/\(key)" } ?? "\(to.protocol ?? "http")://\(r.host)\(site.base)/\(key)"
        let status = to.httpRedirectCode.flatMap(Int.init).map { HTTPResponse.Status(code: $0) } ?? .movedPermanently
        return redirect(to: target, status: status)
    }

    private func redirect(to location: String, status: HTTPResponse.Status) -> AWSResponse {
        var h = HTTPFields()
        h.set("Location", location)
        return AWSResponse(status: status, headers: h)
    }

    /// S3's HTML error page, with the failure to fetch the error document below when that happened too.
    func websiteError(_ r: AWSRequest, _ error: AWSError, errorDocumentError: AWSError? = nil) -> AWSResponse {
        let title = "\(error.status.code) \(error.status.reasonPhrase)"
        func items(_ e: AWSError) -> String {
            var s = "<li>Code: \(HTML.escape(e.code))</li>\n<li>Message: \(HTML.escape(e.message))</li>\n"
            for (k, v) in e.details { s += "<li>\(k): \(HTML.escape(v))</li>\n" }
            return s
        }
        var html = "<html>\n<head><title>\(title)</title></head>\n<body>\n<h1>\(title)</h1>\n<ul>\n" + items(error)
        html += "<li>RequestId: \(r.requestID)</li>\n<li>HostId: \(RequestID.hostID(for: r.requestID))</li>\n</ul>\n"
        if let e = errorDocumentError {
            html += "<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>\n<ul>\n" + items(e) + "</ul>\n"
        }
        html += "<hr/>\n</body>\n</html>\n"
        var h = HTTPFields()
        h[.contentType] = "text/html; charset=utf-8"
        if r.method == .head { return AWSResponse(status: error.status, headers: h) }
        return AWSResponse(status: error.status, headers: h, bytes: ByteBuffer(string: html))
    }
}
