import Core
import HTTPTypes

/// A bucket's website configuration: index and error documents, or a redirect of every request, and routing rules.
struct WebsiteConfiguration: Sendable {
    struct Redirect: Sendable {
        var hostName: String?
        var httpRedirectCode: String?
        var `protocol`: String?
        var replaceKeyPrefixWith: String?
        var replaceKeyWith: String?
    }

    struct RoutingRule: Sendable {
        var keyPrefixEquals: String?
        var httpErrorCodeReturnedEquals: String?
        var redirect: Redirect
    }

    var indexSuffix: String?
    var errorKey: String?
    var redirectAll: Redirect?
    var routingRules: [RoutingRule]

    /// A PutBucketWebsite body, validated with S3's answers.
    static func parse(_ doc: XMLElement) throws -> WebsiteConfiguration {
        func redirect(_ e: XMLElement) throws -> Redirect {
            let r = Redirect(hostName: e.value("HostName"), httpRedirectCode: e.value("HttpRedirectCode"), protocol: e.value("Protocol"),
                             replaceKeyPrefixWith: e.value("ReplaceKeyPrefixWith"), replaceKeyWith: e.value("ReplaceKeyWith"))
            if let p = r.protocol, p != "http", p != "https" {
                throw S3Error.invalidRequest("Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically.")
            }
            if r.replaceKeyPrefixWith != nil && r.replaceKeyWith != nil {
                throw S3Error.invalidRequest("You can only define ReplaceKeyPrefix or ReplaceKey but not both.")
            }
            if let code = r.httpRedirectCode, Int(code).map({ (300...399).contains($0) }) != true { throw S3Error.malformedXML() }
            return r
        }
        var config = WebsiteConfiguration(indexSuffix: nil, errorKey: nil, redirectAll: nil, routingRules: [])
        if let all = doc.child("RedirectAllRequestsTo") {
            if doc.child("IndexDocument") != nil || doc.child("ErrorDocument") != nil || doc.child("RoutingRules") != nil {
                throw S3Error.invalidArgument("RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.",
                                              name: "RedirectAllRequestsTo", value: "not null")
            }
            guard all.value("HostName") != nil else { throw S3Error.malformedXML() }
            config.redirectAll = try redirect(all)
            return config
        }
        guard let index = doc.child("IndexDocument") else {
            throw S3Error.invalidArgument("A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
                                          name: "IndexDocument", value: "null")
        }
        let suffix = index.value("Suffix") ?? ""
        if suffix.isEmpty || suffix.contains("/") {
            throw S3Error.invalidArgument("The IndexDocument Suffix is not well formed", name: "IndexDocument", value: suffix)
        }
        config.indexSuffix = suffix
        if let error = doc.child("ErrorDocument") {
            guard let key = error.value("Key"), !key.isEmpty else { throw S3Error.malformedXML() }
            config.errorKey = key
        }
        for rule in doc.child("RoutingRules")?.children("RoutingRule") ?? [] {
            guard let r = rule.child("Redirect") else { throw S3Error.malformedXML() }
            let condition = rule.child("Condition")
            if let condition, condition.value("KeyPrefixEquals") == nil, condition.value("HttpErrorCodeReturnedEquals") == nil {
                throw S3Error.invalidRequest(
                    "Condition cannot be empty. To redirect all requests without a condition, the condition element shouldn't be present.")
            }
            config.routingRules.append(RoutingRule(keyPrefixEquals: condition?.value("KeyPrefixEquals"),
                                                   httpErrorCodeReturnedEquals: condition?.value("HttpErrorCodeReturnedEquals"),
                                                   redirect: try redirect(r)))
        }
        return config
    }

    static func decode(_ document: String) -> WebsiteConfiguration? {
        XMLElement.parse(Array(document.utf8)).flatMap { try? parse($0) }
    }

    /// The first routing rule for `key` and, once the lookup failed, its HTTP error code.
    func rule(for key: String, errorCode: Int?) -> RoutingRule? {
        routingRules.first { rule in
            if let prefix = rule.keyPrefixEquals, !key.hasPrefix(prefix) { return false }
            guard let code = rule.httpErrorCodeReturnedEquals else { return errorCode == nil }
            return errorCode.map(String.init) == code
        }
    }
}

extension S3Service {
    func getBucketWebsite(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        guard let doc = store.configuration(b.name, .website) else { throw Self.noSuchWebsiteConfiguration(b.name) }
        return Self.storedDocument(doc)
    }

    func putBucketWebsite(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        let doc = try await configurationDocument(ctx.request, root: "WebsiteConfiguration")
        _ = try WebsiteConfiguration.parse(doc)
        try store.setConfiguration(b.name, .website, Self.canonical(doc))
        return AWSResponse()
    }

    static func noSuchWebsiteConfiguration(_ bucket: String) -> AWSError {
        AWSError("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration", status: .notFound)
            .with("BucketName", bucket)
    }
}
