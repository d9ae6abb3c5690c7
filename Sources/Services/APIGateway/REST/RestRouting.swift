import Core
import Foundation

/// The resource and method a request path selects in a deployment (`DeployedTree.match`), with its path parameters.
struct DeployedRoute {
    let resource: [String: Any]
    let method: [String: Any]
    let pathParameters: [String: String]

    /// The route of a path in a tree of resources by id (each with `parentId`, `pathPart`, `resourceMethods`).
    static func match(resources: [String: [String: Any]], path: String, httpMethod: String) -> DeployedRoute? {
        DeployedTree(resources: resources).match(path: path, httpMethod: httpMethod)
    }
}
