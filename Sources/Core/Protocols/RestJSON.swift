public import HTTPTypes
import Foundation
import NIOCore

/// REST-JSON (Lambda): the operation comes from the method and a path template
/// (`/2015-03-31/functions/{FunctionName}/invocations`), members from path labels, query and a JSON body.
public struct RestRoute: Sendable {
    public let method: HTTPRequest.Method
    let segments: [Substring]
    public let operation: String

    public init(_ method: HTTPRequest.Method, _ template: String, _ operation: String) {
        self.method = method
        self.segments = template.split(separator: "/", omittingEmptySubsequences: true)
        self.operation = operation
    }

    /// The path labels when `path` (percent-encoded) fits the template; `{Name+}` takes the rest of the path.
    func match(_ parts: [Substring]) -> [String: String]? {
        var labels: [String: String] = [:]
        var i = 0
        for (k, segment) in segments.enumerated() {
            if segment.hasPrefix("{") && segment.hasSuffix("+}") {
                guard i < parts.count else { return nil }
                labels[String(segment.dropFirst().dropLast(2))] = parts[i...].map { Percent.decode(String($0)) ?? String($0) }.joined(separator: "/")
                return k == segments.count - 1 ? labels : nil
            }
            guard i < parts.count else { return nil }
            if segment.hasPrefix("{") && segment.hasSuffix("}") {
                labels[String(segment.dropFirst().dropLast())] = Percent.decode(String(parts[i])) ?? String(parts[i])
            } else if segment != parts[i] {
                return nil
            }
            i += 1
        }
        return i == parts.count ? labels : nil
    }
}

public struct RestRouter: Sendable {
    let routes: [RestRoute]

    public init(_ routes: [RestRoute]) { self.routes = routes }

    /// The operation and path labels of a request; nil when no route fits.
    public func match(method: HTTPRequest.Method, rawPath: String) -> (operation: String, labels: [String: String])? {
        let parts = rawPath.split(separator: "/", omittingEmptySubsequences: true)
        for r in routes where r.method == method {
            if let labels = r.match(parts) { return (r.operation, labels) }
        }
        return nil
    }

    /// Whether some route has this path with another method (→ 405 rather than 404).
    public func hasPath(_ rawPath: String) -> Bool {
        let parts = rawPath.split(separator: "/", omittingEmptySubsequences: true)
        return routes.contains { $0.match(parts) != nil }
    }
}

public enum RestJSON {
    /// A JSON answer (`application/json`); `nil` sends an empty body.
    public static func response(_ object: [String: Any]?, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> AWSResponse {
        var h = headers
        guard let object else { return AWSResponse(status: status, headers: h) }
        h[.contentType] = "application/json"
        return AWSResponse(status: status, headers: h, bytes: JSONWriter.encode(object))
    }
}
