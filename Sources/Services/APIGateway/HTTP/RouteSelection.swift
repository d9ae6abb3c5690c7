import Core
import Foundation

/// A deployment as an invoke runs it: decoded once per deployment id (deployments never change).
struct DeploymentSnapshot: Sendable {
    struct Route: Sendable {
        var routeKey: String
        /// nil for `$default`; `ANY` matches every method.
        var method: String?
        var segments: [Segment]
        var integrationID: String?
        var authorizationType: String
        var authorizerID: String?
    }

    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
        case greedy(String)
    }

    struct Integration: Sendable {
        var type: String
        var uri: String
        var method: String
        var payloadFormatVersion: String
        var timeoutMillis: Int
    }

    struct Authorizer: Sendable {
        var id: String
        var type: String
        var uri: String
        var payloadFormatVersion: String
        var simpleResponses: Bool
        var ttlSeconds: Int
        var identitySource: [String]
    }

    var routes: [Route]
    var integrations: [String: Integration]
    var authorizers: [String: Authorizer]
    var cors: CorsConfiguration?

    init(routes: [Route], integrations: [String: Integration] = [:], authorizers: [String: Authorizer] = [:], cors: CorsConfiguration? = nil) {
        self.routes = routes
        self.integrations = integrations
        self.authorizers = authorizers
        self.cors = cors
    }

    /// From the stored snapshot (the wire shapes of the API's routes, integrations and authorizers).
    init(_ stored: [String: Any]) {
        routes = (stored["routes"] as? [[String: Any]] ?? []).compactMap { r in
            guard let key = r["routeKey"] as? String else { return nil }
            var route = Self.route(key)
            let target = r["target"] as? String
            route.integrationID = target.flatMap { $0.hasPrefix("integrations/") ? String($0.dropFirst(13)) : nil }
            route.authorizationType = r["authorizationType"] as? String ?? "NONE"
            route.authorizerID = r["authorizerId"] as? String
            return route
        }
        var integrations: [String: Integration] = [:]
        for i in stored["integrations"] as? [[String: Any]] ?? [] {
            guard let id = i["integrationId"] as? String else { continue }
            integrations[id] = Integration(type: i["integrationType"] as? String ?? "AWS_PROXY", uri: i["integrationUri"] as? String ?? "",
                                           method: i["integrationMethod"] as? String ?? "POST",
                                           payloadFormatVersion: i["payloadFormatVersion"] as? String ?? "2.0",
                                           timeoutMillis: i["timeoutInMillis"] as? Int ?? 30000)
        }
        self.integrations = integrations
        var authorizers: [String: Authorizer] = [:]
        for a in stored["authorizers"] as? [[String: Any]] ?? [] {
            guard let id = a["authorizerId"] as? String else { continue }
            authorizers[id] = Authorizer(id: id, type: a["authorizerType"] as? String ?? "REQUEST", uri: a["authorizerUri"] as? String ?? "",
                                         payloadFormatVersion: a["authorizerPayloadFormatVersion"] as? String ?? "2.0",
                                         simpleResponses: a["enableSimpleResponses"] as? Bool ?? false,
                                         ttlSeconds: a["authorizerResultTtlInSeconds"] as? Int ?? 0,
                                         identitySource: a["identitySource"] as? [String] ?? [])
        }
        self.authorizers = authorizers
        cors = (stored["cors"] as? [String: Any]).map(CorsConfiguration.init)
    }

    /// A route key parsed: `$default`, or `METHOD /a/{b}/{c+}`.
    static func route(_ key: String) -> Route {
        guard key != "$default", let space = key.firstIndex(of: " ") else {
            return Route(routeKey: key, method: nil, segments: [], authorizationType: "NONE")
        }
        let segments: [Segment] = key[key.index(after: space)...].split(separator: "/").map { s in
            if s.hasPrefix("{") && s.hasSuffix("+}") { return .greedy(String(s.dropFirst().dropLast(2))) }
            if s.hasPrefix("{") && s.hasSuffix("}") { return .parameter(String(s.dropFirst().dropLast())) }
            return .literal(String(s))
        }
        return Route(routeKey: key, method: String(key[..<space]), segments: segments, authorizationType: "NONE")
    }
}

/// HTTP APIs' route selection: of the routes whose path fits, the most specific wins: segment by segment a literal
/// beats a `{parameter}`, which beats a greedy `{proxy+}`; then a route for the method beats `ANY`; `$default` takes
/// what nothing else does.
enum RouteSelection {
    /// The route and its path parameters (decoded), or nil (404).
    static func select(_ routes: [DeploymentSnapshot.Route], method: String, path: String) -> (DeploymentSnapshot.Route, [String: String])? {
        let parts = path.split(separator: "/").map { Percent.decode(String($0)) ?? String($0) }
        var best: (route: DeploymentSnapshot.Route, parameters: [String: String], rank: [Int])?
        for route in routes {
            guard let m = route.method, m == method || m == "ANY", let parameters = match(route.segments, parts) else { continue }
            let rank = route.segments.map { s -> Int in
                switch s {
                case .literal: 3
                case .parameter: 2
                case .greedy: 1
                }
            } + [m == "ANY" ? 0 : 1]
            if best == nil || outranks(rank, best!.rank) {
                best = (route, parameters, rank)
            }
        }
        if let best { return (best.route, best.parameters) }
        if let d = routes.first(where: { $0.routeKey == "$default" }) { return (d, [:]) }
        return nil
    }

    /// Segment by segment, a higher rank wins at the first difference; a segment beats its absence.
    static func outranks(_ a: [Int], _ b: [Int]) -> Bool {
        for (x, y) in zip(a, b) where x != y { return x > y }
        return a.count > b.count
    }

    /// The path parameters when the parts fit the segments; a greedy segment takes one part or more.
    static func match(_ segments: [DeploymentSnapshot.Segment], _ parts: [String]) -> [String: String]? {
        var parameters: [String: String] = [:]
        for (i, s) in segments.enumerated() {
            switch s {
            case .greedy(let name):
                guard i < parts.count else { return nil }
                parameters[name] = parts[i...].joined(separator: "/")
                return parameters
            case .parameter(let name):
                guard i < parts.count, !parts[i].isEmpty else { return nil }
                parameters[name] = parts[i]
            case .literal(let text):
                guard i < parts.count, parts[i] == text else { return nil }
            }
        }
        return segments.count == parts.count ? parameters : nil
    }
}
