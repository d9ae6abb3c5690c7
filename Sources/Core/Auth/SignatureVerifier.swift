public import HTTPTypes

/// `--strict-auth`: recompute the signature of a request and compare. Errors are the ones AWS answers.
public struct SignatureVerifier: Sendable {
    public let settings: AuthSettings

    public init(settings: AuthSettings) { self.settings = settings }

    /// S3 says InvalidAccessKeyId; the other services InvalidClientTokenId.
    private func secret(for key: String, service: String) throws -> String {
        guard let s = settings.secret(for: key) else {
            if service == "s3" { throw AWSError.invalidAccessKeyId() }
            throw AWSError("InvalidClientTokenId", "The security token included in the request is invalid.", status: .forbidden)
        }
        return s
    }

    /// AWS refuses requests signed more than 15 minutes away from its clock.
    static let maxSkew = 15.0 * 60

    private func checkSkew(_ amzDate: String, now: Double, service: String) throws {
        guard let t = AWSDate.parse(amzDate), abs(now - t) > Self.maxSkew else { return }
        if service == "s3" {
            throw AWSError("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.",
                           status: .forbidden)
                .with("RequestTime", amzDate).with("ServerTime", AWSDate.iso8601(now)).with("MaxAllowedSkewMilliseconds", "900000")
        }
        throw AWSError("SignatureDoesNotMatch",
                       "Signature expired: \(amzDate) is now earlier than \(AWSDate.amzDate(now - Self.maxSkew)) (\(AWSDate.amzDate(now)) - 15 min.)",
                       status: .forbidden)
    }

