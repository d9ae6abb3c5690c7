import Core
import Foundation

/// Which deployed resource and method answer a request path, as API Gateway chooses: at each level a literal part
/// beats `{param}`, which beats `{proxy+}` (one or more parts); a branch whose resource has neither the method nor
/// ANY is given up for the next candidate.
struct DeployedRoute {
    let resource: [String: Any]
    let method: [String: Any]
    let pathParameters: [String: String]

    static func match(resources: [String: [String: Any]], path: String, httpMethod: String) -> DeployedRoute? {
        var children: [String: [[String: Any]]] = [:]
        var root: [String: Any]?
        for r in resources.values {
            if let parent = r["parentId"] as? String { children[parent, default: []].append(r) } else { root = r }
        }
        guard let root else { return nil }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map { Percent.decode(String($0)) ?? String($0) }

        func methodOf(_ r: [String: Any]) -> [String: Any]? {
            let methods = r["resourceMethods"] as? [String: Any] ?? [:]
            return (methods[httpMethod] ?? methods["ANY"]) as? [String: Any]
        }
        func walk(_ r: [String: Any], _ i: Int, _ params: [String: String]) -> DeployedRoute? {
            if i == parts.count { return methodOf(r).map { DeployedRoute(resource: r, method: $0, pathParameters: params) } }
            let kids = children[r["id"] as? String ?? ""] ?? []
            func rank(_ part: String) -> Int { part.hasSuffix("+}") ? 2 : part.hasPrefix("{") ? 1 : 0 }
            for kid in kids.sorted(by: { rank($0["pathPart"] as? String ?? "") < rank($1["pathPart"] as? String ?? "") }) {
                let part = kid["pathPart"] as? String ?? ""
                switch rank(part) {
                case 0:
                    if part == parts[i], let found = walk(kid, i + 1, params) { return found }
                case 1:
                    var p = params
                    p[String(part.dropFirst().dropLast())] = parts[i]
                    if let found = walk(kid, i + 1, p) { return found }
                default:
                    var p = params
                    p[String(part.dropFirst().dropLast(2))] = parts[i...].joined(separator: "/")
                    if let m = methodOf(kid) { return DeployedRoute(resource: kid, method: m, pathParameters: p) }
                }
            }
            return nil
        }
        return walk(root, 0, [:])
    }
}
