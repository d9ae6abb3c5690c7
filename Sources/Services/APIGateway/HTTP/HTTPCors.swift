import Core
import Foundation
import HTTPTypes

/// An API's CorsConfiguration: API Gateway answers preflights itself (no route or integration runs) and adds the
/// allow headers to every other answer for an allowed origin.
struct CorsConfiguration: Sendable, Equatable {
    var allowOrigins: [String] = []
    var allowMethods: [String] = []
    var allowHeaders: [String] = []
    var exposeHeaders: [String] = []
    var maxAge: Int?
    var allowCredentials = false

    init(allowOrigins: [String] = [], allowMethods: [String] = [], allowHeaders: [String] = [], exposeHeaders: [String] = [],
         maxAge: Int? = nil, allowCredentials: Bool = false) {
        self.allowOrigins = allowOrigins
        self.allowMethods = allowMethods
        self.allowHeaders = allowHeaders
        self.exposeHeaders = exposeHeaders
        self.maxAge = maxAge
        self.allowCredentials = allowCredentials
    }

    init(_ wire: [String: Any]) {
        allowOrigins = wire["allowOrigins"] as? [String] ?? []
        allowMethods = wire["allowMethods"] as? [String] ?? []
        allowHeaders = wire["allowHeaders"] as? [String] ?? []
        exposeHeaders = wire["exposeHeaders"] as? [String] ?? []
        maxAge = wire["maxAge"] as? Int
        allowCredentials = wire["allowCredentials"] as? Bool ?? false
    }

    /// The Access-Control-Allow-Origin an origin gets, nil when it is not allowed.
    func allowedOrigin(_ origin: String) -> String? {
        if allowOrigins.contains(where: { $0.caseInsensitiveCompare(origin) == .orderedSame }) { return origin }
        return allowOrigins.contains("*") ? "*" : nil
    }

    /// A preflight: OPTIONS with Origin and Access-Control-Request-Method.
    static func isPreflight(method: HTTPRequest.Method, headers: HTTPFields) -> Bool {
        method == .options && headers.value("origin") != nil && headers.value("access-control-request-method") != nil
    }

    /// API Gateway's answer to a preflight: 204, with the allow headers when the origin is allowed.
    func preflight(origin: String, requestHeaders: String?) -> AWSResponse {
        var r = AWSResponse(status: .noContent)
        guard let allowed = allowedOrigin(origin) else { return r }
        r.headers.set("Access-Control-Allow-Origin", allowed)
        if !allowMethods.isEmpty { r.headers.set("Access-Control-Allow-Methods", allowMethods.joined(separator: ",")) }
        if allowHeaders.contains("*"), let requested = requestHeaders {
            r.headers.set("Access-Control-Allow-Headers", requested)
        } else if !allowHeaders.isEmpty {
            r.headers.set("Access-Control-Allow-Headers", allowHeaders.map { $0.lowercased() }.joined(separator: ","))
        }
        if !exposeHeaders.isEmpty { r.headers.set("Access-Control-Expose-Headers", exposeHeaders.joined(separator: ",")) }
        if let maxAge, maxAge >= 0 { r.headers.set("Access-Control-Max-Age", String(maxAge)) }
        if allowCredentials { r.headers.set("Access-Control-Allow-Credentials", "true") }
        return r
    }

    /// The allow headers an ordinary answer gets for an allowed origin.
    func decorate(_ response: inout AWSResponse, origin: String) {
        guard let allowed = allowedOrigin(origin) else { return }
        response.headers.set("Access-Control-Allow-Origin", allowed)
        if !exposeHeaders.isEmpty { response.headers.set("Access-Control-Expose-Headers", exposeHeaders.joined(separator: ",")) }
        if allowCredentials { response.headers.set("Access-Control-Allow-Credentials", "true") }
        if allowed != "*" { response.headers.set("Vary", "Origin") }
    }
}
