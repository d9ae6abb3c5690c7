import Core
import Foundation
import HTTPTypes

/// An identity source: `$request.header.<name>`, `$request.querystring.<name>`, `$context.<name>`, `$stageVariables.<name>`.
enum IdentitySource: Equatable {
    case header(String)
    case query(String)
    case context(String)
    case stageVariable(String)

    init?(_ text: String) {
        for (prefix, make) in [("$request.header.", IdentitySource.header), ("$request.querystring.", IdentitySource.query),
                               ("$context.", IdentitySource.context), ("$stageVariables.", IdentitySource.stageVariable)] where text.hasPrefix(prefix) {
            let name = String(text.dropFirst(prefix.count))
            guard !name.isEmpty else { return nil }
            self = make(name)
            return
        }
        return nil
    }

    func value(_ request: AWSRequest, _ ctx: InvokeContext) -> String? {
        switch self {
        case .header(let name): return request.header(name).flatMap { $0.isEmpty ? nil : $0 }
        case .query(let name): return request.queryValue(name).flatMap { $0.isEmpty ? nil : $0 }
        case .stageVariable(let name): return ctx.stageVariables[name]
        case .context(let name):
            switch name {
            case "requestId": return ctx.requestID
            case "stage": return ctx.stage
            case "routeKey": return ctx.routeKey
            case "apiId": return ctx.apiID
            case "identity.sourceIp": return ctx.sourceIP
            default: return nil
            }
        }
    }
}

/// A Lambda authorizer's answer, kept for its TTL on the emulator's clock (`context` as JSON).
struct CachedAuthorization: Sendable {
    var allowed: Bool
    var context: Data
    var expires: Double
}

/// What an authorizer decided: go on with `requestContext.authorizer`, or answer now.
enum AuthorizationOutcome {
    case allow([String: Any]?)
    case deny(AWSResponse)
}

extension HTTPAPIs {
    static func unauthorized() -> AWSResponse { RestJSON.response(["message": "Unauthorized"], status: .unauthorized) }
    static func forbidden() -> AWSResponse { RestJSON.response(["message": "Forbidden"], status: .forbidden) }

    /// The route's authorization: a REQUEST Lambda authorizer runs (or answers from its cache); JWT needs its
    /// identity source (the token's claims are passed on, its signature is not checked offline); AWS_IAM needs a
    /// signed request.
    func authorize(_ route: DeploymentSnapshot.Route, _ snapshot: DeploymentSnapshot, _ request: AWSRequest, body: [UInt8],
                   _ ctx: InvokeContext, region: String) async -> AuthorizationOutcome {
        switch route.authorizationType {
        case "AWS_IAM":
            return request.header("authorization") != nil || request.hasQuery("X-Amz-Signature") ? .allow(nil) : .deny(Self.forbidden())
        case "JWT":
            guard let a = route.authorizerID.flatMap({ snapshot.authorizers[$0] }) else { return .deny(Self.unauthorized()) }
            let values = a.identitySource.compactMap { IdentitySource($0)?.value(request, ctx) }
            guard values.count == a.identitySource.count, let token = values.first else { return .deny(Self.unauthorized()) }
            return .allow(["jwt": ["claims": Self.jwtClaims(token), "scopes": NSNull()]])
        case "CUSTOM":
            guard let a = route.authorizerID.flatMap({ snapshot.authorizers[$0] }) else { return .deny(Self.unauthorized()) }
            return await runLambdaAuthorizer(a, request, body: body, ctx, region: region)
        default:
            return .allow(nil)
        }
    }

