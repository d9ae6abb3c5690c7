import Core
import Foundation
import HTTPTypes

/// A Lambda authorizer's answer, kept for its TTL on the emulator's clock.
struct CachedPolicy: @unchecked Sendable {
    var principalID: String
    var statements: [[String: Any]]
    var context: [String: Any]
    var expires: Double
}

/// Lambda authorizers (TOKEN and REQUEST): the identity is read from the request, the function returns a policy, and
/// the policy's Allow or Deny for the method's ARN decides; its `context` reaches the integration.
extension RestAPIs {
    enum AuthorizerDecision {
        case allow([String: Any])
        case deny(AWSResponse)
    }

    static var unauthorized: AWSResponse { gatewayError(.unauthorized, "Unauthorized", type: "UnauthorizedException") }
    static var explicitDeny: AWSResponse {
        gatewayError(.forbidden, "User is not authorized to access this resource with an explicit deny", type: "AccessDeniedException", key: "Message")
    }
    static var notAllowed: AWSResponse {
        gatewayError(.forbidden, "User is not authorized to access this resource", type: "AccessDeniedException", key: "Message")
    }
    static var authorizerFailure: AWSResponse { gatewayError(.internalServerError, nil, type: "AuthorizerConfigurationException") }

    static func methodARN(_ r: InvokeRequest) -> String {
        "arn:aws:execute-api:\(r.region):\(r.account):\(r.apiID)/\(r.stage)/\(r.httpMethod)\(r.path)"
    }

    func authorize(_ authorizer: [String: Any], _ r: InvokeRequest) async -> AuthorizerDecision {
        let type = authorizer["type"] as? String ?? "TOKEN"
        let sources = (authorizer["identitySource"] as? String ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let identity = sources.map { RestTemplate.parameter($0, r) }
        if identity.contains(where: { $0 == nil || $0!.isEmpty }) { return .deny(Self.unauthorized) }
        let token = identity.compactMap { $0 }.joined(separator: ",")
        if type == "TOKEN", let pattern = authorizer["identityValidationExpression"] as? String, !pattern.isEmpty,
           token.range(of: "^(?:\(pattern))$", options: .regularExpression) == nil {
            return .deny(Self.unauthorized)
        }
        let arn = Self.methodARN(r)
        let ttl = Double(authorizer["authorizerResultTtlInSeconds"] as? Int ?? 300)
        let cacheKey = "\(r.apiID)/\(authorizer["id"] as? String ?? "")/\(token)"
        let now = clock.now()
        var policy = ttl > 0 && !sources.isEmpty ? authorizerCache.withLock { $0[cacheKey] }.flatMap { $0.expires > now ? $0 : nil } : nil
        if policy == nil {
            var event: [String: Any]
            if type == "TOKEN" {
                event = ["type": "TOKEN", "authorizationToken": token, "methodArn": arn]
            } else {
                event = RestProxy.event(r)
                event["type"] = "REQUEST"
                event["methodArn"] = arn
                event["body"] = nil
                event["isBase64Encoded"] = nil
            }
            guard let payload = try? JSONSerialization.data(withJSONObject: event, options: [.withoutEscapingSlashes]),
                  let result = await invokeFunction(authorizer["authorizerUri"] as? String ?? "", r, payload: Array(payload)) else {
                return .deny(Self.authorizerFailure)
            }
            let answer = try? JSONSerialization.jsonObject(with: Data(result.payload)) as? [String: Any]
            if result.functionError != nil {
                return .deny(answer?["errorMessage"] as? String == "Unauthorized" ? Self.unauthorized : Self.authorizerFailure)
            }
            guard let answer, let document = answer["policyDocument"] as? [String: Any] else { return .deny(Self.authorizerFailure) }
            let statements = (document["Statement"] as? [[String: Any]]) ?? (document["Statement"] as? [String: Any]).map { [$0] } ?? []
            let p = CachedPolicy(principalID: RestProxy.scalar(answer["principalId"] ?? ""), statements: statements,
                                 context: answer["context"] as? [String: Any] ?? [:], expires: now + ttl)
            if ttl > 0 && !sources.isEmpty { authorizerCache.withLock { $0[cacheKey] = p } }
            policy = p
        }
        guard let policy else { return .deny(Self.authorizerFailure) }
        switch Self.evaluate(policy.statements, methodARN: arn) {
        case "Deny": return .deny(Self.explicitDeny)
        case "Allow":
            var context = policy.context.mapValues { v -> Any in RestProxy.isBool(v) || v is NSNumber || v is String ? v : RestProxy.scalar(v) }
            context["principalId"] = policy.principalID
            context["integrationLatency"] = 0
            return .allow(context)
        default: return .deny(Self.notAllowed)
        }
    }

    /// "Deny" when a statement denies `execute-api:Invoke` on the ARN, else "Allow" when one allows it, else nil.
    static func evaluate(_ statements: [[String: Any]], methodARN: String) -> String? {
        func list(_ v: Any?) -> [String] { (v as? [String]) ?? (v as? String).map { [$0] } ?? [] }
        var allowed = false
        for s in statements {
            let actions = list(s["Action"])
            guard actions.contains(where: { wildcard($0, "execute-api:Invoke") }) else { continue }
            guard list(s["Resource"]).contains(where: { wildcard($0, methodARN) }) else { continue }
            if (s["Effect"] as? String)?.lowercased() == "deny" { return "Deny" }
            if (s["Effect"] as? String)?.lowercased() == "allow" { allowed = true }
        }
        return allowed ? "Allow" : nil
    }

    /// IAM's `*` and `?` wildcards.
    static func wildcard(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == "?" || p[pi] == t[ti] { pi += 1; ti += 1 }
            else if pi < p.count, p[pi] == "*" { star = pi; mark = ti; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
            else { return false }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