    /// Verify; returns what chunk-signature verification needs later. `payloadHash` supplies the body hash
    /// for services that sign it without an `x-amz-content-sha256` header (the gateway buffers those small bodies).
    public func verify(
        _ creds: RequestCredentials, service: String, method: HTTPRequest.Method, rawPath: String, query: [(String, String)],
        headers: HTTPFields, host: String, now: Double, payloadHash: () async throws -> String
    ) async throws -> RequestSignature? {
        switch creds {
        case .anonymous, .malformedPresign:
            if service == "s3" { throw AWSError.accessDenied() }
            throw AWSError("MissingAuthenticationToken", "Request is missing Authentication Token", status: .forbidden)

        case .sigV4Header(let auth):
            let secret = try secret(for: auth.accessKeyId, service: service)
            guard let amzDate = headers.value("x-amz-date") ?? headers[.date].flatMap({ AWSDate.parse($0).map(AWSDate.amzDate) }) else {
                throw AWSError.accessDenied("AWS authentication requires a valid Date or x-amz-date header")
            }
            try checkSkew(amzDate, now: now, service: service)
            var hash = headers.value("x-amz-content-sha256") ?? ""
            if hash.isEmpty { hash = try await payloadHash() }
            let canonical = SigV4.canonicalRequest(
                method: method.rawValue, rawPath: rawPath, query: query,
                headers: headerList(headers, host: host), signedHeaders: auth.signedHeaders,
                payloadHash: hash, service: auth.service)
            let scope = "\(auth.date)/\(auth.region)/\(auth.service)/aws4_request"
            let key = SigningKeyCache.key(secret: secret, date: auth.date, region: auth.region, service: auth.service)
            let sts = SigV4.stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonical)
            guard constantTimeEqual(SigV4.signature(signingKey: key, stringToSign: sts), auth.signature) else {
                throw AWSError.signatureDoesNotMatch()
            }
            return RequestSignature(accessKeyID: auth.accessKeyId, amzDate: amzDate, scope: scope, seedSignature: auth.signature, signingKey: key)

        case .sigV4Presigned(let p):
            let secret = try secret(for: p.credential.accessKeyId, service: service)
            if let start = AWSDate.parse(p.amzDate), now > start + Double(p.expires) {
                let expires = Double(p.expires)
                throw AWSError.accessDenied("Request has expired").with("X-Amz-Expires", String(p.expires))
                    .with("Expires", AWSDate.iso8601(start + expires)).with("ServerTime", AWSDate.iso8601(now))
            }
            let c = p.credential
            let unsignedQuery = query.filter { $0.0 != "X-Amz-Signature" }
            let scope = "\(c.date)/\(c.region)/\(c.service)/aws4_request"
            let key = SigningKeyCache.key(secret: secret, date: c.date, region: c.region, service: c.service)
            func matches(_ payloadHash: String) -> Bool {
                let canonical = SigV4.canonicalRequest(
                    method: method.rawValue, rawPath: rawPath, query: unsignedQuery,
                    headers: headerList(headers, host: host), signedHeaders: p.signedHeaders, payloadHash: payloadHash, service: c.service)
                let sts = SigV4.stringToSign(amzDate: p.amzDate, scope: scope, canonicalRequest: canonical)
                return constantTimeEqual(SigV4.signature(signingKey: key, stringToSign: sts), p.signature)
            }
            // S3 presigns with UNSIGNED-PAYLOAD; other services (an SQS Query GET) sign the body's hash.
            var valid = matches(headers.value("x-amz-content-sha256") ?? "UNSIGNED-PAYLOAD")
            if !valid && c.service != "s3" { valid = matches(try await payloadHash()) }
            guard valid else { throw AWSError.signatureDoesNotMatch() }
            return RequestSignature(accessKeyID: c.accessKeyId, amzDate: p.amzDate, scope: scope, seedSignature: p.signature, signingKey: key)

        case .sigV2Presigned(let key, let signature, let expires):
            let secret = try secret(for: key, service: service)
            if let e = Double(expires), now > e {
                throw AWSError.accessDenied("Request has expired").with("Expires", AWSDate.iso8601(e)).with("ServerTime", AWSDate.iso8601(now))
            }
            let sts = SigV2.presignedStringToSign(
                method: method.rawValue, contentMD5: headers.value("content-md5") ?? "", contentType: headers[.contentType] ?? "",
                expires: expires, canonicalizedAmzHeaders: SigV2.canonicalizedAmzHeaders(headerList(headers, host: host)),
                canonicalizedResource: SigV2.canonicalizedResource(rawPath: sigV2Path(rawPath, host: host), query: query))
            guard constantTimeEqual(SigV2.signature(secret: secret, stringToSign: sts), signature) else {
                throw AWSError.signatureDoesNotMatch()
            }
            return nil

        case .sigV2Header(let key, let signature):
            let secret = try secret(for: key, service: service)
            let date = headers.value("x-amz-date") != nil ? "" : (headers[.date] ?? "")
            let sts = SigV2.presignedStringToSign(
                method: method.rawValue, contentMD5: headers.value("content-md5") ?? "", contentType: headers[.contentType] ?? "",
                expires: date, canonicalizedAmzHeaders: SigV2.canonicalizedAmzHeaders(headerList(headers, host: host)),
                canonicalizedResource: SigV2.canonicalizedResource(rawPath: sigV2Path(rawPath, host: host), query: query))
            guard constantTimeEqual(SigV2.signature(secret: secret, stringToSign: sts), signature) else {
                throw AWSError.signatureDoesNotMatch()
            }
            return nil
        }
    }

    /// SigV2 signs `/bucket/key` even when the bucket is in the Host.
    private func sigV2Path(_ rawPath: String, host: String) -> String {
        let name = String(host.split(separator: ":", maxSplits: 1).first ?? "")
        if let bucket = VirtualHostedStyle.bucket(fromHost: name) { return "/" + bucket + rawPath }
        return rawPath
    }

    private func headerList(_ headers: HTTPFields, host: String) -> [(String, String)] {
        var list: [(String, String)] = [("host", host)]
        for f in headers { list.append((f.name.canonicalName, f.value)) }
        return list
    }

    private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