    /// The payload of a `header.payload.signature` token (a `Bearer ` prefix allowed), unverified.
    static func jwtClaims(_ token: String) -> Any {
        let raw = token.hasPrefix("Bearer ") ? String(token.dropFirst(7)) : token
        let parts = raw.split(separator: ".")
        guard parts.count >= 2 else { return [String: Any]() }
        var b64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64), let claims = try? JSONSerialization.jsonObject(with: data) else { return [String: Any]() }
        return claims
    }

    func runLambdaAuthorizer(_ a: DeploymentSnapshot.Authorizer, _ request: AWSRequest, body: [UInt8], _ ctx: InvokeContext,
                             region: String) async -> AuthorizationOutcome {
        let values = a.identitySource.compactMap { IdentitySource($0)?.value(request, ctx) }
        // A missing identity source: 401 without invoking the function.
        guard values.count == a.identitySource.count else { return .deny(Self.unauthorized()) }
        let cacheKey = a.id + "\u{0}" + values.joined(separator: "\u{0}")
        let now = clock.now()
        if a.ttlSeconds > 0, !values.isEmpty, let hit = authorizerCache.withLock({ $0[cacheKey] }), hit.expires > now {
            return hit.allowed ? .allow(["lambda": (try? JSONSerialization.jsonObject(with: hit.context)) ?? [String: Any]()]) : .deny(Self.forbidden())
        }
        let path = ctx.path.hasPrefix("/") ? String(ctx.path.dropFirst()) : ctx.path
        let routeARN = "arn:aws:execute-api:\(region):\(ctx.account):\(ctx.apiID)/\(ctx.stage)/\(request.method.rawValue)/\(path)"
        var event: [String: Any]
        if a.payloadFormatVersion == "1.0" {
            event = ProxyPayloads.event10(request, body: [], ctx)
            event["methodArn"] = routeARN
            event["identitySource"] = values.joined(separator: ",")
            event["authorizationToken"] = values.first.map { $0 as Any } ?? NSNull()
        } else {
            event = ProxyPayloads.event20(request, body: [], ctx)
            event["routeArn"] = routeARN
            event["identitySource"] = values
            event["body"] = nil
            event["isBase64Encoded"] = nil
        }
        event["type"] = "REQUEST"
        guard let functionARN = Self.functionARN(Self.substitute(a.uri, ctx.stageVariables)),
              let payload = try? JSONSerialization.data(withJSONObject: event, options: [.withoutEscapingSlashes]),
              let result = try? await functions.invoke(functionARN: functionARN, payload: Array(payload), from: .apiGateway),
              result.functionError == nil,
              let answer = (try? JSONSerialization.jsonObject(with: Data(result.payload))) as? [String: Any] else {
            return .deny(ProxyPayloads.internalServerError())
        }
        let allowed: Bool
        if a.simpleResponses {
            guard let ok = answer["isAuthorized"] as? Bool else { return .deny(ProxyPayloads.internalServerError()) }
            allowed = ok
        } else {
            guard let policy = answer["policyDocument"] as? [String: Any] else { return .deny(ProxyPayloads.internalServerError()) }
            allowed = Self.policyAllows(policy, resource: routeARN)
        }
        let context = answer["context"] as? [String: Any] ?? [:]
        if a.ttlSeconds > 0, !values.isEmpty {
            let data = (try? JSONSerialization.data(withJSONObject: context)) ?? Data("{}".utf8)
            authorizerCache.withLock { $0[cacheKey] = CachedAuthorization(allowed: allowed, context: data, expires: now + Double(a.ttlSeconds)) }
        }
        return allowed ? .allow(["lambda": context]) : .deny(Self.forbidden())
    }

    /// An IAM policy's verdict for `execute-api:Invoke` on `resource`: an explicit Deny wins, else an Allow is needed.
    static func policyAllows(_ policy: [String: Any], resource: String) -> Bool {
        let statements = (policy["Statement"] as? [[String: Any]]) ?? (policy["Statement"] as? [String: Any]).map { [$0] } ?? []
        func list(_ v: Any?) -> [String] { (v as? [String]) ?? (v as? String).map { [$0] } ?? [] }
        var allowed = false
        for s in statements {
            guard list(s["Action"]).contains(where: { glob($0, "execute-api:Invoke") }),
                  list(s["Resource"]).contains(where: { glob($0, resource) }) else { continue }
            if s["Effect"] as? String == "Deny" { return false }
            if s["Effect"] as? String == "Allow" { allowed = true }
        }
        return allowed
    }

    /// `*` (any run) and `?` (one character) wildcards.
    static func glob(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == "?" || p[pi] == t[ti] {
                pi += 1; ti += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// `${stageVariables.name}` replaced by the stage's value.
    static func substitute(_ text: String, _ variables: [String: String]) -> String {
        guard text.contains("${stageVariables.") else { return text }
        var out = text
        for (k, v) in variables { out = out.replacingOccurrences(of: "${stageVariables.\(k)}", with: v) }
        return out
    }
}
